import type { ClosedOpportunity, ClosedSection, ConvertedAmount, OpportunitySearchHit, OpportunityView, PipelineResult, PipelineStage, ProcessDetail } from '@stagecraft/contracts';
import { daysSince, formatAmounts, formatDate, formatDealAmount, formatMoney, isolated, localDay } from './format';

/** A card's owner when the deal has none: the owner filter offers it as any owner (searchOwner). */
export const UNASSIGNED = 'unassigned';

// What the board shows, computed from the API's answers alone. Pure (no DOM): unit-tested in
// board.model.spec.ts; board.view.ts only draws it.

/** Where a card can go: a stage of the process, or one of the two outcomes. */
export type MoveTarget = { readonly kind: 'stage'; readonly stageId: string; readonly name: string } | { readonly kind: 'won'; readonly name: string } | { readonly kind: 'lost'; readonly name: string };

export interface BoardCard {
  readonly id: string;
  readonly title: string;
  /** Who owns it as the board names them: "unassigned" when nobody does (the owner filter offers it). */
  readonly owner: string;
  /** Who owns it as the API says: null when nobody does. The search matches this, as the API's does, never the word "unassigned". */
  readonly ownerId: string | null;
  readonly amount: string;
  /** The amount as a number, for sorting; null when none was given. */
  readonly amountValue: number | null;
  /** Its currency, for sorting (amounts are compared within a currency, never across); null when none was given. */
  readonly currency: string | null;
  readonly teamId: string | null;
  /** The column it sits in: its stage, or "won" / "lost". */
  readonly stageId: string;
  readonly status: 'open' | 'won' | 'lost';
  /** Open cards only. */
  readonly daysInStage: number | null;
  /** Open cards longer in their stage than its rotAfterDays (the API says so). */
  readonly rotting: boolean;
  /** Open cards: when it is expected to close (YYYY-MM-DD), or null. */
  readonly expectedCloseDate: string | null;
  /** Open cards whose expected close date is a day already past in the rep's own time zone. */
  readonly overdue: boolean;
  /** Closed cards: the next steps written on the win or loss, or null. */
  readonly nextSteps: string | null;
  /** Closed cards only: when it was won or lost (business time), and why it was lost. */
  readonly closedAt: string | null;
  readonly lostReason: string | null;
  /** Open cards: the current stage's exit criteria met and in all, as the pipeline answers them; null when it does not say. */
  readonly criteria: { readonly met: number; readonly total: number } | null;
  /** Closed cards: the stage it closed in (where a reopening starts from); null when unknown. */
  readonly closedInStage: string | null;
  /** The process version the deal runs on, whose rules decide its moves (a closed one's: its reopenings); null when the answer does not say. */
  readonly processVersion: string | null;
}

export interface BoardColumn {
  /** The stage id, or "won" / "lost" (never stage ids: the process validator forbids them). */
  readonly key: string;
  readonly target: MoveTarget;
  readonly name: string;
  readonly probability: number | null;
  readonly count: number;
  /** Per currency, never one sum of several ("€1,500 · $200"). */
  readonly amount: string;
  /** Amount × stage probability, per currency; null for the outcome columns. */
  readonly weightedAmount: string | null;
  /** With a currencies file: the amount converted to the reporting currency, and the rates it used; null otherwise. */
  readonly converted: { readonly text: string; readonly rates: string } | null;
  /** Open deals of the column that are rotting. */
  readonly rotting: number;
  readonly cards: readonly BoardCard[];
  /** Won and Lost: which closings they hold (the period, and how many of them are shown). */
  readonly caption: string | null;
  /** A stage column the API capped (?cardsPerColumn=): "N more not shown" below its cards; null when all are shown. */
  readonly more: string | null;
  /** How many of a stage column's cards are not listed (the N of `more`). */
  readonly omitted: number;
  /** How many of its cards are deals the rep just touched, drawn at its end though the API left them out (withDealsShown). */
  readonly added?: number;
  /** Lists fewer cards than it holds (a stage's first ones, Won's and Lost's newest): more may be asked for. */
  readonly capped: boolean;
}

/**
 * Cards the board asks for per stage column: enough for any screen, and a column of thousands of
 * deals stays a small answer (the API lists the ones longest in the stage first and counts the rest).
 */
export const CARDS_PER_COLUMN = 100;
/** Cards asked per column while a search, filter or sort is on, or once the rep asked for more (the API's most): it must look past the first hundred. */
export const SEARCHED_CARDS_PER_COLUMN = 1_000;
/** The same for Won and Lost (?closedLimit=, the API's most; its default is 50 a column). */
export const SEARCHED_CLOSED_PER_COLUMN = 500;

type Definition = ProcessDetail['definition'];

/**
 * One column per stage in process order (stages only older versions still hold come after), then
 * Won and Lost with the opportunities closed in the pipeline answer's period (`?closed=won,lost`).
 * `timeZone`: the reader's when undefined (format.ts).
 */
export function boardColumns(definition: Definition, pipeline: PipelineResult, now: Date, timeZone?: string): BoardColumn[] {
  const today = localDay(now, timeZone);
  const process = pipeline.processes.find((entry) => entry.processId === definition.id);
  const figures = process?.stages ?? [];
  const byStage = new Map(figures.map((stage) => [stage.stageId, stage]));
  const stageIds = [...definition.stages.map((stage) => stage.id), ...figures.map((stage) => stage.stageId).filter((id) => !definition.stages.some((stage) => stage.id === id))];
  const stageColumns = stageIds.map((stageId): BoardColumn => {
    const defined = definition.stages.find((stage) => stage.id === stageId);
    const stage: PipelineStage | undefined = byStage.get(stageId);
    const name = defined?.name ?? stage?.name ?? stageId;
    return {
      key: stageId,
      target: { kind: 'stage', stageId, name },
      name,
      probability: defined?.probability ?? stage?.probability ?? null,
      count: stage?.count ?? 0,
      amount: formatAmounts(stage?.amountsByCurrency ?? {}),
      weightedAmount: formatAmounts(stage?.weightedAmountsByCurrency ?? {}),
      converted: convertedText(stage?.converted?.amount),
      // The whole column's (the API counts them all); an older API's answer: the cards listed.
      rotting: stage?.rotting ?? (stage?.opportunities ?? []).filter((card) => card.rotting === true).length,
      cards: (stage?.opportunities ?? []).map((card) => ({
        id: card.id,
        title: card.title,
        owner: card.ownerId ?? UNASSIGNED,
        ownerId: card.ownerId,
        amount: card.amount === null ? '–' : formatDealAmount(card.amount, card.currency),
        amountValue: card.amount,
        currency: card.currency ?? null,
        teamId: card.teamId,
        stageId,
        status: 'open',
        // The API ages cards at its clock; an older API's answer is aged here.
        daysInStage: card.daysInStage ?? daysSince(card.stageEnteredAt, now),
        rotting: card.rotting === true,
        expectedCloseDate: card.expectedCloseDate ?? null,
        overdue: overdue(card.expectedCloseDate ?? null, today),
        nextSteps: null,
        closedAt: null,
        lostReason: null,
        criteria: card.criteria ?? null,
        closedInStage: null,
        processVersion: card.processVersion ?? null,
      })),
      caption: null,
      more: moreText(stage?.opportunitiesOmitted ?? 0),
      omitted: stage?.opportunitiesOmitted ?? 0,
      capped: (stage?.opportunitiesOmitted ?? 0) > 0,
    };
  });
  // In the rep's days, as the cards' dates are: a deal closed just now is closed on the period's last day.
  const period = pipeline.closed ? `Closed ${formatDate(pipeline.closed.from, timeZone)} – ${formatDate(pipeline.closed.to, timeZone)}` : null;
  const outcome = (kind: 'won' | 'lost', name: string, section: ClosedSection | undefined): BoardColumn => {
    const cards = (section?.opportunities ?? []).map((card) => closedCard(card, kind));
    const shown = section && cards.length < section.count ? ` · newest ${cards.length} of ${section.count}` : '';
    return {
      key: kind,
      target: { kind, name },
      name,
      probability: null,
      count: section?.count ?? 0,
      amount: formatAmounts(section?.amountsByCurrency ?? {}),
      weightedAmount: null,
      converted: convertedText(section?.converted?.amount),
      rotting: 0,
      cards,
      caption: period === null ? null : `${period}${shown}`,
      more: null,
      omitted: 0,
      capped: shown !== '',
    };
  };
  return [...stageColumns, outcome('won', 'Won', process?.won), outcome('lost', 'Lost', process?.lost)];
}

const moreText = (omitted: number): string | null => (omitted > 0 ? `${omitted.toLocaleString('en')} more not shown` : null);

/**
 * The deals the rep just created, moved or reopened (`deals`, as GET /opportunities/:id reads them),
 * drawn at the end of their column when it leaves them out. A crowded column lists its cards longest
 * in the stage first, so a deal that just came into it is the last it would list: past the first 100
 * (and past the 1,000 a search looks at), the rep was told "moved" or "created" and found no card to
 * open, and a keyboard move left the focus on nothing. Only an open deal of this process, and of
 * the team shown (none: every team), in a column that leaves cards out; the column's count is the
 * API's already, and the cards it leaves out are one fewer.
 */
export function withDealsShown(columns: readonly BoardColumn[], deals: readonly OpportunityView[], processId: string, teamId: string, now: Date, timeZone?: string): BoardColumn[] {
  const today = localDay(now, timeZone);
  const listed = new Set(columns.flatMap((column) => column.cards.map((card) => card.id)));
  return columns.map((column) => {
    if (column.target.kind !== 'stage' || column.omitted === 0) return column;
    const added = deals
      .filter((deal) => drawableHere(deal, processId, teamId) && deal.stage === column.key && !listed.has(deal.id))
      .slice(0, column.omitted)
      .map((deal) => dealCard(deal, now, today));
    if (added.length === 0) return column;
    const omitted = column.omitted - added.length;
    return { ...column, cards: [...column.cards, ...added], omitted, more: moreText(omitted), capped: omitted > 0, added: added.length };
  });
}

/**
 * Whether a deal read on its own may be drawn on this board (an open deal of this process, and of
 * the team shown; none: every team). One that may not (closed, handed to another team or process)
 * is never drawn by withDealsShown: the board forgets it rather than read it again at every load.
 */
export function drawableHere(deal: Pick<OpportunityView, 'status' | 'processId' | 'teamId'>, processId: string, teamId: string): boolean {
  return deal.status === 'open' && deal.processId === processId && (teamId === '' || deal.teamId === teamId);
}

/** An open deal as read on its own (GET /opportunities/:id), as its card in a stage column draws it. */
function dealCard(deal: OpportunityView, now: Date, today: string): BoardCard {
  return {
    id: deal.id,
    title: deal.title,
    owner: deal.ownerId ?? UNASSIGNED,
    ownerId: deal.ownerId,
    amount: deal.amount === null ? '–' : formatDealAmount(deal.amount, deal.currency),
    amountValue: deal.amount,
    currency: deal.currency,
    teamId: deal.teamId,
    stageId: deal.stage,
    status: 'open',
    daysInStage: deal.stageEnteredAt === null ? null : daysSince(deal.stageEnteredAt, now),
    // Just moved or created: not in its stage long enough to rot.
    rotting: false,
    expectedCloseDate: deal.expectedCloseDate,
    overdue: overdue(deal.expectedCloseDate, today),
    nextSteps: null,
    closedAt: null,
    lostReason: null,
    criteria: { met: deal.exitCriteria.filter((criterion) => criterion.met).length, total: deal.exitCriteria.length },
    closedInStage: null,
    processVersion: deal.processVersion,
  };
}

/**
 * Whether an expected close date (a calendar day) is past: a day before the rep's today (`today`,
 * YYYY-MM-DD in their own zone, format.ts localDay). A deal expected to close today is not overdue yet.
 */
export function overdue(expectedCloseDate: string | null, today: string): boolean {
  return expectedCloseDate !== null && expectedCloseDate < today;
}

function closedCard(card: ClosedOpportunity, kind: 'won' | 'lost'): BoardCard {
  return {
    id: card.id,
    title: card.title,
    owner: card.ownerId ?? UNASSIGNED,
    ownerId: card.ownerId,
    amount: card.amount === null ? '–' : formatDealAmount(card.amount, card.currency),
    amountValue: card.amount,
    currency: card.currency ?? null,
    teamId: card.teamId,
    stageId: kind,
    status: kind,
    daysInStage: null,
    rotting: false,
    expectedCloseDate: null,
    overdue: false,
    nextSteps: card.nextSteps ?? null,
    closedAt: card.closedAt,
    lostReason: kind === 'lost' ? (card.lostReason ?? 'unknown') : null,
    criteria: null,
    closedInStage: card.closedInStage ?? null,
    processVersion: card.processVersion ?? null,
  };
}

/**
 * The deals the API's search found (GET /opportunities?q=) that the board does not list: a column
 * longer than its cards, a deal closed before the board's window. The board's own cards are found
 * by its own search; these are offered beside them.
 */
export function foundBeyondBoard(hits: readonly OpportunitySearchHit[], columns: readonly BoardColumn[]): OpportunitySearchHit[] {
  const listed = new Set(columns.flatMap((column) => column.cards.map((card) => card.id)));
  return hits.filter((hit) => !listed.has(hit.id));
}

/**
 * The newest `most` of the deals found beyond the board, and whether it found more (or stopped
 * before the end: `cut`). The API lists the board's own deals among its hits (the newest deals are
 * on the board): a first page of them alone must not make the list say nothing was found beyond it.
 */
export function listedBeyondBoard(hits: readonly OpportunitySearchHit[], columns: readonly BoardColumn[], most: number, cut: boolean): { readonly deals: OpportunitySearchHit[]; readonly more: boolean } {
  const found = foundBeyondBoard(hits, columns);
  return { deals: found.slice(0, most), more: cut || found.length > most };
}

/** A deal the search found, as a card its side panel opens from (the panel reads the deal itself: cardAsRead). */
export function searchHitCard(hit: OpportunitySearchHit): BoardCard {
  const open = hit.status === 'open';
  return {
    id: hit.id,
    title: hit.title,
    owner: hit.ownerId ?? UNASSIGNED,
    ownerId: hit.ownerId,
    amount: hit.amount === null ? '–' : formatDealAmount(hit.amount, hit.currency),
    amountValue: hit.amount,
    currency: hit.currency,
    teamId: hit.teamId,
    stageId: open ? (hit.stageId ?? '') : hit.status,
    status: hit.status,
    daysInStage: null,
    rotting: false,
    expectedCloseDate: null,
    overdue: false,
    nextSteps: null,
    closedAt: hit.closedAt,
    lostReason: null,
    criteria: null,
    closedInStage: null,
    processVersion: hit.processVersion,
  };
}

/** How a found deal is named in the list: its title, where it stands (a stage by its name, or won / lost and the day), its owner. */
export function searchHitText(hit: OpportunitySearchHit, stageName: (stageId: string) => string, timeZone?: string): string {
  const where = hit.status === 'open' ? (hit.stageId === null ? 'open' : isolated(stageName(hit.stageId))) : `${hit.status === 'won' ? 'Won' : 'Lost'} ${hit.closedAt === null ? '' : formatDate(hit.closedAt, timeZone)}`.trim();
  return `${isolated(hit.title)} — ${where} · ${hit.ownerId === null ? UNASSIGNED : isolated(hit.ownerId)}`;
}

/** "≈ €1,710" and the rates it used ("USD 0.8 from 2026-03-01, rates of 2026-03-01"); "no rate for JPY" when it cannot be converted. */
function convertedText(converted: ConvertedAmount | undefined): BoardColumn['converted'] {
  if (!converted) return null;
  const rates = [...converted.rates.map((rate) => `1 ${rate.currency} = ${rate.rate} ${converted.currency} (from ${rate.from})`), `rates in force on ${converted.rateDate}`].join('; ');
  if (converted.amount === null) return { text: `no rate for ${converted.missingRates.join(', ')}`, rates };
  return { text: `≈ ${formatMoney(converted.amount, converted.currency)}`, rates };
}

/**
 * A card as the deal is now (GET /opportunities/:id), not as the board last drew it: someone else
 * may have moved, closed or reopened it, or migrated it to another version, since. Its panel offers
 * and sends the moves of the deal as read (a stage it is already in, or a move of an open deal
 * that is now lost, would be refused).
 */
export function cardAsRead(card: BoardCard, opportunity: Pick<OpportunityView, 'status' | 'stage' | 'processVersion'>): BoardCard {
  const open = opportunity.status === 'open';
  return {
    ...card,
    stageId: open ? opportunity.stage : opportunity.status,
    status: opportunity.status,
    // A closed deal's stage is the one it closed in: where a reopening starts.
    closedInStage: open ? null : opportunity.stage,
    processVersion: opportunity.processVersion,
  };
}

/** How a win or a loss was recorded on the board (dialogs.ts asks); fields left empty are not sent. */
export interface Closing {
  readonly reason?: string | undefined;
  readonly note?: string | undefined;
  readonly nextSteps?: string | undefined;
}

/** The command a move to a target sends: move, win or lose an open card; reopen a closed one in the stage. */
export function moveCommand(card: Pick<BoardCard, 'id' | 'status'>, target: MoveTarget, closing: Closing = {}): { path: string; body: Record<string, unknown> } {
  const base = `/opportunities/${encodeURIComponent(card.id)}`;
  const given = Object.fromEntries(Object.entries(closing).filter(([, value]) => value !== undefined));
  switch (target.kind) {
    case 'stage':
      return card.status === 'open' ? { path: `${base}/move`, body: { stage: target.stageId } } : { path: `${base}/reopen`, body: { stage: target.stageId } };
    case 'won':
      return { path: `${base}/win`, body: given };
    case 'lost':
      return { path: `${base}/lose`, body: given };
    default: {
      const exhaustive: never = target;
      throw new Error(`Unknown target ${JSON.stringify(exhaustive)}`);
    }
  }
}

/**
 * Whether the columns hold the card where a move to `target` puts it: open in that stage (moved or
 * reopened there), or in Won or Lost. A move whose answer never came is known to have landed once
 * the board draws it so.
 */
export function shownAt(columns: readonly BoardColumn[], cardId: string, target: MoveTarget): boolean {
  const key = target.kind === 'stage' ? target.stageId : target.kind;
  const status = target.kind === 'stage' ? 'open' : target.kind;
  return columns.some((column) => column.key === key && column.cards.some((card) => card.id === cardId && card.status === status));
}
