import type { FastifyReply } from 'fastify';
import type { EventStore } from '@stagecraft/event-store';
import type { ProcessRegistry } from '@stagecraft/commands';
import type { ProjectionStatus, ReadModels } from '@stagecraft/projections';
import { HealthController } from './health.controller';

// /health over read models that do not move: a stalled PostgreSQL projector (its batch behind
// someone's lock) serves figures the log has left behind, which a probe must hear of.

const store = { health: async () => ({ kind: 'sqlite', reachable: true }), headPosition: async () => 40 } as unknown as EventStore;
const processes = { list: () => [{ definition: { id: 'sales' }, version: '1' }] } as unknown as ProcessRegistry;
const readModels = (statuses: ProjectionStatus[]) => ({ status: () => statuses }) as unknown as ReadModels;

async function healthOf(statuses: ProjectionStatus[]) {
  const answer: { status?: number; headers: Record<string, string> } = { headers: {} };
  const reply = { status: (code: number) => ((answer.status = code), reply), header: (name: string, value: string) => ((answer.headers[name] = value), reply) } as unknown as FastifyReply;
  const body = await new HealthController(store, processes, readModels(statuses), null).health(reply);
  return { ...answer, body };
}

describe('GET /health over the read models', () => {
  it('is ready while they follow, behind or not', async () => {
    expect(await healthOf([{ name: 'pipeline', checkpoint: 30, lag: 10, rebuilding: false }])).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('is not ready, saying why, while they are stalled, and asks again after an operator has had time to act', async () => {
    const stalled = "the projector's batch has not committed for 130 s while the log is ahead (checkpoint 30, head 40): it waits for a lock";
    const answer = await healthOf([{ name: 'pipeline', checkpoint: 30, lag: 10, rebuilding: false, stalled }]);
    expect(answer).toMatchObject({ status: 503, headers: { 'retry-after': '30' }, body: { status: 'unavailable', projections: [{ name: 'pipeline', stalled }] } });
  });
});
