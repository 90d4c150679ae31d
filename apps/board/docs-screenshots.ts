import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, startBoardApi } from '../../test/support/board-browser';
import { apiCaller, seedBoardDemo } from '../../test/support/board-demo.seed';
import { TEST_SERVICE } from '../../test/support/api-test-app';

// `npm run docs:screenshots`: the real API on a temporary store with the demo deals, the board
// bundled from source, Debian's headless Chromium; writes docs/board.png (1280 px wide),
// docs/board-panel.png, docs/board-phone.png, docs/board-criteria.png and docs/charts.png.

const DOCS = join(__dirname, '..', '..', 'docs');

async function main(): Promise<void> {
  const api = await startBoardApi();
  const browser = await launchChromium();
  try {
    const key = api.keys[TEST_SERVICE]!;
    const caller = apiCaller(api.baseUrl, key);
    await seedBoardDemo(caller, new Date());
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
    await page.goto(`${api.baseUrl}/board?process=standard`);
    await page.fill('#credentials', key);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('[data-column="qualification"] .card');
    // Every open card's criteria progress has been read.
    await page.waitForSelector('#columns[data-progress]');
    mkdirSync(DOCS, { recursive: true });
    await page.screenshot({ path: join(DOCS, 'board.png'), fullPage: true });

    // A card's panel: fields, criteria with notes, allowed moves, timeline.
    await page.locator('[data-opportunity-id]', { hasText: 'Initech pilot' }).locator('.card-title').click();
    await page.waitForSelector('#side-panel[open] .timeline-table tbody tr');
    await page.screenshot({ path: join(DOCS, 'board-panel.png') });
    await page.keyboard.press('Escape');

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    await phone.goto(`${api.baseUrl}/board?process=standard&stage=qualification`);
    await phone.fill('#credentials', key);
    await phone.click('#login-form button[type=submit]');
    await phone.waitForSelector('[data-column="qualification"] .card');
    await phone.waitForSelector('#columns[data-progress]');
    await phone.screenshot({ path: join(DOCS, 'board-phone.png') });
    await phone.close();

    // The panel a refused move opens: drag Umbrella CRM (2 of 5 qualification criteria) on.
    await page.locator('[data-opportunity-id]', { hasText: 'Umbrella CRM' }).dragTo(page.locator('[data-column="proposition"]'));
    await page.waitForSelector('#criteria-panel[open] input[type=checkbox]');
    await page.screenshot({ path: join(DOCS, 'board-criteria.png') });
    await page.keyboard.press('Escape');

    await page.setViewportSize({ width: 1480, height: 900 });
    await page.goto(`${api.baseUrl}/board?process=standard#charts`);
    await page.waitForSelector('[data-chart="funnel"] canvas');
    await page.screenshot({ path: join(DOCS, 'charts.png'), fullPage: true });
    console.log(`Screenshots written to ${DOCS}`);
  } finally {
    await browser.close();
    await api.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
