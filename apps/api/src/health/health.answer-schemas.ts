import type { SchemaObject } from '@nestjs/swagger';
import type { ProjectionStatus } from '@stagecraft/projections';
import type { RelaySinkStatus } from '@stagecraft/relay';
import { BOOLEAN, INSTANT, NULLABLE_NUMBER, objectSchema, STRING, WHOLE } from '../http/answer-schema';

// What /health and /admin/projections say of the projections and the relay's sinks, keyed by the
// types the runners answer (http/answer-schema.ts says why).

export const PROJECTION_STATUS: SchemaObject = objectSchema<ProjectionStatus>(
  {
    name: STRING,
    checkpoint: WHOLE,
    lag: { ...WHOLE, description: 'head position − checkpoint, in log positions (events on SQLite, bytes on KurrentDB); 0: caught up' },
    rebuilding: BOOLEAN,
    failed: { type: 'string', description: 'Why the projection stopped: it serves no more' },
    recovering: { type: 'boolean', enum: [true], description: 'With failed: the cause passes by itself (the log or the read side cannot be reached now)' },
    stalled: { type: 'string', description: "Why the read models do not move while the log is ahead: the PostgreSQL projector's batch waited past its bound (a lock another session holds, named; a server that does not answer). /health answers 503 while it lasts" },
  },
  ['failed', 'recovering', 'stalled'],
);

export const RELAY_SINK_STATUS: SchemaObject = objectSchema<RelaySinkStatus>(
  {
    sink: STRING,
    kind: STRING,
    state: { type: 'string', enum: ['starting', 'live', 'retrying', 'log-replaced', 'stopped'], description: 'log-replaced: its checkpoint belongs to another event log (a store restored from an older backup, or replaced); nothing is published until `stagecraft relay start-over`' },
    checkpoint: WHOLE,
    published: WHOLE,
    lastError: STRING,
    lastErrorAt: INSTANT,
    failures: WHOLE,
    lag: { ...NULLABLE_NUMBER, description: 'head position − checkpoint, in log positions (events on SQLite, bytes on KurrentDB); null: head unknown' },
    deadLetters: WHOLE,
  },
  ['lastError', 'lastErrorAt'],
);
