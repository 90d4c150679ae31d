import type { CohortsResult, VelocityResult } from '@stagecraft/contracts';
import type { ApiClient, Query } from './api.client';
import { byId, h } from './dom';
import { formatMoney, formatPercent } from './format';
import { cohortLines, velocityLines } from './waterfall.model';

// Under the waterfall (waterfall.view.ts): the velocity levers per team for the waterfall's period
// (GET /analytics/velocity?groupBy=team) and the cohorts of the chosen process by month of opening
// (GET /analytics/cohorts), as tables whose number cells keep the API's raw value in data-value.

type Cell = { readonly value: number | null; readonly text: string };
const cell = (value: number | null, text?: string): Cell => ({ value, text: text ?? (value === null ? '–' : String(value)) });
const days = (value: number | null) => cell(value, value === null ? '–' : String(Math.round(value * 10) / 10));

function table(id: string, caption: string, headers: readonly string[], rows: readonly { key: string; label: string; cells: readonly Cell[] }[]): HTMLTableElement {
  return h(
    'table',
    { id, class: 'figures-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
    h('tbody', {}, ...rows.map((row) => h('tr', { 'data-key': row.key }, h('th', { scope: 'row' }, row.label), ...row.cells.map((c) => h('td', { 'data-value': c.value === null ? 'null' : String(c.value) }, c.text))))),
  );
}

/** Asks for the velocity levers (the period given) and the cohorts, and draws both tables into #levers. */
export async function loadLevers(api: ApiClient, scope: Query, processId: string, period: { from?: string; to?: string }): Promise<void> {
  const [velocity, cohorts] = await Promise.all([api.get<VelocityResult>('/analytics/velocity', { ...scope, ...period, groupBy: 'team' }), api.get<CohortsResult>('/analytics/cohorts', { ...scope, by: 'month' })]);
  let container = document.getElementById('levers');
  if (!container) byId('waterfall').append((container = h('div', { id: 'levers' })));
  const { stages, lines } = cohortLines(cohorts, processId);
  container.replaceChildren(
    table(
      'velocity-levers',
      'Sales velocity per team: the levers (deals worked × win rate × average won amount ÷ cycle days)',
      ['Team', 'Worked', 'Win rate', 'Cycle (days)', 'Currency', 'Average won', 'Velocity / day'],
      velocityLines(velocity).map((line) => ({
        key: line.key,
        label: line.team,
        cells: [
          cell(line.opportunities),
          cell(line.winRate, formatPercent(line.winRate)),
          days(line.averageCycleDays),
          { value: null, text: line.currency ?? '–' },
          cell(line.averageWonAmount, line.averageWonAmount === null ? '–' : formatMoney(line.averageWonAmount, line.currency === 'unspecified' ? null : line.currency)),
          cell(line.velocity, line.velocity === null ? '–' : formatMoney(line.velocity, line.currency === 'unspecified' ? null : line.currency)),
        ],
      })),
    ),
    table(
      'cohorts',
      'Cohorts by month opened: how far the deals got',
      ['Opened in', 'Opened', ...stages, 'Won', 'Median days to win'],
      lines.map((line) => ({ key: line.cohort, label: line.cohort, cells: [cell(line.opened), ...line.reached.map((n) => cell(n)), cell(line.won), days(line.medianDaysToWin)] })),
    ),
  );
}
