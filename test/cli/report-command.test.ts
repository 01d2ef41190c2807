import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;

let work: string;
let simulator: RunningSimulator;

/** The real CLI in a child process against the local default: the simulator and the local AWS state. */
async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: work,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        NO_COLOR: '1',
        DMM_BASE_URL: simulator.url,
        DMM_API_KEY: 'report-test-key-0123456789',
      },
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dmm-aws-report-cli-'));
  simulator = await startSimulator({
    port: 0,
    fixturesDir: join(ROOT, 'examples/mesh'),
    apiKey: 'report-test-key-0123456789',
  });
  expect((await cli(['local-aws', 'seed', join(ROOT, 'examples/local-aws.yaml')])).code).toBe(0);
  simulator.approve('agr-orders-s3');
  expect((await cli(['apply', '--no-progress'])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await simulator.close();
  await rm(work, { recursive: true, force: true });
});

// Each CLI run starts node and tsx: seconds each on a busy machine.
describe('dmm-aws report', { timeout: 120_000 }, () => {
  it('writes ./dmm-aws-report.html by default, read only, and says what it wrote', async () => {
    const before = await readFile(join(work, '.dmm-aws/aws-account.json'), 'utf8');
    const { code, stderr } = await cli(['report', '--no-progress']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^Wrote .*dmm-aws-report\.html: \d+ agreement\(s\), 1 with access, 0 failed, 0 change/);
    const html = await readFile(join(work, 'dmm-aws-report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('marketing-analytics-consumer');
    expect(html).toContain(simulator.url);
    expect(await readFile(join(work, '.dmm-aws/aws-account.json'), 'utf8')).toBe(before);
  });

  it('prints CSV and JSON to stdout, or to the file -o names', async () => {
    const csv = await cli(['report', '--format', 'csv', '--no-progress']);
    expect(csv.code).toBe(0);
    const granted = csv.stdout.split('\r\n').filter((l) => l.startsWith('agr-orders-s3,'));
    expect(granted.length).toBeGreaterThan(0);
    expect(granted[0]).toContain('has access');
    expect(granted[0]).toContain('marketing-analytics-consumer');

    expect((await cli(['report', '--format', 'json', '-o', 'report.json', '--no-progress'])).code).toBe(0);
    const report = JSON.parse(await readFile(join(work, 'report.json'), 'utf8'));
    expect(report.summary).toMatchObject({ withAccess: 1, failed: 0, changes: 0 });
    expect(report.roles.map((r: { name: string }) => r.name)).toContain('marketing-analytics-consumer');
  });

  it('refuses an unknown format in one line and leaves an earlier report as it was', async () => {
    await writeFile(join(work, 'keep.html'), 'earlier report');
    const { code, stderr } = await cli(['report', '--format', 'xml', '-o', 'keep.html']);
    expect(code).toBe(1);
    expect(stderr).toBe("dmm-aws: error: --format must be one of html, csv, json, got 'xml'\n");
    expect(await readFile(join(work, 'keep.html'), 'utf8')).toBe('earlier report');
  });

  it('teaches with --help', async () => {
    const { stdout } = await cli(['report', '--help']);
    for (const text of ['--format <format>', '--output <file>', 'dmm-aws-report.html', 'dmm-aws plan', 'Exit status'])
      expect(stdout).toContain(text);
    expect((await cli(['--help'])).stdout).toContain('dmm-aws report');
  });
});
