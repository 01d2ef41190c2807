import { describe, expect, it } from 'vitest';
import type { IamAccount } from '../../src/interfaces/iam-account.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ROLE,
  agreement,
  consumerProduct,
  dpsProduct,
  grantsOn,
  s3BucketPort,
  startWorld,
  type World,
} from './harness.js';

/**
 * A full reconcile reads a role, plans, then writes. An event handled in between (another
 * process) must not be undone by the reconcile's stale plan.
 */
const mesh = () => ({
  dataProducts: [
    dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] }),
    dpsProduct('stock', { ports: [s3BucketPort('stock-s3', 'acme-stock')] }),
    dpsProduct('prices', { ports: [s3BucketPort('prices-s3', 'acme-prices')] }),
    consumerProduct(),
  ],
  agreements: [
    agreement('agr-x', 'orders', 'orders-s3', { active: true }),
    agreement('agr-new', 'stock', 'stock-s3', { active: false }),
    agreement('agr-late', 'prices', 'prices-s3', { active: false }),
  ],
});

/** Run `concurrently` right after the reconcile's first reading of the role, before it writes. */
function interleave(world: World, concurrently: (iam: IamAccount) => Promise<void>): IamAccount {
  const iam = world.iam;
  let reads = 0;
  return Object.assign(Object.create(iam) as IamAccount, {
    listInlinePolicies: async (role: string) => {
      const result = await iam.listInlinePolicies(role);
      if (role === ROLE && ++reads === 1) await concurrently(iam);
      return result;
    },
  });
}

describe('a full reconcile racing an event', () => {
  it('does not restore access an event revoked meanwhile', async () => {
    const world = await startWorld({ mesh: mesh() });
    await world.settle();
    expect((await grantsOn(world.iam)).has('agr-x')).toBe(true);
    world.sim.approve('agr-new'); // gives the reconcile a write to make on the role

    const iam = interleave(world, async (raw) => {
      world.sim.deactivate('agr-x');
      await reconcileAgreement({ ...world.ctx, iam: raw }, 'agr-x');
    });
    // The listing the reconcile works from still shows agr-x as active.
    const listed = await world.dmm.listAgreements();
    const dmm = Object.assign(Object.create(world.dmm), { listAgreements: async () => listed });
    await reconcileAll({ ...world.ctx, dmm, iam });

    const grants = await grantsOn(world.iam);
    expect(grants.has('agr-x')).toBe(false);
    expect(grants.has('agr-new')).toBe(true);
  });

  it('does not remove access an event granted meanwhile', async () => {
    const world = await startWorld({ mesh: mesh() });
    await world.settle();
    world.sim.approve('agr-new');
    const listed = await world.dmm.listAgreements(); // agr-late not active yet
    world.sim.approve('agr-late');

    const iam = interleave(world, async (raw) => {
      await reconcileAgreement({ ...world.ctx, iam: raw }, 'agr-late');
    });
    const dmm = Object.assign(Object.create(world.dmm), { listAgreements: async () => listed });
    await reconcileAll({ ...world.ctx, dmm, iam });

    const grants = await grantsOn(world.iam);
    expect(grants.has('agr-late')).toBe(true);
    expect(grants.has('agr-new')).toBe(true);
    expect(grants.has('agr-x')).toBe(true);
  });
});
