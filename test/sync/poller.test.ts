import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';
import { FileCheckpoint } from '../../src/local/file-checkpoint.js';
import { MemoryFifoQueue } from '../../src/local/memory-queue.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { pollFeed } from '../../src/sync/poller.js';
import type { OutgoingMessage } from '../../src/interfaces/event-queue.js';
import { silentLogger } from '../../src/util/log.js';

let simulator: RunningSimulator;
let work: string;

beforeEach(async () => {
  simulator = await startSimulator({ port: 0 });
  work = await mkdtemp(join(tmpdir(), 'dmm-aws-poller-'));
});

afterEach(async () => {
  await simulator.close();
  await rm(work, { recursive: true, force: true });
});

function client() {
  return new DmmHttpClient({ baseUrl: simulator.url, apiKey: simulator.apiKey, maxAttempts: 1 });
}

describe('pollFeed', () => {
  it('queues every event grouped by agreement, in feed order, and checkpoints the last one', async () => {
    for (let i = 0; i < 1_205; i++) simulator.emitEvent('AccessUpdatedEvent', `agr-${i % 7}`, { id: `agr-${i % 7}` });
    const queue = new MemoryFifoQueue();
    const checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
    const result = await pollFeed({ dmm: client(), queue, checkpoint, log: silentLogger });

    expect(result).toMatchObject({ events: 1_205, pages: 3, caughtUp: true });
    const ids = simulator.state.events.map((e) => e.id);
    expect(await checkpoint.read()).toBe(ids.at(-1));
    expect(await queue.size()).toBe(1_205);
    const first = await queue.receive(10);
    expect(first.map((m) => m.groupId)).toEqual([
      'agreement:agr-0',
      'agreement:agr-1',
      'agreement:agr-2',
      'agreement:agr-3',
      'agreement:agr-4',
      'agreement:agr-5',
      'agreement:agr-6',
    ]);
    expect(first.map((m) => m.dedupId)).toEqual(ids.slice(0, 7));
  });

  it('never moves the checkpoint past an event that was not queued, and resumes from it', async () => {
    for (let i = 0; i < 35; i++) simulator.emitEvent('AccessUpdatedEvent', `agr-${i}`, { id: `agr-${i}` });
    const ids = simulator.state.events.map((e) => e.id);
    const checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
    const queue = new MemoryFifoQueue();
    let sends = 0;
    const flaky = Object.assign(Object.create(queue) as MemoryFifoQueue, {
      send: async (messages: OutgoingMessage[]) => {
        if (++sends === 3) throw new Error('queue unavailable');
        await queue.send(messages);
      },
    });
    await expect(pollFeed({ dmm: client(), queue: flaky, checkpoint, log: silentLogger })).rejects.toThrow(
      'queue unavailable',
    );
    expect(await checkpoint.read()).toBe(ids[19]);

    const resumed = await pollFeed({ dmm: client(), queue, checkpoint, log: silentLogger });
    expect(resumed.events).toBe(15);
    expect(await checkpoint.read()).toBe(ids[34]);
    expect(await queue.size()).toBe(35);
  });

  it('stops early when asked, with a consistent checkpoint', async () => {
    for (let i = 0; i < 1_500; i++) simulator.emitEvent('AccessUpdatedEvent', 'agr-1', { id: 'agr-1' });
    const checkpoint = new FileCheckpoint(join(work, 'checkpoint.json'));
    let pagesRead = 0;
    const dmm = client();
    const counting = Object.assign(Object.create(dmm) as DmmHttpClient, {
      pollEvents: async (last?: string) => {
        pagesRead++;
        return dmm.pollEvents(last);
      },
    });
    const result = await pollFeed(
      { dmm: counting, queue: new MemoryFifoQueue(), checkpoint, log: silentLogger },
      { shouldStop: () => pagesRead >= 1 },
    );
    expect(result).toMatchObject({ events: 1_000, caughtUp: false });
    expect(await checkpoint.read()).toBe(simulator.state.events[999]!.id);
  });
});
