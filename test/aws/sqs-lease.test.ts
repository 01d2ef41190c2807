/**
 * A slow event keeps its message in flight on a real SQS FIFO queue (moto, real SDK): drainQueue
 * renews the lease while the event is processed, so no other consumer is handed it meanwhile and
 * it is processed once.
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsFifoQueue } from '../../src/aws/sqs-queue.js';
import type { ReceivedMessage } from '../../src/interfaces/event-queue.js';
import { agreement, consumerProduct, grantsOn, ordersProduct, ROLE, startWorld } from '../e2e/harness.js';
import { motoSqs, recordCommands, unique } from './moto.js';

const VISIBILITY_SECONDS = 2;

async function sqsQueue(): Promise<{ url: string; queue: SqsFifoQueue; client: ReturnType<typeof motoSqs> }> {
  const client = motoSqs();
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: `${unique('lease')}.fifo`,
      Attributes: { FifoQueue: 'true', VisibilityTimeout: String(VISIBILITY_SECONDS) },
    }),
  );
  return { url: QueueUrl!, client, queue: new SqsFifoQueue({ client, queueUrl: QueueUrl!, waitTimeSeconds: 0 }) };
}

describe('lease renewal on SQS', () => {
  it('an event that takes more than twice the visibility timeout is not handed out again while it runs', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
      },
    });
    const { url, client, queue } = await sqsQueue();
    world.queue = queue;
    const rival = new SqsFifoQueue({ client: motoSqs(), queueUrl: url, waitTimeSeconds: 0 });
    const rivalGot: ReceivedMessage[] = [];
    const put = world.iam.putInlinePolicy.bind(world.iam);
    let slow = true;
    world.iam.putInlinePolicy = async (role, name, document) => {
      if (!slow) return put(role, name, document);
      slow = false;
      // While the write is slow, another consumer polls the queue again and again.
      const until = Date.now() + 2.5 * VISIBILITY_SECONDS * 1000;
      while (Date.now() < until) {
        rivalGot.push(...(await rival.receive(10)));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return put(role, name, document);
    };
    const sent = recordCommands(client);

    const run = await world.sync({ leaseMs: VISIBILITY_SECONDS * 1000 });

    expect(rivalGot).toEqual([]);
    // Every event processed once: none handed out twice, none retried.
    expect(run.stats).toMatchObject({ processed: run.polled.events, retried: 0, deadLettered: 0 });
    expect((await grantsOn(world.iam, ROLE)).has('agr-1')).toBe(true);
    expect(await queue.size()).toBe(0);
    // Renewed to the full lease each time, every third of it.
    const renewals = sent.inputs('ChangeMessageVisibilityCommand').map((i) => i.VisibilityTimeout);
    expect(renewals.length).toBeGreaterThanOrEqual(5);
    expect(new Set(renewals)).toEqual(new Set([VISIBILITY_SECONDS]));
    expect(world.log.entries.map((e) => e.message)).not.toContain(
      'could not extend the in-flight time of a waiting or slow event',
    );
  });
});
