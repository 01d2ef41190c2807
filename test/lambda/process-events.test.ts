/**
 * process-events with SQS FIFO batches as the event source mapping delivers them: partial batch
 * failures, the group stop that keeps one agreement's events in order, the report on the last
 * receive, events that can never succeed, and outages that SQS must never dead-letter (a moto
 * queue with a redrive policy).
 */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { OutageBackoff } from '../../src/lambda/outage-retry.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { LAMBDA_HTTP_RETRIES } from '../../src/lambda/runtime.js';
import {
  agreement,
  consumerProduct,
  createFifoQueue,
  deleteRecord,
  deliverQueue,
  feedEvent,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  queueCounts,
  queueArn,
  receiveRecords,
  s3Product,
  sendEvents,
  sqsRecord,
  statementsFor,
  useLambdaHarness,
} from './helpers.js';

const { out, world: lambdaWorld } = useLambdaHarness();

/** Two providers, two active agreements on one role; reading the `orders` product fails until endOutage(). */
async function world(
  options: { maxReceiveCount?: number; outageBackoff?: OutageBackoff; maxBatchEvents?: number } = {},
) {
  const [orders, payments] = [await providerBucket('orders'), await providerBucket('payments')];
  const { rolePath, role, dmm, env } = await lambdaWorld({
    rolePrefix: 'lambda-process',
    mesh: (role) => ({
      dataProducts: [s3Product('orders', orders), s3Product('payments', payments), consumerProduct('consumer', role)],
      agreements: [agreement('agr-a', 'orders', 'consumer', true), agreement('agr-b', 'payments', 'consumer', true)],
    }),
  });
  // Data Mesh Manager keeps failing for one product, read by id or in the list of all (Retry-After: 0
  // keeps the client's retries quick).
  let outage = true;
  dmm.intercept = async ({ path }) =>
    outage && (path.startsWith('/api/dataproducts/orders') || path.startsWith('/api/dataproducts?'))
      ? { status: 503, headers: { 'retry-after': '0' } }
      : undefined;
  const handler = createProcessEventsHandler(
    {
      ...env,
      MANAGED_ROLE_PATH: rolePath,
      MAX_RECEIVE_COUNT: String(options.maxReceiveCount ?? 3),
      ...(options.maxBatchEvents ? { MAX_BATCH_EVENTS: String(options.maxBatchEvents) } : {}),
    },
    { ...(options.outageBackoff ? { outageBackoff: options.outageBackoff } : {}), random: () => 0.99 },
  );
  return {
    dmm,
    role,
    invoke: (records: SQSRecord[]) => handler({ Records: records }, lambdaContext()),
    endOutage: () => {
      outage = false;
    },
  };
}

const activatedEvent = (agreementId: string) => ({
  body: JSON.stringify(feedEvent('AccessActivatedEvent', agreementId)),
  groupId: `agreement:${agreementId}`,
});

const activated = (agreementId: string, receiveCount = 1) =>
  sqsRecord({
    body: JSON.stringify(feedEvent('AccessActivatedEvent', agreementId)),
    groupId: `agreement:${agreementId}`,
    receiveCount,
  });

describe('process-events', () => {
  it('fails a failed record and the later records of its group, and nothing else', async () => {
    const w = await world();
    const a1 = activated('agr-a');
    const b1 = activated('agr-b');
    const a2 = activated('agr-a');
    const b2 = activated('agr-b');
    const response = await w.invoke([a1, b1, a2, b2]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: a1.messageId }, { itemIdentifier: a2.messageId }]);
    const skipped = out.logs('info').filter((l) => l.message === 'skipped: an earlier event of its group failed');
    expect(skipped.map((l) => [l.messageId, l.messageGroupId])).toEqual([[a2.messageId, 'agreement:agr-a']]);
    const policies = await inlinePolicies(w.role);
    expect(statementsFor(policies, 'agr-b').length).toBeGreaterThan(0);
    expect(statementsFor(policies, 'agr-a')).toEqual([]);
    // a2 was not attempted: the only reads of agr-a's product are a1's, with the client's retries.
    const productReads = w.dmm.requests.filter((r) => r.path.startsWith('/api/dataproducts/orders'));
    expect(productReads.length).toBe(LAMBDA_HTTP_RETRIES.maxAttempts);
    // Not the last receive: SQS retries it, so nothing is reported to Data Mesh Manager yet.
    expect(w.dmm.sim.state.agreementView('agr-a')?.tags).not.toContain('aws-integration-failed');
    // Data Mesh Manager failing to serve the product is an outage, counted as such, not as a failure.
    expect(out.metric('Outages')).toBe(1);
    expect(out.metric('Failures')).toBe(0);
    expect(out.metric('DeadLettered')).toBe(0);
    // What the outages alarm watches (terraform/alarms.tf): the namespace with a `service` dimension.
    const emf = out.lines().find((l) => '_aws' in l && 'Outages' in l) as {
      service?: string;
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    };
    expect(emf.service).toBe('dmm-aws');
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'dmm-aws', Dimensions: [['service']] });
  });

  it('puts an outage-kept event and the one waiting behind it back as fresh messages on their last receive, in order', async () => {
    const queue = await createFifoQueue();
    const w = await world({ maxReceiveCount: 1 });
    await sendEvents(queue, [activatedEvent('agr-a'), activatedEvent('agr-a')]);
    const records = await receiveRecords(queue);
    expect(records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '1']);
    const response = await w.invoke(records);

    // Acknowledged (the event source deletes the originals): their copies carry on.
    expect(response.batchItemFailures).toEqual([]);
    for (const record of records) await deleteRecord(queue, record);
    const copies = await receiveRecords(queue);
    expect(copies.map((r) => [r.body, r.attributes.MessageGroupId, r.attributes.ApproximateReceiveCount])).toEqual(
      records.map((r) => [r.body, 'agreement:agr-a', '1']),
    );
    // Nothing dead-lettered, nothing reported: an outage says nothing about the agreement.
    expect(out.metric('DeadLettered')).toBe(0);
    expect(out.logs('error').map((l) => l.message)).not.toContain('event dead-lettered');
    const view = w.dmm.sim.state.agreementView('agr-a')!;
    expect(view.tags).not.toContain('aws-integration-failed');
    expect(view.provisioning).not.toMatchObject({ status: 'provisioning-failed' });
    expect(out.logs('info').filter((l) => String(l.message).startsWith('put back as a fresh message')).length).toBe(2);
  });

  it('pauses an outage-kept group for its backoff, not for the queue visibility timeout', async () => {
    // As deployed: the visibility timeout is long (six times the function timeout).
    const queue = await createFifoQueue({ VisibilityTimeout: '300' });
    const w = await world({ outageBackoff: { firstSeconds: 1, maxSeconds: 1 } });
    await sendEvents(queue, [activatedEvent('agr-a'), activatedEvent('agr-b'), activatedEvent('agr-a')]);
    const records = await receiveRecords(queue);
    const response = await w.invoke(records);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    expect(records.map((r) => failed.has(r.messageId))).toEqual([true, false, true]);
    await deleteRecord(queue, records[1]!);

    expect(await receiveRecords(queue)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Both events of the group are handed out again after the pause. (The order of a redelivered
    // group is SQS's business; moto does not keep it, so only the set is checked.)
    const [first] = await receiveRecords(queue);
    await deleteRecord(queue, first!);
    const [second] = await receiveRecords(queue);
    expect(new Set([first, second].map((r) => `${r?.body} #${r?.attributes.ApproximateReceiveCount}`))).toEqual(
      new Set([records[0]!.body, records[2]!.body].map((body) => `${body} #2`)),
    );
  });

  it('loses nothing to an outage that outlasts every receive: SQS dead-letters nothing and the agreement converges once it ends', async () => {
    const dlq = await createFifoQueue();
    const queue = await createFifoQueue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(dlq), maxReceiveCount: 2 }),
    });
    const w = await world({ maxReceiveCount: 2 });
    await sendEvents(queue, [activatedEvent('agr-a')]);
    // Six deliveries during the outage: three times the queue's maxReceiveCount.
    for (let round = 0; round < 6; round++)
      expect(await deliverQueue(queue, (event) => w.invoke(event.Records), 1)).toHaveLength(1);
    w.endOutage();
    await deliverQueue(queue, (event) => w.invoke(event.Records));

    expect(statementsFor(await inlinePolicies(w.role), 'agr-a').length).toBeGreaterThan(0);
    expect(await receiveRecords(dlq)).toEqual([]);
    expect(await receiveRecords(queue)).toEqual([]);
    expect(out.metric('Outages')).toBe(6);
    expect(out.metric('DeadLettered')).toBe(0);
    expect(w.dmm.sim.state.agreementView('agr-a')?.tags).not.toContain('aws-integration-failed');
  });

  it('acknowledges events that can never succeed, logging each with its full body', async () => {
    const w = await world();
    const garbage = sqsRecord({ body: 'this is not json {', groupId: 'agreement:agr-b' });
    const notAnEvent = sqsRecord({ body: JSON.stringify({ hello: 'world' }), groupId: 'agreement:agr-b' });
    const namesNothing = sqsRecord({
      body: JSON.stringify({ ...feedEvent('AccessActivatedEvent', ''), data: {} }),
      groupId: 'unrouted',
    });
    const fine = activated('agr-b');
    const response = await w.invoke([garbage, notAnEvent, namesNothing, fine]);

    // Acknowledged, so they neither block their group nor come back.
    expect(response.batchItemFailures).toEqual([]);
    expect(statementsFor(await inlinePolicies(w.role), 'agr-b').length).toBeGreaterThan(0);
    const errors = out.logs('error');
    for (const record of [garbage, notAnEvent, namesNothing]) {
      expect(errors.some((l) => l.body === record.body && l.messageId === record.messageId)).toBe(true);
    }
    expect(out.metric('DeadLettered')).toBe(3);
  });

  it('answers a batch whose every record failed with each of them, instead of failing the invocation', async () => {
    const w = await world();
    const a1 = activated('agr-a');
    const a2 = activated('agr-a');
    const response = await w.invoke([a1, a2]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: a1.messageId }, { itemIdentifier: a2.messageId }]);
    expect(out.logs('error').map((l) => l.message)).not.toContain('invocation failed');
  });

  it('skips events that do not affect access', async () => {
    const w = await world();
    const tag = sqsRecord({ body: JSON.stringify(feedEvent('TagCreatedEvent', 'tag-1')), groupId: 'unrouted' });
    expect(await w.invoke([tag])).toEqual({ batchItemFailures: [] });
    expect(await inlinePolicies(w.role)).toEqual(new Map());
  });

  describe('batches bigger than the event source hands over (MAX_BATCH_EVENTS)', () => {
    /** `count` activations of the agreement, each in a group of its own, so FIFO lets any of them out. */
    const spread = (agreementId: string, count: number, from = 0) =>
      Array.from({ length: count }, (_, i) => ({ ...activatedEvent(agreementId), groupId: `g-${from + i}` }));

    it('receives the rest from the queue itself, converges it with the handed-over records and deletes it once done', async () => {
      const queue = await createFifoQueue({ VisibilityTimeout: '300' });
      const w = await world({ maxBatchEvents: 100 });
      w.endOutage();
      await sendEvents(queue, [
        ...spread('agr-b', 10),
        ...spread('agr-a', 5, 10),
        { body: 'not an event', groupId: 'g-junk' },
      ]);
      const handedOver = await receiveRecords(queue);
      expect(handedOver).toHaveLength(10);
      const response = await w.invoke(handedOver);

      expect(response.batchItemFailures).toEqual([]);
      const policies = await inlinePolicies(w.role);
      expect(statementsFor(policies, 'agr-a').length).toBeGreaterThan(0);
      expect(statementsFor(policies, 'agr-b').length).toBeGreaterThan(0);
      expect(out.logs('info').find((l) => l.message === 'received more events from the queue')).toMatchObject({
        handedOver: 10,
        received: 6,
      });
      // The unreadable message is dropped with its body, whoever received it.
      expect(out.logs('error').some((l) => l.body === 'not an event')).toBe(true);
      // Only the event source's ten are left, in flight until it deletes them; the handler's six are gone.
      for (const record of handedOver) await deleteRecord(queue, record);
      expect(await queueCounts(queue)).toEqual({ visible: 0, inFlight: 0 });
      // Sixteen events, one read of each agreement: converged together, not one by one.
      const agreementReads = w.dmm.requests.filter(
        (r) => r.method === 'GET' && /^\/api\/(access|datausageagreements)\/agr-a(\?|$)/.test(r.path),
      );
      expect(agreementReads.length).toBeLessThanOrEqual(2);
    });

    it('keeps a received event that failed on the queue for its retry, and stops at MAX_BATCH_EVENTS', async () => {
      const queue = await createFifoQueue({ VisibilityTimeout: '300' });
      const w = await world({ maxBatchEvents: 12, outageBackoff: { firstSeconds: 1, maxSeconds: 1 } });
      await sendEvents(queue, spread('agr-b', 10));
      const handedOver = await receiveRecords(queue);
      // agr-a's product read fails (an outage) until endOutage(); g-extra is beyond the batch's 12.
      await sendEvents(queue, [...spread('agr-a', 2, 10), { ...activatedEvent('agr-b'), groupId: 'g-extra' }]);
      const response = await w.invoke(handedOver);

      expect(response.batchItemFailures).toEqual([]);
      expect(statementsFor(await inlinePolicies(w.role), 'agr-b').length).toBeGreaterThan(0);
      expect(out.metric('Outages')).toBe(2);
      for (const record of handedOver) await deleteRecord(queue, record);
      // g-extra was never received; the two outage-kept events come back after their 1 s pause.
      expect((await receiveRecords(queue)).map((r) => r.attributes.MessageGroupId)).toEqual(['g-extra']);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const retried = await receiveRecords(queue);
      expect(retried.map((r) => [r.attributes.MessageGroupId, r.attributes.ApproximateReceiveCount]).sort()).toEqual([
        ['g-10', '2'],
        ['g-11', '2'],
      ]);
    });

    it('goes on with the handed-over records when the queue cannot be read (here: it does not exist)', async () => {
      const w = await world({ maxBatchEvents: 100 });
      w.endOutage();
      const record = sqsRecord({ ...activatedEvent('agr-b'), queueName: 'no-such-queue.fifo' });
      expect(await w.invoke([record])).toEqual({ batchItemFailures: [] });
      expect(statementsFor(await inlinePolicies(w.role), 'agr-b').length).toBeGreaterThan(0);
      expect(out.logs('warn').find((l) => String(l.message).startsWith('could not receive more events'))).toMatchObject(
        {
          handedOver: 1,
          received: 0,
        },
      );
    });

    it('takes only what the event source hands over when MAX_BATCH_EVENTS is unset', async () => {
      const queue = await createFifoQueue({ VisibilityTimeout: '300' });
      const w = await world();
      w.endOutage();
      await sendEvents(queue, spread('agr-b', 12));
      const handedOver = await receiveRecords(queue);
      expect(await w.invoke(handedOver)).toEqual({ batchItemFailures: [] });
      for (const record of handedOver) await deleteRecord(queue, record);
      expect(await queueCounts(queue)).toEqual({ visible: 2, inFlight: 0 });
    });
  });
});
