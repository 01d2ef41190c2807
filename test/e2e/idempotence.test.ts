import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/model/events.js';
import { processEvent } from '../../src/sync/processor.js';
import {
  agreement,
  consumerProduct,
  grantsOn,
  policyNames,
  providersOfEveryPortType,
  startWorld,
  view,
  type World,
} from './harness.js';

/** Events are hints: duplicates, replays and out-of-order delivery end where in-order processing does. */

const mesh = () => ({
  dataProducts: [...providersOfEveryPortType(), consumerProduct()],
  agreements: [
    agreement('agr-stays', 'orders', 'orders-s3'),
    agreement('agr-ends', 'sales', 'tx-glue'),
    agreement('agr-back', 'clicks', 'clicks-s3'),
    agreement('agr-gone', 'orders', 'orders-s3'),
  ],
});

/** The same history in every world: one stays active, one ends, one ends and comes back, one is deleted. */
function playHistory(world: World): void {
  for (const id of ['agr-stays', 'agr-ends', 'agr-back', 'agr-gone']) world.sim.approve(id);
  world.sim.deactivate('agr-ends');
  world.sim.deactivate('agr-back');
  world.sim.activate('agr-back');
  world.sim.deleteAgreement('agr-gone');
}

/** Everything observable: the role's policies with documents, and what each agreement says now. */
async function snapshot(world: World) {
  const inline = await world.iam.listInlinePolicies('analytics-consumer');
  const managed = await world.iam.listAttachedPolicies('analytics-consumer');
  const agreements = Object.fromEntries(
    ['agr-stays', 'agr-ends', 'agr-back'].map((id) => {
      const v = view(world, id);
      return [
        id,
        {
          tags: [...v.tags].sort(),
          custom: v.custom,
          provisioning: v.provisioning && { status: v.provisioning.status, reference: v.provisioning.reference },
        },
      ];
    }),
  );
  return {
    inline,
    managed: await Promise.all(managed.map(async (m) => [m.name, await world.iam.getManagedPolicyDocument(m.arn)])),
    agreements,
  };
}

describe('duplicates and order', () => {
  it('a full replay with a fresh checkpoint and a fresh queue writes nothing to IAM or back to DMM', async () => {
    const world = await startWorld({ mesh: mesh() });
    await world.sync();
    playHistory(world);
    await world.sync();
    // Settle our own write-back echoes (AccessUpdatedEvent): they converge without writing again.
    const echo = await world.sync();
    expect(echo.stats.processed).toBeGreaterThan(0);

    const before = await snapshot(world);
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-back', 'agr-stays']);
    const writes = world.writes.length;
    const feedLength = world.sim.state.events.length;

    world.resetPipeline();
    const replay = await world.sync();
    expect(replay.polled.events).toBe(feedLength);
    expect(replay.stats).toEqual({ processed: feedLength, retried: 0, deadLettered: 0 });
    expect(world.writes.length).toBe(writes);
    // No PUT (AccessUpdatedEvent) and no provisioning report (AccessProvisioned…Event): the feed did not grow.
    expect(world.sim.state.events.length).toBe(feedLength);
    expect(await snapshot(world)).toEqual(before);
    for (const outcome of replay.results.flatMap((r) => r.outcomes)) {
      expect(outcome.changes).toEqual([]);
      expect(['unchanged', 'absent']).toContain(outcome.effect);
    }
  });

  it('the same events twice in one queue run (duplicates past the dedup window) change nothing the second time', async () => {
    const world = await startWorld({ mesh: mesh() });
    playHistory(world);
    await world.sync();
    await world.sync();
    const writes = world.writes.length;
    const feedLength = world.sim.state.events.length;
    const events = world.sim.state.events as unknown as FeedEvent[];
    for (const event of [...events, ...events]) await processEvent(world.ctx, event);
    expect(world.writes.length).toBe(writes);
    expect(world.sim.state.events.length).toBe(feedLength);
  });

  it('processing the feed in reverse order ends in the same state as in order', async () => {
    const inOrder = await startWorld({ mesh: mesh() });
    playHistory(inOrder);
    await inOrder.sync();
    await inOrder.sync();

    const reversed = await startWorld({ mesh: mesh() });
    playHistory(reversed);
    const events = [...(reversed.sim.state.events as unknown as FeedEvent[])].reverse();
    // e.g. agr-ends' Deactivated comes before its Activated, agr-back's first Activated comes last.
    for (const event of events) await processEvent(reversed.ctx, event);
    // Then whatever the write-back emitted, as a running sync would.
    await reversed.checkpoint.write(events[0]!.id);
    await reversed.sync();

    expect(await snapshot(reversed)).toEqual(await snapshot(inOrder));
    expect([...(await grantsOn(reversed.iam)).keys()].sort()).toEqual(['agr-back', 'agr-stays']);
  });

  it('a late Deactivated event after the grant does not revoke; a late Activated after the revoke does not grant', async () => {
    const world = await startWorld({ mesh: mesh() });
    world.sim.approve('agr-stays');
    const oldDeactivated = world.sim.deactivate('agr-stays').events[0] as unknown as FeedEvent;
    expect(oldDeactivated.type).toMatch(/\.AccessDeactivatedEvent$/);
    world.sim.activate('agr-stays');
    await world.sync();
    expect((await grantsOn(world.iam)).has('agr-stays')).toBe(true);
    const writes = world.writes.length;

    const late = await processEvent(world.ctx, oldDeactivated);
    expect(late.outcomes).toMatchObject([
      { agreementId: 'agr-stays', decision: 'grant', effect: 'unchanged', changes: [] },
    ]);
    expect(world.writes.length).toBe(writes);

    world.sim.deactivate('agr-stays');
    await world.sync();
    expect((await grantsOn(world.iam)).size).toBe(0);
    const afterRevoke = world.writes.length;
    const oldActivated = world.sim.state.events.find((e) =>
      e.type.endsWith('.AccessActivatedEvent'),
    ) as unknown as FeedEvent;
    const lateGrant = await processEvent(world.ctx, oldActivated);
    expect(lateGrant.outcomes).toMatchObject([
      { agreementId: 'agr-stays', decision: 'none', effect: 'absent', changes: [] },
    ]);
    expect(world.writes.length).toBe(afterRevoke);
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
  });
});
