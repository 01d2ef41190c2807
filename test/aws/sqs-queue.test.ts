import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsFifoQueue, SqsSendError, sqsSafeId, toSqsEntries } from '../../src/aws/sqs-queue.js';
import type { FeedEvent } from '../../src/model/events.js';
import type { OutgoingMessage } from '../../src/interfaces/event-queue.js';
import { motoSqs, recordCommands, unique } from './moto.js';

function event(id: string, agreementId = 'agr-1'): FeedEvent {
  return {
    id,
    type: 'com.datamesh-manager.events.AccessActivatedEvent',
    subject: agreementId,
    data: { id: agreementId },
  };
}

function message(id: string, agreementId = 'agr-1'): OutgoingMessage {
  return { groupId: `agreement:${agreementId}`, dedupId: id, event: event(id, agreementId) };
}

async function fifoQueue(): Promise<{ client: SQSClient; queue: SqsFifoQueue }> {
  const client = motoSqs();
  const { QueueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: `${unique('events')}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  return { client, queue: new SqsFifoQueue({ client, queueUrl: QueueUrl!, waitTimeSeconds: 0 }) };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('toSqsEntries', () => {
  it('uses the group and event ids as they are when SQS accepts them; the body is the event', () => {
    expect(toSqsEntries([message('e-1'), message('e-2', 'agr-2')])).toEqual([
      {
        Id: 'm0',
        MessageBody: JSON.stringify(event('e-1')),
        MessageGroupId: 'agreement:agr-1',
        MessageDeduplicationId: 'e-1',
      },
      {
        Id: 'm1',
        MessageBody: JSON.stringify(event('e-2', 'agr-2')),
        MessageGroupId: 'agreement:agr-2',
        MessageDeduplicationId: 'e-2',
      },
    ]);
  });

  it('hashes ids that are too long or have characters SQS refuses, and carries the originals along', () => {
    const longGroup = `agreement:${'a'.repeat(130)}`;
    const spaced = 'event id with spaces é';
    const [entry] = toSqsEntries([{ groupId: longGroup, dedupId: spaced, event: event('x') }]);
    expect(entry!.MessageGroupId).toBe(sha256(longGroup));
    expect(entry!.MessageDeduplicationId).toBe(sha256(spaced));
    expect(entry!.MessageAttributes).toEqual({
      dmmGroupId: { DataType: 'String', StringValue: longGroup },
      dmmDedupId: { DataType: 'String', StringValue: spaced },
    });
    expect(sqsSafeId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(sqsSafeId('x'.repeat(129))).toMatch(/^[0-9a-f]{64}$/);
    expect(sqsSafeId('')).toBe(sha256(''));
  });

  it('refuses an event larger than an SQS message, naming it', () => {
    const huge = { ...event('big-one'), data: { id: 'agr-1', blob: 'x'.repeat(262_144) } };
    expect(() => toSqsEntries([{ groupId: 'g', dedupId: 'big-one', event: huge }])).toThrow(
      /event big-one is \d+ bytes/,
    );
  });
});

describe('SqsFifoQueue on moto', () => {
  it('sends 25 messages in 3 batches (10, 10, 5)', async () => {
    const { client, queue } = await fifoQueue();
    const sent = recordCommands(client);
    await queue.send(Array.from({ length: 25 }, (_, i) => message(`e-${i}`, `agr-${i}`)));
    expect(sent.inputs('SendMessageBatchCommand').map((input) => (input.Entries as unknown[]).length)).toEqual([
      10, 10, 5,
    ]);
    expect(await queue.size()).toBe(25);
  });

  it('hands out one message per group, in order, and the next one only after the first is acked', async () => {
    const { queue } = await fifoQueue();
    await queue.send([
      message('a1', 'A'),
      message('a2', 'A'),
      message('b1', 'B'),
      message('a3', 'A'),
      message('b2', 'B'),
    ]);

    const first = await queue.receive(10);
    expect(first.map((m) => m.event.id)).toEqual(['a1', 'b1']);
    expect(first[0]).toMatchObject({ groupId: 'agreement:A', dedupId: 'a1', event: event('a1', 'A'), receiveCount: 1 });
    expect(await queue.receive(10)).toEqual([]);

    await queue.ack(first[0]!.receipt);
    const second = await queue.receive(10);
    expect(second.map((m) => m.event.id)).toEqual(['a2']);

    await queue.ack(second[0]!.receipt);
    await queue.ack(first[1]!.receipt);
    const third = await queue.receive(10);
    expect(third.map((m) => m.event.id).sort()).toEqual(['a3', 'b2']);
    for (const m of third) await queue.ack(m.receipt);
    expect(await queue.size()).toBe(0);
  });

  it('receive(max) stops at max', async () => {
    const { queue } = await fifoQueue();
    await queue.send([message('x1', 'X'), message('y1', 'Y'), message('z1', 'Z')]);
    expect(await queue.receive(2)).toHaveLength(2);
    await expect(queue.receive(11)).rejects.toThrow(RangeError);
  });

  it('drops an event id sent again (deduplication by event id)', async () => {
    const { queue } = await fifoQueue();
    await queue.send([message('dup-1', 'A'), message('other', 'B')]);
    await queue.send([message('dup-1', 'A')]);
    expect(await queue.size()).toBe(2);
    const received = await queue.receive(10);
    expect(received.map((m) => m.event.id).sort()).toEqual(['dup-1', 'other']);
  });

  it('release keeps the group blocked for the delay (rounded up to whole seconds), then hands the message out again', async () => {
    const { client, queue } = await fifoQueue();
    await queue.send([message('r1', 'R'), message('r2', 'R')]);
    const [first] = await queue.receive(10);
    const sent = recordCommands(client);
    await queue.release(first!.receipt, 1_200);
    expect(sent.inputs('ChangeMessageVisibilityCommand').map((i) => i.VisibilityTimeout)).toEqual([2]);
    expect(await queue.receive(10)).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 2_300));
    const again = await queue.receive(10);
    expect(again.map((m) => [m.event.id, m.receiveCount])).toEqual([['r1', 2]]);

    await queue.release(again[0]!.receipt);
    expect(sent.inputs('ChangeMessageVisibilityCommand').map((i) => i.VisibilityTimeout)).toEqual([2, 0]);
    const atOnce = await queue.receive(10);
    expect(atOnce.map((m) => [m.event.id, m.receiveCount])).toEqual([['r1', 3]]);
  });

  it('hashed ids still group and deduplicate, and receive returns the original ids', async () => {
    const { client, queue } = await fifoQueue();
    const group = `agreement:${'g'.repeat(200)}`;
    const dedup = `event ${'d'.repeat(150)}`;
    const sent = recordCommands(client);
    await queue.send([{ groupId: group, dedupId: dedup, event: event('long-1') }]);
    await queue.send([{ groupId: group, dedupId: dedup, event: event('long-1') }]);
    const entry = (sent.inputs('SendMessageBatchCommand')[0]!.Entries as SendMessageBatchRequestEntry[])[0]!;
    expect(entry.MessageGroupId).toBe(sha256(group));
    expect(entry.MessageDeduplicationId).toBe(sha256(dedup));

    const received = await queue.receive(10);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ groupId: group, dedupId: dedup, event: event('long-1') });
  });
});

describe('SqsFifoQueue partial batch failures', () => {
  /** A client whose SendMessageBatch answers with `answers` in turn, recording the entry ids sent. */
  function scriptedClient(answers: Partial<SendMessageBatchCommandOutput>[]): {
    client: SQSClient;
    batches: string[][];
  } {
    const batches: string[][] = [];
    const client = {
      send: async (command: unknown) => {
        if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
        batches.push((command.input.Entries ?? []).map((e) => e.Id!));
        const answer = answers.shift();
        if (!answer) throw new Error('no more answers');
        return answer;
      },
    } as unknown as SQSClient;
    return { client, batches };
  }
  const failure = (Id: string, SenderFault = false) => ({
    Id,
    SenderFault,
    Code: 'InternalError',
    Message: 'try again',
  });

  it('retries only the failed entries once', async () => {
    const { client, batches } = scriptedClient([
      { Successful: [], Failed: [failure('m1')] },
      { Successful: [], Failed: [] },
    ]);
    await new SqsFifoQueue({ client, queueUrl: 'q' }).send([message('e0'), message('e1'), message('e2')]);
    expect(batches).toEqual([['m0', 'm1', 'm2'], ['m1']]);
  });

  it('throws an error naming the events that failed twice', async () => {
    const { client, batches } = scriptedClient([
      { Failed: [failure('m0'), failure('m2')] },
      { Failed: [failure('m2')] },
    ]);
    const error = await new SqsFifoQueue({ client, queueUrl: 'q' })
      .send([message('e0'), message('e1'), message('e2')])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqsSendError);
    expect((error as SqsSendError).failures).toEqual([{ eventId: 'e2', code: 'InternalError', message: 'try again' }]);
    expect((error as Error).message).toContain('event e2');
    expect(batches).toEqual([
      ['m0', 'm1', 'm2'],
      ['m0', 'm2'],
    ]);
  });

  it('does not retry a sender fault: it would fail the same way', async () => {
    const { client, batches } = scriptedClient([{ Failed: [failure('m0', true)] }]);
    await expect(new SqsFifoQueue({ client, queueUrl: 'q' }).send([message('e0')])).rejects.toThrow(/event e0/);
    expect(batches).toHaveLength(1);
  });
});
