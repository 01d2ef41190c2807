/**
 * `dmm-aws report` on a large mesh: 10,000 agreements (8,000 active) of 400 consumer roles on
 * 500 providers, granted first, then reported. Measures the report's build (its dry-run full
 * reconcile over HTTP included), each renderer, and the sizes of what it writes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { DmmHttpClient } from '../src/dmm/client.js';
import { FileIamAccount } from '../src/local/file-iam-account.js';
import { renderCsv } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { buildReport } from '../src/report/model.js';
import { startSimulator } from '../src/simulator/server.js';
import type { SyncContext } from '../src/sync/context.js';
import { guardrailsFrom } from '../src/sync/guardrail-settings.js';
import { reconcileAll } from '../src/sync/reconcile.js';
import { silentLogger } from '../src/util/log.js';
import { agreement, consumer, s3Provider, uuid } from './mesh.js';

const AGREEMENTS = 10_000;
const ROLES = 400;
const PROVIDERS = 500;

export async function reportBenchmark(row: (name: string, value: string) => void): Promise<void> {
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        ...Array.from({ length: ROLES }, (_, i) => consumer(`c${i}`, `role-${i}`)),
        ...Array.from({ length: PROVIDERS }, (_, i) => s3Provider(`p${i}`)),
      ],
      // Each consumer gets 25 agreements on distinct providers (20 of them active).
      agreements: Array.from({ length: AGREEMENTS }, (_, i) =>
        agreement(uuid(i), `p${i % PROVIDERS}`, `c${Math.floor(i / 25)}`, i % 5 !== 0),
      ),
    },
  });
  const iam = new FileIamAccount();
  for (let i = 0; i < ROLES; i++) await iam.createRole(`role-${i}`);
  const ctx: SyncContext = {
    dmm: new DmmHttpClient({ baseUrl: sim.url, apiKey: sim.apiKey, maxAttempts: 5, retryBaseDelayMs: 10 }),
    iam,
    log: silentLogger,
    guardrails: guardrailsFrom(iam.accountId, {
      ownershipAllowList: [{ team: 'providers', resources: ['arn:aws:s3:::bench-*'] }],
    }),
    resolve: { accountId: iam.accountId, defaultRegion: 'eu-central-1' },
  };
  await reconcileAll(ctx);

  let start = performance.now();
  await reconcileAll(ctx, { dryRun: true });
  const planMs = performance.now() - start;
  start = performance.now();
  const report = await buildReport(ctx, { dmmBaseUrl: sim.url });
  const buildMs = performance.now() - start;
  start = performance.now();
  const html = renderHtml(report);
  const htmlMs = performance.now() - start;
  start = performance.now();
  const csv = renderCsv(report);
  const csvMs = performance.now() - start;
  const json = JSON.stringify(report, null, 2);
  const mib = (text: string) => `${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB`;
  const what = `${report.summary.agreements.toLocaleString('en-US')} agreements (${report.summary.withAccess.toLocaleString('en-US')} with access), ${report.summary.roles} roles`;
  row(`report: \`dmm-aws plan\` alone (dry-run full reconcile), ${what}`, `${planMs.toFixed(0)} ms`);
  row('report: build (that dry run + the report model)', `${buildMs.toFixed(0)} ms`);
  row(
    'report: HTML page (render time, size, gzipped)',
    `${htmlMs.toFixed(0)} ms, ${mib(html)}, ${mib(gzipSync(html).toString('latin1'))} gzipped`,
  );
  row('report: CSV (render time, size)', `${csvMs.toFixed(0)} ms, ${mib(csv)}`);
  row('report: JSON size', mib(json));
  await sim.close();
  await inBrowser(html, row);
}

/** How the page behaves in Chromium (when one is installed): load, filter, sort. */
async function inBrowser(html: string, row: (name: string, value: string) => void): Promise<void> {
  const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) {
    row('report: in Chromium', 'skipped: no chromium installed');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'dmm-aws-report-bench-'));
  const file = join(dir, 'report.html');
  await writeFile(file, html);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    // Main-thread busy time next to the wall clock: on a shared machine the wall clock mostly waits.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const busy = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
    };
    const timed = async (name: string, action: () => Promise<unknown>) => {
      const [wall, cpu] = [performance.now(), await busy()];
      await action();
      // Let layout and paint of the result happen before reading the clock.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
      row(
        name,
        `${(performance.now() - wall).toFixed(0)} ms (main thread busy ${((await busy()) - cpu).toFixed(0)} ms)`,
      );
    };
    const filter = (value: string) =>
      page.evaluate((words) => {
        (document.getElementById('filter') as HTMLInputElement).value = words;
        document.getElementById('show')!.dispatchEvent(new Event('change'));
      }, value);
    await timed('report: HTML page opened in headless Chromium', () =>
      page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 300_000 }),
    );
    // The first filter reads every row's text once; later ones reuse it.
    for (const words of ['00000000-0000-4000-8000-000000004242', 'role-7 bench-p1'])
      await timed(`report: filter "${words}" in the page`, () => filter(words));
    await filter('');
    await timed('report: sort the providers table (10,000 rows) by agreement', () =>
      page.click('#providers th:nth-child(5) button', { timeout: 300_000 }),
    );
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}
