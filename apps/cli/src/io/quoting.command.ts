import { Argument, Command, Option } from 'commander';
import { quoted, USAGE_VALUE_MAX } from './printable';

/** Commander's own methods that word a usage error around what was typed (not in its typings). */
interface CommanderInternals {
  unknownOption(this: Command, flag: string): void;
  unknownCommand(this: Command): void;
  _callParseArg(this: Command, target: Option | Argument, value: string, previous: unknown, invalidArgumentMessage: string): unknown;
}

const commander = Command.prototype as unknown as CommanderInternals;

/**
 * A Command whose usage errors quote what was typed as every other message of our CLIs quotes a
 * value (`quoted`: double quotes, `"` and `\` escaped as JSON escapes them, the unseen characters
 * escaped, cut past USAGE_VALUE_MAX), where Commander puts it raw in single quotes, so a `'` inside
 * made the quoted value ambiguous. Each of Commander's sentences is rebuilt from the value itself,
 * never parsed from its text; a sentence this Commander words otherwise is left as it is (and
 * still escaped by printableUsageError). Subcommands are made of this class too.
 */
export class QuotingCommand extends Command {
  /** The opening of the next error as Commander words it, and as it is said instead. */
  private requoting?: { readonly raw: string; readonly said: string };

  override createCommand(name?: string): Command {
    return new QuotingCommand(name);
  }

  /**
   * An option that takes a value, given twice, is refused: Commander keeps the last one without a
   * word, so `relay replay --from 120 --from 12` (a line edited in a shell's history) would act on
   * a value the operator may not have read. Heard before Commander's own handler stores the value.
   */
  override addOption(option: Option): this {
    if (option.required || option.optional) {
      this.on(`option:${option.name()}`, () => {
        if (this.getOptionValueSource(option.attributeName()) === 'cli') this.error(`error: option '${option.flags}' is given twice: give it once`, { exitCode: 2, code: 'commander.optionRepeated' });
      });
    }
    return super.addOption(option);
  }

  override error(message: string, errorOptions?: Parameters<Command['error']>[1]): never {
    const requoting = this.requoting;
    this.requoting = undefined;
    const said = requoting !== undefined && message.startsWith(requoting.raw) ? `${requoting.said}${message.slice(requoting.raw.length)}` : message;
    return super.error(said, errorOptions);
  }

  unknownOption(flag: string): void {
    this.requoting = { raw: `error: unknown option '${flag}'`, said: `error: unknown option ${quoted(flag, USAGE_VALUE_MAX)}` };
    commander.unknownOption.call(this, flag);
    this.requoting = undefined; // not an error after all (unknown options allowed)
  }

  unknownCommand(): void {
    const name = String(this.args[0]);
    this.requoting = { raw: `error: unknown command '${name}'`, said: `error: unknown command ${quoted(name, USAGE_VALUE_MAX)}` };
    commander.unknownCommand.call(this);
  }

  _callParseArg(target: Option | Argument, value: string, previous: unknown, invalidArgumentMessage: string): unknown {
    const shown = quoted(value, USAGE_VALUE_MAX);
    // The sentences Commander words for an option's value (from the command line, or its environment variable) and for an argument's.
    const sentences: readonly (readonly [string, string])[] =
      target instanceof Option
        ? [
            [`error: option '${target.flags}' argument '${value}' is invalid.`, `error: option '${target.flags}' argument ${shown} is invalid.`],
            [`error: option '${target.flags}' value '${value}' from env '${target.envVar}' is invalid.`, `error: option '${target.flags}' value ${shown} from env '${target.envVar}' is invalid.`],
          ]
        : [[`error: command-argument value '${value}' is invalid for argument '${target.name()}'.`, `error: command-argument value ${shown} is invalid for argument '${target.name()}'.`]];
    const said = sentences.find(([raw]) => raw === invalidArgumentMessage)?.[1] ?? invalidArgumentMessage;
    return commander._callParseArg.call(this, target, value, previous, said);
  }
}
