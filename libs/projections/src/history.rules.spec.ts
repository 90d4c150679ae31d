import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { fromOpportunityStreamId } from '@stagecraft/opportunity';
import { auditProcessRules, type AuditedEvent } from '@stagecraft/opportunity/testing';
import type { ProcessDefinition } from '@stagecraft/sales-process';
import { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED } from './process-catalog';
import { historyArbitrary } from './testing/history.arbitrary';

// The read models' random histories are made by the real decider, across process versions and
// migrations (a stage mapped elsewhere included). Read as an auditor reads a log, every one of
// them keeps the process rules of the version each step ran on.

describe('histories made through the decider, migrations included', () => {
  it('keep every process rule, as an auditor reading the log alone sees it', () => {
    assertProperty(
      fc.property(historyArbitrary(), ({ clean }) => {
        // Every recording of a version, at its position: a version's order is its latest recording before the event judged.
        const recordings: { version: string; definition: ProcessDefinition; position: number }[] = [];
        const streams = new Map<string, AuditedEvent[]>();
        for (const event of clean) {
          if (event.type === PROCESS_VERSION_RECORDED && event.stream.startsWith(PROCESS_STREAM_PREFIX)) {
            recordings.push({ version: String(event.data.version), definition: event.data.definition as ProcessDefinition, position: event.position });
          } else if (fromOpportunityStreamId(event.stream) !== undefined) {
            streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
          }
        }
        for (const [stream, events] of streams) {
          const versions = (version: string, asOf = Infinity) => {
            const latest = recordings.filter((recording) => recording.version === version && recording.position < asOf).at(-1);
            return latest && { definition: latest.definition, recordedOrder: latest.position };
          };
          expect({ stream, problems: auditProcessRules(events, versions) }).toEqual({ stream, problems: [] });
        }
      }),
      { seed: 1312, numRuns: 150 },
    );
  });
});
