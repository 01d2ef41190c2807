import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../src/cli/format.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { agreement, consumerProduct, ordersProduct, startWorld } from '../e2e/harness.js';

/** `plan` text after a real full reconcile: "in sync" only when nothing failed. */

describe('plan text output', () => {
  it('says AWS matches only when no agreement failed', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct(), consumerProduct('no-role', {})],
        agreements: [
          agreement('agr-ok', 'orders', 'orders-s3', { active: true }),
          agreement('agr-broken', 'orders', 'orders-s3', { active: true, consumer: 'no-role' }),
        ],
      },
    });
    await world.settle();

    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(plan.changes).toEqual([]);
    const text = formatPlan(plan, false);
    expect(text).not.toContain('No changes: AWS matches Data Mesh Manager.');
    expect(text).toContain('No changes to make, but 1 agreement(s) failed');
    expect(world.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'decision: failed',
        fields: expect.objectContaining({ agreementId: 'agr-broken' }),
      }),
    );

    world.sim.deactivate('agr-broken');
    await world.settle();
    expect(formatPlan(await reconcileAll(world.ctx, { dryRun: true }), false)).toContain(
      'No changes: AWS matches Data Mesh Manager.',
    );
  });
});
