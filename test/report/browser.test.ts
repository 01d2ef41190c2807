/**
 * The report page as a person sees it: rendered by a real headless Chromium (Debian's package,
 * driven through playwright-core), checked through the DOM, with a screenshot kept in
 * test-artifacts/ (not committed) for a human look.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { ROLE } from '../e2e/harness.js';
import { HOSTILE_TITLE, reportWorld } from './world.js';

const ARTIFACTS = resolve('test-artifacts');

/** CHROMIUM_PATH, else the first Chromium on PATH; a clear error when there is none. */
function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {}
  }
  throw new Error(
    'The report browser test needs Chromium and found none on PATH. Install it with ' +
      '`sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this in CI), or point CHROMIUM_PATH at a Chromium or Chrome binary.',
  );
}

let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  const { report } = await reportWorld();
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, 'report.html');
  writeFileSync(file, renderHtml(report));
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(pathToFileURL(file).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The agreement ids of the rows shown (not hidden) in a table, in order. */
async function shownIds(selector: string): Promise<string[]> {
  return page.$$eval(`${selector} tbody tr:not([hidden])`, (rows: HTMLTableRowElement[]) =>
    rows.filter((tr) => !tr.closest('[hidden]')).map((tr) => tr.cells[0]!.textContent!.trim()),
  );
}

describe('the report in a browser', () => {
  it('lists the failed agreement first, with its reason', async () => {
    const first = await page.$eval('main table tbody tr', (tr: HTMLTableRowElement) => ({
      table: tr.closest('table')!.id,
      agreement: tr.cells[0]!.textContent,
      text: tr.textContent,
    }));
    expect(first).toEqual({
      table: 'failed',
      agreement: 'agr-broken',
      text: expect.stringContaining('custom.aws-role-name is not set'),
    });
    expect(await page.textContent('header')).toContain('https://dmm.example.com');
    expect(await shownIds('#drift')).toEqual(['put']);
    // Within the role, too, what needs attention comes first: the approval a reconcile would grant.
    expect(await shownIds('article.role table')).toEqual(['agr-later', 'agr-ok']);
  });

  it('shows metadata as text: a script tag in a product title does not run', async () => {
    expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
    expect(await page.$$eval('script', (scripts) => scripts.length)).toBe(1);
    expect(await page.$$eval('main b', (bold) => bold.map((b) => b.textContent))).not.toContain('bold');
    expect(await page.textContent('article.role')).toContain(HOSTILE_TITLE);
    expect(consoleErrors).toEqual([]);
  });

  it("draws the role's inline budget as a bar filled to its share", async () => {
    const meter = await page.$eval('article.role .meter.inline', (m) => {
      const bar = m.querySelector<HTMLElement>('.bar')!;
      const fill = bar.querySelector('span')!;
      return {
        heading: m.closest('article')!.querySelector('h3')!.textContent,
        used: Number(bar.getAttribute('aria-valuenow')),
        limit: Number(bar.getAttribute('aria-valuemax')),
        share: fill.getBoundingClientRect().width / bar.clientWidth,
        label: m.textContent,
      };
    });
    expect(meter.heading).toContain(ROLE);
    expect(meter.limit).toBe(10_240);
    expect(meter.used).toBeGreaterThan(5000);
    expect(meter.share).toBeCloseTo(meter.used / meter.limit, 1);
    expect(meter.label).toContain(`${meter.used.toLocaleString('en-US')} of 10,240 characters`);
  });

  it('filters by words and by state, and sorts by a heading', async () => {
    await page.fill('#filter', 'agr-ok');
    await page.waitForFunction(() => document.getElementById('shown')!.textContent !== '');
    expect(await shownIds('article.role table')).toEqual(['agr-ok']);
    expect(await page.isHidden('#failed')).toBe(true);
    expect(await page.textContent('#shown')).toMatch(/^\d+ of \d+ rows shown$/);

    await page.fill('#filter', '');
    await page.selectOption('#show', 'failed');
    expect(await shownIds('#failed')).toEqual(['agr-broken']);
    expect(await page.isHidden('article.role')).toBe(true);
    expect(await page.$$eval('#providers tbody tr:not([hidden])', (rows) => rows.length)).toBe(1);

    await page.selectOption('#show', 'all');
    const agreementColumn = '#providers th:nth-child(5) button';
    await page.click(agreementColumn);
    await page.click(agreementColumn);
    expect(await page.getAttribute('#providers th:nth-child(5)', 'aria-sort')).toBe('descending');
    expect(
      await page.$$eval('#providers tbody tr', (rows: HTMLTableRowElement[]) =>
        rows.map((tr) => tr.cells[4]!.textContent),
      ),
    ).toEqual(['agr-requested', 'agr-ok', 'agr-later', 'agr-broken']);

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  });

  it('prints without the filter bar', async () => {
    await page.emulateMedia({ media: 'print' });
    expect(await page.isHidden('nav.tools')).toBe(true);
    expect(await page.isVisible('#failed')).toBe(true);
    await page.emulateMedia({ media: 'screen' });
  });
});
