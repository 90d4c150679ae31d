import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, LineElement, PointElement, ScatterController, Tooltip, type ChartConfiguration, type Plugin } from 'chart.js';
import type { FunnelStep, LostReasonRow, MoneyRow, OutcomeRow, ReliabilityPoint, StageDurationRow, WonReasonRow } from './charts.model';
import { h } from './dom';
import { formatNumber, formatPercent } from './format';

// Only the parts of Chart.js these charts use, so the bundle stays small.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, ScatterController, PointElement, LineElement, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = '#1f2933';

// Colours with at least 3:1 contrast on white, told apart by more than hue where it matters.
const COLOURS = { bar: '#2563eb', median: '#0f766e', p90: '#b45309', won: '#15803d', lost: '#b91c1c', learned: '#2563eb', configured: '#b45309', ideal: '#94a3b8' };
const WON_REASON_COLOURS = ['#15803d', '#0f766e', '#1d4ed8', '#4d7c0f', '#0e7490', '#6d28d9'];
const REASON_COLOURS = ['#b91c1c', '#c2410c', '#a16207', '#7c3aed', '#0e7490', '#475569', '#be185d', '#4d7c0f'];

export interface ChartData {
  readonly funnel: readonly FunnelStep[];
  readonly durations: readonly StageDurationRow[];
  readonly byTeam: readonly OutcomeRow[];
  readonly reasons: readonly LostReasonRow[];
  readonly money: readonly MoneyRow[];
  readonly wonReasons: readonly WonReasonRow[];
  /** Absent: not asked (the reliability plot is left out). */
  readonly reliability?: { readonly points: readonly ReliabilityPoint[]; readonly brierLearned: number | null; readonly brierConfigured: number | null };
}

const charts = new Map<string, Chart>();

/** Draws (again) the charts, each with its figures as a table for reading and for screen readers. */
export function renderCharts(container: HTMLElement, data: ChartData): void {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  container.replaceChildren(
    figure(
      'funnel',
      'Funnel: opportunities that reached each stage, and conversion to the next step',
      data.funnel.length === 0,
      {
        type: 'bar',
        data: { labels: data.funnel.map((step) => step.name), datasets: [{ label: 'Reached', data: data.funnel.map((step) => step.reached), backgroundColor: COLOURS.bar }] },
        options: { indexAxis: 'y', layout: { padding: { right: 150 } }, plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
        plugins: [barEndLabels(data.funnel.map((step) => `${step.reached}${step.conversionToNext === null ? '' : ` · ${formatPercent(step.conversionToNext)} → next`}`))],
      },
      table(
        ['Step', 'Reached', 'Conversion to next'],
        data.funnel.map((step) => [step.name, cell(step.reached, String(step.reached)), cell(step.conversionToNext, formatPercent(step.conversionToNext))]),
        (row) => data.funnel[row]!.key,
      ),
    ),
    figure(
      'stage-durations',
      'Time in stage (days): median and 90th percentile of completed visits',
      data.durations.every((row) => row.visits === 0),
      {
        type: 'bar',
        data: {
          labels: data.durations.map((row) => row.name),
          datasets: [
            { label: 'Median', data: data.durations.map((row) => row.medianDays), backgroundColor: COLOURS.median },
            { label: 'p90', data: data.durations.map((row) => row.p90Days), backgroundColor: COLOURS.p90 },
          ],
        },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'days' } } } },
      },
      table(
        ['Stage', 'Completed visits', 'Median (days)', 'p90 (days)', 'Open now'],
        data.durations.map((row) => [
          row.name,
          cell(row.visits, String(row.visits)),
          cell(row.medianSeconds, row.medianDays === null ? '–' : String(row.medianDays)),
          cell(row.p90Seconds, row.p90Days === null ? '–' : String(row.p90Days)),
          cell(row.openNow, String(row.openNow)),
        ]),
        (row) => data.durations[row]!.key,
      ),
    ),
    figure(
      'win-loss-by-team',
      'Won and lost by team',
      data.byTeam.length === 0,
      {
        type: 'bar',
        data: {
          labels: data.byTeam.map((row) => row.key),
          datasets: [
            { label: 'Won', data: data.byTeam.map((row) => row.won), backgroundColor: COLOURS.won },
            { label: 'Lost', data: data.byTeam.map((row) => row.lost), backgroundColor: COLOURS.lost },
          ],
        },
        options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } },
      },
      table(
        ['Team', 'Won', 'Lost', 'Win rate', 'Amount won', 'Amount lost'],
        data.byTeam.map((row) => [row.key, cell(row.won, String(row.won)), cell(row.lost, String(row.lost)), cell(row.winRate, formatPercent(row.winRate)), cell(null, row.amountWon), cell(null, row.amountLost)]),
        (row) => data.byTeam[row]!.key,
      ),
    ),
    figure(
      'lost-reasons',
      'Lost reasons',
      data.reasons.length === 0,
      {
        type: 'doughnut',
        data: {
          labels: data.reasons.map((row) => row.reason),
          datasets: [{ label: 'Lost', data: data.reasons.map((row) => row.lost), backgroundColor: data.reasons.map((_, index) => REASON_COLOURS[index % REASON_COLOURS.length]!) }],
        },
        options: { plugins: { legend: { position: 'right' } } },
      },
      table(
        ['Reason', 'Lost'],
        data.reasons.map((row) => [row.reason, cell(row.lost, String(row.lost))]),
        (row) => data.reasons[row]!.reason,
      ),
    ),
    figure(
      'amount-won-lost',
      'Amount won and amount lost, per currency (currencies are never added together)',
      data.money.length === 0,
      {
        type: 'bar',
        data: {
          labels: data.money.map((row) => row.currency),
          datasets: [
            { label: 'Won', data: data.money.map((row) => row.won), backgroundColor: COLOURS.won },
            { label: 'Lost', data: data.money.map((row) => row.lost), backgroundColor: COLOURS.lost },
          ],
        },
        options: { indexAxis: 'y', scales: { x: { beginAtZero: true } } },
      },
      table(
        ['Currency', 'Won', 'Lost'],
        data.money.map((row) => [row.currency, cell(row.won, formatNumber(row.won)), cell(row.lost, formatNumber(row.lost))]),
        (row) => data.money[row]!.currency,
      ),
    ),
    figure(
      'won-reasons',
      'Won reasons',
      data.wonReasons.length === 0,
      {
        type: 'doughnut',
        data: {
          labels: data.wonReasons.map((row) => row.reason),
          datasets: [{ label: 'Won', data: data.wonReasons.map((row) => row.won), backgroundColor: data.wonReasons.map((_, index) => WON_REASON_COLOURS[index % WON_REASON_COLOURS.length]!) }],
        },
        options: { plugins: { legend: { position: 'right' } } },
      },
      table(
        ['Reason', 'Won'],
        data.wonReasons.map((row) => [row.reason, cell(row.won, String(row.won))]),
        (row) => data.wonReasons[row]!.reason,
      ),
    ),
    ...(data.reliability ? [reliabilityFigure(data.reliability)] : []),
  );
  // Drawn once attached, so Chart.js can measure the boxes.
  for (const [key, config] of pending) charts.set(key, new Chart(container.querySelector<HTMLCanvasElement>(`[data-chart="${key}"] canvas`)!, config));
  pending.clear();
}

const pending = new Map<string, ChartConfiguration>();

/** Predicted against observed win rate per bin, learned and configured, with the diagonal a calibrated estimate follows. */
function reliabilityFigure({ points, brierLearned, brierConfigured }: NonNullable<ChartData['reliability']>): HTMLElement {
  const brier = (value: number | null) => (value === null ? '–' : value.toFixed(3));
  const series = (predicted: (p: ReliabilityPoint) => number | null, observed: (p: ReliabilityPoint) => number | null) =>
    points.flatMap((point) => (predicted(point) === null ? [] : [{ x: predicted(point)!, y: observed(point)! }]));
  return figure(
    'win-probability-reliability',
    `Win probability: predicted vs observed win rate at each stage entry (Brier learned ${brier(brierLearned)}, configured ${brier(brierConfigured)}; lower is better)`,
    points.every((point) => point.learnedCount === 0),
    {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'Learned', data: series((p) => p.learnedPredicted, (p) => p.learnedObserved), backgroundColor: COLOURS.learned, pointRadius: 5 },
          { label: 'Configured', data: series((p) => p.configuredPredicted, (p) => p.configuredObserved), backgroundColor: COLOURS.configured, pointStyle: 'rectRot', pointRadius: 6 },
          { label: 'Perfectly calibrated', data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], showLine: true, borderColor: COLOURS.ideal, borderDash: [4, 4], pointRadius: 0 },
        ],
      },
      options: { scales: { x: { min: 0, max: 100, title: { display: true, text: 'predicted %' } }, y: { min: 0, max: 100, title: { display: true, text: 'observed win rate %' } } } },
    },
    table(
      ['Predicted', 'Learned: estimates', 'mean predicted', 'observed', 'Configured: estimates', 'mean predicted', 'observed'],
      points.map((point) => [
        point.bin,
        cell(point.learnedCount, String(point.learnedCount)),
        cell(point.learnedPredicted, percentText(point.learnedPredicted)),
        cell(point.learnedObserved, percentText(point.learnedObserved)),
        cell(point.configuredCount, String(point.configuredCount)),
        cell(point.configuredPredicted, percentText(point.configuredPredicted)),
        cell(point.configuredObserved, percentText(point.configuredObserved)),
      ]),
      (row) => points[row]!.bin,
    ),
  );
}

const percentText = (percent: number | null) => (percent === null ? '–' : formatPercent(percent / 100));

function figure(key: string, caption: string, empty: boolean, config: ChartConfiguration, figures: HTMLTableElement): HTMLElement {
  const captionId = `chart-${key}-caption`;
  const canvas = h('canvas', { role: 'img', 'aria-labelledby': captionId });
  if (!empty) pending.set(key, { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options } } as ChartConfiguration);
  return h(
    'figure',
    { class: 'chart', 'data-chart': key },
    h('figcaption', { id: captionId }, caption),
    empty ? h('p', { class: 'empty' }, 'No data for this selection.') : h('div', { class: 'chart-box' }, canvas),
    h('details', {}, h('summary', {}, 'Figures'), figures),
  );
}

type Cell = { readonly value: number | null; readonly text: string };
const cell = (value: number | null, text: string): Cell => ({ value, text });

/** The figures under a chart; each number cell keeps the API's raw value in data-value. */
function table(headers: readonly string[], rows: readonly (readonly [string, ...Cell[]])[], keyOf: (row: number) => string): HTMLTableElement {
  return h(
    'table',
    { class: 'figures-table' },
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
    h(
      'tbody',
      {},
      ...rows.map(([label, ...cells], index) =>
        h('tr', { 'data-key': keyOf(index) }, h('th', { scope: 'row' }, label), ...cells.map((value) => h('td', { 'data-value': value.value === null ? 'null' : String(value.value) }, value.text))),
      ),
    ),
  );
}

/** Writes a text at the end of each bar (the funnel's count and conversion). */
function barEndLabels(labels: readonly string[]): Plugin<'bar'> {
  return {
    id: 'barEndLabels',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const meta = chart.getDatasetMeta(0);
      ctx.save();
      ctx.font = `600 12px ${Chart.defaults.font.family}`;
      ctx.fillStyle = '#1f2933';
      ctx.textBaseline = 'middle';
      meta.data.forEach((bar, index) => {
        const { x, y } = bar.getProps(['x', 'y'], true) as { x: number; y: number };
        ctx.fillText(labels[index] ?? '', x + 6, y);
      });
      ctx.restore();
    },
  };
}
