import { ALL_PROJECTIONS } from '@stagecraft/projections';
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
  it('names every read model rebuild takes, and where the models go with READ_MODELS_URL', () => {
    const help = helpOf('rebuild');
    for (const { name } of ALL_PROJECTIONS) expect(help).toContain(name);
    expect(help).toContain('READ_MODELS_URL');
  });

  it('names EVENT_STORE_URL among the settings that say which store it works on', () => {
    expect(helpOf()).toMatch(/EVENT_STORE_URL for KurrentDB, else the SQLite file EVENT_STORE_PATH/);
  });

  it('history takes the stream name verify --all prints', () => {
    expect(helpOf('history')).toContain('stream name (opportunity-…');
  });
});
