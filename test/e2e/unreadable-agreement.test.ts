import { describe, expect, it } from 'vitest';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  agreement,
  bucketReadStatement,
  consumerProduct,
  grantsOn,
  ordersProduct,
  provisioningOf,
  startWorld,
  type World,
} from './harness.js';

/**
 * One agreement the client cannot read (a real tenant's document this tool does not expect) is
 * reported failed with a diagnostic, keeps exactly what it holds in AWS, and stops nothing else.
 */

async function worldWithTwoGrants(): Promise<World> {
  const world = await startWorld({
    mesh: {
      dataProducts: [ordersProduct(), consumerProduct()],
      agreements: [
        agreement('agr-1', 'orders', 'orders-s3', { active: true }),
        agreement('agr-2', 'orders', 'orders-s3', { active: true }),
      ],
    },
  });
  await world.settle();
  expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-1', 'agr-2']);
  // Someone's tool writes a document the client cannot read: tags must be a list of strings.
  world.sim.state.agreements.get('agr-2')!.doc.tags = 'not-a-list';
  return world;
}

describe('an unreadable agreement', () => {
  it('does not stop the full reconcile: reported failed, its grants untouched, the others converge', async () => {
    const world = await worldWithTwoGrants();
    world.sim.deactivate('agr-1');

    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([
      ['agr-1', 'revoke', 'revoked'],
      ['agr-2', 'failed', 'unchanged'],
    ]);
    const failed = result.outcomes[1]!;
    expect(failed.diagnostic).toMatch(/^Agreement "agr-2": tags: /);
    const grants = await grantsOn(world.iam);
    expect([...grants.keys()]).toEqual(['agr-2']);
    expect(grants.get('agr-2')!.statements).toEqual([bucketReadStatement('agr-2')]);
    // The document cannot be read, so it is not PUT; the status goes to the provisioning endpoint.
    expect((await provisioningOf(world, 'agr-2')).body).toMatchObject({
      status: 'provisioning-failed',
      diagnostics: expect.stringMatching(/tags: .*left its AWS grants as they were/),
    });
    expect(world.sim.state.agreements.get('agr-2')!.doc.tags).toBe('not-a-list');
    expect(world.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'decision: failed',
        fields: expect.objectContaining({ agreementId: 'agr-2' }),
      }),
    );
  });

  it('an event for it (or for its product) is processed, not dead-lettered, and changes nothing it holds', async () => {
    const world = await worldWithTwoGrants();
    world.sim.emitEvent('AccessUpdatedEvent', 'agr-2');
    world.sim.putDataProduct({ ...ordersProduct(), custom: { note: 'touched' } });

    const run = await world.sync();
    expect(run.stats).toMatchObject({ deadLettered: 0 });
    const outcomes = run.results.flatMap((r) => r.outcomes).map((o) => [o.agreementId, o.decision]);
    expect(outcomes).toContainEqual(['agr-2', 'failed']);
    expect(outcomes).toContainEqual(['agr-1', 'grant']);
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-1', 'agr-2']);
  });
});
