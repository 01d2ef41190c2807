/**
 * process-events with SQS FIFO batches as the event source mapping delivers them: partial batch
 * failures, the group stop that keeps one agreement's events in order, the report on the last
 * receive, and events that can never succeed.
 */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { LAMBDA_HTTP_RETRIES } from '../../src/lambda/runtime.js';
import {
  agreement,
  consumerProduct,
  feedEvent,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  s3Product,
  sqsRecord,
  statementsFor,
  useLambdaHarness,
} from './helpers.js';

const { out, world: lambdaWorld } = useLambdaHarness();

/** Two providers, two active agreements on one role; reading the `orders` product fails. */
async function world() {
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
  dmm.intercept = async ({ path }) =>
    path.startsWith('/api/dataproducts/orders') || path.startsWith('/api/dataproducts?')
      ? { status: 503, headers: { 'retry-after': '0' } }
      : undefined;
  const handler = createProcessEventsHandler({ ...env, MANAGED_ROLE_PATH: rolePath, MAX_RECEIVE_COUNT: '3' });
  return { dmm, role, invoke: (records: SQSRecord[]) => handler({ Records: records }, lambdaContext()) };
}

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
  });

  it('logs and counts an event that reaches its last receive while waiting behind a failed one', async () => {
    const w = await world();
    const a1 = activated('agr-a', 3);
    const a2 = activated('agr-a', 3);
    const response = await w.invoke([a1, a2]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: a1.messageId }, { itemIdentifier: a2.messageId }]);
    const unseen = out.logs('error').filter((l) => String(l.message).startsWith('dead-lettered unprocessed'));
    expect(unseen).toEqual([expect.objectContaining({ messageId: a2.messageId, receiveCount: 3 })]);
    // a1 given up after its attempts, a2 without one: both are counted.
    expect(out.metric('DeadLettered')).toBe(2);
  });

  it('on the last receive, logs and counts the dead letter but reports no failure for an outage', async () => {
    const w = await world();
    const last = activated('agr-a', 3);
    const response = await w.invoke([last]);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: last.messageId }]);
    // Data Mesh Manager failing to serve the product is an outage, not the agreement's failure.
    const view = w.dmm.sim.state.agreementView('agr-a')!;
    expect(view.tags).not.toContain('aws-integration-failed');
    expect(view.provisioning).not.toMatchObject({ status: 'provisioning-failed' });
    const logged = out.logs('error').filter((l) => l.message === 'event dead-lettered');
    expect(logged).toEqual([expect.objectContaining({ reportedToDataMeshManager: false, attempts: 3 })]);
    expect(out.metric('DeadLettered')).toBe(1);
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
});
