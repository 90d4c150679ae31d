import { ApiClient, ApiError } from './api.client';
import type { FunnelResult, PipelineResult, ProcessDetail, ProcessList, StageDurationsResult, WinLossResult } from '@stagecraft/contracts';
import { boardColumns, CARDS_PER_COLUMN, moveCommand, type BoardCard, type MoveTarget } from './board.model';
import { renderBoard } from './board.view';
import { funnelSteps, lostReasons, stageDurationRows, winLossByTeam } from './charts.model';
import { renderCharts } from './charts.view';
import { openCriteriaPanel } from './criteria.panel';
import { chooseLostReason, openTimeline } from './dialogs';
import { announce, byId, h } from './dom';
import { dayBoundary } from './format';
import { loadWaterfall } from './waterfall.view';

// The board page: pick a process and team, see its kanban or its charts. Everything goes through
// the public API with the caller's key, kept for this browser tab only (sessionStorage).

const CREDENTIALS = 'stagecraft.board.credentials';
const api = new ApiClient(() => sessionStorage.getItem(CREDENTIALS));

// The chosen process and team live in the address (?process=…&team=…), so a view can be shared.
const initial = new URLSearchParams(location.search);

const state = {
  definition: null as ProcessDetail['definition'] | null,
  processId: initial.get('process') ?? '',
  teamId: initial.get('team') ?? '',
  /** The last log position this page wrote: queries pass it as ?minPosition= to read their own writes. */
  position: undefined as number | undefined,
  renders: 0,
};

const view = (): 'board' | 'charts' => (location.hash === '#charts' ? 'charts' : 'board');

async function start(): Promise<void> {
  byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = byId<HTMLInputElement>('credentials').value.trim();
    if (!value) return;
    sessionStorage.setItem(CREDENTIALS, value);
    void loadProcesses();
  });
  byId('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(CREDENTIALS);
    showLogin('Signed out.');
  });
  byId<HTMLSelectElement>('process').addEventListener('change', (event) => void selectProcess((event.target as HTMLSelectElement).value));
  byId<HTMLSelectElement>('team').addEventListener('change', (event) => {
    state.teamId = (event.target as HTMLSelectElement).value;
    void refresh();
  });
  byId<HTMLFormElement>('period').addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh();
  });
  window.addEventListener('hashchange', () => {
    showView();
    void refresh();
  });
  showView();
  if (sessionStorage.getItem(CREDENTIALS)) await loadProcesses();
  else showLogin();
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
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.hash === `#${current}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Runs a load; a refused key sends the user back to the sign-in form, anything else is said. */
async function guarded(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(CREDENTIALS);
      showLogin('This key or token was not accepted. Enter another.');
    } else if (error instanceof ApiError) {
      announce(error.status === 403 ? `Not allowed with this key: ${error.problem.detail ?? error.problem.code}` : (error.problem.detail ?? error.problem.code), 'error');
    } else {
      announce(String(error), 'error');
    }
  }
}

async function loadProcesses(): Promise<void> {
  await guarded(async () => {
    const { processes } = await api.get<ProcessList>('/processes');
    byId('login').hidden = true;
    byId('app').hidden = false;
    const select = byId<HTMLSelectElement>('process');
    select.replaceChildren(...processes.map((process) => h('option', { value: process.id }, process.name)));
    const chosen = processes.some((process) => process.id === state.processId) ? state.processId : (processes[0]?.id ?? '');
    select.value = chosen;
    await selectProcess(chosen);
  });
}

async function selectProcess(processId: string): Promise<void> {
  await guarded(async () => {
    state.processId = processId;
    const detail = await api.get<ProcessDetail>(`/processes/${encodeURIComponent(processId)}`);
    state.definition = detail.definition;
    const teams = byId<HTMLSelectElement>('team');
    teams.replaceChildren(h('option', { value: '' }, 'All teams'), ...detail.definition.teams.map((team) => h('option', { value: team }, team)));
    state.teamId = detail.definition.teams.includes(state.teamId) ? state.teamId : '';
    teams.value = state.teamId;
    await refresh();
  });
}

async function refresh(): Promise<void> {
  if (!state.definition) return;
  const address = new URL(location.href);
  address.searchParams.set('process', state.processId);
  if (state.teamId) address.searchParams.set('team', state.teamId);
  else address.searchParams.delete('team');
  history.replaceState(null, '', address);
  await guarded(() => (view() === 'board' ? loadBoard() : loadCharts()));
}

const scope = () => ({ processId: state.processId, teamId: state.teamId || undefined, minPosition: state.position });

async function loadBoard(): Promise<void> {
  const definition = state.definition!;
  // Won and Lost: the deals closed in the API's default period (the last 30 days up to now).
  // Stage columns: the first CARDS_PER_COLUMN cards each; the header totals still cover them all.
  const pipeline = await api.get<PipelineResult>('/pipeline', { ...scope(), include: 'opportunities', cardsPerColumn: CARDS_PER_COLUMN, closed: 'won,lost' });
  const container = byId('columns');
  renderBoard(container, boardColumns(definition, pipeline, new Date()), {
    move: (card, target) => void guarded(() => move(card, target)),
    openTimeline: (card) => void openTimeline(api, card, state.definition),
  });
  // Tests and scripts wait on this: the board has been drawn again from fresh answers.
  state.renders += 1;
  container.dataset.renders = String(state.renders);
}

async function move(card: BoardCard, target: MoveTarget): Promise<void> {
  const reason = target.kind === 'lost' ? await chooseLostReason(card, state.definition?.lostReasons ?? []) : undefined;
  if (reason === null) return;
  const { path, body } = moveCommand(card, target, reason);
  const done = card.status === 'open' ? `“${card.title}” moved to ${target.name}.` : `“${card.title}” reopened in ${target.name}.`;
  try {
    const answer = await api.command(path, body);
    state.position = answer.position;
    announce(done);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.problem.code === 'OPPORTUNITY.EXIT_CRITERIA_UNMET') {
      const outcome = await openCriteriaPanel(api, card, target, error.problem, (expectedRevision) => api.command(path, { ...body, expectedRevision }));
      if (outcome.position !== null) state.position = outcome.position;
      if (outcome.moved) announce(done);
    } else if (error.status === 409) {
      announce(`“${card.title}” was changed by someone else meanwhile; the board was reloaded.`, 'error');
    } else if (error.status === 422) {
      announce(error.problem.detail ?? error.problem.code, 'error');
    } else {
      throw error;
    }
  }
  await loadBoard();
}

async function loadCharts(): Promise<void> {
  const definition = state.definition!;
  const period = {
    from: dayBoundary(byId<HTMLInputElement>('period-from').value, 'start'),
    to: dayBoundary(byId<HTMLInputElement>('period-to').value, 'end'),
  };
  const query = { ...scope(), ...period };
  const [funnel, durations, byTeam, byReason] = await Promise.all([
    api.get<FunnelResult>('/analytics/funnel', query),
    api.get<StageDurationsResult>('/analytics/stage-durations', query),
    api.get<WinLossResult>('/analytics/win-loss', { ...query, groupBy: 'team' }),
    api.get<WinLossResult>('/analytics/win-loss', { ...query, groupBy: 'reason' }),
  ]);
  const container = byId('charts');
  renderCharts(container, {
    funnel: funnelSteps(funnel, definition),
    durations: stageDurationRows(durations, definition),
    byTeam: winLossByTeam(byTeam),
    reasons: lostReasons(byReason),
  });
  state.renders += 1;
  container.dataset.renders = String(state.renders);
  await loadWaterfall(api, scope(), () => void guarded(loadCharts));
}

void start();
