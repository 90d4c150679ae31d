import type { Command } from 'commander';
import { buildProgram } from './cli.program';

/** The help `stagecraft <path…> --help` prints, its lines (wrapped to the terminal's width) joined. */
function helpOf(...path: string[]): string {
  let command: Command = buildProgram(() => undefined);
  for (const name of path) command = command.commands.find((sub) => sub.name() === name)!;
  return command.helpInformation().replace(/\s+/g, ' ');
}

// README ("For auditors", "For operators") and --help must say the same of what a command takes.
describe('stagecraft --help', () => {
  it('history takes the stream name verify --all prints', () => {
    expect(helpOf('history')).toContain('stream name (opportunity-…');
  });
});
