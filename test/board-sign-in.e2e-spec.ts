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
});
