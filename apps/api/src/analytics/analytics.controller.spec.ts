import type { ProcessRegistry } from '@stagecraft/commands';
import type { EventStore } from '@stagecraft/event-store';
import { inMemoryAnalyticsQueries, pipelineProjection, type ReadModels } from '@stagecraft/projections';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import { toProblem } from '../http/problem.mapping';
import type { Settings } from '@stagecraft/config';
import { AnalyticsController } from './analytics.controller';
import type { PipelineQueryDto } from './analytics.dto';

// With PROJECTIONS=external the API answers from whatever model the projector saved; one of an
// older layout has no closed columns, and asking it for closed cards must be a 503 that says so,
// not a TypeError turned into a 500.
describe('GET /pipeline?closed= on a model of an older layout', () => {
  const older = (() => {
    const { layout: _layout, outcome: _outcome, closedMs: _closedMs, closedAt: _closedAt, lostReason: _lostReason, reasons: _reasons, ...rest } = pipelineProjection.initial();
    return rest;
  })();
  const readModels = (model: unknown): ReadModels =>
    ({ model: () => model, failure: () => undefined, position: () => 0, waitFor: async () => true }) as unknown as ReadModels;
  const processes = { exists: async () => true, list: () => [] } as unknown as ProcessRegistry;
  const controller = (model: unknown) => new AnalyticsController(inMemoryAnalyticsQueries(readModels(model)), {} as Settings, () => new Date('2026-03-01T00:00:00Z'), processes, {} as EventStore, null);
  const principal: Principal = { name: 'analyst', authenticatedBy: 'api-key:k', roles: ['analyst'], mayActOnBehalf: false };
  const request = { headers: {} } as FastifyRequest;
  const reply = { header: () => reply } as unknown as FastifyReply;
  const ask = (model: unknown, query: Partial<PipelineQueryDto>) => controller(model).pipeline(query as PipelineQueryDto, principal, request, reply);

  it('answers 503 PROJECTIONS.FAILED for closed cards, and the open board as before', async () => {
    const refusal = toProblem(await ask(older, { closed: 'won,lost' }).catch((error: unknown) => error));
    expect(refusal).toBeInstanceOf(ApiProblem);
    expect(refusal).toMatchObject({ status: 503, code: 'PROJECTIONS.FAILED' });
    await expect(ask(older, {})).resolves.toEqual({ processes: [] });
    await expect(ask(pipelineProjection.initial(), { closed: 'won' })).resolves.toEqual({ processes: [], closed: { from: '2026-01-30T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z', limit: 50 } });
  });
});
