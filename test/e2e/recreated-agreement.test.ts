import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../src/model/events.js';
import { EventBatchProcessor } from '../../src/sync/batch.js';
import { ROLE, agreement, consumerProduct, grantsOn, ordersProduct, startWorld, type World } from './harness.js';

const OTHER_ROLE = 'other-consumer';

/** A world where agr-again was active and granted on ROLE, then deleted and created again (requested). */
async function recreatedWorld(): Promise<World> {
  const world = await startWorld({
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct(), consumerProduct('other', { 'aws-role-name': OTHER_ROLE })],
      agreements: [agreement('agr-again', 'orders', 'orders-s3', { active: true })],
    },
    roles: [ROLE, OTHER_ROLE],
  });
  await world.settle();
  expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-again']);
  world.sim.deleteAgreement('agr-again');
  return world;
}

/**
 * An agreement deleted and created again under the same id before the sync saw the deletion
 * (issue 10's fault bench: agr-10 and agr-17). The new document carries none of the old one's
 * write-back (no active tag, no granted role), and these worlds keep no agreement index.
 */
describe('an agreement re-created with the same id', () => {
  it('loses the old grant when the deletion is handled after the re-creation', async () => {
    const world = await recreatedWorld();
    world.sim.request(agreement('agr-again', 'orders', 'orders-s3'));
    await world.settle();

    expect(world.sim.state.agreements.get('agr-again')).toMatchObject({ status: 'requested', active: false });
    expect([...(await grantsOn(world.iam)).keys()]).toEqual([]);
  });

  it('loses the old grant when re-created and rejected before the sync ran', async () => {
    const world = await recreatedWorld();
    world.sim.request(agreement('agr-again', 'orders', 'orders-s3'));
    world.sim.reject('agr-again');
    await world.settle();

    expect([...(await grantsOn(world.iam)).keys()]).toEqual([]);
  });

  it('re-created active for another consumer: granted on the new role only, gone from the old one', async () => {
    const world = await recreatedWorld();
    world.sim.request(agreement('agr-again', 'orders', 'orders-s3', { consumer: 'other' }));
    world.sim.approve('agr-again');
    await world.settle();

    expect(world.sim.state.agreements.get('agr-again')).toMatchObject({ active: true });
    expect([...(await grantsOn(world.iam)).keys()]).toEqual([]);
    expect([...(await grantsOn(world.iam, OTHER_ROLE)).keys()]).toEqual(['agr-again']);
  });

  it('the Lambda batch path: the deletion and the re-creation in one batch revoke the old grant', async () => {
    const world = await recreatedWorld();
    world.sim.request(agreement('agr-again', 'orders', 'orders-s3'));
    world.sim.reject('agr-again');
    const deletion = world.sim.state.events.findIndex((e) =>
      (e as { type: string }).type.endsWith('AccessDeletedEvent'),
    );
    const events = world.sim.state.events.slice(deletion) as unknown as FeedEvent[];
    expect(events.length).toBeGreaterThan(1);

    const results = await new EventBatchProcessor(world.ctx).process(events);
    expect(results.every((r) => r.ok)).toBe(true);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual([]);
  });
});
