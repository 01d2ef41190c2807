import { describe, expect, it } from 'vitest';
import { UnprocessableEventError } from '../../src/sync/processor.js';
import { MemoryFifoQueue } from '../../src/local/memory-queue.js';
import type { ReceivedMessage } from '../../src/interfaces/event-queue.js';
import {
  ROLE,
  agreement,
  closedPortUrl,
  consumerProduct,
  fastClient,
  grantsOn,
  ordersProduct,
  provisioningOf,
  startWorld,
  view,
} from './harness.js';

/** The processor keeps what failed for a retry, gives up after maxReceives, and drops what no retry can fix. */

const mesh = () => ({
  dataProducts: [ordersProduct(), consumerProduct(), consumerProduct('other', { 'aws-role-name': 'other-consumer' })],
  agreements: [
    agreement('agr-1', 'orders', 'orders-s3', { active: true }),
    agreement('agr-other', 'orders', 'orders-s3', { active: true, consumer: 'other' }),
  ],
});

describe('processor failure handling', () => {
  it('a transient DMM failure keeps the events for retry (released, not acked); they succeed once DMM is back', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    const good = world.ctx.dmm;
    // The feed is read, then Data Mesh Manager becomes unreachable while the events are processed.
    world.ctx.dmm = fastClient(await closedPortUrl(), world.sim.apiKey, { maxAttempts: 1, generation: 'access' });
    const queue = world.queue;
    const deadLetters: ReceivedMessage[] = [];
    // One pass, as the daemon makes it: failed events wait in the queue for a later pass.
    const firstTry = await world.sync({
      waitForRetries: false,
      retryDelayMs: 200,
      onDeadLetter: (message) => void deadLetters.push(message),
    });
    const agreementEvents = firstTry.polled.events;
    expect(firstTry.results).toEqual([]);
    expect(firstTry.stats).toMatchObject({ processed: 0, deadLettered: 0, retried: 0 });
    // An outage: the pass stops at once (the caller backs off) and every event stays queued.
    expect(firstTry.stats.outage).toBeDefined();
    expect(await queue.size()).toBe(agreementEvents);
    expect(deadLetters).toEqual([]);
    expect(world.log.entries.filter((e) => e.message === 'outage: events kept for later, pass stopped')).toHaveLength(
      1,
    );
    expect((await grantsOn(world.iam)).size).toBe(0);

    world.ctx.dmm = good;
    const retry = await world.sync();
    expect(retry.polled.events).toBe(0);
    expect(retry.stats).toEqual({ processed: agreementEvents, retried: 0, deadLettered: 0 });
    expect(await queue.size()).toBe(0);
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);
    expect((await grantsOn(world.iam, 'other-consumer')).has('agr-other')).toBe(true);
  });

  it('the simulator stopping mid-way: an outage keeps the event queued, unspent, and converges once it is back', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    await world.settle();
    world.sim.deactivate('agr-1');
    const polled = await world.sync({ shouldStop: () => true }); // poll only
    expect(polled.polled.events).toBe(1);
    const good = world.ctx.dmm;
    world.ctx.dmm = fastClient(await closedPortUrl(), world.sim.apiKey, { maxAttempts: 1, generation: 'access' });

    const deadLetters: ReceivedMessage[] = [];
    for (let pass = 0; pass < 6; pass++) {
      const run = await world.drain({ maxReceives: 3, onDeadLetter: (message) => void deadLetters.push(message) });
      expect(run.stats).toMatchObject({ processed: 0, retried: 0, deadLettered: 0 });
      expect(run.stats.outage).toBeDefined();
    }
    // More passes than maxReceives, and still nothing dead-lettered, reported or decided.
    expect(deadLetters).toEqual([]);
    expect(await world.queue.size()).toBe(1);
    expect(world.log.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);

    world.ctx.dmm = good;
    const back = await world.drain();
    expect(back.stats).toMatchObject({ processed: 1, deadLettered: 0 });
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(false);
  });

  it('a transient IAM failure on one role: its event is dead-lettered but not reported as the agreement failing; the other agreement is granted', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    const put = world.iam.putInlinePolicy.bind(world.iam);
    // Transient, but not an outage (throttling is one, and stops the pass: see below).
    world.iam.putInlinePolicy = async (role, name, document) => {
      if (role === ROLE) throw new Error('Conflicting update');
      return put(role, name, document);
    };
    const deadLetters: ReceivedMessage[] = [];
    const run = await world.sync({ maxReceives: 2, onDeadLetter: (message) => void deadLetters.push(message) });
    expect((await grantsOn(world.iam, 'other-consumer')).has('agr-other')).toBe(true);
    expect((await grantsOn(world.iam, ROLE)).size).toBe(0);
    expect(deadLetters.length).toBeGreaterThan(0);
    // The agreement's own events and the product events that touch it; agr-other's went through.
    expect(new Set(deadLetters.map((m) => m.groupId))).toEqual(
      new Set(['agreement:agr-1', 'dataproduct:orders', 'dataproduct:consumer']),
    );
    expect(run.stats.deadLettered).toBe(deadLetters.length);
    expect(deadLetters.every((m) => m.receiveCount === 2)).toBe(true);
    // A transient error is not the agreement's failure: nothing false is written to the tenant
    // (and so no write-back event that would fail again); the log says why.
    const record = (await provisioningOf(world, 'agr-1')).body;
    expect(record?.status).not.toBe('provisioning-failed');
    expect(view(world, 'agr-1').tags).not.toContain('aws-integration-failed');
    const deadLettered = world.log.entries.filter((e) => e.message === 'event dead-lettered');
    expect(deadLettered.length).toBe(deadLetters.length);
    expect(
      deadLettered.every(
        (e) => e.fields.reportedToDataMeshManager === false && e.fields.error === 'Conflicting update',
      ),
    ).toBe(true);
  });

  it('an event that outlives its in-flight time is delivered again, not an error of the pass', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    let clock = 0;
    world.queue = new MemoryFifoQueue({ visibilityTimeoutMs: 1_000, now: () => clock });
    const put = world.iam.putInlinePolicy.bind(world.iam);
    let failures = 0;
    world.iam.putInlinePolicy = async (role, name, document) => {
      if (role === ROLE && failures < 1) {
        failures++;
        clock += 5_000; // this attempt took longer than the in-flight time
        throw new Error('Conflicting update');
      }
      return put(role, name, document);
    };
    const run = await world.sync();
    expect(run.stats.deadLettered).toBe(0);
    expect((await grantsOn(world.iam, ROLE)).has('agr-1')).toBe(true);
    expect(world.log.entries.map((e) => e.message)).toContain(
      'event took longer than its in-flight time; it is delivered again',
    );
  });

  it('an event that names no agreement is dead-lettered at once, and does not hold up the others', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    const bad = world.sim.emitEvent('AccessActivatedEvent', '').events[0]!;
    expect(bad.subject).toBe('');
    expect(bad.data.id).toBe('');
    const deadLetters: { message: ReceivedMessage; error: unknown }[] = [];
    const run = await world.sync({ onDeadLetter: (message, error) => void deadLetters.push({ message, error }) });
    expect(deadLetters).toHaveLength(1);
    const [{ message, error }] = deadLetters as [{ message: ReceivedMessage; error: unknown }];
    expect(message.event.id).toBe(bad.id);
    expect(message.groupId).toBe('unrouted');
    expect(message.receiveCount).toBe(1);
    expect(error).toBeInstanceOf(UnprocessableEventError);
    expect((error as Error).message).toBe(`AccessActivatedEvent ${bad.id} names no agreement (no data.id, no subject)`);
    expect(run.stats).toMatchObject({ retried: 0, deadLettered: 1 });
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);
    expect(await world.queue.size()).toBe(0);
  });

  it('events that do not affect access and our own provisioning echoes are skipped', async () => {
    const world = await startWorld({ mesh: mesh(), roles: [ROLE, 'other-consumer'] });
    await world.settle();
    world.sim.emitEvent('TagCreatedEvent', 'tag-1');
    world.sim.reportProvisioning('agr-1', 'provisioning-started');
    const writes = world.writes.length;
    const run = await world.sync();
    expect(run.results.map((r) => r.target)).toEqual([
      { kind: 'ignore', reason: 'TagCreatedEvent does not affect access' },
      { kind: 'ignore', reason: 'AccessProvisioningStartedEvent echoes a provisioning report' },
    ]);
    expect(world.writes.length).toBe(writes);
  });
});
