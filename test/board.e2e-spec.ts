import type { Browser, Page, Request } from 'playwright-core';
import type { CohortsResult, FunnelResult, HistoryAnswer, OpportunityView, PipelineResult, StageDurationsResult, VelocityResult, WaterfallResult, WinLossResult } from '@stagecraft/contracts';
import { TEST_SERVICE } from './support/api-test-app';
import { launchChromium, startBoardApi, type ListeningApi } from './support/board-browser';
import { apiCaller, seedBoardDemo, type ApiCaller } from './support/board-demo.seed';

// The board in Debian's headless Chromium, against the real API on a real SQLite file: the page
// is the one `npm run build` bundles, every figure it shows is compared with what the API answers
// to a separate client, and moves go through a real HTML5 drag (or the keyboard menu).

jest.setTimeout(60_000);

const DAY_MS = 86_400_000;
const STAGES = ['new', 'qualification', 'proposition', 'negotiation'];

describe('the board in a real browser (end to end)', () => {
  let api: ListeningApi;
  let browser: Browser;
  let page: Page;
  let caller: ApiCaller;
  let ids: Record<string, string>;
  /** Commands the page sent, as "METHOD path". */
  const sent: string[] = [];

  beforeAll(async () => {
    api = await startBoardApi();
    caller = apiCaller(api.baseUrl, api.keys[TEST_SERVICE]!);
    ids = await seedBoardDemo(caller, new Date());
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(10_000);
    page.on('request', (request: Request) => {
      if (request.method() !== 'GET') sent.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  /** The log position of an opportunity's last event, read straight from its stream: what the page wrote. */
  const positionOf = async (title: string) => (await caller.get<OpportunityView>(`/opportunities/${ids[title]}`)).position;
  /** The board's own question: open cards per stage, and the deals closed in the default period (30 days up to now). */
  const pipeline = async (minPosition: number) => caller.get<PipelineResult>(`/pipeline?processId=standard&include=opportunities&closed=won,lost&minPosition=${minPosition}`);

  /** What the API says the columns hold: count per stage, then won and lost. */
  const apiCounts = async (minPosition: number): Promise<Record<string, number>> => {
    const standard = (await pipeline(minPosition)).processes.find((process) => process.processId === 'standard')!;
    return { ...Object.fromEntries(standard.stages.map((stage) => [stage.stageId, stage.count])), won: standard.won!.count, lost: standard.lost!.count };
  };
  /** The cards of a column as the page shows them, top to bottom. */
  const closedCards = (key: string) =>
    page.$$eval(`[data-column="${key}"] [data-opportunity-id]`, (cards) =>
      cards.map((element) => ({
        id: (element as HTMLElement).dataset.opportunityId!,
        text: (element as HTMLElement).innerText,
        closedAt: element.querySelector('[data-figure="closed"]')?.getAttribute('datetime') ?? null,
        reason: element.querySelector('[data-figure="reason"]')?.textContent ?? null,
      })),
    );
  const boardCounts = () =>
    page.$$eval('[data-column]', (columns) => Object.fromEntries(columns.map((column) => [(column as HTMLElement).dataset.column!, Number(column.querySelector('[data-figure="count"]')!.textContent)])));
  const renders = () => page.$eval('#columns', (element) => Number((element as HTMLElement).dataset.renders ?? 0));
  const waitForRenderAfter = (count: number) => page.waitForFunction((after) => Number(document.getElementById('columns')?.dataset.renders ?? 0) > after, count);
  const card = (title: string) => page.locator(`[data-opportunity-id="${ids[title]}"]`);
  const column = (key: string) => page.locator(`[data-column="${key}"]`);
  const cardIn = (key: string, title: string) => page.waitForSelector(`[data-column="${key}"] [data-opportunity-id="${ids[title]}"]`);

  it('serves the page and its assets without credentials, outside the OpenAPI document, under a CSP with no inline script', async () => {
    for (const path of ['/board', '/board/', '/board/board.js', '/board/board.css']) {
      const response = await fetch(`${api.baseUrl}${path}`);
      expect([path, response.status]).toEqual([path, 200]);
      const policy = response.headers.get('content-security-policy')!;
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
    const missing = await fetch(`${api.baseUrl}/board/missing.js`);
    expect([missing.status, (await missing.json()).code]).toEqual([404, 'ROUTE.NOT_FOUND']);
    const openApi = (await (await fetch(`${api.baseUrl}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths).filter((path) => path.startsWith('/board'))).toEqual([]);
    // The API behind it still wants a key.
    expect((await fetch(`${api.baseUrl}/pipeline`)).status).toBe(401);
  });

  it('asks for a key, refuses a wrong one, then shows one column per stage plus Won and Lost with the API figures', async () => {
    await page.goto(`${api.baseUrl}/board`);
    await page.fill('#credentials', 'sck_000000000000_not-a-key');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '').includes('not accepted'));
    expect(await page.isHidden('#app')).toBe(true);

    await page.fill('#credentials', api.keys[TEST_SERVICE]!);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#process option[value="standard"]', { state: 'attached' });
    await page.selectOption('#process', 'standard');
    await cardIn('qualification', 'Umbrella CRM');

    expect(await page.$$eval('[data-column]', (columns) => columns.map((element) => (element as HTMLElement).dataset.column))).toEqual([...STAGES, 'won', 'lost']);
    const expected = await apiCounts(caller.lastPosition());
    expect(await boardCounts()).toEqual(expected);
    expect(expected.qualification).toBeGreaterThan(0);

    // Column headers: amount and weighted amount as the pipeline answers them.
    const qualification = (await pipeline(caller.lastPosition())).processes[0]!.stages.find((stage) => stage.stageId === 'qualification')!;
    const euros = (value: number) => `€${value.toLocaleString('en')}`;
    expect(await column('qualification').locator('[data-figure="amount"]').textContent()).toBe(euros(qualification.amount));
    expect(await column('qualification').locator('[data-figure="weighted"]').textContent()).toBe(euros(qualification.weightedAmount));

    // A card: title, owner, amount, days in stage since the stage entry the API reports.
    const umbrella = qualification.opportunities!.find((opportunity) => opportunity.id === ids['Umbrella CRM'])!;
    const text = await card('Umbrella CRM').innerText();
    expect(text).toContain('Umbrella CRM');
    expect(text).toContain(umbrella.ownerId!);
    expect(text).toContain(euros(umbrella.amount!));
    expect(await card('Umbrella CRM').locator('[data-figure="days"]').textContent()).toBe(`${Math.floor((Date.now() - Date.parse(umbrella.stageEnteredAt)) / DAY_MS)} days`);
  });

  it('asks for at most 100 cards per column; a capped column says how many more it holds, its header the totals', async () => {
    // The board's own query, caught on its way out; forced down to 1 card per column so the
    // demo's columns are capped, and answered by the real API.
    const asked: URLSearchParams[] = [];
    await page.route(/\/pipeline\?/, (route) => {
      const url = new URL(route.request().url());
      asked.push(new URLSearchParams(url.search));
      url.searchParams.set('cardsPerColumn', '1');
      return route.continue({ url: url.toString() });
    });
    const drawn = () => page.waitForFunction(() => Number(document.getElementById('columns')?.dataset.renders ?? 0) > 0);
    try {
      await page.reload();
      await drawn();
      const expected = await apiCounts(caller.lastPosition());
      expect(await boardCounts()).toEqual(expected);
      expect(STAGES.some((key) => expected[key]! > 1)).toBe(true);
      const listed = (await pipeline(caller.lastPosition())).processes[0]!.stages;
      for (const key of STAGES) {
        const count = expected[key]!;
        // The one card shown is the one longest in the stage: the first of the uncapped listing.
        expect(await page.$$eval(`[data-column="${key}"] [data-opportunity-id]`, (cards) => cards.map((element) => (element as HTMLElement).dataset.opportunityId))).toEqual(
          listed.find((stage) => stage.stageId === key)!.opportunities!.slice(0, 1).map((card) => card.id),
        );
        const more = column(key).locator('[data-figure="more"]');
        if (count > 1) expect(await more.textContent()).toBe(`${count - 1} more not shown`);
        else expect(await more.count()).toBe(0);
      }
    } finally {
      await page.unroute(/\/pipeline\?/);
    }
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.map((query) => [query.get('include'), query.get('cardsPerColumn')])).toEqual(asked.map(() => ['opportunities', '100']));
    // Uncapped again (the demo has far fewer than 100 a column): every card, no "more" line.
    await page.reload();
    await drawn();
    expect(await page.locator('[data-figure="more"]').count()).toBe(0);
    await cardIn('qualification', 'Umbrella CRM');
  });

  it('shows the deals closed in the last 30 days as cards in Won and Lost, exactly as GET /pipeline?closed=won,lost lists them', async () => {
    const answer = await pipeline(caller.lastPosition());
    const standard = answer.processes.find((process) => process.processId === 'standard')!;
    const euros = (value: number) => `€${value.toLocaleString('en')}`;
    for (const key of ['won', 'lost'] as const) {
      const listed = standard[key]!.opportunities!;
      // Every demo closing lies within the period, so both columns have cards.
      expect(listed.length).toBeGreaterThan(1);
      const shown = await closedCards(key);
      expect(shown.map((entry) => [entry.id, entry.closedAt, entry.reason])).toEqual(listed.map((entry) => [entry.id, entry.closedAt, key === 'lost' ? entry.lostReason : null]));
      for (const [index, entry] of listed.entries()) {
        expect(shown[index]!.text).toContain(entry.title);
        expect(shown[index]!.text).toContain(entry.ownerId!);
        expect(shown[index]!.text).toContain(euros(entry.amount!));
      }
      expect(await column(key).locator('[data-figure="amount"]').textContent()).toBe(euros(standard[key]!.amount));
      expect(await column(key).locator('[data-figure="period"]').textContent()).toBe(`Closed ${answer.closed!.from.slice(0, 10)} – ${answer.closed!.to.slice(0, 10)}`);
    }
  });

  it('dragging a card whose exit criteria are unmet opens the panel listing them; ticking them lets the move through', async () => {
    const title = 'Umbrella CRM';
    const id = ids[title]!;
    const before = await boardCounts();
    const unmet = (await caller.get<OpportunityView>(`/opportunities/${id}`)).exitCriteria.filter((criterion) => !criterion.met);
    expect(unmet.length).toBeGreaterThan(0);
    sent.length = 0;

    await card(title).dragTo(column('proposition'));

    // The drop sent the move (no menu was involved), the API refused it, and the panel lists what is missing.
    await page.waitForSelector('#criteria-panel[open] input[type=checkbox]');
    expect(sent).toEqual([`POST /opportunities/${id}/move`]);
    expect(await page.locator('.move-menu').count()).toBe(0);
    const labels = await page.$$eval('#criteria-panel .criteria label', (elements) => elements.map((label) => label.firstChild!.textContent));
    expect(labels).toEqual(unmet.map((criterion) => criterion.description));
    const moveButton = page.locator('#criteria-panel button.primary');
    expect(await moveButton.isDisabled()).toBe(true);

    for (const criterion of unmet) {
      await page.click(`#criteria-panel label[for="criterion-${criterion.id}"]`);
      await page.waitForFunction((box) => {
        const input = document.getElementById(box) as HTMLInputElement | null;
        return input !== null && input.checked && !input.disabled;
      }, `criterion-${criterion.id}`);
    }
    await page.waitForFunction(() => !(document.querySelector('#criteria-panel button.primary') as HTMLButtonElement).disabled);
    const rendered = await renders();
    await moveButton.click();
    await cardIn('proposition', title);
    await waitForRenderAfter(rendered);
    expect(await page.isVisible('#criteria-panel')).toBe(false);

    // One command per ticked box, then the retried move; all recorded as this key's caller.
    expect(sent).toEqual([`POST /opportunities/${id}/move`, ...unmet.map(() => `POST /opportunities/${id}/criteria`), `POST /opportunities/${id}/move`]);
    const history = await caller.get<HistoryAnswer>(`/opportunities/${id}/history`);
    const recent = history.events.slice(-(unmet.length + 1));
    expect(recent.map((event) => [event.type, event.data.criterionId ?? event.data.to])).toEqual([...unmet.map((criterion) => ['ExitCriterionMet', criterion.id]), ['StageChanged', 'proposition']]);
    expect(recent.every((event) => event.metadata.actor === TEST_SERVICE)).toBe(true);

    const after = await boardCounts();
    expect(after.qualification).toBe(before.qualification! - 1);
    expect(after.proposition).toBe(before.proposition! + 1);
    expect(after).toEqual(await apiCounts(await positionOf(title)));
  });

  it('moves a card with the keyboard through its "Move to…" menu', async () => {
    const title = 'Hooli analytics';
    const before = await boardCounts();
    sent.length = 0;
    const button = card(title).locator('.move-button');
    await button.focus();
    // Escape closes the menu and gives the focus back to its button.
    await page.keyboard.press('Enter');
    await page.waitForSelector('.move-menu [role=menuitem]');
    await page.keyboard.press('Escape');
    expect(await page.locator('.move-menu').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.classList.contains('move-button'))).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForSelector('.move-menu [role=menuitem]');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    // The first item is focused: the next column, Qualification.
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.target)).toBe('qualification');
    await page.keyboard.press('Enter');
    await cardIn('qualification', title);

    expect(sent).toEqual([`POST /opportunities/${ids[title]}/move`]);
    const after = await boardCounts();
    expect(after.new).toBe(before.new! - 1);
    expect(after.qualification).toBe(before.qualification! + 1);
    expect(after).toEqual(await apiCounts(await positionOf(title)));
  });

  it('says why a move a rule forbids was refused, and leaves the card where it is', async () => {
    const rendered = await renders();
    await card('Vandelay import').dragTo(column('negotiation'));
    await waitForRenderAfter(rendered);
    expect(await page.textContent('#status')).toContain('does not allow skipping');
    expect(await page.getAttribute('#status', 'data-tone')).toBe('error');
    await cardIn('new', 'Vandelay import');
  });

  it('a change made meanwhile by someone else (409) reloads the panel instead of overwriting it', async () => {
    const title = 'Soylent supply';
    const id = ids[title]!;
    await card(title).dragTo(column('negotiation'));
    await page.waitForSelector('#criteria-panel[open] input[type=checkbox]:not([disabled])');

    // Another client marks one criterion while the panel is open.
    await caller.command(`/opportunities/${id}/criteria`, { criterionId: 'proposal-given', met: true });
    sent.length = 0;
    await page.click('#criteria-panel label[for="criterion-pricing-agreed"]');
    await page.waitForFunction(() => (document.querySelector('#criteria-panel .panel-message')?.textContent ?? '').includes('changed this opportunity meanwhile'));

    expect(sent).toEqual([`POST /opportunities/${id}/criteria`]);
    // Reloaded: the other client's tick shows, the refused one does not.
    await page.waitForFunction(() => (document.getElementById('criterion-proposal-given') as HTMLInputElement | null)?.checked === true);
    expect(await page.isChecked('#criterion-pricing-agreed')).toBe(false);
    const state = await caller.get<OpportunityView>(`/opportunities/${id}`);
    expect(state.exitCriteria.filter((criterion) => criterion.met).map((criterion) => criterion.id)).toEqual(['proposal-given']);

    const rendered = await renders();
    await page.click('#criteria-panel button:text("Close")');
    await waitForRenderAfter(rendered);
    await cardIn('proposition', title);
  });

  it('dropping a card on Lost asks for a reason and loses it', async () => {
    const title = 'Cyberdyne audit';
    const before = await boardCounts();
    await card(title).dragTo(column('lost'));
    await page.waitForSelector('#lose-dialog[open] select');
    await page.selectOption('#lost-reason', 'timing');
    const rendered = await renders();
    await page.click('#lose-dialog button[type=submit]');
    await waitForRenderAfter(rendered);

    // Now a card of the Lost column, newest first, with its reason.
    await cardIn('lost', title);
    expect((await closedCards('lost'))[0]).toMatchObject({ id: ids[title], reason: 'timing' });
    const after = await boardCounts();
    expect(after.lost).toBe(before.lost! + 1);
    expect(after.new).toBe(before.new! - 1);
    expect(after).toEqual(await apiCounts(await positionOf(title)));
    const state = await caller.get<OpportunityView>(`/opportunities/${ids[title]}`);
    expect([state.status, state.lostReason]).toEqual(['lost', 'timing']);
  });

  it('dropping a card on Won wins it once the panel has the stage\'s criteria met', async () => {
    const title = 'Tyrell upgrade';
    const before = await boardCounts();
    const unmet = (await caller.get<OpportunityView>(`/opportunities/${ids[title]}`)).exitCriteria.filter((criterion) => !criterion.met);
    await card(title).dragTo(column('won'));
    await page.waitForSelector('#criteria-panel[open] input[type=checkbox]:not([disabled])');
    expect(await page.$$eval('#criteria-panel input[type=checkbox]', (boxes) => boxes.map((box) => box.getAttribute('name')))).toEqual(unmet.map((criterion) => criterion.id));
    for (const criterion of unmet) {
      await page.click(`#criteria-panel label[for="criterion-${criterion.id}"]`);
      await page.waitForFunction((box) => {
        const input = document.getElementById(box) as HTMLInputElement | null;
        return input !== null && input.checked && !input.disabled;
      }, `criterion-${criterion.id}`);
    }
    const rendered = await renders();
    await page.click('#criteria-panel button:text("Move to Won")');
    await waitForRenderAfter(rendered);

    await cardIn('won', title);
    expect((await closedCards('won'))[0]!.id).toBe(ids[title]);
    const after = await boardCounts();
    expect(after.won).toBe(before.won! + 1);
    expect(after.negotiation).toBe(before.negotiation! - 1);
    expect(after).toEqual(await apiCounts(await positionOf(title)));
    expect((await caller.get<OpportunityView>(`/opportunities/${ids[title]}`)).status).toBe('won');
  });

  it('a card opens its timeline: when, who, what, one row per event', async () => {
    const title = 'Umbrella CRM';
    await card(title).locator('.card-title').click();
    await page.waitForSelector('#timeline[open] tbody tr');
    const history = await caller.get<HistoryAnswer>(`/opportunities/${ids[title]}/history`);
    const rows = await page.$$eval('#timeline tbody tr', (elements) => elements.map((row) => Array.from(row.querySelectorAll('td'), (cell) => cell.textContent)));
    expect(rows).toHaveLength(history.events.length);
    expect(rows[0]![1]).toBe(TEST_SERVICE);
    expect(rows[0]![2]).toContain('Opened in New');
    expect(rows.at(-1)![2]).toBe('Moved from Qualification to Proposition');
    const times = await page.$$eval('#timeline tbody time', (elements) => elements.map((time) => time.getAttribute('datetime')));
    expect(times).toEqual(history.events.map((event) => event.data.occurredAt));
    await page.keyboard.press('Escape');
  });

  describe('charts', () => {
    const query = async (minPosition: number, extra = '') => {
      const base = `processId=standard&minPosition=${minPosition}${extra}`;
      const [funnel, durations, byTeam, byReason] = await Promise.all([
        caller.get<FunnelResult>(`/analytics/funnel?${base}`),
        caller.get<StageDurationsResult>(`/analytics/stage-durations?${base}`),
        caller.get<WinLossResult>(`/analytics/win-loss?${base}&groupBy=team`),
        caller.get<WinLossResult>(`/analytics/win-loss?${base}&groupBy=reason`),
      ]);
      return { funnel: funnel.processes[0]!, durations: durations.processes[0]!, byTeam: byTeam.groups!, byReason: byReason.groups! };
    };
    /** Each figures table as { row key: [raw values] }, from the data-value the page wrote. */
    const tables = () =>
      page.$$eval('[data-chart]', (figures) =>
        Object.fromEntries(
          figures.map((figure) => [
            (figure as HTMLElement).dataset.chart!,
            Object.fromEntries(
              Array.from(figure.querySelectorAll('tbody tr'), (row) => [
                (row as HTMLElement).dataset.key!,
                Array.from(row.querySelectorAll('td'), (cell) => (cell.dataset.value === 'null' ? null : Number(cell.dataset.value))),
              ]),
            ),
          ]),
        ),
      );
    const expectedTables = (answers: Awaited<ReturnType<typeof query>>) => ({
      funnel: {
        ...Object.fromEntries(
          answers.funnel.stages.map((stage, index, all) => [stage.stageId, [stage.reached, index === all.length - 1 ? answers.funnel.conversionLastToWon : stage.conversionToNext]]),
        ),
        won: [answers.funnel.won, null],
      },
      'stage-durations': Object.fromEntries(
        answers.durations.stages.map((stage) => [stage.stageId, [stage.completed.count, stage.completed.medianSeconds, stage.completed.p90Seconds, stage.open.count]]),
      ),
      'win-loss-by-team': Object.fromEntries(answers.byTeam.map((group) => [group.key, [group.won, group.lost, group.winRate, group.amountWon]])),
      'lost-reasons': Object.fromEntries(answers.byReason.filter((group) => group.lost > 0).map((group) => [group.key, [group.lost]])),
    });
    /** Painted pixels of each chart's canvas: a chart that drew nothing has none. */
    const paintedPixels = () =>
      page.$$eval('[data-chart] canvas', (canvases) =>
        canvases.map((canvas) => {
          const { data } = (canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (canvas as HTMLCanvasElement).width, (canvas as HTMLCanvasElement).height);
          let painted = 0;
          for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha]! > 0) painted += 1;
          return painted;
        }),
      );

    it('draw the funnel, time in stage, win/loss by team and lost reasons with the numbers the analytics API returns', async () => {
      const minPosition = await positionOf('Cyberdyne audit');
      await page.click('nav a[href="#charts"]');
      await page.waitForSelector('[data-chart="lost-reasons"] canvas');
      const answers = await query(minPosition);
      expect(await tables()).toEqual(expectedTables(answers));
      // The numbers are not trivial: every chart has something to draw.
      expect(answers.funnel.won).toBeGreaterThan(0);
      expect(answers.durations.stages.some((stage) => stage.completed.medianSeconds! > 0)).toBe(true);
      expect(answers.byReason.filter((group) => group.lost > 0).length).toBeGreaterThan(1);
      const painted = await paintedPixels();
      expect(painted).toHaveLength(4);
      for (const count of painted) expect(count).toBeGreaterThan(1000);
    });

    it('filter by period: the charts show what the API answers for that period', async () => {
      const minPosition = await positionOf('Cyberdyne audit');
      // From 13 days ago: the older losses and wins fall out of the period.
      const from = new Date(Date.now() - 13 * DAY_MS).toISOString().slice(0, 10);
      const before = await page.$eval('#charts', (element) => Number((element as HTMLElement).dataset.renders));
      await page.fill('#period-from', from);
      await page.click('#period button[type=submit]');
      await page.waitForFunction((after) => Number(document.getElementById('charts')?.dataset.renders) > after, before);
      const answers = await query(minPosition, `&from=${from}T00:00:00.000Z`);
      const all = await query(minPosition);
      expect(answers.byTeam).not.toEqual(all.byTeam);
      expect(await tables()).toEqual(expectedTables(answers));
    });

    it('draw the pipeline waterfall of the last 7 days with the API figures; the period asked stays in the address', async () => {
      const minPosition = await positionOf('Cyberdyne audit');
      const waterfallTable = () =>
        page.$$eval('#waterfall-figure tbody tr', (rows) => rows.map((row) => [(row as HTMLElement).dataset.key!, Array.from(row.querySelectorAll('td'), (cell) => (cell.dataset.value === 'null' ? null : Number(cell.dataset.value)))]));
      const expectedTable = (answer: WaterfallResult) => {
        const lines = [['start', answer.start] as const, ...answer.changes.map((c) => [c.bucket, c] as const), ['end', answer.end] as const, ...answer.memos.map((c) => [c.bucket, c] as const)];
        const currencies = [...new Set(lines.flatMap(([, figures]) => Object.keys(figures.amountsByCurrency)))].sort();
        return lines.map(([key, figures]) => [key, [figures.count, ...currencies.map((currency) => figures.amountsByCurrency[currency] ?? null)]]);
      };
      const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10);
      const asked = (from: string, to: string) => caller.get<WaterfallResult>(`/analytics/waterfall?processId=standard&from=${from}T00:00:00.000Z&to=${to}T23:59:59.999Z&minPosition=${minPosition}`);
      await page.waitForSelector('#waterfall canvas');
      const week = await asked(day(7), day(0));
      expect(await waterfallTable()).toEqual(expectedTable(week));
      expect(week.start.count + week.changes.reduce((sum, c) => sum + c.count, 0)).toBe(week.end.count);
      expect(week.end.count).toBeGreaterThan(0);
      const painted = await page.$eval('#waterfall canvas', (canvas) => {
        const { data } = (canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (canvas as HTMLCanvasElement).width, (canvas as HTMLCanvasElement).height);
        let count = 0;
        for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha]! > 0) count += 1;
        return count;
      });
      expect(painted).toBeGreaterThan(1000);

      const before = await page.$eval('#waterfall', (element) => Number((element as HTMLElement).dataset.renders));
      await page.fill('#waterfall-from', day(30));
      await page.click('#waterfall-period button[type=submit]');
      await page.waitForFunction((after) => Number(document.getElementById('waterfall')?.dataset.renders) > after, before);
      expect(new URL(page.url()).searchParams.get('waterfallFrom')).toBe(day(30));
      expect(await waterfallTable()).toEqual(expectedTable(await asked(day(30), day(0))));

      // Under it: the velocity levers per team for that period, and the cohorts of the process.
      const rowsOf = (id: string) =>
        page.$$eval(`#${id} tbody tr`, (rows) => rows.map((row) => [(row as HTMLElement).dataset.key!, Array.from(row.querySelectorAll('td'), (cell) => (cell.dataset.value === 'null' ? null : Number(cell.dataset.value)))]));
      const velocity = await caller.get<VelocityResult>(`/analytics/velocity?processId=standard&groupBy=team&from=${day(30)}T00:00:00.000Z&to=${day(0)}T23:59:59.999Z&minPosition=${minPosition}`);
      expect(await rowsOf('velocity-levers')).toEqual(
        velocity.groups!.flatMap((group) => {
          const currencies = Object.keys(group.averageWonAmountsByCurrency);
          const base = [group.opportunities, group.winRate, group.averageCycleDays, null];
          if (currencies.length === 0) return [[`${group.key ?? ''}|`, [...base, null, null]]];
          return currencies.map((currency) => [`${group.key ?? ''}|${currency}`, [...base, group.averageWonAmountsByCurrency[currency]!, group.velocityByCurrency[currency] ?? null]]);
        }),
      );
      expect(velocity.total.won).toBeGreaterThan(0);
      const cohorts = await caller.get<CohortsResult>(`/analytics/cohorts?processId=standard&minPosition=${minPosition}`);
      expect(await rowsOf('cohorts')).toEqual(
        cohorts.cohorts.map((cohort) => {
          const process = cohort.processes.find((candidate) => candidate.processId === 'standard')!;
          return [cohort.cohort, [cohort.opened, ...process.stages.map((stage) => stage.reached), process.won, cohort.medianDaysToWin]];
        }),
      );
    });
  });
  describe('reopening', () => {
    beforeAll(async () => {
      const rendered = await renders();
      await page.click('nav a[href="#board"]');
      await waitForRenderAfter(rendered);
    });

    it('a lost card reopens from the keyboard: "Reopen in…" offers only the stages, and the card goes back to the one picked', async () => {
      const title = 'Cyberdyne audit';
      const before = await boardCounts();
      sent.length = 0;
      const button = card(title).locator('.move-button');
      expect(await button.textContent()).toBe('Reopen in…');
      await button.focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('.move-menu [role=menuitem]');
      expect(await page.$$eval('.move-menu [role=menuitem]', (items) => items.map((item) => (item as HTMLElement).dataset.target))).toEqual(STAGES);
      const rendered = await renders();
      await page.keyboard.press('Enter'); // the first item: New
      await cardIn('new', title);
      await waitForRenderAfter(rendered);

      expect(sent).toEqual([`POST /opportunities/${ids[title]}/reopen`]);
      expect(await page.textContent('#status')).toContain('reopened in New');
      expect((await closedCards('lost')).map((entry) => entry.id)).not.toContain(ids[title]);
      const after = await boardCounts();
      expect([after.lost, after.new]).toEqual([before.lost! - 1, before.new! + 1]);
      expect(after).toEqual(await apiCounts(await positionOf(title)));
      const state = await caller.get<OpportunityView>(`/opportunities/${ids[title]}`);
      expect([state.status, state.stage]).toEqual(['open', 'new']);
    });

    it('a won card dragged onto a stage reopens there; the outcome columns do not take it', async () => {
      const title = 'ACME renewal';
      const before = await boardCounts();
      sent.length = 0;
      // Dropped on Lost: nothing is sent (a closed deal accepts only a reopening).
      await card(title).dragTo(column('lost'));
      await page.waitForTimeout(300); // room for a request that should not come
      expect(sent).toEqual([]);
      await cardIn('won', title);

      const rendered = await renders();
      await card(title).dragTo(column('negotiation'));
      await cardIn('negotiation', title);
      await waitForRenderAfter(rendered);
      expect(sent).toEqual([`POST /opportunities/${ids[title]}/reopen`]);
      const after = await boardCounts();
      expect([after.won, after.negotiation]).toEqual([before.won! - 1, before.negotiation! + 1]);
      expect(after).toEqual(await apiCounts(await positionOf(title)));
      // The Won column still lists exactly what the API lists.
      const listed = (await pipeline(await positionOf(title))).processes[0]!.won!.opportunities!.map((entry) => entry.id);
      expect((await closedCards('won')).map((entry) => entry.id)).toEqual(listed);
    });
  });
});
