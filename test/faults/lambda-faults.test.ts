/**
 * The Lambda pipeline (poll-feed → SQS FIFO with a dead-letter redrive → process-events, real
 * SDK against moto) through a seeded burst of lifecycle transitions while a proxy in front of the
 * simulator answers with 500s, 429s, truncated and cut bodies. (No hangs here: the functions'
 * client waits 10 s per request, which would make a bounded test minutes long; the daemon's
 * suite covers hangs.) Afterwards: nothing in the dead-letter queue, the queue empty and the
 * checkpoint at the feed's end, every role holding exactly the active agreements, no false
 * failure report, and a fault-free plan with nothing to change.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createPollFeedHandler } from '../../src/lambda/poll-feed.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import {
  aws,
  createBucket,
  createFifoQueue,
  createRole,
  createSecret,
  deliverQueue,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  queueArn,
  receiveRecords,
  scheduledEvent,
  statementsFor,
  unique,
  useLambdaHarness,
} from '../lambda/helpers.js';
import { burstMesh, eventually, expectedGrants, failureReports, playBurst } from './burst.js';
import { seededRandom, startFaultProxy, type FaultProxy } from './fault-proxy.js';

const SEED = 424242;
const AGREEMENTS = 12;
const TRANSITIONS = 50;
const FAULTS = { error500: 0.12, rate429: 0.06, truncated: 0.03, cut: 0.03 };

useLambdaHarness();
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

async function checkpointOf(bucket: string): Promise<string | undefined> {
  try {
    const object = await aws.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'checkpoint/last-event-id.json' }));
    return (JSON.parse(await object.Body!.transformToString()) as { lastEventId?: string }).lastEventId;
  } catch {
    return undefined;
  }
}

describe('the Lambda pipeline under injected Data Mesh Manager faults', () => {
  it('converges a burst with nothing dead-lettered, stale or falsely reported', async () => {
    const rolePath = `/${unique('faults')}/`;
    const roles = [await createRole(rolePath), await createRole(rolePath), await createRole(rolePath)];
    const buckets = new Map<string, string>();
    for (const provider of ['p0', 'p1', 'p2']) buckets.set(provider, await providerBucket(provider));
    const sim: RunningSimulator = await startSimulator({
      port: 0,
      mesh: burstMesh(AGREEMENTS, { roles, bucket: (p) => buckets.get(p)! }),
      generation: 'access',
    });
    closing.push(sim);
    const proxy: FaultProxy = await startFaultProxy(sim.url, { rates: FAULTS }, seededRandom(SEED));
    closing.push(proxy);

    const stateBucket = await createBucket();
    const dlq = await createFifoQueue();
    const queue = await createFifoQueue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(dlq), maxReceiveCount: 3 }),
    });
    const common = {
      DMM_BASE_URL: proxy.url,
      DMM_API_KEY_SECRET_ARN: await createSecret(sim.apiKey),
      DMM_API_GENERATION: 'access',
      AWS_REGION: process.env.AWS_REGION!,
      STATE_BUCKET: stateBucket,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    const pollFeed = createPollFeedHandler({ ...common, EVENT_QUEUE_URL: queue.url });
    const iamEnv = { ...common, MANAGED_ROLE_PATH: rolePath };
    const processEvents = createProcessEventsHandler({ ...iamEnv, MAX_RECEIVE_COUNT: '3' });

    // The pipeline runs as deployed, poll then deliver, until told to stop; a failed poll (the
    // function's error) is retried by the next "minute".
    let stop = false;
    const pipeline = (async () => {
      while (!stop) {
        await pollFeed(scheduledEvent('poll'), lambdaContext({ functionName: 'dmm-aws-poll-feed' })).catch(() => {});
        await deliverQueue(queue, (event) => processEvents(event, lambdaContext()), 20);
      }
    })();

    await playBurst(sim, { count: AGREEMENTS, transitions: TRANSITIONS, random: seededRandom(SEED + 1) });
    const grantsMatch = async () => {
      for (const [role, ids] of expectedGrants(sim, AGREEMENTS, roles)) {
        const policies = await inlinePolicies(role);
        for (const id of ids) if (statementsFor(policies, id).length === 0) return false;
        const held = [...policies.values()].flatMap((p) => p.Statement).length;
        const expected = ids.reduce((n, id) => n + statementsFor(policies, id).length, 0);
        if (held !== expected) return false;
      }
      return true;
    };
    const converged = await eventually(
      async () =>
        (await checkpointOf(stateBucket)) === sim.state.lastEventId &&
        (await receiveRecords(queue)).length === 0 &&
        (await grantsMatch()),
      60_000,
      500,
    );
    stop = true;
    await pipeline;

    for (const fault of Object.keys(FAULTS))
      expect(proxy.counts[fault as keyof typeof FAULTS], fault).toBeGreaterThan(0);
    expect(converged).toBe(true);
    expect(await receiveRecords(dlq)).toEqual([]);
    expect(failureReports(sim, AGREEMENTS)).toEqual([]);
    // A fault-free plan (the reconcile function, dry run) agrees: nothing to change, nothing failed.
    proxy.enabled = false;
    const plan = await createReconcileHandler(iamEnv)(
      { dryRun: true },
      lambdaContext({ functionName: 'dmm-aws-reconcile' }),
    );
    expect(plan).toMatchObject({ applied: false, summary: { changes: 0 } });
    expect((plan as { agreements: { decision: string }[] }).agreements.filter((a) => a.decision === 'failed')).toEqual(
      [],
    );
  }, 150_000);
});
