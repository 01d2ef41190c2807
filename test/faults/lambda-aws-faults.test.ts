/**
 * The Lambda functions with the real SDK clients going to moto through the AWS fault proxy
 * (aws-fault-proxy.ts), which answers as AWS does: IAM `Throttling` ("Rate exceeded", HTTP 400,
 * Query protocol), S3 `SlowDown` (503), and chosen refusals. What issue 10 found under IAM
 * throttling (30 % steady, 90 % for three batches), and what must hold now:
 *
 * - throttling is an outage: no event is given up or dead-lettered for it, no agreement is
 *   reported failed (a deactivation was reported provisioning-failed with the access left on);
 * - a batch whose throttled calls outlast the invocation returns in time, its records kept back
 *   (Lambda's timeout would otherwise fail the batch unlogged until SQS dead-letters it);
 * - a revoke that AWS refuses on the agreement's own merits is reported deprovisioning-failed, once;
 * - an event that waited behind a failed predecessor is not dead-lettered: only the predecessor
 *   is, and every record in the dead-letter queue was logged and counted.
 */
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPollFeedHandler } from '../../src/lambda/poll-feed.js';
import { createProcessEventsHandler, SAFETY_MARGIN_MS } from '../../src/lambda/process-events.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { startSimulator, type MeshData, type RunningSimulator } from '../../src/simulator/server.js';
import { agreementIdFromSid } from '../../src/targets/sid.js';
import {
  agreement,
  aws,
  consumerProduct,
  createBucket,
  createFifoQueue,
  createRole,
  createSecret,
  deliverQueue,
  lambdaContext,
  providerBucket,
  queueArn,
  receiveRecords,
  REGION,
  s3Product,
  scheduledEvent,
  unique,
  useLambdaHarness,
} from '../lambda/helpers.js';
import { startAwsFaultProxy, type AwsFaultProxy, type AwsRequest } from './aws-fault-proxy.js';
import { burstMesh, eventually, expectedGrants, failureReports, playBurst } from './burst.js';
import { seededRandom } from './fault-proxy.js';

const SEED = 7_301_030;
const AGREEMENTS = 6;
const TRANSITIONS = 12;
const STEADY = { iam: { throttle: 0.3 }, s3: { throttle: 0.05 } };
const SPIKE = { iam: { throttle: 0.9 }, s3: { throttle: 0.05 } };
/** The time of each process-events invocation: the deployed default timeout (60 s). */
const INVOCATION_MS = 60_000;

const { out } = useLambdaHarness();
const closing: { close(): Promise<void> }[] = [];
const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_S3'] as const;
afterEach(async () => {
  for (const name of ENDPOINT_VARIABLES) delete process.env[name];
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

// The test's own look-ups go straight to moto; only the functions' clients meet the proxy.
let direct: { iam: IAMClient; s3: S3Client };
beforeAll(() => {
  const endpoint = inject('motoEndpoint');
  direct = {
    iam: new IAMClient({ region: REGION, endpoint }),
    s3: new S3Client({ region: REGION, endpoint, forcePathStyle: true }),
  };
});

/** Agreement ids on the role's inline policies, read from moto directly. */
async function grantsOf(role: string): Promise<string[]> {
  const grants = new Set<string>();
  const names = (await direct.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];
  for (const name of names) {
    const { PolicyDocument } = await direct.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }));
    const doc = JSON.parse(decodeURIComponent(PolicyDocument ?? '{}')) as { Statement: { Sid?: string }[] };
    for (const statement of doc.Statement) {
      const id = statement.Sid ? agreementIdFromSid(statement.Sid) : undefined;
      if (id) grants.add(id);
    }
  }
  return [...grants].sort();
}

async function checkpointOf(bucket: string): Promise<string | undefined> {
  try {
    const object = await direct.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'checkpoint/last-event-id.json' }));
    return (JSON.parse(await object.Body!.transformToString()) as { lastEventId?: string }).lastEventId;
  } catch {
    return undefined;
  }
}

/** Whether the queue holds nothing, visible or in flight; asked without receiving (which would count a receive). */
async function queueEmpty(queue: { url: string }): Promise<boolean> {
  const { Attributes = {} } = await aws.sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Attributes.ApproximateNumberOfMessages === '0' && Attributes.ApproximateNumberOfMessagesNotVisible === '0';
}

/** Provisioning failures ever reported, in order: [agreement id, event type]. */
function failedReports(sim: RunningSimulator): [string, string][] {
  return sim.state.events
    .filter((e) => /[Pp]rovisioningFailedEvent$/.test(e.type))
    .map((e) => [e.data.id, e.type.replace(/^.*\./, '')] as [string, string]);
}

function provisioningOf(sim: RunningSimulator, id: string): { status?: string; diagnostics?: string } {
  return (sim.state.agreementView(id)?.provisioning ?? {}) as { status?: string; diagnostics?: string };
}

/**
 * The event ids in the dead-letter queue, each of which must have been logged as dead-lettered
 * (with its event id) and counted in the DeadLettered metric.
 */
async function deadLettersLoggedAndCounted(dlq: { name: string; url: string }): Promise<string[]> {
  const dead = (await receiveRecords(dlq)).map((r) => (JSON.parse(r.body) as { id: string }).id);
  const logged = out
    .logs('error')
    .filter((l) => /dead-lettered/.test(String(l.message)))
    .map((l) => String(l.eventId));
  for (const id of dead) expect(logged, `dead-lettered event ${id} was logged`).toContain(id);
  expect(out.metric('DeadLettered') ?? 0).toBeGreaterThanOrEqual(dead.length);
  return dead;
}

interface Pipeline {
  sim: RunningSimulator;
  proxy: AwsFaultProxy;
  queue: { name: string; url: string };
  dlq: { name: string; url: string };
  stateBucket: string;
  roles: string[];
  iamEnv: Record<string, string>;
  /** The time each process-events invocation gets (its Lambda timeout). */
  invocationMs: number;
  /** One round as deployed: poll the feed, then deliver up to `batches` batches. */
  round(batches?: number): Promise<void>;
  /** Rounds until stopped; `beforeBatch` sees each batch's number first. */
  run(beforeBatch?: (batch: number) => void): { stop(): Promise<void>; batches(): number };
}

/** Roles, provider buckets, queues and functions in moto; the functions' IAM and S3 calls go through the proxy. */
async function pipeline(options: {
  mesh: (roles: string[], buckets: Map<string, string>) => MeshData;
  roles: number;
  providers: string[];
  rates: AwsFaultProxy['rates'];
  seed: number;
}): Promise<Pipeline> {
  const rolePath = `/${unique('aws-faults')}/`;
  const roles: string[] = [];
  for (let i = 0; i < options.roles; i++) roles.push(await createRole(rolePath));
  const buckets = new Map<string, string>();
  for (const provider of options.providers) buckets.set(provider, await providerBucket(provider));
  const sim = await startSimulator({ port: 0, mesh: options.mesh(roles, buckets), generation: 'access' });
  closing.push(sim);
  const stateBucket = await createBucket();
  const dlq = await createFifoQueue();
  const queue = await createFifoQueue({
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(dlq), maxReceiveCount: 3 }),
  });
  const secretArn = await createSecret(sim.apiKey);
  const proxy = await startAwsFaultProxy(inject('motoEndpoint'), {
    rates: options.rates,
    random: seededRandom(options.seed),
  });
  closing.push(proxy);
  for (const name of ENDPOINT_VARIABLES) process.env[name] = proxy.url;
  const common = {
    DMM_BASE_URL: sim.url,
    DMM_API_KEY_SECRET_ARN: secretArn,
    DMM_API_GENERATION: 'access',
    AWS_REGION: REGION,
    STATE_BUCKET: stateBucket,
  };
  const iamEnv = { ...common, MANAGED_ROLE_PATH: rolePath };
  const pollFeed = createPollFeedHandler({ ...common, EVENT_QUEUE_URL: queue.url });
  // The backoff of outage-kept records is process-events.test.ts's subject; here they come back at once.
  const processEvents = createProcessEventsHandler(
    { ...iamEnv, MAX_RECEIVE_COUNT: '3' },
    { outageBackoff: { firstSeconds: 0, maxSeconds: 0 } },
  );
  let batches = 0;
  let beforeBatch: ((batch: number) => void) | undefined;
  const invoke = (event: SQSEvent) => {
    beforeBatch?.(++batches);
    return processEvents(event, lambdaContext({ remainingMs: p.invocationMs }));
  };
  const round = async (max = 5) => {
    await pollFeed(scheduledEvent('poll'), lambdaContext({ functionName: 'dmm-aws-poll-feed' })).catch(() => {});
    await deliverQueue(queue, invoke, max);
  };
  const p: Pipeline = {
    sim,
    proxy,
    queue,
    dlq,
    stateBucket,
    roles,
    iamEnv,
    invocationMs: INVOCATION_MS,
    round,
    run: (before) => {
      beforeBatch = before;
      let stop = false;
      const loop = (async () => {
        while (!stop) await round();
      })();
      return {
        stop: async () => {
          stop = true;
          await loop;
        },
        batches: () => batches,
      };
    },
  };
  return p;
}

describe('the Lambda pipeline under IAM throttling (30 % steady, 90 % for three batches)', () => {
  it('converges a burst with nothing lost, dead-lettered, stale or falsely reported', async () => {
    const p = await pipeline({
      mesh: (roles, buckets) => burstMesh(AGREEMENTS, { roles, bucket: (id) => buckets.get(id)! }),
      roles: 2,
      providers: ['p0', 'p1', 'p2'],
      rates: structuredClone(STEADY),
      seed: SEED,
    });
    const running = p.run((batch) => {
      p.proxy.rates = structuredClone(batch >= 3 && batch <= 5 ? SPIKE : STEADY);
    });
    // Played slowly enough that the pipeline meets it in many small batches, the spike among them.
    await playBurst(p.sim, {
      count: AGREEMENTS,
      transitions: TRANSITIONS,
      random: seededRandom(SEED + 1),
      perTick: 2,
      tickMs: 1_000,
    });
    const grantsMatch = async () => {
      for (const [role, ids] of expectedGrants(p.sim, AGREEMENTS, p.roles))
        if (JSON.stringify(await grantsOf(role)) !== JSON.stringify([...ids].sort())) return false;
      return true;
    };
    let state = {};
    const converged = await eventually(
      async () => {
        state = {
          checkpointAtEnd: (await checkpointOf(p.stateBucket)) === p.sim.state.lastEventId,
          queueEmpty: await queueEmpty(p.queue),
          grantsMatch: await grantsMatch(),
        };
        return Object.values(state).every(Boolean);
      },
      200_000,
      1_000,
    );
    await running.stop();

    expect(running.batches()).toBeGreaterThan(5);
    expect(p.proxy.counts.iam?.throttle, 'IAM throttled').toBeGreaterThan(0);
    expect(p.proxy.counts.s3?.throttle, 'S3 slowed down').toBeGreaterThan(0);
    // Throttling outlasted the SDK's own retries and reached the handler, which kept the records back.
    expect(out.metric('Outages') ?? 0).toBeGreaterThan(0);
    expect(converged, JSON.stringify(state)).toBe(true);
    expect(failedReports(p.sim)).toEqual([]);
    expect(failureReports(p.sim, AGREEMENTS)).toEqual([]);
    expect(await deadLettersLoggedAndCounted(p.dlq)).toEqual([]);
    expect(out.logs('error').filter((l) => /dead-lettered/.test(String(l.message)))).toEqual([]);

    // A fault-free plan (the reconcile function, dry run) agrees: nothing to change.
    p.proxy.enabled = false;
    const plan = await createReconcileHandler(p.iamEnv)(
      { dryRun: true },
      lambdaContext({ functionName: 'dmm-aws-reconcile' }),
    );
    expect(plan).toMatchObject({ applied: false, summary: { changes: 0 } });
  }, 300_000);
});

const writesTo = (role: string) => (r: AwsRequest) =>
  r.service === 'iam' && /^(Put|Delete)RolePolicy$/.test(r.operation) && r.params.get('RoleName') === role;

/** One provider bucket, one consumer role and agreement agr-a (active or not), behind the AWS proxy at `rates`. */
const oneAgreement = (active: boolean, rates: Parameters<typeof pipeline>[0]['rates'], seed: number) =>
  pipeline({
    mesh: ([role], buckets) => ({
      dataProducts: [s3Product('orders', buckets.get('orders')!), consumerProduct('consumer', role!)],
      agreements: [agreement('agr-a', 'orders', 'consumer', active)],
    }),
    roles: 1,
    providers: ['orders'],
    rates,
    seed,
  });

describe('process-events under AWS faults', () => {
  it("returns before the invocation's time runs out when throttled calls outlast it, keeping the batch back", async () => {
    // Every IAM call throttled: each one retries for up to ~30 s inside the SDK.
    const p = await oneAgreement(true, { iam: { throttle: 1 } }, SEED + 2);
    p.invocationMs = SAFETY_MARGIN_MS + 3_000;
    const deadline = Date.now() + p.invocationMs;
    await p.round(1);
    expect(Date.now(), 'returned before Lambda would have ended the invocation').toBeLessThan(deadline);
    expect(out.logs('warn').some((l) => String(l.message).startsWith('out of time'))).toBe(true);
    expect(out.metric('Outages')).toBeGreaterThan(0);

    // Throttling ends: the next invocation first lets the cut-short work finish, then converges.
    p.proxy.rates = {};
    await eventually(
      async () => {
        await p.round();
        return (await queueEmpty(p.queue)) && (await grantsOf(p.roles[0]!)).includes('agr-a');
      },
      60_000,
      0,
    );
    expect(await grantsOf(p.roles[0]!)).toEqual(['agr-a']);
    expect(failedReports(p.sim)).toEqual([]);
    expect(await deadLettersLoggedAndCounted(p.dlq)).toEqual([]);
  }, 120_000);

  it('a revoke AWS refuses on its own merits is reported deprovisioning-failed, once, under 30 % throttling', async () => {
    const p = await oneAgreement(true, { iam: { throttle: 0.3 } }, SEED + 3);
    const role = p.roles[0]!;
    const settle = (check: () => Promise<boolean>) =>
      eventually(
        async () => {
          await p.round();
          return (await queueEmpty(p.queue)) && (await check());
        },
        60_000,
        0,
      );
    expect(await settle(async () => (await grantsOf(role)).includes('agr-a'))).toBe(true);

    // The role cannot be changed (as a protected role would answer): a decision about the agreement.
    p.proxy.rules.push({
      when: writesTo(role),
      answer: {
        status: 400,
        code: 'UnmodifiableEntity',
        message: `Cannot perform the operation on the protected role '${role}'`,
      },
    });
    p.sim.deactivate('agr-a');
    expect(await settle(async () => provisioningOf(p.sim, 'agr-a').status === 'deprovisioning-failed')).toBe(true);
    // A few more rounds: the report's own events come back and change nothing.
    for (let i = 0; i < 3; i++) await p.round();
    expect(failedReports(p.sim)).toEqual([['agr-a', 'AccessDeprovisioningFailedEvent']]);
    expect(provisioningOf(p.sim, 'agr-a').diagnostics).toMatch(/UnmodifiableEntity/);
    // Its access is still on the role, and the agreement says where.
    expect(await grantsOf(role)).toEqual(['agr-a']);
    expect(await deadLettersLoggedAndCounted(p.dlq)).toEqual([]);

    // Once AWS accepts the change, the full reconcile revokes it and reports success.
    p.proxy.rules = [];
    p.proxy.rates = {};
    await createReconcileHandler(p.iamEnv)({}, lambdaContext({ functionName: 'dmm-aws-reconcile' }));
    expect(await grantsOf(role)).toEqual([]);
    expect(provisioningOf(p.sim, 'agr-a').status).toBe('deprovisioned');
  }, 150_000);

  it('an activation waiting behind a failed predecessor is put back, not dead-lettered; the predecessor is dead-lettered with a log line and a count', async () => {
    const p = await oneAgreement(false, {}, SEED + 4);
    const role = p.roles[0]!;
    // The mesh's own first events (its data products) are handled before the fault begins.
    await p.round();
    expect(await queueEmpty(p.queue)).toBe(true);
    // IAM refuses the function's reads of the role (a permission it lacks for a while): not an
    // outage and not a decision about the agreement, so each receive counts towards the DLQ.
    p.proxy.rules.push({
      when: (r) => r.service === 'iam' && r.operation === 'ListRolePolicies' && r.params.get('RoleName') === role,
      answer: { status: 403, code: 'AccessDenied', message: 'not authorized to perform: iam:ListRolePolicies' },
    });
    // Approving emits AccessApprovedEvent, then AccessActivatedEvent: one message group.
    p.sim.approve('agr-a');
    await p.round(0);
    const [predecessor, activation] = p.sim.state.events.slice(-2).map((e) => e.id);
    expect(p.sim.state.events.at(-1)?.type).toMatch(/AccessActivatedEvent$/);
    // Three receives: the approval fails each time, the activation waits behind it.
    for (let i = 0; i < 3; i++) await p.round(1);
    p.proxy.rules = [];
    await p.round();
    await p.round();

    expect(await grantsOf(role)).toEqual(['agr-a']);
    expect(await queueEmpty(p.queue)).toBe(true);
    expect(await deadLettersLoggedAndCounted(p.dlq)).toEqual([predecessor]);
    expect(out.metric('DeadLettered')).toBe(1);
    // The activation was put back on its last receive and then granted: not lost behind its predecessor.
    expect(out.logs('info').some((l) => String(l.message).startsWith('put back as a fresh message'))).toBe(true);
    expect(activation).not.toEqual(predecessor);
    // A refused permission is not the agreement's failure: nothing reported.
    expect(failedReports(p.sim)).toEqual([]);
  }, 120_000);
});
