import type { HistoryAnswer, ProcessDetail } from '@stagecraft/contracts';
import { formatCalendarDay, formatDealAmount, isolated } from './format';

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

/** Newest first: what happened last is what a rep looks for. */
export function timelineEntries(history: Pick<HistoryAnswer, 'events'>, definition: Definition | null, currencyNow: string | null = null): TimelineEntry[] {
  // Amounts are written in the currency in force when they changed, so follow it from the start.
  // A page of the latest events (it does not begin at the opening) that changes no currency is all
  // in the deal's currency now; one that does knows the currency only from its first change on.
  const fromOpening = history.events[0]?.revision === 0;
  const changesCurrency = history.events.some((event) => typeof event.data.currency === 'string');
  let currency: string | null = fromOpening || changesCurrency ? null : currencyNow;
  const described = history.events.map((event) => {
    if (typeof event.data.currency === 'string') currency = event.data.currency;
    return describe(event, definition, currency);
  });
  return history.events.map((event, index) => ({
    revision: event.revision,
    when: text(event.data.occurredAt) ?? text(event.metadata.recordedAt) ?? '',
    who: whoDid(event),
    what: described[index]!,
    note: text(event.data.note),
  })).reverse();
}

/** How a changed field is named and its new value shown. */
const FIELD_LABELS: Readonly<Record<string, string>> = { title: 'Title', amount: 'Amount', currency: 'Currency', ownerId: 'Owner', teamId: 'Team', expectedCloseDate: 'Expected close' };

function whoDid(event: HistoryEvent): string {
  const actor = text(event.metadata.actor) ?? 'unknown';
  const onBehalfOf = text(event.metadata.onBehalfOf);
  return onBehalfOf ? `${isolated(onBehalfOf)} (via ${isolated(actor)})` : actor;
}

function describe(event: HistoryEvent, definition: Definition | null, currency: string | null): string {
  const data = event.data;
  // Names the process gave, set in a sentence: isolated, as what people wrote is (a right-to-left stage reordered "from … to …").
  const stage = (id: unknown) => isolated(definition?.stages.find((candidate) => candidate.id === id)?.name ?? String(id));
  const criterion = (stageId: unknown, id: unknown) =>
    isolated(definition?.stages.find((candidate) => candidate.id === stageId)?.exitCriteria.find((candidate) => candidate.id === id)?.description ?? String(id));
  switch (event.type) {
    case 'OpportunityOpened':
      return `Opened in ${stage(data.stage)}${typeof data.amount === 'number' ? ` at ${formatDealAmount(data.amount, currency)}` : ''}`;
    case 'ExitCriterionMet':
      return `Met: ${criterion(data.stage, data.criterionId)}`;
    case 'ExitCriterionRevoked':
      return `No longer met: ${criterion(data.stage, data.criterionId)}`;
    case 'StageChanged':
      return `Moved ${data.direction === 'backward' ? 'back ' : ''}from ${stage(data.from)} to ${stage(data.to)}`;
    case 'OpportunityWon':
      return `Won in ${stage(data.stage)}${data.reason === undefined ? '' : `: ${isolated(String(data.reason))}`}${nextSteps(data)}`;
    case 'OpportunityLost':
      return `Lost in ${stage(data.stage)}: ${isolated(String(data.reason))}${nextSteps(data)}`;
    case 'OpportunityReopened':
      return `Reopened in ${stage(data.stage)}`;
    case 'ExpectedCloseDateChanged':
      return data.to === null
        ? `Expected close date cleared (was ${formatCalendarDay(String(data.from))})`
        : `Expected to close on ${formatCalendarDay(String(data.to))}${data.from === null || data.from === undefined ? '' : ` (was ${formatCalendarDay(String(data.from))})`}`;
    case 'OpportunityDetailsChanged': {
      const changed = Object.entries(data)
        .filter(([key]) => key !== 'opportunityId' && key !== 'occurredAt')
        .map(([key, value]) => `${FIELD_LABELS[key] ?? key}: ${shown(key, value, currency)}`);
      return changed.join(' · ');
    }
    case 'ProcessMigrated':
      // An administrator's migration (POST /opportunities/:id/migrate): the rep sees where the deal stands after it, not the event's type.
      return `Put on a new version of the process: ${data.fromStage === data.toStage ? `still in ${stage(data.toStage)}` : `from ${stage(data.fromStage)} to ${stage(data.toStage)}`}`;
    case 'NoChangeRecorded':
      return `Nothing to change (${String(data.command)}, kept so that its retries are answered the same)`;
    default:
      return event.type;
  }
}

function shown(field: string, value: unknown, currency: string | null): string {
  if (value === null || value === undefined) return 'none';
  if (field === 'amount' && typeof value === 'number') return formatDealAmount(value, currency);
  if (field === 'expectedCloseDate') return formatCalendarDay(String(value));
  // A currency is a code; a title, owner or team is what people wrote: isolated in the line.
  return field === 'currency' ? String(value) : isolated(String(value));
}

/** The seed's last stage asks for them: shown with the closing they were written on. */
function nextSteps(data: HistoryEvent['data']): string {
  const written = text(data.nextSteps);
  return written === null ? '' : ` — next steps: ${isolated(written)}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
