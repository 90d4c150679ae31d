import type { ProcessRegistry } from '@stagecraft/commands';
import type { Settings } from '@stagecraft/config';
import type { EventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, inMemoryAnalyticsQueries, type ReadModels } from '@stagecraft/projections';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';
import { AnalyticsController } from './analytics.controller';
import { COHORTS_CSV, FORECAST_ACCURACY_CSV, FUNNEL_CSV, PIPELINE_CSV, ROTTING_CSV, STAGE_DURATIONS_CSV, TRANSITIONS_CSV, WATERFALL_CSV, WIN_LOSS_CSV } from './analytics.rows';

// An answer without rows (a fresh store, a filter or a window that matches nothing) is still a CSV
// with its header: a reader takes its columns from the first line. The e2e suites check that each
// declared header is the one the same route writes above its rows.
describe('analytics CSV without rows', () => {
  const models = new Map<string, unknown>(ALL_PROJECTIONS.map((projection) => [projection.name, projection.initial()]));
  const readModels = { model: (key: { name: string }) => models.get(key.name), failure: () => undefined, position: () => 0, waitFor: async () => true } as unknown as ReadModels;
  const processes = { exists: async () => true, list: () => [] } as unknown as ProcessRegistry;
  const controller = new AnalyticsController(inMemoryAnalyticsQueries(readModels), {} as Settings, () => new Date('2026-03-01T00:00:00Z'), processes, {} as EventStore, null);
  const principal: Principal = { name: 'analyst', authenticatedBy: 'api-key:k', roles: ['analyst'], mayActOnBehalf: false };
  const request = { headers: {} } as FastifyRequest;
  const reply = { header: () => reply } as unknown as FastifyReply;
  const csv = { format: 'csv' } as const;
  const header = (columns: readonly string[]) => `${columns.join(',')}\r\n`;

  it('gives the header line of every route whose answer may have no rows, on a store where nothing has happened', async () => {
    const answers = {
      pipeline: await controller.pipeline({ ...csv } as never, principal, request, reply),
      closedSections: await controller.pipeline({ ...csv, closed: 'won,lost' } as never, principal, request, reply),
      winLossByMonth: await controller.winLoss({ ...csv, groupBy: 'month' } as never, principal, request, reply),
      stageDurations: await controller.stageDurations({ ...csv } as never, principal, request, reply),
      funnel: await controller.funnel({ ...csv } as never, principal, request, reply),
      transitions: await controller.transitions({ ...csv } as never, principal, request, reply),
      forecastAccuracy: await controller.forecastAccuracy({ ...csv } as never, principal, request, reply),
      rotting: await controller.rotting({ ...csv } as never, principal, request, reply),
      waterfallChanges: await controller.waterfall({ ...csv, include: 'opportunities' } as never, principal, request, reply),
      cohorts: await controller.cohorts({ ...csv } as never, principal, request, reply),
    };
    expect(answers).toEqual({
      pipeline: header(PIPELINE_CSV.columns),
      closedSections: header(PIPELINE_CSV.columns),
      // Grouped, win/loss always has its total line, even with no group.
      winLossByMonth: `${header(WIN_LOSS_CSV.columns)}total,0,0,,0,{},0,{},{},{},total\r\n`,
      stageDurations: header(STAGE_DURATIONS_CSV.columns),
      funnel: header(FUNNEL_CSV.columns),
      transitions: header(TRANSITIONS_CSV.columns),
      forecastAccuracy: header(FORECAST_ACCURACY_CSV.columns),
      rotting: header(ROTTING_CSV.columns),
      waterfallChanges: header(WATERFALL_CSV.columns),
      cohorts: header(COHORTS_CSV.columns),
    });
  });
});
