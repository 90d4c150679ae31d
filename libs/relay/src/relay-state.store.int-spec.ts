import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_ANCHOR } from '@stagecraft/event-store';
import { getSQLiteRelayStateStore } from './relay-state.store';

describe('the relay state file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-relay-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps each checkpoint with the last event it passed; a replay clears it, the next advance records one', () => {
    const state = getSQLiteRelayStateStore(join(dir, 'relay.db'));
    try {
      expect(state.create('nats://a', 0, 'first')).toBe(true);
      expect(state.checkpoint('nats://a')!.anchor).toEqual(NO_ANCHOR);
      expect(state.advance('nats://a', 0, 12, 'first', { position: 11, eventId: 'e-11' })).toBe(true);
      expect(state.checkpoint('nats://a')).toMatchObject({ position: 12, anchor: { position: 11, eventId: 'e-11' } });
      // An advance from a generation a replay has ended writes nothing, its anchor neither.
      const replayed = state.requestReplay('nats://a', 5, 6);
      expect(replayed).toMatchObject({ position: 5, generation: 1, anchor: NO_ANCHOR });
      expect(state.advance('nats://a', 0, 20, 'first', { position: 20, eventId: 'e-20' })).toBe(false);
      expect(state.checkpoint('nats://a')!.anchor).toEqual(NO_ANCHOR);
      expect(state.advance('nats://a', 1, 9, 'first', { position: 9, eventId: 'e-9' })).toBe(true);
      expect(state.checkpoint('nats://a')).toMatchObject({ position: 9, anchor: { position: 9, eventId: 'e-9' } });
    } finally {
      state.close();
    }
  });

  it('opens a file written before anchors were: its checkpoints stand, without one, until they next move', () => {
    const path = join(dir, 'relay.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE relay_checkpoints (sink TEXT PRIMARY KEY, position INTEGER NOT NULL, log_id TEXT NOT NULL, generation INTEGER NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE relay_dead_letters (sink TEXT NOT NULL, position INTEGER NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, subject TEXT NOT NULL, attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL, failed_at TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (sink, position));
      INSERT INTO relay_checkpoints VALUES ('https://hooks.example/x', 40, 'first', 2, '2026-11-01T00:00:00.000Z');`);
    old.close();
    const state = getSQLiteRelayStateStore(path);
    try {
      expect(state.checkpoint('https://hooks.example/x')).toMatchObject({ position: 40, logId: 'first', generation: 2, anchor: NO_ANCHOR });
      expect(state.advance('https://hooks.example/x', 2, 41, 'first', { position: 41, eventId: 'e-41' })).toBe(true);
      expect(state.checkpoint('https://hooks.example/x')!.anchor).toEqual({ position: 41, eventId: 'e-41' });
    } finally {
      state.close();
    }
  });

  // `relay status` reads this file, not the running relay: a sink's error lives here too, so
  // that it says what /health says (an exchange of the wrong type, a webhook refusing).
  it("keeps a sink's last error and since when, until it is cleared; a file written before has none", () => {
    const state = getSQLiteRelayStateStore(join(dir, 'relay.db'));
    try {
      state.create('nats://a', 0, 'first');
      state.create('nats://b', 0, 'first');
      expect(state.checkpoint('nats://a')!.lastError).toBeUndefined();
      state.recordError('nats://a', { message: 'the exchange is fanout', at: '2026-12-02T10:00:00.000Z' });
      expect(state.checkpoint('nats://a')).toMatchObject({ lastError: { message: 'the exchange is fanout', at: '2026-12-02T10:00:00.000Z' } });
      expect(state.checkpoints().map((checkpoint) => checkpoint.lastError)).toEqual([{ message: 'the exchange is fanout', at: '2026-12-02T10:00:00.000Z' }, undefined]);
      // Moving the checkpoint does not clear it: only the sink sending again does (recordError undefined).
      expect(state.advance('nats://a', 0, 3, 'first', { position: 3, eventId: 'e-3' })).toBe(true);
      expect(state.checkpoint('nats://a')!.lastError).toBeDefined();
      state.recordError('nats://a', undefined);
      expect(state.checkpoint('nats://a')!.lastError).toBeUndefined();
    } finally {
      state.close();
    }
  });
});
