import type { HistoryAnswer, ProcessDetail } from '@stagecraft/contracts';

// The history of an opportunity as people read it: when, who, what. Pure: timeline.model.spec.ts.

export interface TimelineEntry {
  readonly revision: number;
  readonly when: string;
  readonly who: string;
  readonly what: string;
  readonly note: string | null;
}

type Definition = ProcessDetail['definition'];
type HistoryEvent = HistoryAnswer['events'][number];

export function timelineEntries(history: HistoryAnswer, definition: Definition | null): TimelineEntry[] {
  return history.events.map((event) => ({
    revision: event.revision,
    when: text(event.data.occurredAt) ?? text(event.metadata.recordedAt) ?? '',
    who: whoDid(event),
    what: describe(event, definition),
    note: text(event.data.note),
  }));
}

function whoDid(event: HistoryEvent): string {
  const actor = text(event.metadata.actor) ?? 'unknown';
  const onBehalfOf = text(event.metadata.onBehalfOf);
  return onBehalfOf ? `${onBehalfOf} (via ${actor})` : actor;
}

function describe(event: HistoryEvent, definition: Definition | null): string {
  const data = event.data;
  const stage = (id: unknown) => definition?.stages.find((candidate) => candidate.id === id)?.name ?? String(id);
  const criterion = (stageId: unknown, id: unknown) =>
    definition?.stages.find((candidate) => candidate.id === stageId)?.exitCriteria.find((candidate) => candidate.id === id)?.description ?? String(id);
  switch (event.type) {
    case 'OpportunityOpened':
      return `Opened in ${stage(data.stage)}${data.amount === undefined ? '' : ` at ${data.amount}${data.currency ? ` ${data.currency}` : ''}`}`;
    case 'ExitCriterionMet':
      return `Met: ${criterion(data.stage, data.criterionId)}`;
    case 'ExitCriterionRevoked':
      return `No longer met: ${criterion(data.stage, data.criterionId)}`;
    case 'StageChanged':
      return `Moved ${data.direction === 'backward' ? 'back ' : ''}from ${stage(data.from)} to ${stage(data.to)}`;
    case 'OpportunityWon':
      return `Won in ${stage(data.stage)}${data.reason === undefined ? '' : `: ${String(data.reason)}`}${nextSteps(data)}`;
    case 'OpportunityLost':
      return `Lost in ${stage(data.stage)}: ${String(data.reason)}${nextSteps(data)}`;
    case 'OpportunityReopened':
      return `Reopened in ${stage(data.stage)}`;
    case 'ExpectedCloseDateChanged':
      return data.to === null ? `Expected close date cleared (was ${String(data.from)})` : `Expected to close on ${String(data.to)}${data.from === null ? '' : ` (was ${String(data.from)})`}`;
    case 'OpportunityDetailsChanged': {
      const changed = Object.entries(data)
        .filter(([key]) => key !== 'opportunityId' && key !== 'occurredAt')
        .map(([key, value]) => `${key} → ${String(value)}`);
      return `Changed ${changed.join(', ')}`;
    }
    default:
      return event.type;
  }
}

/** The seed's last stage asks for them: shown with the closing they were written on. */
function nextSteps(data: HistoryEvent['data']): string {
  const written = text(data.nextSteps);
  return written === null ? '' : ` — next steps: ${written}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
