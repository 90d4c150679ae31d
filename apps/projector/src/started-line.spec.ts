import type { ProjectionStatus } from '@stagecraft/projections';
import { startedLine } from './started-line';

const names = ['pipeline', 'funnel', 'transitions'];
const models = (statuses: ProjectionStatus[]) => ({ names: () => names, position: () => 42, status: () => statuses });
const working = (name: string): ProjectionStatus => ({ name, checkpoint: 42, lag: 0, rebuilding: false });

describe('the line the projector prints once started', () => {
  it('says caught up when every read model works, or waits for a log that is away (it follows again by itself)', () => {
    expect(startedLine(models(names.map(working)), 'data/read-models.db')).toBe('Stagecraft projector caught up at position 42; read models in data/read-models.db');
    const waiting = { ...working('funnel'), failed: 'the event log could not be followed: connection refused', recovering: true as const };
    expect(startedLine(models([working('pipeline'), waiting, working('transitions')]), 'x')).toMatch(/^Stagecraft projector caught up at position 42;/);
  });

  it('names the read models that stopped for good and the command that rebuilds them, never "caught up" alone', () => {
    const failed = 'event at position 4 (OpportunityOpened) could not be folded in: bad';
    const line = startedLine(models([{ ...working('pipeline'), failed }, working('funnel'), { ...working('transitions'), failed }]), 'data/read-models.db');
    expect(line).toBe(
      'Stagecraft projector started, but read models stopped (said above): pipeline, transitions. ' +
        'Fix the cause, then rebuild them in the projector process: stop it, run npm run projections -- rebuild pipeline transitions, and start it again. ' +
        'The others caught up at position 42; read models in data/read-models.db',
    );
    const all = startedLine(models(names.map((name) => ({ ...working(name), failed }))), 'data/read-models.db');
    expect(all).toMatch(/^Stagecraft projector started, but read models stopped \(said above\): pipeline, funnel, transitions\. .* Read models in data\/read-models\.db$/);
    expect(all).not.toContain('caught up');
  });
});
