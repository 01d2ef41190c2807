import { CreateBucketCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(ROOT).resolve('tsx')).href;

/** The real CLI in a child process, as a user runs it (through tsx, so no build step is needed). */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: work,
      env: { ...process.env, LOG_LEVEL: 'warn', NO_COLOR: '1', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let work: string;
let simulator: RunningSimulator;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dmm-aws-cli-'));
  simulator = await startSimulator({
    port: 0,
    fixturesDir: join(ROOT, 'examples/mesh'),
    apiKey: 'cli-test-key-0123456789',
  });
});

afterAll(async () => {
  await simulator.close();
  await rm(work, { recursive: true, force: true });
});

const connection = () => ({ DMM_BASE_URL: simulator.url, DMM_API_KEY: 'cli-test-key-0123456789' });

describe('dmm-aws CLI', () => {
  it('teaches with --help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const command of ['demo', 'run', 'plan', 'apply', 'explain', 'simulator', 'local-aws'])
      expect(stdout).toContain(command);
    const plan = await cli(['plan', '--help']);
    expect(plan.stdout).toContain('--json');
    expect(plan.stdout).toContain('DMM_BASE_URL');
  });

  it('plans as JSON, applies, and then has nothing left to plan', async () => {
    expect((await cli(['local-aws', 'seed', join(ROOT, 'examples/local-aws.yaml')], connection())).code).toBe(0);
    simulator.approve('agr-orders-s3');

    const planned = await cli(['plan', '--json'], connection());
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        action: 'put',
        policyType: 'inline',
        role: 'marketing-analytics-consumer',
        policyName: 'dmm-aws-pack-1',
        agreementIds: ['agr-orders-s3'],
        document: expect.objectContaining({ Version: '2012-10-17' }),
      }),
    ]);
    expect(JSON.stringify(plan.changes[0].document)).toContain('arn:aws:s3:::acme-orders-data/*');

    const applied = await cli(['apply', '--no-progress'], connection());
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied: 1 IAM change(s)');

    const again = await cli(['plan'], connection());
    expect(again.stdout).toContain('No changes: AWS matches Data Mesh Manager.');
    const shown = await cli(['local-aws', 'show', 'marketing-analytics-consumer'], connection());
    expect(shown.stdout).toContain('inline dmm-aws-pack-1');
    const shownJson = JSON.parse((await cli(['local-aws', 'show', '--json'], connection())).stdout);
    const consumerRole = shownJson.roles.find((r: { name: string }) => r.name === 'marketing-analytics-consumer');
    expect(consumerRole.arn).toMatch(/:role\/marketing-analytics-consumer$/);
    // Ours beside the one the seed file gives the role: every policy, with its document parsed.
    expect(consumerRole.inlinePolicies.map((p: { name: string }) => p.name)).toEqual([
      'dmm-aws-pack-1',
      'team-notebook-access',
    ]);
    expect(consumerRole.managedPolicies).toEqual([]);
    expect(JSON.stringify(consumerRole.inlinePolicies[0].document)).toContain('arn:aws:s3:::acme-orders-data/*');

    const explained = await cli(['explain', 'agr-orders-s3'], connection());
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('decision: grant');
    expect(explained.stdout).toContain('in sync: AWS matches what the agreement says.');
    // Without a configured level, explain (read-only, for people) logs warnings and errors only;
    // a configured level still wins.
    const unset = { ...connection(), LOG_LEVEL: '' };
    expect((await cli(['explain', 'agr-orders-s3', '--log-format', 'json'], unset)).stderr).toBe('');
    const verbose = await cli(['explain', 'agr-orders-s3', '--log-format', 'json', '--log-level', 'debug'], unset);
    expect(verbose.stderr).toMatch(/"level":"(debug|info)"/);
    const role = JSON.parse(
      (await cli(['explain', '--role', 'marketing-analytics-consumer', '--json'], connection())).stdout,
    );
    expect(role.agreements.map((a: { agreementId: string; effect: string }) => [a.agreementId, a.effect])).toEqual([
      ['agr-orders-s3', 'unchanged'],
    ]);
    expect((await cli(['explain'], connection())).stderr).toContain('give either an agreement id or --role');
  });

  it('fails with one readable line, not a stack trace, and never prints the API key', async () => {
    const wrongKey = await cli(['plan'], { DMM_BASE_URL: simulator.url, DMM_API_KEY: 'wrong-key-abcdefghijkl' });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^dmm-aws: error: .*403/m);
    expect(wrongKey.stderr).not.toContain('wrong-key-abcdefghijkl');
    expect(wrongKey.stderr).not.toMatch(/\n\s+at /);

    const badConfig = await cli(['plan'], { DMM_BASE_URL: 'not a url' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toContain('dmm.baseUrl');
    expect(badConfig.stderr).toContain('DMM_BASE_URL');

    const noKey = await cli(['plan'], { DMM_BASE_URL: 'https://api.entropy-data.com', DMM_API_KEY: '' });
    expect(noKey.stderr).toContain('no Data Mesh Manager API key');
  });

  it('runs the daemon once: polls, converges, checkpoints, and exits', async () => {
    const first = await cli(['run', '--once', '--state-dir', join(work, 'state')], connection());
    expect(first.code).toBe(0);
    const shown = await cli(['local-aws', 'show', 'marketing-analytics-consumer'], connection());
    expect(shown.stdout).toContain('acme-orders-data');
    simulator.deactivate('agr-orders-s3');
    const second = await cli(['run', '--once', '--state-dir', join(work, 'state')], connection());
    expect(second.code).toBe(0);
    const after = await cli(['local-aws', 'show', 'marketing-analytics-consumer'], connection());
    expect(after.stdout).not.toContain('acme-orders-data');
  });

  it('plans and applies against AWS (moto) with the standard AWS configuration', async () => {
    const endpoint = inject('motoEndpoint');
    // moto is shared with other test files: a unique role path keeps this full reconcile to its own roles.
    const roleName = `cli-consumer-${Date.now()}`;
    const rolePath = `/dmm-aws-cli-${Date.now()}/`;
    const aws = {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-central-1',
    };
    const iam = new IAMClient({
      endpoint,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    await iam.send(new CreateRoleCommand({ RoleName: roleName, Path: rolePath, AssumeRolePolicyDocument: trust }));
    // The provider's bucket carries its ownership tag, which the CLI reads from S3 before granting.
    const bucket = `cli-orders-${Date.now()}`;
    const s3 = new S3Client({
      endpoint,
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
    );
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: 'orders' }] },
      }),
    );
    const sim = await startSimulator({
      port: 0,
      apiKey: 'cli-aws-key-0123456789',
      mesh: {
        dataProducts: [
          {
            dataProductSpecification: '0.0.1',
            id: 'consumer',
            info: { title: 'Consumer', owner: 't' },
            custom: { 'aws-role-name': roleName },
          },
          {
            dataProductSpecification: '0.0.1',
            id: 'orders',
            info: { title: 'Orders', owner: 't' },
            outputPorts: [
              {
                id: 'p',
                name: 'p',
                custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}` },
              },
            ],
          },
        ],
        agreements: [
          {
            id: 'agr-cli',
            info: { purpose: 'x', status: 'approved', active: true },
            provider: { dataProductId: 'orders', outputPortId: 'p' },
            consumer: { dataProductId: 'consumer' },
            tags: [],
            custom: {},
          },
        ],
      },
    });
    try {
      const env = {
        ...aws,
        DMM_AWS_TARGET: 'aws',
        DMM_MANAGED_ROLE_PATH: rolePath,
        DMM_BASE_URL: sim.url,
        DMM_API_KEY: 'cli-aws-key-0123456789',
      };
      const plan = JSON.parse((await cli(['plan', '--json'], env)).stdout);
      expect(plan.changes).toHaveLength(1);
      expect(plan.changes[0]).toMatchObject({
        action: 'put',
        policyType: 'inline',
        policyName: 'dmm-aws-pack-1',
        agreementIds: ['agr-cli'],
      });
      expect((await cli(['apply', '--no-progress'], env)).code).toBe(0);
      const after = JSON.parse((await cli(['plan', '--json'], env)).stdout);
      expect(after.changes).toEqual([]);
    } finally {
      await sim.close();
    }
  });
});
