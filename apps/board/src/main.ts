import { ApiClient, ApiError, outcomeUnknown, resending, type Resend } from './api.client';
import type { CallerAnswer, FunnelResult, OpportunitySearchHit, OpportunitySearchResult, OpportunityView, PipelineResult, ProcessDetail, ProcessList, StageDurationsResult, WinLossResult, WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import { boardColumns, CARDS_PER_COLUMN, foundBeyondBoard, listedBeyondBoard, moveCommand, searchHitCard, searchHitText, SEARCHED_CARDS_PER_COLUMN, SEARCHED_CLOSED_PER_COLUMN, drawableHere, shownAt, withDealsShown, type BoardCard, type BoardColumn, type MoveTarget } from './board.model';
import { filterColumns, filtering, filtersFrom, ownersOf, searchOwner, searchSummary, searchWords, writeFilters } from './board-filters.model';
import { wireFilters } from './board-filters';
import { columnsFitSideBySide } from './board-layout.model';
import { focusCard, openMenuPlace, placeOf, renderBoard, reopenMoveMenu } from './board.view';
import { amountsWonAndLost, funnelSteps, lostReasons, periodOutOfOrder, reliabilityPoints, stageDurationRows, winLossByTeam, wonReasons } from './charts.model';
import { renderCharts } from './charts.view';
import { openCriteriaPanel, rescopeCriteriaPanel } from './criteria.panel';
import { forgetDrafts, openDealForm, recheckForm, rescopeForm } from './deal-form';
import { criteriaReadOnlyReason, formReadOnlyReason, mayWriteDeals, newDealOffer, noProcessText, selectableTeams, teamList } from './key-scope.model';
import { chooseClosing, type ClosingAnswer } from './dialogs';
import { announce, byId, forgetEvidenceNotes, h, statusAbout } from './dom';
import { dayBoundary, formatTimeOfDay, isolated, localDay, quotedTitle } from './format';
import { inSentence } from './api-problem.model';
import { detailForCard, goneText, inWords, isGone, moveChoices, otherVersions, targetInSentence, type VersionDetail } from './moves.model';
import { openSidePanel } from './side-panel';
import { offerSignInAgain } from './sign-in-again';
import { loadWaterfall } from './waterfall.view';

// The board page: pick a process and team, see its kanban or its charts. Everything goes through
// the public API with the caller's key, kept for this browser tab only (sessionStorage). What the
// key may do (GET /me: roles and teams) decides what is offered.

const CREDENTIALS = 'stagecraft.board.credentials';
const api = new ApiClient(
  () => sessionStorage.getItem(CREDENTIALS),
  () => keyRefused(),
  // A page may set `stagecraftRequestTimeoutMs` before this script runs (the browser tests do).
  (window as { stagecraftRequestTimeoutMs?: number }).stagecraftRequestTimeoutMs,
);

// The chosen process, team, search, filters, sort and (on a phone) stage live in the address, so a view can be shared.
const initial = new URLSearchParams(location.search);

const state = {
  caller: null as CallerAnswer | null,
  detail: null as ProcessDetail | null,
  /** No process is offered to this key (its teams run none): New deal says so (showNewDeal). */
  noProcess: false,
  processId: initial.get('process') ?? '',
  teamId: initial.get('team') ?? '',
  filters: filtersFrom(initial),
  stage: initial.get('stage') ?? '',
  columns: [] as BoardColumn[],
  /** The last log position this page wrote: queries pass it as ?minPosition= to read their own writes. */
  position: undefined as number | undefined,
  renders: 0,
  /** The columns were loaded with SEARCHED_CARDS_PER_COLUMN (a search, filter or sort was on, or the rep asked for more). */
  loadedForSearch: false,
  /** The rep asked for more cards of a capped column ("Show more"): every load of this board (this process and team) asks for the API's most. */
  showMore: false,
  /**
   * The deals the rep created, moved or reopened on this board, the latest first (at most
   * TOUCHED_KEPT): a crowded column leaves them out (it lists the longest in the stage first), so
   * they are read on their own and drawn at its end (withDealsShown). Another board starts afresh.
   */
  touched: [] as string[],
  /** Process versions other than the current one (their stages and moves), by process and version: a card is named and offered moves by its own version. */
  versions: new Map<string, Map<string, VersionDetail>>(),
};

const view = (): 'board' | 'charts' => (location.hash === '#charts' && mayReadCharts() ? 'charts' : 'board');
/** The key sees only some teams: a deal it no longer finds may have been moved to another team (goneText). */
const limitedToTeams = () => state.caller?.teams != null;
const hasRole = (role: string) => state.caller !== null && (state.caller.roles.includes(role) || state.caller.roles.includes('admin'));
const mayWrite = () => mayWriteDeals(state.caller);
const mayReadCharts = () => hasRole('analyst');
const mayReadHistory = () => hasRole('writer') || hasRole('analyst') || hasRole('auditor');

const filterControls = wireFilters(
  (filters) => {
    clearStatus();
    state.filters = filters;
    writeAddress();
    // Searching a capped column: ask for more of its cards first (once, not per key typed).
    if (filtering(filters) && !state.loadedForSearch && state.columns.some((column) => column.capped)) void guarded(() => loadBoard());
    else drawBoard();
  },
  (stage) => {
    state.stage = stage;
    writeAddress();
    drawBoard();
  },
);

async function start(): Promise<void> {
  byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = byId<HTMLInputElement>('credentials').value.trim();
    if (!value) return;
    sessionStorage.setItem(CREDENTIALS, value);
    void loadProcesses();
  });
  byId('sign-out').addEventListener('click', () => signOut());
  byId<HTMLSelectElement>('process').addEventListener('change', (event) => {
    clearStatus();
    void selectProcess((event.target as HTMLSelectElement).value);
  });
  byId<HTMLSelectElement>('team').addEventListener('change', (event) => {
    clearStatus();
    state.teamId = (event.target as HTMLSelectElement).value;
    state.showMore = false; // another board: its columns are capped again until the rep asks for more of them
    state.touched = [];
    void refresh();
  });
  byId('new-deal').addEventListener('click', () => void guarded(() => newDeal()));
  byId<HTMLFormElement>('period').addEventListener('submit', (event) => {
    event.preventDefault();
    // What an earlier period's refusal said does not stand beside the charts of this one
    // (one out of order is refused by loadCharts, in the rep's days).
    clearStatus();
    void refresh();
  });
  window.addEventListener('hashchange', () => {
    clearStatus();
    showView();
    void refresh();
  });
  new ResizeObserver(() => fitLayout()).observe(byId('columns'));
  setInterval(liveRefresh, LIVE_REFRESH_MS);
  // Back to this tab, or back online: what changed meanwhile is drawn at once.
  document.addEventListener('visibilitychange', liveRefresh);
  window.addEventListener('online', liveRefresh);
  showView();
  if (sessionStorage.getItem(CREDENTIALS)) await loadProcesses();
  else showLogin();
}

function signOut(message = 'Signed out.'): void {
  sessionStorage.removeItem(CREDENTIALS);
  // Nothing of the last key's board is kept, or asked for again (the live refresh stops with it).
  state.detail = null;
  state.noProcess = false;
  state.caller = null;
  state.columns = [];
  state.showMore = false;
  state.touched = [];
  drawnPipeline = '';
  readAt = null;
  byId('board-freshness').textContent = '';
  boardLoads += 1; // an answer still on its way for the last key is not drawn
  session += 1; // nor said: a command or save still under way for the last key ends silently
  resendsByCard.clear();
  unanswered.clear();
  unsentClosings.clear();
  forgetDrafts();
  forgetEvidenceNotes();
  moving.clear();
  // What the last key was shown leaves the page: the next key, in this tab, must not see it
  // while its own board loads, nor instead of it when that load fails.
  for (const dialog of document.querySelectorAll<HTMLDialogElement>('dialog[open]')) dialog.close();
  byId('columns').replaceChildren();
  forgetBeyondBoard();
  byId('charts').replaceChildren();
  for (const id of ['waterfall', 'levers']) document.getElementById(id)?.remove();
  byId('who').textContent = '';
  filterControls.show(state.filters, []);
  filterControls.showStages([], '');
  byId('search-result').textContent = '';
  showLogin(message);
}

/**
 * Any request answered 401 (api.client.ts): while the board is shown, sign-in is offered at once
 * over whatever is open (sign-in-again.ts), so nothing the rep typed is lost; on the sign-in page
 * (a wrong key typed there), the page says so.
 */
function keyRefused(): void {
  /** The key signed in with may see or do other things than the refused one (rescope). */
  let rescoped = false;
  if (byId('app').hidden || state.caller === null) {
    sessionStorage.removeItem(CREDENTIALS);
    showLogin('This key or token was not accepted. Enter another.');
    return;
  }
  offerSignInAgain({
    accept: async (credentials) => {
      const since = session;
      const before = sessionStorage.getItem(CREDENTIALS);
      sessionStorage.setItem(CREDENTIALS, credentials);
      try {
        const caller = await api.get<CallerAnswer>('/me');
        // Signed out ("Sign out instead") while /me was on its way: the signed-out page gets no caller.
        if (since !== session) return null;
        if (!sameScope(state.caller, caller)) rescoped = true;
        state.caller = caller;
        showCaller(caller);
        showView();
        announce('Signed in again. Send again what was refused.');
        return null;
      } catch (error) {
        // Nor, signed out meanwhile, the refused key back in this tab's storage.
        if (since !== session) return null;
        if (before !== null) sessionStorage.setItem(CREDENTIALS, before);
        return error instanceof ApiError && error.status === 401 ? 'This key or token was not accepted either. Enter another.' : error instanceof ApiError ? refusalText(error) : String(error);
      }
    },
    signOut: () => signOut('Signed out: the key was no longer accepted.'),
    // The board or the charts, loaded again for the new key: a load the old key was refused is not
    // left drawn as it failed. Not under an open form or panel (drawn at the next look then).
    // A key of other roles or teams: its processes, teams and board at once, under a form or panel
    // too (the last key's cards of teams this one does not see must not stay drawn, nor its "All teams").
    signedIn: () => {
      if (rescoped) void guarded(rescope);
      else {
        // A panel whose deal could not be read (its read refused for the key) reads it now; one
        // drawn stays as it was, with what the rep typed in it.
        const panel = byId<HTMLDialogElement>('side-panel');
        if (panelCard !== null && panel.open && panel.querySelector('.deal-fields') === null) void openPanel(panelCard);
        if (!busy()) void refresh();
      }
      rescoped = false;
    },
  });
}

function showCaller(caller: CallerAnswer): void {
  // The key's name isolated (bdi): a right-to-left name does not carry its roles and teams into its order.
  byId('who').replaceChildren(h('bdi', {}, caller.name), ` · ${caller.roles.join(', ')}${caller.teams ? ` · ${teamList(caller.teams)}` : ''}`);
}

function showLogin(message = ''): void {
  byId('login').hidden = false;
  byId('app').hidden = true;
  byId('login-error').textContent = message;
  byId<HTMLInputElement>('credentials').focus();
}

function showView(): void {
  const current = view();
  byId('board-view').hidden = current !== 'board';
  byId('charts-view').hidden = current !== 'charts';
  // The charts are analytics: a key without the analyst role is not offered them.
  byId('charts-link').hidden = !mayReadCharts();
  showNewDeal();
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.hash === `#${current}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/**
 * New deal as this key may use it (newDealOffer): not shown to a read-only key; shown disabled, with
 * the reason beside it, to a writer whose teams run no process (it opened a form that could only be
 * refused, or nothing at all).
 */
function showNewDeal(): void {
  const button = byId<HTMLButtonElement>('new-deal');
  const reason = byId('new-deal-reason');
  const offer = newDealOffer(state.caller, state.noProcess ? 'none' : (state.detail?.definition ?? null));
  const shown = offer.kind !== 'hidden' && view() === 'board';
  button.hidden = !shown;
  button.disabled = offer.kind === 'disabled';
  reason.textContent = offer.kind === 'disabled' ? offer.reason : '';
  reason.hidden = !shown || offer.kind !== 'disabled';
  if (offer.kind === 'disabled') button.setAttribute('aria-describedby', reason.id);
  else button.removeAttribute('aria-describedby');
}

/** A message from an earlier action must not linger through the next one. */
function clearStatus(): void {
  announce('');
}

/** Says an API refusal in words: names, not ids (a deal's own version's, when it is about one). */
function refusalText(error: ApiError, definition = state.detail?.definition ?? null): string {
  const text = inWords(error.problem.detail ?? error.problem.code, definition);
  return error.status === 403 ? `Not allowed with this key: ${inSentence(error.problem, text)}` : text;
}

/** The same set after the board's words ("… cannot go to Qualification: …"): the API's words isolated (inSentence). */
function refusalInSentence(error: ApiError, definition = state.detail?.definition ?? null): string {
  return error.status === 403 ? refusalText(error, definition) : inSentence(error.problem, refusalText(error, definition));
}

/** Runs a load; anything refused is said (a refused key was offered sign-in as it came: keyRefused). */
async function guarded(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // Offered already, at the request that met it.
    } else if (error instanceof ApiError) {
      announce(refusalText(error), 'error');
    } else {
      announce(String(error), 'error');
    }
  }
}

async function loadProcesses(): Promise<void> {
  await guarded(async () => {
    let caller: CallerAnswer;
    let processes: ProcessList['processes'];
    try {
      [caller, { processes }] = await Promise.all([api.get<CallerAnswer>('/me'), api.get<ProcessList>('/processes')]);
    } catch (error) {
      // A refused key is sent back to the sign-in form by keyRefused. Anything else (the server
      // unreachable or unavailable) would be said in the board's status line, hidden until the board
      // shows: the rep saw nothing happen, or a blank page on a reload. Said on the sign-in form,
      // with the key kept there to try again.
      if (error instanceof ApiError && error.status === 401) return;
      showLogin(`The board could not be opened: ${error instanceof ApiError ? refusalInSentence(error) : String(error)}`);
      byId<HTMLInputElement>('credentials').value = sessionStorage.getItem(CREDENTIALS) ?? '';
      return;
    }
    state.caller = caller;
    byId('login').hidden = true;
    byId('app').hidden = false;
    showCaller(caller);
    showView();
    await offerProcesses(caller, processes);
  });
}

/**
 * The processes, teams and board this key may see: at sign-in, and again when the rep signs in
 * again with a key of other roles or teams (rescope), where the last key's "All teams" or team
 * would only be refused, and its cards of teams the new key does not see stayed drawn.
 */
async function offerProcesses(caller: CallerAnswer, processes: ProcessList['processes']): Promise<void> {
  // A key limited to teams is offered the processes its teams run (a process with no teams runs
  // for every team): on another, it could see and open nothing, and was not told why.
  const limited = caller.teams ?? null;
  const offered = limited === null ? processes : processes.filter((process) => process.teams.length === 0 || process.teams.some((team) => limited.includes(team)));
  if (offered.length === 0 && limited !== null) announce(noProcessText(limited), 'error');
  state.noProcess = offered.length === 0;
  showNewDeal();
  const select = byId<HTMLSelectElement>('process');
  select.replaceChildren(...offered.map((process) => h('option', { value: process.id }, process.name)));
  // The address's process, else the main one (default: true in its file), else the first.
  const chosen = offered.some((process) => process.id === state.processId) ? state.processId : (offered.find((process) => process.default) ?? offered[0])?.id ?? '';
  if (chosen === '') {
    // Nothing this key may see: nothing of the last key's board stays drawn either.
    state.detail = null;
    state.columns = [];
    byId('columns').replaceChildren();
    return;
  }
  select.value = chosen;
  await selectProcess(chosen);
}

/** Whether two keys may see and do the same: roles and teams. */
function sameScope(one: CallerAnswer | null, other: CallerAnswer): boolean {
  const scopeOf = (caller: CallerAnswer) => JSON.stringify([[...caller.roles].sort(), caller.teams === null || caller.teams === undefined ? null : [...caller.teams].sort()]);
  return one !== null && scopeOf(one) === scopeOf(other);
}

/** Signed in again with a key of other roles or teams: what is offered and drawn is that key's. */
async function rescope(): Promise<void> {
  const since = session;
  // A New deal or Edit form left open is this key's at once: its teams, none of the last key's only,
  // what it is told of a deal it does not find, and no save for a read-only key.
  rescopeForm({ teamsOf: (definition) => selectableTeams(state.caller, definition).teams, limitedToTeams: limitedToTeams(), readOnly: (editing) => formReadOnlyReason(state.caller, editing) });
  // So is a panel of unmet criteria: no tick or move for a read-only key.
  rescopeCriteriaPanel({ limitedToTeams: limitedToTeams(), readOnly: criteriaReadOnlyReason(state.caller) });
  const { processes } = await api.get<ProcessList>('/processes');
  if (since !== session || state.caller === null) return; // signed out meanwhile
  drawnPipeline = ''; // the next look draws, though the answer were the same (other move buttons)
  await offerProcesses(state.caller, processes);
  // An open panel offers what the new key may do (no Edit, moves or ticks for a read-only one), or says the deal is not its to see.
  if (panelCard !== null && byId<HTMLDialogElement>('side-panel').open) await openPanel(panelCard);
}

async function selectProcess(processId: string): Promise<void> {
  await guarded(async () => {
    // Another process is another board: "Show more" of the last one does not carry over.
    if (state.detail?.id !== processId) {
      state.showMore = false;
      state.touched = [];
    }
    state.processId = processId;
    const detail = await api.get<ProcessDetail>(`/processes/${encodeURIComponent(processId)}`);
    state.detail = detail;
    showNewDeal();
    const teams = byId<HTMLSelectElement>('team');
    const { teams: choosable, all } = selectableTeams(state.caller, detail.definition);
    teams.replaceChildren(...(all ? [h('option', { value: '' }, 'All teams')] : []), ...choosable.map((team) => h('option', { value: team }, team)));
    state.teamId = choosable.includes(state.teamId) ? state.teamId : all ? '' : (choosable[0] ?? '');
    teams.value = state.teamId;
    await refresh();
  });
}

function writeAddress(): void {
  const address = new URL(location.href);
  address.searchParams.set('process', state.processId);
  if (state.teamId) address.searchParams.set('team', state.teamId);
  else address.searchParams.delete('team');
  writeFilters(address.searchParams, state.filters);
  if (state.stage) address.searchParams.set('stage', state.stage);
  else address.searchParams.delete('stage');
  history.replaceState(null, '', address);
}

async function refresh(): Promise<void> {
  if (!state.detail) return;
  writeAddress();
  await guarded(() => (view() === 'board' ? loadBoard() : loadCharts()));
}

const scope = () => ({ processId: state.processId, teamId: state.teamId || undefined, minPosition: state.position });

/** The last pipeline answer drawn, as text: a live refresh that finds the same draws nothing (no focus or scroll lost). */
let drawnPipeline = '';

/**
 * Bumped by every load of the board but a live refresh's: an answer that comes back after a later
 * load began is not drawn (that one will be); a live refresh never stands in the way of a load.
 */
let boardLoads = 0;

/** Resolves true when this load's answer is the one drawn, false when it was not (overtaken, unchanged, or the rep busy). */
async function loadBoard(options: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
  const load = options.onlyIfChanged ? boardLoads : ++boardLoads;
  const definition = state.detail!.definition;
  // Won and Lost: the deals closed in the API's default period (the last 30 days up to now).
  // Stage columns: the first CARDS_PER_COLUMN cards each; the header totals still cover them all.
  // A search, filter or sort, or the rep's "Show more": the API's most of each column, Won and Lost too.
  const forSearch = filtering(state.filters) || state.showMore;
  state.loadedForSearch = forSearch; // now, not on the answer: the next key typed must not ask again
  const look = ++looks;
  const pipeline = await api
    .get<PipelineResult>('/pipeline', {
      ...scope(),
      include: 'opportunities',
      cardsPerColumn: forSearch ? SEARCHED_CARDS_PER_COLUMN : CARDS_PER_COLUMN,
      closed: 'won,lost',
      closedLimit: forSearch ? SEARCHED_CLOSED_PER_COLUMN : undefined,
    })
    .then(
      (answer) => {
        showFreshness(look, null);
        return answer;
      },
      (error: unknown) => {
        showFreshness(look, error);
        throw error;
      },
    );
  if (load !== boardLoads || state.detail?.definition !== definition) return false; // a later load, or another process chosen meanwhile
  // A live refresh answered while the rep started something (a drag, a dialog): drawn at the next look.
  if (options.onlyIfChanged && busy()) return false;
  // The closed sections' period ends now, so it differs in every answer: what is drawn is compared without it,
  // but with the rep's day: past their midnight the same answer draws other Overdue marks and another period.
  const text = JSON.stringify({ ...pipeline, closed: undefined, today: localDay(new Date()) });
  if (options.onlyIfChanged && text === drawnPipeline) return false;
  drawnPipeline = text;
  const columns = await withTouchedDeals(boardColumns(definition, pipeline, new Date()));
  await loadVersionMoves(columns);
  if (load !== boardLoads || state.detail?.definition !== definition) return false;
  state.columns = columns;
  // A deal won or lost since (here, by someone else too): the notes typed for its criteria are moot,
  // and so is a win or loss written and refused or unsent meanwhile (offered at its next closing,
  // after a reopening, it preselected a reason chosen for another time).
  const closed = columns.flatMap((column) => column.cards.filter((card) => card.status !== 'open').map((card) => card.id));
  forgetEvidenceNotes(closed);
  for (const id of closed) for (const kind of ['won', 'lost']) unsentClosings.delete(`${id} ${kind}`);
  drawBoard();
  settleUnanswered();
  return true;
}

/** When the board last read its cards (null: not yet, or signed out). */
let readAt: Date | null = null;

/** Reads of the board asked (live refreshes too), and the latest whose outcome the freshness line says. */
let looks = 0;
let lookSaid = 0;

/**
 * A board whose looks fail (offline, the server unreachable or down) keeps drawing what it read
 * last, and the live refresh went on failing without a word: a rep took an hour-old board for a
 * live one. Said beside it, with since when, until an answer comes (`error` null: this one did).
 * A refusal says itself where it comes (sign-in again, the status line), and changes nothing here.
 */
function showFreshness(look: number, error: unknown): void {
  // An older read settling after a newer one (a hung live refresh failing after a move's read was
  // drawn) says nothing of the board now: it said "Not up to date" under a board just read.
  if (look < lookSaid) return;
  lookSaid = look;
  const line = byId('board-freshness');
  let text = line.textContent ?? '';
  if (error === null) {
    readAt = new Date();
    text = '';
  } else if (outcomeUnknown(error) && readAt !== null) {
    text = `Not up to date since ${formatTimeOfDay(readAt, new Date())}: ${whyUnread(error)}. The board tries again by itself.`;
  }
  // Set only when it changes: a status is read out again at every change, not at every failed look.
  if (line.textContent !== text) line.textContent = text;
}

function whyUnread(error: unknown): string {
  if (!(error instanceof ApiError) || (error.status === 0 && error.problem.code !== 'NETWORK.TIMEOUT')) return 'the server could not be reached';
  return error.status === 0 ? 'the server did not answer in time' : `the server is unavailable (HTTP ${error.status})`;
}

/** How many of the deals the rep touched last are drawn when their column leaves them out. */
const TOUCHED_KEPT = 20;

/** The rep created, moved or reopened this deal: drawn though its column is crowded (state.touched). */
function touch(id: string): void {
  state.touched = [id, ...state.touched.filter((other) => other !== id)].slice(0, TOUCHED_KEPT);
}

/** The columns with the deals the rep touched that they leave out, each read on its own (one that cannot be read is left out, as before). */
async function withTouchedDeals(columns: BoardColumn[]): Promise<BoardColumn[]> {
  const listed = new Set(columns.flatMap((column) => column.cards.map((card) => card.id)));
  const missing = state.touched.filter((id) => !listed.has(id));
  if (missing.length === 0 || !columns.some((column) => column.omitted > 0)) return columns;
  const { processId, teamId } = state;
  const reads = await Promise.all(
    missing.map((id) =>
      api.get<OpportunityView>(`/opportunities/${encodeURIComponent(id)}`).then(
        (deal) => ({ id, deal, gone: !drawableHere(deal, processId, teamId) }),
        // Not found for this key (moved to a team it does not see, deleted): gone; anything else may pass.
        (error: unknown) => ({ id, deal: null, gone: error instanceof ApiError && isGone(error.problem) }),
      ),
    ),
  );
  // A deal this board can no longer draw (closed, handed to another team or process, not found) is
  // forgotten: read again at every load (each live refresh of a busy board), it cost up to 20
  // requests a refresh for nothing, all day.
  const gone = new Set(reads.filter((read) => read.gone).map((read) => read.id));
  if (gone.size > 0 && state.processId === processId && state.teamId === teamId) state.touched = state.touched.filter((id) => !gone.has(id));
  const deals = reads.flatMap((read) => (read.deal === null ? [] : [read.deal]));
  return withDealsShown(
    columns,
    deals,
    state.processId,
    state.teamId,
    new Date(),
  );
}

/**
 * Each other process version the cards run on, read once (a version never changes): a deal on an
 * older version is decided by that version's rules and named by its stages, so the board offers
 * and says those. One that cannot be read is left to the API to judge (nothing marked forbidden),
 * never the current rules.
 */
async function loadVersionMoves(columns: readonly BoardColumn[]): Promise<void> {
  await Promise.all(otherVersions(columns, state.detail!.version).map((version) => loadVersion(version)));
}

async function loadVersion(version: string): Promise<void> {
  const detail = state.detail!;
  const known = state.versions.get(detail.id) ?? new Map<string, VersionDetail>();
  state.versions.set(detail.id, known);
  if (known.has(version)) return;
  const answer = await api.get<ProcessDetail>(`/processes/${encodeURIComponent(detail.id)}`, { version }).catch(() => null);
  if (answer) known.set(version, { definition: answer.definition, moves: answer.moves });
}

/** The process as a card is named and judged by: its own version's stages and moves. */
function detailOf(card: Pick<BoardCard, 'processVersion'>): VersionDetail {
  const detail = state.detail!;
  return detailForCard(detail, state.versions.get(detail.id) ?? new Map(), card);
}

/** The same, for a deal as just read: a version the board has not drawn (migrated meanwhile) is read first. */
async function detailOfDeal(card: Pick<BoardCard, 'processVersion'>): Promise<VersionDetail> {
  if (state.detail && card.processVersion !== null && card.processVersion !== state.detail.version) await loadVersion(card.processVersion);
  return detailOf(card);
}

/**
 * How often an open board looks for what others changed: a rep keeps it open all day, and a deal
 * another rep moved must not sit in its old column until a reload. (A page may set
 * `stagecraftLiveRefreshMs` before this script runs: the browser tests do.)
 */
const LIVE_REFRESH_MS = (window as { stagecraftLiveRefreshMs?: number }).stagecraftLiveRefreshMs ?? 15_000;

/** Whether the rep is in the middle of something a redraw would disturb: a dialog, a drag or a card's menu (a focused card keeps its focus: drawBoard). */
function busy(): boolean {
  return document.querySelector('dialog[open], .dragging, .move-menu') !== null;
}

/** A live refresh under way: the next look waits for it rather than pile up behind a slow answer. */
let refreshing = false;

/**
 * Draws the board again if it changed, when visible and idle. A refused key goes back to the
 * sign-in form, as any other load does; anything else is left to the next action to say.
 */
function liveRefresh(): void {
  // An Edit form open: whether the key still sees its deal, though the board behind it is not drawn (busy).
  if (document.visibilityState === 'visible' && sessionStorage.getItem(CREDENTIALS)) recheckForm();
  if (refreshing || document.visibilityState !== 'visible' || view() !== 'board' || !state.detail || !sessionStorage.getItem(CREDENTIALS) || busy()) return;
  refreshing = true;
  loadBoard({ onlyIfChanged: true })
    // A refused key was offered sign-in as it came (keyRefused); anything else waits for the next action.
    .catch(() => undefined)
    .finally(() => (refreshing = false));
}

function drawBoard(): void {
  if (!state.detail) return;
  const container = byId('columns');
  const shown = filterColumns(state.columns, state.filters);
  // A redraw makes every card anew: the one with the focus (a keyboard user's place) gets it back.
  const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const focusedCard = active?.closest<HTMLElement>('#columns [data-opportunity-id]')?.dataset.opportunityId;
  const focusedPart = active?.classList.contains('move-button') ? '.move-button' : active?.classList.contains('card-title') ? '.card-title' : null;
  const focusedPlace = focusedCard === undefined ? null : placeOf(container, focusedCard);
  const menu = openMenuPlace();
  // On a phone one column shows at a time: a focused card now in another column (moved from the
  // keyboard) takes the view along, or its focus would fall to the page, on a column not shown.
  const shownStage = () => (state.columns.some((column) => column.key === state.stage) ? state.stage : (state.columns[0]?.key ?? ''));
  fitLayout(shown.length);
  const focusedIn = focusedCard === undefined ? undefined : shown.find((column) => column.cards.some((card) => card.id === focusedCard))?.key;
  if (focusedIn !== undefined && focusedIn !== shownStage() && oneColumnAtATime()) {
    state.stage = focusedIn;
    writeAddress();
  }
  const stage = shownStage();
  filterControls.show(state.filters, ownersOf(state.columns));
  // Said only when it changes (a live refresh that finds the same is not read out again).
  const summary = searchSummary(shown, state.filters);
  if (byId('search-result').textContent !== summary) byId('search-result').textContent = summary;
  filterControls.showStages(
    state.columns.map((column) => ({ key: column.key, name: column.name, count: column.count })),
    stage,
  );
  renderBoard(
    container,
    shown,
    {
      move: (card, target) => void guarded(() => move(card, target)),
      refuse: (card, choice) => announce(`${quotedTitle(card.title)} cannot go to ${targetInSentence(choice.target)}: ${choice.reason === null ? 'the process does not allow it.' : isolated(choice.reason)}`, 'error'),
      openPanel: (card) => {
        clearStatus();
        void openPanel(card);
      },
      choices: (card) => moveChoices(state.columns, card, detailOf(card)),
      canMove: mayWrite(),
      // Offered while the columns were loaded with fewer than the API's most.
      showMore: state.loadedForSearch ? undefined : (column) => void guarded(() => showMore(column)),
    },
    stage,
  );
  if (focusedCard !== undefined) focusCard(container, focusedCard, focusedPart, focusedPlace);
  if (menu !== null) reopenMoveMenu(container, menu);
  // After the cards: a deal that leaves the list for the board (reopened from its panel) takes the focus there.
  searchBeyondBoard();
  // How many cards the answer gave criteria for ("3/5", drawn with each card by renderBoard).
  container.dataset.progress = String(state.columns.reduce((count, column) => count + column.cards.filter((card) => card.criteria).length, 0));
  // Tests and scripts wait on this: the board has been drawn again from fresh answers.
  state.renders += 1;
  container.dataset.renders = String(state.renders);
}

/**
 * The API's search of every deal (GET /opportunities?q=) for the words typed, of this process,
 * team and owner: the deals it finds that the board does not list (a column longer than its
 * cards, a deal closed before its window) are offered under the search's summary, each opening
 * its side panel. Asked once the typing pauses, again only when the question changes; an answer
 * to an older question is dropped. A refusal shows nothing: the board's own search still answers.
 */
const beyond = { asked: '', words: '', hits: [] as readonly OpportunitySearchHit[], cut: false, timer: undefined as ReturnType<typeof setTimeout> | undefined, drawn: '' };

function searchBeyondBoard(): void {
  const q = state.filters.q.trim();
  // The session too: an answer for the last key (signed out since) is not drawn for the next one.
  const words = JSON.stringify([session, q, state.processId, state.teamId, state.filters.owner]);
  // And the position this page last wrote at: a deal the rep just won, moved or reopened from the
  // list is asked again as it is now. Meanwhile the list stays (less what the board now shows); a
  // question with other words starts empty.
  const question = JSON.stringify([words, state.position ?? 0]);
  if (question !== beyond.asked) {
    beyond.asked = question;
    if (words !== beyond.words) {
      beyond.hits = [];
      beyond.cut = false;
    }
    beyond.words = words;
    clearTimeout(beyond.timer);
    // What is asked is the question of now, not the board's state when the timer fires (another team picked meanwhile).
    const owner = searchOwner(state.filters.owner);
    const asked = { q, processId: state.processId, teamId: state.teamId || undefined, ownerId: owner.ownerId };
    // A letter or digit once folded: what the API searches for (spaces, marks or punctuation alone it refuses), the board's rule too.
    if (searchWords(q) !== undefined) beyond.timer = setTimeout(() => void askBeyondBoard(question, asked, owner.keeps), 300);
    else {
      beyond.hits = [];
      beyond.cut = false;
    }
  }
  drawBeyondBoard();
}

/**
 * The API lists the board's own deals among what it finds, newest first, and the newest are on the
 * board: it is asked page after page until BEYOND_BOARD_LISTED deals beyond the board are found, the
 * search ends, or BEYOND_BOARD_PAGES pages were read (then the list says it may hold more).
 */
async function askBeyondBoard(
  question: string,
  asked: { readonly q: string; readonly processId: string; readonly teamId: string | undefined; readonly ownerId: string | undefined },
  keeps: (hit: OpportunitySearchHit) => boolean,
): Promise<void> {
  const hits: OpportunitySearchHit[] = [];
  let cut = false;
  try {
    let after: string | undefined;
    for (let page = 1; ; page++) {
      const answer = await api.get<OpportunitySearchResult>('/opportunities', { ...asked, limit: BEYOND_BOARD_PAGE, after, minPosition: state.position });
      if (question !== beyond.asked) return;
      hits.push(...answer.opportunities.filter(keeps));
      if (answer.next === null || foundBeyondBoard(hits, state.columns).length > BEYOND_BOARD_LISTED) break;
      if (page === BEYOND_BOARD_PAGES) {
        cut = true;
        break;
      }
      after = answer.next;
    }
  } catch {
    // Said by nothing: the cards on the board are still searched (a later page refused: what was found, said to be partial).
    cut = hits.length > 0;
  }
  if (question !== beyond.asked) return;
  beyond.hits = hits;
  beyond.cut = cut;
  drawBeyondBoard();
}

/** Deals the list shows at most beside the board's own; the API's page asked for them, and the most pages read. */
const BEYOND_BOARD_LISTED = 20;
const BEYOND_BOARD_PAGE = 100;
const BEYOND_BOARD_PAGES = 10;

/** Signing out: nothing the last key was found leaves a trace, nor is asked again for the next. */
function forgetBeyondBoard(): void {
  clearTimeout(beyond.timer);
  beyond.asked = '';
  beyond.words = '';
  beyond.hits = [];
  beyond.cut = false;
  beyond.drawn = '';
  byId('search-beyond').replaceChildren();
}

function drawBeyondBoard(): void {
  const container = byId('search-beyond');
  const { deals: found, more: hasMore } = listedBeyondBoard(beyond.hits, state.columns, BEYOND_BOARD_LISTED, beyond.cut);
  const stageName = (stageId: string) => state.detail?.definition.stages.find((stage) => stage.id === stageId)?.name ?? stageId;
  const texts = found.map((hit) => searchHitText(hit, stageName));
  // Drawn again only when it changes: a live refresh that finds the same keeps the focus where it is.
  const drawn = JSON.stringify([found.map((hit) => hit.id), texts, hasMore]);
  if (drawn === beyond.drawn) return;
  beyond.drawn = drawn;
  // Drawn anew, the list keeps the keyboard's place: the same deal, else the card it now has on the board, else the item where it was.
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest<HTMLElement>('#search-beyond [data-opportunity-id]') : null;
  const focusedIndex = focused === null ? -1 : Array.from(container.querySelectorAll('[data-opportunity-id]')).indexOf(focused);
  if (found.length === 0) {
    container.replaceChildren();
    if (focused !== null) refocusFound(focused.dataset.opportunityId!, focusedIndex);
    return;
  }
  const items = found.map((hit, index) => {
    const button = h('button', { type: 'button', class: 'search-beyond-deal', 'data-opportunity-id': hit.id, dir: 'auto' }, texts[index]!);
    button.addEventListener('click', () => {
      clearStatus();
      void openPanel(searchHitCard(hit));
    });
    return h('li', {}, button);
  });
  const more = hasMore ? ` (the newest ${found.length} found; type more words to narrow it)` : '';
  container.replaceChildren(h('p', {}, `Also found, not on the board${more}:`), h('ul', { 'aria-label': 'Deals found beyond the board' }, ...items));
  if (focused !== null) refocusFound(focused.dataset.opportunityId!, focusedIndex);
}

/** The focus, after the list was drawn anew under it: on the deal (in the list, or as a card on the board), else on the item at its place. */
function refocusFound(id: string, index: number): void {
  const selector = `[data-opportunity-id="${CSS.escape(id)}"]`;
  const listed = byId('search-beyond').querySelectorAll<HTMLElement>('.search-beyond-deal');
  const again = byId('search-beyond').querySelector<HTMLElement>(selector) ?? byId('columns').querySelector<HTMLElement>(`${selector} .card-title`) ?? listed[Math.min(index, listed.length - 1)];
  again?.focus();
}

/** A capped column's "Show more": the board asks for the API's most of every column from now on. */
async function showMore(key: string): Promise<void> {
  clearStatus();
  // The cards the API listed: the deals the rep touched, drawn after them, are listed among the rest now.
  const shown = state.columns.find((column) => column.key === key);
  const before = (shown?.cards.length ?? 0) - (shown?.added ?? 0);
  state.showMore = true;
  // Overtaken by a later load (another Show more, a move, another team), its answer is not drawn:
  // the index is of a board this load did not draw, and the focus stays where the later one leaves it.
  if (!(await loadBoard())) return;
  // The keyboard user goes on from the first card newly shown (the button is gone), not from the top of the page.
  byId('columns').querySelectorAll<HTMLElement>(`[data-column="${CSS.escape(key)}"] .card-title`)[before]?.focus();
}

/** The one-column layout (board.css): one column shown at a time, picked with the stage switcher, which is shown only then. */
function oneColumnAtATime(): boolean {
  return byId('board-view').dataset.layout === 'one-column';
}

/**
 * Side by side while every column has room for 9.5rem, else one at a time (board-layout.model.ts):
 * decided at each drawing and whenever the board's width changes (a zoom, a window resized, a
 * phone turned). The columns' container keeps its width in both layouts, so deciding never loops.
 */
function fitLayout(columns = byId('columns').childElementCount): void {
  const container = byId('columns');
  if (container.clientWidth === 0) return; // not shown (the charts, the sign-in page): decided when it is
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  byId('board-view').dataset.layout = columnsFitSideBySide(container.clientWidth / rem, columns) ? 'columns' : 'one-column';
}

/** The deal whose side panel was opened last: drawn again for a key of other roles or teams (rescope). */
let panelCard: BoardCard | null = null;

async function openPanel(card: BoardCard): Promise<void> {
  if (!state.detail) return;
  panelCard = card;
  await openSidePanel(api, card, {
    detailOf: detailOfDeal,
    columns: state.columns,
    canWrite: mayWrite(),
    canReadHistory: mayReadHistory(),
    limitedToTeams: limitedToTeams(),
    wrote: (position) => {
      state.position = position;
      // The board behind the panel follows what the panel changed.
      void guarded(reloadAfterWrite);
    },
    move: (moved, target, expectedRevision) => void guarded(() => move(moved, target, expectedRevision)),
    edit: (opportunity) => void guarded(() => editDeal(card, opportunity)),
    // Not found for this key any more: its card leaves the board behind the panel.
    gone: () => void guarded(() => loadBoard()),
  });
}

/**
 * Bumped by signing out: what a command or a save of the last key answers afterwards is neither
 * said nor followed by a reload (the next key must not see "“…” moved" of the last key's deal).
 */
let session = 0;

async function newDeal(): Promise<void> {
  // Disabled when this key has no process to create a deal in (showNewDeal): nothing to open then.
  if (!state.detail || newDealOffer(state.caller, state.detail.definition).kind !== 'enabled') return;
  clearStatus();
  const since = session;
  const definition = state.detail!.definition;
  const { teams } = selectableTeams(state.caller, definition);
  const answer = await openDealForm(api, { definition, teams, defaultTeam: state.teamId || (teams.length === 1 ? teams[0]! : ''), current: () => since === session, limitedToTeams: limitedToTeams() });
  if (!answer || since !== session) return;
  state.position = answer.position;
  touch(answer.id);
  await reloadAfterWrite();
  announce('Deal created.');
}

async function editDeal(card: BoardCard, opportunity: OpportunityView): Promise<void> {
  clearStatus();
  byId<HTMLDialogElement>('side-panel').close();
  const since = session;
  const definition = state.detail!.definition;
  const { teams } = selectableTeams(state.caller, definition);
  const answer = await openDealForm(api, { definition, teams, defaultTeam: opportunity.teamId ?? '', opportunity, current: () => since === session, limitedToTeams: limitedToTeams() });
  if (!answer || since !== session) return;
  state.position = answer.position;
  await reloadAfterWrite();
  // By the title it was saved under: renamed, it is named as the board now draws it.
  announce(`${quotedTitle(answer.title)} saved.`);
  void openPanel({ ...card, title: answer.title });
}

/** A win or loss the rep wrote that could not be sent (the server unreachable), by deal and outcome: offered again, not typed twice. */
const unsentClosings = new Map<string, ClosingAnswer>();

/**
 * The moves of a card whose last try's outcome is unknown (no answer, a 5xx), by card: sent again as
 * it stands, it goes under the same key, so it is recorded once (resending's rule, as a tick's or a
 * save's). Dropped once an answer settles it.
 */
const resendsByCard = new Map<string, Resend>();
/**
 * Moves whose answer never came (given up, unreachable, a 5xx), by card: the server may have
 * recorded them all the same. Once a load draws the card where the move puts it, its outcome is
 * known: the status line, still saying to send it again, says it was done instead (the board and
 * its words agree), and the move is no longer resent under its key.
 */
const unanswered = new Map<string, { readonly target: MoveTarget; readonly done: string; readonly unsentKey: string }>();

function settleUnanswered(): void {
  for (const [id, { target, done, unsentKey }] of unanswered) {
    if (!shownAt(state.columns, id, target)) continue;
    unanswered.delete(id);
    if (!moving.has(id)) resendsByCard.delete(id);
    // Recorded: what the rep wrote on the win or loss was sent, and is not offered at the deal's next one.
    unsentClosings.delete(unsentKey);
    if (statusAbout() === id) announce(done);
  }
}

/** Cards with a move, win, loss or reopening under way: on a slow network nothing shows it yet, and a second one must not be sent meanwhile. */
const moving = new Set<string>();

/**
 * Moves, wins, loses or reopens a card. `expectedRevision`: the revision the rep saw it at (its
 * panel read it); a drag or the menu send none (the board's cards carry none), and the API decides
 * on the deal as it is then.
 */
async function move(card: BoardCard, target: MoveTarget, expectedRevision?: number): Promise<void> {
  clearStatus();
  const since = session;
  if (moving.has(card.id)) {
    announce(`${quotedTitle(card.title)} is still being sent; wait for its answer.`);
    return;
  }
  // The deal's own version's reasons and names: a deal on an older version is closed by its rules.
  const definition = state.detail ? detailOf(card).definition : undefined;
  const unsentKey = `${card.id} ${target.kind}`;
  const closing =
    target.kind === 'stage'
      ? undefined
      : await chooseClosing(card, target.kind, (target.kind === 'lost' ? definition?.lostReasons : definition?.wonReasons) ?? [], unsentClosings.get(unsentKey), (written) => {
          // Closed unsent: what was written is offered at the next try (not after signing out: the next key must not see it).
          if (since !== session) return;
          if (written) unsentClosings.set(unsentKey, written);
          else unsentClosings.delete(unsentKey);
        });
  if (closing === null) return;
  if (closing) unsentClosings.set(unsentKey, closing);
  const command = moveCommand(card, target, closing);
  const { path } = command;
  const body = expectedRevision === undefined ? command.body : { ...command.body, expectedRevision };
  const done =
    target.kind === 'won' ? `${quotedTitle(card.title)} marked as won.` : target.kind === 'lost' ? `${quotedTitle(card.title)} marked as lost.` : card.status === 'open' ? `${quotedTitle(card.title)} moved to ${isolated(target.name)}.` : `${quotedTitle(card.title)} reopened in ${isolated(target.name)}.`;
  const resend = resendsByCard.get(card.id) ?? resending();
  resendsByCard.set(card.id, resend);
  unanswered.delete(card.id); // sent again, or elsewhere: this try's answer says what happened
  moving.add(card.id);
  try {
    const answer = await resend([path, body], (key) => api.command(path, body, key)).finally(() => {
      moving.delete(card.id);
      if (!resend.pending && resendsByCard.get(card.id) === resend) resendsByCard.delete(card.id);
    });
    if (since !== session) return; // signed out meanwhile
    state.position = answer.position;
    touch(card.id);
    unsentClosings.delete(unsentKey);
    if (target.kind !== 'stage') forgetEvidenceNotes([card.id]); // closed: its criteria are no longer to tick
    announce(done);
  } catch (error) {
    if (since !== session) return; // signed out meanwhile: nothing of it is kept or said
    if (!(error instanceof ApiError) || outcomeUnknown(error)) {
      // Not sent, or not answered: kept in unsentClosings, the next try starts from it, under the same key (resendsByCard).
      // Recorded all the same, perhaps: the next load that draws it done says so (settleUnanswered),
      // and draws it though its column is crowded.
      unanswered.set(card.id, { target, done, unsentKey });
      touch(card.id);
      announce(error instanceof ApiError ? refusalText(error, definition ?? null) : String(error), 'error', card.id);
      // Recorded, and drawn by a live refresh, before the page gave up: every later look finds the
      // same board and draws nothing, so what is drawn already settles it.
      settleUnanswered();
      return;
    }
    if (error.status === 401) {
      // Not recorded: the key was refused (sign-in is offered: keyRefused). What the rep wrote on the
      // win or loss stays in unsentClosings, offered again when they send it again.
      announce(`${quotedTitle(card.title)} was not sent: this key is no longer accepted. Sign in again, then send it again.`, 'error');
      return;
    }
    // Refused, nothing was recorded: what the rep wrote on the win or loss stays in unsentClosings,
    // offered again at the next try (changed by someone else meanwhile; criteria still to tick, the
    // panel below closed before they were; a stage that wins nothing yet). Dropped once recorded.
    if (error.problem.code === 'OPPORTUNITY.EXIT_CRITERIA_UNMET') {
      const outcome = await openCriteriaPanel(api, card, target, error.problem, (expectedRevision, key) => api.command(path, { ...body, expectedRevision }, key), limitedToTeams());
      if (outcome.position !== null) state.position = outcome.position;
      if (outcome.moved) {
        touch(card.id);
        unsentClosings.delete(unsentKey);
        announce(done);
      }
    } else if (isGone(error.problem)) {
      announce(goneText(card.title, limitedToTeams()), 'error'); // its card leaves with the reload below (moved to another team)
    } else if (error.status === 409) {
      announce(`${quotedTitle(card.title)} was changed by someone else meanwhile; the board was reloaded.`, 'error');
    } else if (error.status === 422 || error.status === 403 || error.status === 400) {
      announce(`${quotedTitle(card.title)} cannot go to ${targetInSentence(target)}: ${refusalInSentence(error, definition ?? null)}`, 'error');
    } else {
      throw error;
    }
  }
  // The menu gave the focus back to the card's button: drawBoard gives it to the card in its new column.
  await reloadAfterWrite();
}

/**
 * The board read again after something was recorded (a move, a win or loss, a new deal, a save).
 * A read that fails then (the network gone between the command and the read) is said by the
 * freshness line (showFreshness), and the live refresh reads it again: said in the status line
 * ("…check the connection and retry"), it stood in place of what was recorded, and told the rep to
 * send again a move that was done, or create a deal a second time.
 */
async function reloadAfterWrite(): Promise<void> {
  await loadBoard().catch((error: unknown) => {
    if (!outcomeUnknown(error)) throw error;
  });
}

async function loadCharts(): Promise<void> {
  const definition = state.detail!.definition;
  // Checked at every load, not only at Apply: the inputs keep a refused period, and the next load
  // (the waterfall applied, the tab shown again, another team) asked for it, refused then in UTC instants.
  const outOfOrder = periodOutOfOrder(byId<HTMLInputElement>('period-from').value, byId<HTMLInputElement>('period-to').value);
  if (outOfOrder) throw new ApiError({ status: 400, code: 'BOARD.PERIOD_OUT_OF_ORDER', detail: outOfOrder });
  const period = {
    from: dayBoundary(byId<HTMLInputElement>('period-from').value, 'start'),
    to: dayBoundary(byId<HTMLInputElement>('period-to').value, 'end'),
  };
  const query = { ...scope(), ...period };
  const [funnel, durations, byTeam, byReason, calibration] = await Promise.all([
    api.get<FunnelResult>('/analytics/funnel', query),
    api.get<StageDurationsResult>('/analytics/stage-durations', query),
    api.get<WinLossResult>('/analytics/win-loss', { ...query, groupBy: 'team' }),
    api.get<WinLossResult>('/analytics/win-loss', { ...query, groupBy: 'reason' }),
    api.get<WinProbabilityCalibrationResult>('/analytics/win-probability/calibration', query),
  ]);
  const container = byId('charts');
  renderCharts(container, {
    funnel: funnelSteps(funnel, definition),
    durations: stageDurationRows(durations, definition),
    byTeam: winLossByTeam(byTeam),
    reasons: lostReasons(byReason),
    money: amountsWonAndLost(byTeam),
    wonReasons: wonReasons(byTeam),
    reliability: { points: reliabilityPoints(calibration), brierLearned: calibration.brierLearned, brierConfigured: calibration.brierConfigured },
  });
  state.renders += 1;
  container.dataset.renders = String(state.renders);
  await loadWaterfall(api, scope(), (outOfOrder) => {
    clearStatus();
    if (outOfOrder) announce(outOfOrder, 'error');
    else void guarded(loadCharts);
  });
}

void start();
