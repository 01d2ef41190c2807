import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FifoQueue, FifoQueueOptions } from '../../src/local/fifo-queue.js';
import { FileFifoQueue } from '../../src/local/file-queue.js';
import { MemoryFifoQueue } from '../../src/local/memory-queue.js';
import { LeaseLostError, type OutgoingMessage, type ReceivedMessage } from '../../src/interfaces/event-queue.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();

function msg(groupId: string, eventId: string): OutgoingMessage {
  return {
    groupId,
    dedupId: eventId,
    event: { id: eventId, type: 'com.datamesh-manager.events.AccessActivatedEvent', data: { id: groupId } },
  };
}

const ids = (messages: ReceivedMessage[]) => messages.map((m) => m.event.id);

const kinds = [
  ['MemoryFifoQueue', async (options: FifoQueueOptions) => new MemoryFifoQueue(options)],
  [
    'FileFifoQueue',
    async (options: FifoQueueOptions) => new FileFifoQueue(join(await newTempDir(), 'queue.json'), options),
  ],
] as const;

describe.each(kinds)('%s', (_kind, create) => {
  let clock: number;
  let queue: FifoQueue;
  beforeEach(async () => {
    clock = 1_000_000;
    queue = await create({ now: () => clock });
  });

  it('hands out one group in order, one message at a time', async () => {
    await queue.send([msg('a', 'e1'), msg('a', 'e2'), msg('a', 'e3')]);
    const first = await queue.receive(10);
    expect(ids(first)).toEqual(['e1']);
    expect(await queue.receive(10)).toEqual([]);
    await queue.ack(first[0]!.receipt);
    expect(ids(await queue.receive(10))).toEqual(['e2']);
  });

  it('serves groups in the order of their head messages, up to max', async () => {
    await queue.send([msg('b', 'b1'), msg('a', 'a1'), msg('b', 'b2'), msg('c', 'c1'), msg('a', 'a2')]);
    expect(ids(await queue.receive(2))).toEqual(['b1', 'a1']);
    expect(ids(await queue.receive(10))).toEqual(['c1']);
  });

  it('returns the message as sent, with a receipt and receiveCount 1', async () => {
    const sent = msg('a', 'e1');
    await queue.send([sent]);
    const [received] = await queue.receive(1);
    expect(received).toMatchObject({ ...sent, receiveCount: 1 });
    expect(received!.receipt).toEqual(expect.any(String));
  });

  it('drops a dedupId seen within five minutes, even after the first was acked', async () => {
    await queue.send([msg('a', 'e1'), msg('a', 'e1')]);
    expect(await queue.size()).toBe(1);
    const [first] = await queue.receive(1);
    await queue.ack(first!.receipt);
    clock += 5 * 60_000 - 1;
    await queue.send([msg('a', 'e1')]);
    expect(await queue.size()).toBe(0);
    clock += 1;
    await queue.send([msg('a', 'e1')]);
    expect(await queue.size()).toBe(1);
  });

  it('deduplicates across groups (queue-wide scope, as SQS by default)', async () => {
    await queue.send([msg('a', 'e1'), msg('b', 'e1')]);
    expect(ids(await queue.receive(10))).toEqual(['e1']);
    expect(await queue.size()).toBe(1);
  });

  it('blocks a group while its message is in flight, but not other groups', async () => {
    await queue.send([msg('a', 'a1'), msg('a', 'a2')]);
    const [a1] = await queue.receive(10);
    await queue.send([msg('b', 'b1')]);
    expect(ids(await queue.receive(10))).toEqual(['b1']);
    expect(await queue.receive(10)).toEqual([]);
    await queue.ack(a1!.receipt);
    expect(ids(await queue.receive(10))).toEqual(['a2']);
  });

  it('release puts the message back at the head of its group with receiveCount incremented', async () => {
    await queue.send([msg('a', 'a1'), msg('b', 'b1'), msg('a', 'a2')]);
    const [a1, b1] = await queue.receive(10);
    await queue.release(a1!.receipt);
    const again = await queue.receive(10);
    expect(ids(again)).toEqual(['a1']);
    expect(again[0]!.receiveCount).toBe(2);
    expect(again[0]!.receipt).not.toBe(a1!.receipt);
    await queue.ack(b1!.receipt);
    await queue.ack(again[0]!.receipt);
    const next = await queue.receive(10);
    expect(ids(next)).toEqual(['a2']);
    expect(next[0]!.receiveCount).toBe(1);
  });

  it('a released group keeps its place before later groups', async () => {
    await queue.send([msg('a', 'a1'), msg('b', 'b1')]);
    const [a1] = await queue.receive(1);
    await queue.release(a1!.receipt);
    expect(ids(await queue.receive(2))).toEqual(['a1', 'b1']);
  });

  it('refuses to release an unknown, stale or released receipt', async () => {
    await queue.send([msg('a', 'a1')]);
    const [a1] = await queue.receive(1);
    await queue.release(a1!.receipt);
    await expect(queue.release(a1!.receipt)).rejects.toThrow(/unknown or no longer current/);
    await expect(queue.release('nonsense')).rejects.toThrow(/unknown/);
  });

  it('extendLease keeps a message in flight longer, and refuses once its lease ran out', async () => {
    queue = await create({ now: () => clock, visibilityTimeoutMs: 1_000 });
    await queue.send([msg('a', 'a1')]);
    const [a1] = await queue.receive(1);
    clock += 900;
    await queue.extendLease(a1!.receipt, 1_000);
    clock += 900; // past the original timeout, within the extended one
    expect(await queue.receive(1)).toEqual([]);
    clock += 200;
    await expect(queue.extendLease(a1!.receipt, 1_000)).rejects.toThrow(LeaseLostError);
    expect(ids(await queue.receive(1))).toEqual(['a1']);
  });

  it('ignores an ack with a receipt that is no longer current, as SQS does', async () => {
    await queue.send([msg('a', 'a1')]);
    const [first] = await queue.receive(1);
    await queue.release(first!.receipt);
    const [second] = await queue.receive(1);
    await queue.ack(first!.receipt);
    expect(await queue.size()).toBe(1);
    await queue.ack(second!.receipt);
    expect(await queue.size()).toBe(0);
  });

  it('hands an unacked message out again after the visibility timeout', async () => {
    queue = await create({ now: () => clock, visibilityTimeoutMs: 1_000 });
    await queue.send([msg('a', 'a1'), msg('a', 'a2')]);
    const [first] = await queue.receive(10);
    clock += 999;
    expect(await queue.receive(10)).toEqual([]);
    clock += 1;
    const again = await queue.receive(10);
    expect(ids(again)).toEqual(['a1']);
    expect(again[0]!.receiveCount).toBe(2);
    await expect(queue.release(first!.receipt)).rejects.toThrow();
  });

  it('counts waiting and in-flight messages in size()', async () => {
    await queue.send([msg('a', 'a1'), msg('a', 'a2'), msg('b', 'b1')]);
    await queue.receive(10);
    expect(await queue.size()).toBe(3);
  });

  it('validates receive sizes and ids like SQS, queueing nothing from a bad batch', async () => {
    await expect(queue.receive(0)).rejects.toThrow(RangeError);
    await expect(queue.receive(11)).rejects.toThrow(RangeError);
    await expect(queue.send([msg('a', 'ok'), msg('a', 'has space')])).rejects.toThrow(/dedupId/);
    await expect(queue.send([msg('', 'e1')])).rejects.toThrow(/groupId/);
    await expect(queue.send([msg('g'.repeat(129), 'e1')])).rejects.toThrow(/groupId/);
    const huge = { ...msg('a', 'big'), event: { id: 'big', type: 't', data: { blob: 'x'.repeat(262_144) } } };
    await expect(queue.send([huge])).rejects.toThrow(/bytes/);
    expect(await queue.size()).toBe(0);
  });

  it('stores a dedupId of __proto__ like any other', async () => {
    await queue.send([msg('a', '__proto__'), msg('a', '__proto__')]);
    expect(await queue.size()).toBe(1);
  });
});

describe('FileFifoQueue persistence', () => {
  it('loses nothing across a restart, keeping order, dedup memory and receive counts', async () => {
    const file = join(await newTempDir(), 'queue.json');
    let clock = 0;
    const options = { now: () => clock, visibilityTimeoutMs: 1_000 };
    const before = new FileFifoQueue(file, options);
    await before.send([msg('a', 'a1'), msg('a', 'a2'), msg('b', 'b1')]);
    await before.receive(1); // a1 in flight when the "process dies"

    const after = new FileFifoQueue(file, options);
    expect(await after.size()).toBe(3);
    clock = 500;
    expect(ids(await after.receive(10))).toEqual(['b1']);
    await after.send([msg('a', 'a1')]);
    expect(await after.size()).toBe(3);
    clock = 1_000;
    const redelivered = await after.receive(10);
    expect(ids(redelivered)).toEqual(['a1']);
    expect(redelivered[0]!.receiveCount).toBe(2);
  });

  it('refuses a damaged queue file, naming it', async () => {
    const file = join(await newTempDir(), 'queue.json');
    await writeFile(file, '{"format":1,"nextSeq":0,"messages":[{"seq":0}],"dedup":{}}');
    await expect(new FileFifoQueue(file).size()).rejects.toThrow(`${file} has unexpected content (messages.0.groupId:`);
  });
});
