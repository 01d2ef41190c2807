/**
 * The daemon's drain converges a batch of queued events as one unit of work (src/sync/batch.ts,
 * docs/adr/0015-daemon-batches.md): agreements on one role are written together, the echo of the
 * daemon's own write-back is recognised across passes, and a role that cannot be written holds up
 * only its own agreements.
 */
import { describe, expect, it } from 'vitest';
import { runDaemon } from '../../src/cli/daemon.js';
import { agreement, consumerProduct, grantsOn, ordersProduct, ROLE, startWorld } from './harness.js';

const IDS = ['agr-1', 'agr-2', 'agr-3', 'agr-4', 'agr-5'];

async function requestedWorld(roles: string[] = [ROLE]) {
  const world = await startWorld({
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct(), consumerProduct('other', { 'aws-role-name': 'other-role' })],
      agreements: IDS.map((id, i) =>
        agreement(id, 'orders', 'orders-s3', i === IDS.length - 1 ? { consumer: 'other' } : {}),
      ),
    },
    roles,
  });
  await world.settle();
  return world;
}

describe('the daemon drains in batches', () => {
  it('grants the activations queued for one role with one write of that role', async () => {
    const world = await requestedWorld([ROLE, 'other-role']);
    for (const id of IDS) world.sim.approve(id);
    const before = world.writes.length;
    const run = await world.sync();
    // Approved and Activated of five agreements: every event handled, nothing failed.
    expect(run.stats).toEqual({ processed: run.polled.events, retried: 0, deadLettered: 0 });
    expect([...(await grantsOn(world.iam, ROLE)).keys()].sort()).toEqual(IDS.slice(0, 4));
    expect([...(await grantsOn(world.iam, 'other-role')).keys()]).toEqual(['agr-5']);
    // One event at a time wrote the role once per agreement; the batch writes each role once.
    const writes = world.writes.slice(before);
    expect(writes.filter((w) => w.roleName === ROLE)).toHaveLength(1);
    expect(writes.filter((w) => w.roleName === 'other-role')).toHaveLength(1);
  });

  it('skips the echo of its own write-back on a later pass, without reading the agreement again', async () => {
    const world = await requestedWorld();
    world.sim.approve('agr-1');
    const reads: string[] = [];
    const dmm = world.ctx.dmm;
    world.ctx.dmm = Object.assign(Object.create(dmm) as typeof dmm, {
      getAgreement: (id: string) => {
        reads.push(id);
        return dmm.getAgreement(id);
      },
    });
    let sleeps = 0;
    await runDaemon(
      { ctx: world.ctx, queue: world.queue, checkpoint: world.checkpoint },
      {
        intervalMs: 1_000,
        shouldStop: () => sleeps > 0,
        onDeadLetter: async () => {},
        sleep: async () => void sleeps++,
      },
    );
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);
    // The write-back's AccessUpdatedEvent came on the pass after the grant, and was skipped.
    expect(world.log.entries.filter((e) => e.message === 'echo of our write-back skipped')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ agreementId: 'agr-1', events: 1 }) }),
    ]);
    // Read for its Approved event, again right before the write-back PUT, and for its Activated
    // event (the next of its group, a cheap re-check); never for the echo.
    expect(reads).toEqual(['agr-1', 'agr-1', 'agr-1']);
    expect(await world.queue.size()).toBe(0);
    expect(await world.checkpoint.read()).toBe(world.sim.state.lastEventId);
  });

  it('a role that cannot be written now holds up only the events of its own agreements', async () => {
    const world = await requestedWorld([ROLE, 'other-role']);
    for (const id of IDS) world.sim.approve(id);
    const put = world.iam.putInlinePolicy.bind(world.iam);
    let conflicts = 1;
    world.iam.putInlinePolicy = async (role, name, document) => {
      if (role === ROLE && conflicts-- > 0) throw new Error('Conflicting update');
      return put(role, name, document);
    };
    // Retries wait long enough that this pass cannot pick them up again.
    const first = await world.sync({ waitForRetries: false, retryDelayMs: 2_000 });
    // The other role's agreement is granted in the same batch; the four on the failing role wait.
    expect([...(await grantsOn(world.iam, 'other-role')).keys()]).toEqual(['agr-5']);
    expect((await grantsOn(world.iam, ROLE)).size).toBe(0);
    expect(first.stats).toMatchObject({ retried: 4, deadLettered: 0 });
    expect(new Set(first.results.flatMap((r) => r.outcomes.map((o) => o.agreementId)))).toEqual(new Set(['agr-5']));

    const retry = await world.drain();
    expect(retry.stats).toMatchObject({ retried: 0, deadLettered: 0 });
    expect([...(await grantsOn(world.iam, ROLE)).keys()].sort()).toEqual(IDS.slice(0, 4));
  });
});
