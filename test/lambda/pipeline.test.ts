/**
 * The serverless pipeline end to end: poll-feed reads the simulator's feed into a moto SQS FIFO
 * queue and an S3 checkpoint; the records are delivered to process-events as the event source
 * mapping would; process-events writes the consumer role's policy in moto's IAM.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createPollFeedHandler, SAFETY_MARGIN_MS } from '../../src/lambda/poll-feed.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import {
  agreement,
  aws,
  consumerProduct,
  ACCOUNT,
  indexEntry,
  createFifoQueue,
  deliverQueue,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  s3Product,
  scheduledEvent,
  statementsFor,
  useLambdaHarness,
} from './helpers.js';

const { out, world: lambdaWorld } = useLambdaHarness();

async function world(options: { active?: boolean } = {}) {
  const bucket = await providerBucket('orders');
  const { apiKey, rolePath, role, dmm, env, stateBucket } = await lambdaWorld({
    rolePrefix: 'lambda-e2e',
    mesh: (role) => ({
      dataProducts: [s3Product('orders', bucket), consumerProduct('consumer', role)],
      agreements: [agreement('agr-orders', 'orders', 'consumer', options.active)],
    }),
  });
  const queue = await createFifoQueue();
  // One state bucket for both, as deployed: the checkpoint and the agreement index.
  const common = { ...env, POWERTOOLS_SERVICE_NAME: 'dmm-aws-test', POWERTOOLS_METRICS_NAMESPACE: 'dmm-aws-test' };
  const pollEnv = { ...common, EVENT_QUEUE_URL: queue.url };
  const processEnv = { ...common, MANAGED_ROLE_PATH: rolePath, MAX_RECEIVE_COUNT: '5' };
  return {
    apiKey,
    role,
    roleArn: `arn:aws:iam::${ACCOUNT}:role${rolePath}${role}`,
    bucket,
    dmm,
    queue,
    stateBucket,
    pollEnv,
    processEnv,
  };
}

async function checkpointOf(bucket: string): Promise<{ lastEventId: string }> {
  const object = await aws.s3().send(new GetObjectCommand({ Bucket: bucket, Key: 'checkpoint/last-event-id.json' }));
  return JSON.parse(await object.Body!.transformToString()) as { lastEventId: string };
}

describe('poll-feed → SQS FIFO → process-events → IAM', () => {
  it('grants when an agreement is activated and revokes when it is deactivated', async () => {
    const w = await world();
    const poll = createPollFeedHandler(w.pollEnv);
    const processEvents = createProcessEventsHandler(w.processEnv);
    const deliver = () => deliverQueue(w.queue, (event) => processEvents(event, lambdaContext()));

    w.dmm.sim.approve('agr-orders');
    const first = await poll(scheduledEvent('dmm-aws-poll-feed'), lambdaContext({ functionName: 'dmm-aws-poll-feed' }));
    expect(first).toMatchObject({ outcome: 'caught-up', polls: 1 });
    expect(first.events).toBe(w.dmm.sim.state.events.length);
    expect(first.lastEventId).toBe(w.dmm.sim.state.events.at(-1)!.id);
    expect(await checkpointOf(w.stateBucket)).toMatchObject({ lastEventId: first.lastEventId });
    expect(out.metric('EventsRead')).toBe(first.events);
    expect(out.metric('EventsQueued')).toBe(first.events);
    expect(out.metric('FeedLagSeconds')).toBeGreaterThanOrEqual(0);

    const batches = await deliver();
    expect(batches.flatMap((b) => b.response.batchItemFailures)).toEqual([]);
    const groups = batches.flatMap((b) => b.records.map((r) => r.attributes.MessageGroupId));
    expect(groups).toContain('agreement:agr-orders');
    const granted = statementsFor(await inlinePolicies(w.role), 'agr-orders');
    expect(granted.length).toBeGreaterThan(0);
    expect(JSON.stringify(granted)).toContain(`arn:aws:s3:::${w.bucket}`);
    expect(out.metric('Grants')).toBe(1);
    expect(w.dmm.sim.state.agreementView('agr-orders')?.provisioning).toMatchObject({ status: 'provisioned' });
    // The same bucket as the checkpoint remembers where the grant went.
    expect(await indexEntry(w.stateBucket, 'agr-orders')).toEqual({ agreementId: 'agr-orders', roleArns: [w.roleArn] });

    w.dmm.sim.deactivate('agr-orders');
    const second = await poll(
      scheduledEvent('dmm-aws-poll-feed'),
      lambdaContext({ functionName: 'dmm-aws-poll-feed' }),
    );
    expect(second.events).toBeGreaterThan(0);
    expect((await checkpointOf(w.stateBucket)).lastEventId).toBe(w.dmm.sim.state.events.at(-1)!.id);
    await deliver();
    expect(statementsFor(await inlinePolicies(w.role), 'agr-orders')).toEqual([]);
    expect(out.metric('Revokes')).toBe(1);
    expect(await indexEntry(w.stateBucket, 'agr-orders')).toEqual({ agreementId: 'agr-orders', roleArns: [] });

    // The logs are Powertools JSON with the agreement as a key, and never the API key.
    expect(out.logs().some((l) => l.agreementId === 'agr-orders' && l.service === 'dmm-aws-test')).toBe(true);
    expect(out.text()).not.toContain(w.apiKey);
  });

  it('keeps polling every POLL_REPEAT_SECONDS until the time budget is nearly spent', async () => {
    const w = await world();
    const poll = createPollFeedHandler({ ...w.pollEnv, POLL_REPEAT_SECONDS: '1' });
    const started = Date.now();
    setTimeout(() => w.dmm.sim.approve('agr-orders'), 300);
    const summary = await poll(
      scheduledEvent('dmm-aws-poll-feed'),
      lambdaContext({ remainingMs: SAFETY_MARGIN_MS + 2_500, functionName: 'dmm-aws-poll-feed' }),
    );
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(summary.polls).toBeGreaterThanOrEqual(2);
    expect(summary.outcome).toBe('caught-up');
    // The approval happened between two polls of the same invocation and was queued.
    expect(summary.lastEventId).toBe(w.dmm.sim.state.events.at(-1)!.id);
    expect(w.dmm.sim.state.events.some((e) => e.type.endsWith('AccessActivatedEvent'))).toBe(true);
  });

  it('does not start reading when the time budget is already spent', async () => {
    const w = await world();
    const poll = createPollFeedHandler(w.pollEnv);
    const summary = await poll(
      scheduledEvent('dmm-aws-poll-feed'),
      lambdaContext({ remainingMs: SAFETY_MARGIN_MS - 1, functionName: 'dmm-aws-poll-feed' }),
    );
    expect(summary).toEqual({ outcome: 'time-budget', polls: 1, pages: 0, events: 0 });
  });

  it('leaves the feed to another poller that moved the checkpoint meanwhile', async () => {
    const w = await world({ active: true });
    const poll = createPollFeedHandler(w.pollEnv);
    // While this poller reads the feed, another one writes the checkpoint.
    w.dmm.intercept = async ({ path }) => {
      if (path.startsWith('/api/events')) {
        w.dmm.intercept = undefined;
        const other = { lastEventId: w.dmm.sim.state.events[0]!.id, updatedAt: new Date().toISOString() };
        await aws.s3().send(
          new PutObjectCommand({
            Bucket: w.stateBucket,
            Key: 'checkpoint/last-event-id.json',
            Body: JSON.stringify(other),
          }),
        );
      }
      return undefined;
    };
    const summary = await poll(
      scheduledEvent('dmm-aws-poll-feed'),
      lambdaContext({ functionName: 'dmm-aws-poll-feed' }),
    );
    expect(summary.outcome).toBe('checkpoint-conflict');
    expect(out.logs('warn').map((l) => l.message)).toContain(
      'checkpoint changed by another poller; leaving the feed to it',
    );
    expect((await checkpointOf(w.stateBucket)).lastEventId).toBe(w.dmm.sim.state.events[0]!.id);
  });
});
