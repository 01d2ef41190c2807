/**
 * `dmm-aws local-aws seed` as users run it, several at once: the stand-in's state file is locked,
 * so every seed lands; a fixture IAM refuses seeds nothing, and the fixed fixture then seeds all.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function cli(cwd: string, args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'warn', NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmm-aws-seed-'));
  dirs.push(dir);
  return dir;
}

const POLICY =
  '{ Version: "2012-10-17", Statement: [{ Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::b/*" }] }';
const NO_RESOURCE = '{ Version: "2012-10-17", Statement: [{ Effect: Allow, Action: s3:GetObject }] }';

async function roleNames(dir: string): Promise<string[]> {
  const state = JSON.parse(await readFile(join(dir, '.dmm-aws', 'aws-account.json'), 'utf8')) as {
    roles: Record<string, unknown>;
  };
  return Object.keys(state.roles).sort();
}

describe('dmm-aws local-aws seed', () => {
  it('10 seeds at once all land, and leave no lock or temp file', async () => {
    const dir = await workDir();
    const names = Array.from({ length: 10 }, (_, i) => `consumer-${i}`);
    for (const name of names)
      await writeFile(join(dir, `${name}.yaml`), `roles:\n  - name: ${name}\n    inlinePolicies: { p: ${POLICY} }\n`);
    const results = await Promise.all(names.map((name) => cli(dir, ['local-aws', 'seed', `${name}.yaml`])));
    for (const [i, result] of results.entries()) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`"created":["${names[i]}"]`);
    }
    expect(await roleNames(dir)).toEqual(names.sort());
    expect(await readdir(join(dir, '.dmm-aws'))).toEqual(['aws-account.json']);
  }, 120_000);

  it('a refused fixture seeds nothing; the fixed one seeds every role', async () => {
    const dir = await workDir();
    await writeFile(join(dir, 'base.yaml'), 'roles:\n  - name: existing\n');
    expect((await cli(dir, ['local-aws', 'seed', 'base.yaml'])).code).toBe(0);
    const before = await readFile(join(dir, '.dmm-aws', 'aws-account.json'), 'utf8');

    const fixture = (doc: string) =>
      `roles:\n  - name: first\n    inlinePolicies: { p: ${POLICY} }\n  - name: second\n    inlinePolicies: { p: ${doc} }\n`;
    await writeFile(join(dir, 'account.yaml'), fixture(NO_RESOURCE));
    const refused = await cli(dir, ['local-aws', 'seed', 'account.yaml']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('account.yaml: roles.1 (second)');
    expect(refused.stderr).toContain('nothing was seeded');
    expect(await readFile(join(dir, '.dmm-aws', 'aws-account.json'), 'utf8')).toBe(before);

    await writeFile(join(dir, 'account.yaml'), fixture(POLICY));
    const fixed = await cli(dir, ['local-aws', 'seed', 'account.yaml']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('{"created":["first","second"],"skipped":[]}');
    expect(await roleNames(dir)).toEqual(['existing', 'first', 'second']);
  }, 60_000);
});

describe('dmm-aws local-aws with multiAccount', () => {
  it('seeds each member from examples/multi-account, and shows both sides per account', async () => {
    const dir = await workDir();
    const config = join(ROOT, 'examples/multi-account/dmm-aws.yaml');
    const fixture = join(ROOT, 'examples/multi-account/local-aws.yaml');
    const seeded = await cli(dir, ['local-aws', 'seed', fixture, '-c', config]);
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toContain(
      'aws-account.222222222222.json (account 222222222222): {"created":["analytics-reader"]',
    );
    expect(seeded.stdout).toContain(
      'aws-account.333333333333.resource-policies.json: {"created":["arn:aws:s3:::sales-orders"',
    );
    expect(seeded.stdout).toContain('aws-account.333333333333.resource-tags.yaml');
    // Each member in its own files, beside the hub's (which holds nothing yet).
    expect((await readdir(join(dir, '.dmm-aws', 'multi-account'))).filter((f) => !f.startsWith('.')).sort()).toEqual([
      'aws-account.222222222222.json',
      'aws-account.333333333333.resource-policies.json',
      'aws-account.333333333333.resource-tags.yaml',
      'aws-account.444444444444.json',
    ]);

    const shown = await cli(dir, ['local-aws', 'show', '--json', '-c', config]);
    expect(shown.code, shown.stderr).toBe(0);
    const { accounts } = JSON.parse(shown.stdout) as {
      accounts: { account: string; roles: { arn: string }[]; resources: { arn: string; policy?: unknown }[] }[];
    };
    expect(accounts.map((a) => [a.account, a.roles.map((r) => r.arn), a.resources.map((r) => r.arn)])).toEqual([
      ['222222222222', ['arn:aws:iam::222222222222:role/analytics-reader'], []],
      [
        '333333333333',
        [],
        ['arn:aws:glue:eu-central-1:333333333333:catalog', 'arn:aws:s3:::sales-lake', 'arn:aws:s3:::sales-orders'],
      ],
      ['444444444444', ['arn:aws:iam::444444444444:role/finance-reader'], []],
    ]);
  }, 60_000);
});
