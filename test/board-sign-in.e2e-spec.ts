import type { Browser, Page } from 'playwright-core';
import { closeWithin, launchChromium, startBoardApi, type ListeningApi } from './support/board-browser';

// The board's sign-in in a real browser, on its own (board.e2e-spec.ts's tests lean on one
// another): what a key may use is the key's own, however the rep came to sign in with it.

jest.setTimeout(60_000);

describe('the board signed in with another key (end to end)', () => {
  let api: ListeningApi;
  let browser: Browser;

  beforeAll(async () => {
    api = await startBoardApi({
      extraKeys: [
        { name: 'rep', roles: ['writer'] },
        { name: 'partners-rep', roles: ['writer'], teams: ['partners'] },
        { name: 'analyst', roles: ['analyst'] },
        // A rep's key of a team that runs no process: there is nothing it could create a deal in.
        { name: 'nowhere-rep', roles: ['writer'], teams: ['nowhere'] },
      ],
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await closeWithin(browser?.close(), 15_000, 'Chromium');
    await api?.close();
  });

  const signIn = async (tab: Page, name: string) => {
    await tab.fill('#credentials', api.keys[name]!);
    await tab.click('#login-form button[type=submit]');
    await tab.waitForFunction(() => Number(document.getElementById('columns')?.dataset.renders ?? 0) > 0);
  };
  const openTab = async () => {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    tab.setDefaultTimeout(10_000);
    await tab.goto(`${api.baseUrl}/board?process=standard`);
    return tab;
  };
  const values = (tab: Page, selector: string) => tab.$$eval(selector, (options) => options.map((option) => (option as HTMLOptionElement).value));
  /** The teams the New deal form offers (its blank "Choose a team…" as ''), then closes it. */
  const dealFormTeams = async (tab: Page) => {
    await tab.click('#new-deal');
    await tab.waitForSelector('#deal-form[open] #deal-teamId');
    const teams = await values(tab, '#deal-teamId option');
    await tab.click('#deal-form button:text("Cancel")');
    return teams;
  };

  it.each([
    ['rep', 'partners-rep', ['partners']],
    ['partners-rep', 'rep', ['', 'direct', 'partners']],
  ])('signed out as %s and in as %s, the team picker and the New deal form offer the second key\'s teams only', async (first, second, expected) => {
    const tab = await openTab();
    try {
      await signIn(tab, first);
      await dealFormTeams(tab);
      await tab.click('#sign-out');
      await signIn(tab, second);
      await tab.waitForFunction(() => (document.getElementById('who')?.textContent ?? '') !== '');
      expect(await tab.textContent('#who')).toContain(second);
      expect(await values(tab, '#team option')).toEqual(second === 'rep' ? ['', 'direct', 'partners'] : ['partners']);
      expect(await dealFormTeams(tab)).toEqual(expected);
    } finally {
      await tab.close();
    }
  });

  it.each([
    ['rep', 'partners-rep', ['partners']],
    ['partners-rep', 'rep', ['', 'direct', 'partners']],
  ])('a New deal form open when the key (%s) is refused offers, once signed in again as %s, that key\'s teams only', async (first, second, expected) => {
    const tab = await openTab();
    try {
      await signIn(tab, first);
      await tab.click('#new-deal');
      await tab.waitForSelector('#deal-form[open] #deal-teamId');
      // The key is refused when the form is sent (as a revoked one is): sign-in is offered over the open form.
      await tab.route('**/opportunities', (route) =>
        route.request().method() === 'POST' ? route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, code: 'AUTH.UNAUTHENTICATED', detail: 'The key is not accepted.' }) }) : route.continue(),
      );
      await tab.fill('#deal-title', 'Refused at its creation');
      await tab.click('#deal-form button[type=submit]');
      await tab.waitForSelector('#sign-in-again[open] #sign-in-again-credentials');
      await tab.unroute('**/opportunities');
      await tab.fill('#sign-in-again-credentials', api.keys[second]!);
      await tab.keyboard.press('Enter');
      await tab.waitForFunction((name) => (document.getElementById('who')?.textContent ?? '').startsWith(`${name} ·`), second);
      // The board behind it is the new key's (its team picker)…
      await tab.waitForFunction((teams) => [...document.querySelectorAll<HTMLOptionElement>('#team option')].map((option) => option.value).join() === teams, second === 'rep' ? ',direct,partners' : 'partners');
      // …and so is the form, still open with what the rep typed.
      expect(await tab.isVisible('#deal-form[open]')).toBe(true);
      expect(await tab.inputValue('#deal-title')).toBe('Refused at its creation');
      expect(await values(tab, '#deal-teamId option')).toEqual(expected);
    } finally {
      await tab.close();
    }
  });

  /** Refuses the key at the next save (as a revoked key is), so sign-in is offered over the open form; signs in again with `second`. */
  const signInAgainOverForm = async (tab: Page, second: string) => {
    await tab.route('**/opportunities**', (route) =>
      ['POST', 'PATCH'].includes(route.request().method()) ? route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, code: 'AUTH.UNAUTHENTICATED', detail: 'The key is not accepted.' }) }) : route.continue(),
    );
    await tab.click('#deal-form button[type=submit]');
    await tab.waitForSelector('#sign-in-again[open] #sign-in-again-credentials');
    await tab.unroute('**/opportunities**');
    await tab.fill('#sign-in-again-credentials', api.keys[second]!);
    await tab.keyboard.press('Enter');
    await tab.waitForFunction((name) => (document.getElementById('who')?.textContent ?? '').startsWith(`${name} ·`), second);
  };
  /** Opens the form: New deal, or Edit of a new deal of the team. */
  const openForm = async (tab: Page, form: 'new' | 'edit', teamId = 'direct') => {
    if (form === 'new') await tab.click('#new-deal');
    else {
      const id = ((await api.http.post('/opportunities').send({ title: 'Edited over a sign-in', processId: 'standard', teamId }).expect(201)).body as { id: string }).id;
      await tab.reload();
      await tab.waitForSelector(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .edit-deal');
    }
    await tab.waitForSelector('#deal-form[open] #deal-teamId');
  };

  it.each(['new', 'edit'] as const)('a %s-deal form open when the key is refused, signed in again with a read-only key, no longer offers to save and says why', async (form) => {
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      await openForm(tab, form);
      await tab.fill('#deal-title', 'Typed before an analyst signed in');
      await signInAgainOverForm(tab, 'analyst');
      await tab.waitForFunction(() => (document.querySelector('#deal-form .panel-message')?.textContent ?? '').includes('may only read deals'));
      expect(await tab.isVisible('#deal-form[open]')).toBe(true);
      expect(await tab.inputValue('#deal-title')).toBe('Typed before an analyst signed in');
      expect(await tab.isDisabled('#deal-form button[type=submit]')).toBe(true);
      expect(await tab.$$eval('#deal-form input, #deal-form select', (fields) => fields.every((field) => (field as HTMLInputElement).disabled))).toBe(true);
      // Nothing is sent for it, Enter in a field included.
      const sent: string[] = [];
      tab.on('request', (request) => {
        if (['POST', 'PATCH'].includes(request.method())) sent.push(request.url());
      });
      await tab.keyboard.press('Enter');
      expect(sent).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('an Edit form whose deal someone else changed, read again for a read-only key signed in over it, shows their value beside the field the rep typed but offers no Keep mine / Use theirs to press', async () => {
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      const { id } = (await api.http.post('/opportunities').send({ title: 'Changed before an analyst signed in', processId: 'standard', teamId: 'direct', ownerId: 'bob' }).expect(201)).body as { id: string };
      await tab.reload();
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .edit-deal');
      await tab.waitForSelector('#deal-form[open] #deal-ownerId');
      await tab.fill('#deal-ownerId', 'dave');
      await api.http.patch(`/opportunities/${id}`).send({ ownerId: 'carol' }).expect(200);
      // The new key's read of the deal finds the colleague's change.
      await signInAgainOverForm(tab, 'analyst');
      await tab.waitForSelector('#deal-ownerId-theirs button');
      expect(await tab.textContent('#deal-ownerId-theirs')).toContain('Someone else changed it to');
      expect(await tab.$$eval('#deal-ownerId-theirs button', (buttons) => buttons.map((button) => (button as HTMLButtonElement).disabled))).toEqual([true, true]);
      expect(await tab.inputValue('#deal-ownerId')).toBe('dave');
    } finally {
      await tab.close();
    }
  });

  it.each([
    ['partners-rep', 'new', ['partners']],
    ['partners-rep', 'edit', ['partners']],
  ] as const)('a form open across a sign-in as %s (%s) takes the new key\'s teams, and a save goes through under it', async (second, form, expected) => {
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      // A deal the new key sees (one of another team is not found for it: goneText).
      await openForm(tab, form, 'partners');
      await tab.fill('#deal-title', `Saved by ${second} (${form})`);
      await signInAgainOverForm(tab, second);
      await tab.waitForFunction((teams) => [...document.querySelectorAll<HTMLOptionElement>('#deal-teamId option')].map((option) => option.value).join() === teams, expected.join());
      expect(await tab.inputValue('#deal-teamId')).toBe('partners');
      await tab.click('#deal-form button[type=submit]');
      await tab.waitForFunction(() => !document.querySelector('#deal-form[open]'));
      expect(await tab.textContent('#status')).not.toContain('Not allowed');
    } finally {
      await tab.close();
    }
  });

  /** The Edit form says its deal is not this key's to see at once: Save off and described by the reason, what the rep typed kept, and nothing sent for Enter. */
  const saysUnseen = async (tab: Page, typed: string) => {
    await tab.waitForFunction(() => (document.querySelector('#deal-form .panel-message')?.textContent ?? '').includes('it may have been moved to a team this key does not see.'));
    expect(await tab.textContent('#deal-form .panel-message')).toMatch(/^“\u2068.*\u2069” is no longer on this board: it may have been moved to a team this key does not see\. It cannot be saved with this key; what you typed stays here until the form is closed\.$/);
    expect(await tab.isVisible('#deal-form[open]')).toBe(true);
    expect(await tab.isDisabled('#deal-form button[type=submit]')).toBe(true);
    expect(await tab.getAttribute('#deal-form button[type=submit]', 'aria-describedby')).toBe('deal-form-message');
    expect(await tab.inputValue('#deal-title')).toBe(typed);
    const sent: string[] = [];
    const listen = (request: { method: () => string; url: () => string }) => {
      if (['POST', 'PATCH'].includes(request.method())) sent.push(request.url());
    };
    tab.on('request', listen);
    await tab.focus('#deal-title');
    await tab.keyboard.press('Enter');
    await tab.waitForTimeout(200); // room for a request that must not be sent
    tab.off('request', listen);
    expect(sent).toEqual([]);
  };

  it('an Edit form open across a sign-in as a key that does not see the deal\'s team says so as soon as that key signs in, with Save off, as the board does for that key', async () => {
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      await openForm(tab, 'edit', 'direct');
      await tab.fill('#deal-title', 'Not this key\'s to edit');
      await signInAgainOverForm(tab, 'partners-rep');
      // The new key is limited to teams: the deal may have gone to another (the last key, seeing all, would be told it was deleted).
      await saysUnseen(tab, 'Not this key\'s to edit');
    } finally {
      await tab.close();
    }
  });

  it('an Edit form whose deal moves to a team the key does not see says so at the next look of the live refresh, with Save off; found again, it saves', async () => {
    const { id } = (await api.http.post('/opportunities').send({ title: 'Handed over while edited', processId: 'standard', teamId: 'partners' }).expect(201)).body as { id: string };
    const tab = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    tab.setDefaultTimeout(10_000);
    await tab.addInitScript(() => {
      (window as { stagecraftLiveRefreshMs?: number }).stagecraftLiveRefreshMs = 250;
    });
    try {
      await tab.goto(`${api.baseUrl}/board?process=standard`);
      await signIn(tab, 'partners-rep');
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .edit-deal');
      await tab.waitForSelector('#deal-form[open] #deal-title');
      await tab.fill('#deal-title', 'Typed before the hand-over');
      expect(await tab.isDisabled('#deal-form button[type=submit]')).toBe(false);
      await api.http.patch(`/opportunities/${id}`).send({ teamId: 'direct' }).expect(200);
      await saysUnseen(tab, 'Typed before the hand-over');
      // Handed back: the reason goes, Save is offered again, and what was typed is saved.
      await api.http.patch(`/opportunities/${id}`).send({ teamId: 'partners' }).expect(200);
      await tab.waitForFunction(() => !(document.querySelector('#deal-form button[type=submit]') as HTMLButtonElement).disabled);
      expect(await tab.textContent('#deal-form .panel-message')).toBe('');
      // The deal changed twice since the form read it, its team away and back: the form read it as it is
      // now, none of its fields differ, so it saves against the new revision at once (no 409, nothing to say).
      expect(await tab.inputValue('#deal-title')).toBe('Typed before the hand-over');
      expect(await tab.textContent('#deal-form-changes')).toBe('');
      await tab.click('#deal-form button[type=submit]');
      await tab.waitForFunction(() => !document.querySelector('#deal-form[open]'));
      expect((await api.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ title: 'Typed before the hand-over' });
    } finally {
      await tab.close();
    }
  });

  it('an Edit form opened from a panel read before its deal moved to a team the key does not see says so as it opens, with Save off', async () => {
    const { id } = (await api.http.post('/opportunities').send({ title: 'Handed over under the panel', processId: 'standard', teamId: 'partners' }).expect(201)).body as { id: string };
    const tab = await openTab();
    try {
      await signIn(tab, 'partners-rep');
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.waitForSelector('#side-panel[open] .edit-deal');
      await api.http.patch(`/opportunities/${id}`).send({ teamId: 'direct' }).expect(200);
      await tab.click('#side-panel[open] .edit-deal');
      await tab.waitForSelector('#deal-form[open] #deal-title');
      await saysUnseen(tab, 'Handed over under the panel');
    } finally {
      await tab.close();
    }
  });

  it.each([['sign-in'], ['sign-in again']])('a writer\'s key whose teams run no process is not offered a working New deal (%s), and is told why', async (how) => {
    const tab = await openTab();
    try {
      if (how === 'sign-in') {
        await tab.fill('#credentials', api.keys['nowhere-rep']!);
        await tab.click('#login-form button[type=submit]');
        await tab.waitForFunction(() => (document.getElementById('who')?.textContent ?? '').startsWith('nowhere-rep ·'));
      } else {
        await signIn(tab, 'rep');
        await openForm(tab, 'new');
        await signInAgainOverForm(tab, 'nowhere-rep');
        await tab.keyboard.press('Escape');
      }
      await tab.waitForFunction(() => (document.getElementById('new-deal-reason')?.textContent ?? '').includes('No process is run by the team of this key (\u2068nowhere\u2069)'));
      expect(await tab.evaluate(() => (document.getElementById('new-deal') as HTMLButtonElement).disabled)).toBe(true);
      expect(await tab.isVisible('#new-deal-reason')).toBe(true);
      expect(await tab.getAttribute('#new-deal', 'aria-describedby')).toBe('new-deal-reason');
    } finally {
      await tab.close();
    }
  });

  it('isolates a right-to-left title wherever the page sets it in a sentence: the Edit form\'s heading, the status line, the card\'s tooltip', async () => {
    const title = 'صفقة أكمي';
    const id = ((await api.http.post('/opportunities').send({ title, processId: 'standard', teamId: 'direct' }).expect(201)).body as { id: string }).id;
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      await tab.waitForSelector(`[data-opportunity-id="${id}"] .card-title`);
      expect(await tab.getAttribute(`[data-opportunity-id="${id}"] .card-title`, 'title')).toBe(`\u2068${title}\u2069: open the deal`);
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .edit-deal');
      await tab.waitForSelector('#deal-form[open] #deal-title');
      // The heading's title in a bdi: "Edit “…”" keeps its words and quotes where they belong.
      expect(await tab.textContent('#deal-form-title bdi')).toBe(title);
      await tab.click('#deal-form button:text("Cancel")');
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .panel-move[data-target="qualification"]');
      await tab.waitForFunction(() => (document.getElementById('status')?.textContent ?? '') !== '');
      expect(await tab.textContent('#status')).toBe(`“\u2068${title}\u2069” moved to \u2068Qualification\u2069.`);
    } finally {
      await tab.close();
    }
  });

  it('isolates a right-to-left stage or criterion name wherever the page sets it in a sentence: the status line, a column\'s label, the panel, the timeline, the criteria panel', async () => {
    const { id } = (await api.http.post('/opportunities').send({ title: 'Hebrew stages', processId: 'standard', teamId: 'direct' }).expect(201)).body as { id: string };
    const tab = await openTab();
    try {
      // The process as a Hebrew-speaking team would name it (its ids unchanged).
      const names: Record<string, string> = { new: 'חדש', qualification: 'הכשרה', proposition: 'הצעה' };
      await tab.route('**/processes/standard**', async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { definition: { stages: { id: string; name: string }[] } };
        for (const stage of body.definition.stages) stage.name = names[stage.id] ?? stage.name;
        await route.fulfill({ response, json: body });
      });
      await signIn(tab, 'rep');
      // A column's label (read by screen readers from its heading): the name in a bdi, the probability after it.
      expect(await tab.textContent('#column-qualification-heading bdi')).toBe('הכשרה');
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.click('#side-panel[open] .panel-move[data-target="qualification"]');
      await tab.waitForFunction(() => (document.getElementById('status')?.textContent ?? '') !== '');
      expect(await tab.textContent('#status')).toBe('“\u2068Hebrew stages\u2069” moved to \u2068הכשרה\u2069.');
      // The panel: where it stands, what it takes to leave, the notes' labels and the timeline.
      await tab.waitForSelector(`[data-column="qualification"] [data-opportunity-id="${id}"]`);
      await tab.click(`[data-opportunity-id="${id}"] .card-title`);
      await tab.waitForSelector('#side-panel[open] [data-figure="panel-progress"]');
      expect(await tab.textContent('#side-panel [data-field="status"]')).toBe('Open in \u2068Qualification\u2069');
      expect(await tab.textContent('#side-panel .panel-section h3 bdi')).toBe('Qualification');
      expect(await tab.getAttribute('#side-panel [data-criterion="budget-confirmed"] .criterion-note', 'aria-label')).toBe('Evidence note for “\u2068There is a budget\u2069”');
      await tab.waitForFunction(() => (document.querySelector('#side-panel tbody')?.textContent ?? '').includes('Moved'));
      expect(await tab.$$eval('#side-panel tbody tr td:nth-child(3)', (cells) => cells.map((cell) => cell.textContent))).toContain('Moved from \u2068חדש\u2069 to \u2068הכשרה\u2069');
      await tab.keyboard.press('Escape');
      // Refused for its unmet criteria: the criteria panel names the stages isolated.
      await tab.click(`[data-opportunity-id="${id}"] .move-button`);
      await tab.click('.menu-item[data-target="proposition"]');
      await tab.waitForSelector('#criteria-panel[open] #criteria-panel-move');
      expect(await tab.textContent('#criteria-panel-title bdi:nth-of-type(2)')).toBe('Qualification');
      expect(await tab.textContent('#criteria-panel-move')).toBe('Move to \u2068הצעה\u2069');
    } finally {
      await tab.close();
    }
  });

  it('a panel of unmet criteria open when the key is refused, signed in again with a read-only key, offers no tick or move and says why', async () => {
    const { id } = (await api.http.post('/opportunities').send({ title: 'Ticked over a sign-in', processId: 'standard', teamId: 'direct' }).expect(201)).body as { id: string };
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
    const tab = await openTab();
    try {
      await signIn(tab, 'rep');
      await tab.waitForSelector(`[data-opportunity-id="${id}"] .move-button`);
      await tab.click(`[data-opportunity-id="${id}"] .move-button`);
      await tab.click('.menu-item[data-target="proposition"]');
      await tab.waitForSelector('#criteria-panel[open] ul.criteria input[type=checkbox]:not([disabled])');
      // The tick is refused for the key (as a revoked one is): sign-in is offered over the panel.
      await tab.route('**/criteria', (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, code: 'AUTH.UNAUTHENTICATED', detail: 'The key is not accepted.' }) }));
      await tab.click('#criteria-panel ul.criteria input[type=checkbox]');
      await tab.waitForSelector('#sign-in-again[open] #sign-in-again-credentials');
      await tab.unroute('**/criteria');
      await tab.fill('#sign-in-again-credentials', api.keys.analyst!);
      await tab.keyboard.press('Enter');
      await tab.waitForFunction(() => (document.querySelector('#criteria-panel [data-figure="read-only"]')?.textContent ?? '').includes('may only read deals'));
      expect(await tab.isVisible('#criteria-panel[open]')).toBe(true);
      expect(await tab.$$eval('#criteria-panel ul.criteria input', (inputs) => inputs.every((input) => (input as HTMLInputElement).disabled))).toBe(true);
      expect(await tab.isDisabled('#criteria-panel-move')).toBe(true);
    } finally {
      await tab.close();
    }
  });
});
