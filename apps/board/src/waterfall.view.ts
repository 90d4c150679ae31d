import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { WaterfallResult } from '@stagecraft/contracts';
import { ApiError, type ApiClient, type Query } from './api.client';
import { byId, h } from './dom';
import { dayBoundary, formatDate, formatMoney } from './format';
import { loadLevers } from './velocity.view';
import { periodOutOfOrder } from './charts.model';
import { waterfallLines, waterfallPeriod, waterfallWindow, type WaterfallLine } from './waterfall.model';

// The Charts tab's pipeline waterfall (GET /analytics/waterfall): its own period, kept in the
// address (?waterfallFrom=&waterfallTo=, default the last 7 days), a floating-bar chart of the
// open count and a table of the count and the amount per currency of every line; under it the
// velocity levers per team for the same period and the cohorts (velocity.view.ts).

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const COLOURS: Readonly<Record<WaterfallLine['kind'], string>> = { total: '#2563eb', up: '#15803d', down: '#b91c1c', memo: '#475569' };

let chart: Chart | undefined;

/** The waterfall section under the other charts, made on first use. `onApply`: its period applied, or refused (said in words). */
function section(onApply: (outOfOrder: string | null) => void): HTMLElement {
  const existing = document.getElementById('waterfall');
  if (existing) return existing;
  const form = h(
    'form',
    { id: 'waterfall-period', class: 'scope', 'aria-label': 'Waterfall period' },
    h('label', { for: 'waterfall-from' }, 'Waterfall from'),
    h('input', { id: 'waterfall-from', type: 'date' }),
    h('label', { for: 'waterfall-to' }, 'to'),
    h('input', { id: 'waterfall-to', type: 'date' }),
    h('button', { type: 'submit' }, 'Apply'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // A period out of order is said, and neither kept in the address nor asked for.
    const outOfOrder = periodOutOfOrder(byId<HTMLInputElement>('waterfall-from').value, byId<HTMLInputElement>('waterfall-to').value, 'Waterfall');
    if (outOfOrder) return onApply(outOfOrder);
    const url = new URL(location.href);
    url.searchParams.set('waterfallFrom', byId<HTMLInputElement>('waterfall-from').value);
    url.searchParams.set('waterfallTo', byId<HTMLInputElement>('waterfall-to').value);
    history.replaceState(history.state, '', url);
    onApply(null);
  });
  const created = h('section', { id: 'waterfall', class: 'chart', 'aria-label': 'Pipeline waterfall' }, form, h('div', { id: 'waterfall-figure' }));
  byId('charts-view').append(created);
  return created;
}

/** Asks the API for the waterfall of the period in the address and draws it. */
export async function loadWaterfall(api: ApiClient, scope: Query, onApply: (outOfOrder: string | null) => void): Promise<void> {
  const container = section(onApply);
  const period = waterfallPeriod(new URLSearchParams(location.search), new Date());
  byId<HTMLInputElement>('waterfall-from').value = period.from;
  byId<HTMLInputElement>('waterfall-to').value = period.to;
  // Out of order in the address (a link shared, edited by hand): said in the rep's days, not asked for.
  const outOfOrder = periodOutOfOrder(period.from, period.to, 'Waterfall');
  if (outOfOrder) {
    byId('waterfall-figure').replaceChildren();
    throw new ApiError({ status: 400, code: 'BOARD.PERIOD_OUT_OF_ORDER', detail: outOfOrder });
  }
  const window = waterfallWindow(period);
  const answer = await api.get<WaterfallResult>('/analytics/waterfall', { ...scope, ...window });
  // The caption names the first day asked, not the instant before it that the window starts at.
  renderWaterfall(byId('waterfall-figure'), answer, dayBoundary(period.from, 'start') ?? answer.from);
  await loadLevers(api, scope, String(scope.processId ?? ''), window);
  container.dataset.renders = String(Number(container.dataset.renders ?? 0) + 1);
}

/** `firstInstant`: the first instant of the period's first day, which the caption names (the window starts just before it). */
export function renderWaterfall(container: HTMLElement, answer: WaterfallResult, firstInstant: string): void {
  chart?.destroy();
  const lines = waterfallLines(answer);
  const bars = lines.filter((line) => line.bar !== null);
  const currencies = [...new Set(lines.flatMap((line) => Object.keys(line.amountsByCurrency)))].sort();
  const canvas = h('canvas', { role: 'img', 'aria-labelledby': 'waterfall-caption' });
  container.replaceChildren(
    h('figcaption', { id: 'waterfall-caption' }, `Open pipeline from ${formatDate(firstInstant)} to ${formatDate(answer.to)}: what changed it (opportunities)`),
    h('div', { class: 'chart-box' }, canvas),
    h(
      'table',
      { class: 'figures-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Line'), h('th', { scope: 'col' }, 'Opportunities'), ...currencies.map((currency) => h('th', { scope: 'col' }, currency)))),
      h(
        'tbody',
        {},
        ...lines.map((line) =>
          h(
            'tr',
            { 'data-key': line.key },
            h('th', { scope: 'row' }, line.label),
            h('td', { 'data-value': String(line.count) }, String(line.count)),
            ...currencies.map((currency) => {
              const amount = line.amountsByCurrency[currency];
              return h('td', { 'data-value': amount === undefined ? 'null' : String(amount) }, amount === undefined ? '–' : formatMoney(amount, currency === 'unspecified' ? null : currency));
            }),
          ),
        ),
      ),
    ),
  );
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: bars.map((line) => line.label),
      datasets: [{ label: 'Opportunities', data: bars.map((line) => line.bar as [number, number]), backgroundColor: bars.map((line) => COLOURS[line.kind]) }],
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}
