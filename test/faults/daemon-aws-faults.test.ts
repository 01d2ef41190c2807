/**
 * The CLI daemon on the aws target (`DMM_AWS_TARGET=aws`, wired by buildContext exactly as
 * `dmm-aws run` is) with its real SDK clients going to moto through the AWS fault proxy: IAM
 * answers `Throttling` to 30 % of its calls and `InternalFailure` 500 / `ServiceUnavailable` 503
 * to some more, S3 (the providers' ownership tags) a `SlowDown` now and then. Through a seeded
 * burst of lifecycle transitions: nothing dead-lettered, no stale or missing grant, no failure
 * reported to Data Mesh Manager.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { runDaemon } from '../../src/cli/daemon.js';
import { buildContext, localPipeline } from '../../src/cli/wiring.js';
import { loadConfig } from '../../src/config.js';
import { startSimulator } from '../../src/simulator/server.js';
import { agreementIdFromSid } from '../../src/targets/sid.js';
import { errorMessage } from '../../src/util/errors.js';
import { memoryLogger } from '../../src/util/log.js';
import { startAwsFaultProxy } from './aws-fault-proxy.js';
import { burstMesh, eventually, expectedGrants, failureReports, playBurst } from './burst.js';
import { seededRandom } from './fault-proxy.js';

const SEED = 11_302_026;
const AGREEMENTS = 6;
const TRANSITIONS = 12;
const REGION = 'eu-central-1';
const ENV_NAMES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_IAM',
  'AWS_ENDPOINT_URL_S3',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((c) => c()));
});

describe('the daemon on the aws target under AWS faults', () => {
  it('converges a burst through IAM throttling and server errors with nothing lost, stale or falsely reported', async () => {
    const endpoint = inject('motoEndpoint');
    const saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
    cleanup.push(async () => {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    const iam = new IAMClient({ region: REGION, endpoint });
    const s3 = new S3Client({ region: REGION, endpoint, forcePathStyle: true });
    const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const rolePath = `/daemon-aws-faults-${suffix}/`;
    const roles = [`daemon-faults-a-${suffix}`, `daemon-faults-b-${suffix}`];
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    for (const role of roles)
      await iam.send(new CreateRoleCommand({ RoleName: role, Path: rolePath, AssumeRolePolicyDocument: trust }));
    const buckets = new Map<string, string>();
    for (const provider of ['p0', 'p1', 'p2']) {
      const bucket = `daemon-faults-${provider}-${suffix}`;
      await s3.send(
        new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
      );
      await s3.send(
        new PutBucketTaggingCommand({
          Bucket: bucket,
          Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: provider }] },
        }),
      );
      buckets.set(provider, bucket);
    }
    const sim = await startSimulator({
      port: 0,
      mesh: burstMesh(AGREEMENTS, { roles, bucket: (p) => buckets.get(p)! }),
    });
    cleanup.push(() => sim.close());

    const proxy = await startAwsFaultProxy(endpoint, {
      rates: { iam: { throttle: 0.3, internal: 0.05, unavailable: 0.05 }, s3: { throttle: 0.05 } },
      random: seededRandom(SEED),
    });
    cleanup.push(() => proxy.close());
    process.env.AWS_ENDPOINT_URL_IAM = proxy.url;
    process.env.AWS_ENDPOINT_URL_S3 = proxy.url;

    const cwd = await mkdtemp(join(tmpdir(), 'dmm-aws-daemon-aws-faults-'));
    cleanup.push(() => rm(cwd, { recursive: true, force: true }));
    const config = loadConfig({
      cwd,
      env: {
        DMM_AWS_TARGET: 'aws',
        DMM_AWS_ACCOUNT_ID: '123456789012',
        DMM_MANAGED_ROLE_PATH: rolePath,
        DMM_BASE_URL: sim.url,
        DMM_API_KEY: sim.apiKey,
        DMM_STATE_DIR: 'state',
      },
    });
    const log = memoryLogger();
    const ctx = await buildContext(config, log);
    const { queue, checkpoint } = localPipeline(config);
    const deadLetters: string[] = [];
    let stop = false;
    const daemon = runDaemon(
      { ctx, queue, checkpoint },
      {
        intervalMs: 100,
        shouldStop: () => stop,
        onDeadLetter: async (message, error) => void deadLetters.push(`${message.event.id}: ${errorMessage(error)}`),
        random: seededRandom(SEED + 1),
        // The daemon's backoff is the bench's subject; here only the outcome counts.
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 250))),
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );

    await playBurst(sim, {
      count: AGREEMENTS,
      transitions: TRANSITIONS,
      random: seededRandom(SEED + 2),
      perTick: 2,
      tickMs: 500,
    });
    const grantsOf = async (role: string) => {
      const ids = new Set<string>();
      for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []) {
        const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }));
        for (const s of (JSON.parse(decodeURIComponent(PolicyDocument ?? '{}')) as { Statement: { Sid?: string }[] })
          .Statement) {
          const id = s.Sid ? agreementIdFromSid(s.Sid) : undefined;
          if (id) ids.add(id);
        }
      }
      return [...ids].sort();
    };
    const converged = await eventually(
      async () => {
        if ((await queue.size()) !== 0 || (await checkpoint.read()) !== sim.state.lastEventId) return false;
        for (const [role, ids] of expectedGrants(sim, AGREEMENTS, roles))
          if (JSON.stringify(await grantsOf(role)) !== JSON.stringify([...ids].sort())) return false;
        return true;
      },
      200_000,
      1_000,
    );
    stop = true;
    expect(await daemon).toBeUndefined();

    expect(proxy.counts.iam?.throttle, 'IAM throttled').toBeGreaterThan(0);
    expect((proxy.counts.iam?.internal ?? 0) + (proxy.counts.iam?.unavailable ?? 0), 'IAM 5xx').toBeGreaterThan(0);
    expect(converged).toBe(true);
    expect(deadLetters).toEqual([]);
    expect(failureReports(sim, AGREEMENTS)).toEqual([]);
    expect(sim.state.events.filter((e) => /rovisioningFailedEvent$/.test(e.type))).toEqual([]);
  }, 280_000);
});
