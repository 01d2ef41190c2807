import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  ROLE,
  ROLE_ARN,
  agreement,
  consumerProduct,
  dpsProduct,
  eventsNamed,
  grantsOn,
  ordersProduct,
  policyNames,
  provisioningOf,
  resourcesOf,
  s3BucketPort,
  startWorld,
  view,
  startOrdersWorld,
  policyChanges,
} from './harness.js';

/** Data product events move, change or remove the grants of the agreements they affect. */

const NEW_ROLE = 'analytics-consumer-v2';

describe('data product changes', () => {
  it("a provider's new bucket moves the grant: the old bucket is gone from the statements, the new one is there", async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();
    expect(resourcesOf((await grantsOn(world.iam)).get('agr-1')!.statements)).toEqual([
      'arn:aws:s3:::acme-orders',
      'arn:aws:s3:::acme-orders/*',
    ]);
    const puts = eventsNamed(world, 'AccessUpdatedEvent', 'agr-1');
    const reports = eventsNamed(world, 'AccessProvisionedEvent', 'agr-1');

    world.sim.putDataProduct(dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders-v2')] }));
    const run = await world.sync();
    // The product's event, then the port's (the spec's OutputPortUpdatedEvent), which finds it done.
    expect(run.results.map((r) => r.target)).toEqual([
      { kind: 'dataProduct', dataProductId: 'orders' },
      { kind: 'dataProduct', dataProductId: 'orders', outputPortId: 'orders-s3' },
    ]);
    expect(run.results.map((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]))).toEqual([
      [['agr-1', 'grant', 'updated']],
      [['agr-1', 'grant', 'unchanged']],
    ]);
    const grant = (await grantsOn(world.iam)).get('agr-1')!;
    expect(grant.policies).toEqual(['dmm-aws-pack-1']);
    expect(resourcesOf(grant.statements)).toEqual(['arn:aws:s3:::acme-orders-v2', 'arn:aws:s3:::acme-orders-v2/*']);
    expect(JSON.stringify(await world.iam.listInlinePolicies(ROLE))).not.toContain('arn:aws:s3:::acme-orders"');
    // Same role, same policy: the write-back has nothing to change.
    expect(eventsNamed(world, 'AccessUpdatedEvent', 'agr-1')).toBe(puts);
    expect(eventsNamed(world, 'AccessProvisionedEvent', 'agr-1')).toBe(reports);
  });

  it('a provider port that is removed revokes the grant (the agreement names an "unknown" port)', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          dpsProduct('orders', {
            ports: [s3BucketPort('orders-s3', 'acme-orders'), s3BucketPort('orders-eu', 'acme-orders-eu')],
          }),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-1', 'orders', 'orders-s3', { active: true }),
          agreement('agr-2', 'orders', 'orders-eu', { active: true }),
        ],
      },
    });
    await world.settle();
    world.sim.putDataProduct(dpsProduct('orders', { ports: [s3BucketPort('orders-eu', 'acme-orders-eu')] }));
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-2']);
    // Its provider port reads "unknown", which a PUT must never send back: the revoke is reported
    // through the provisioning endpoint, and the stored document keeps the real port id.
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('deprovisioned');
    expect(world.sim.state.agreements.get('agr-1')!.doc.provider).toMatchObject({ outputPortId: 'orders-s3' });
  });

  it("a consumer's role change moves the statements from the recorded old role to the new role", async () => {
    const world = await startWorld({
      roles: [ROLE, NEW_ROLE],
      mesh: {
        dataProducts: [
          ordersProduct(),
          dpsProduct('billing', { ports: [s3BucketPort('billing-s3', 'acme-billing')] }),
          consumerProduct(),
          consumerProduct('other-consumer'),
        ],
        agreements: [
          agreement('agr-1', 'orders', 'orders-s3', { active: true }),
          agreement('agr-2', 'billing', 'billing-s3', { active: true }),
          agreement('agr-other', 'billing', 'billing-s3', { active: true, consumer: 'other-consumer' }),
        ],
      },
    });
    await world.settle();
    expect([...(await grantsOn(world.iam, ROLE)).keys()].sort()).toEqual(['agr-1', 'agr-2', 'agr-other']);
    expect(view(world, 'agr-1').custom['aws-granted-role-arn']).toBe(ROLE_ARN);

    world.sim.putDataProduct(consumerProduct('consumer', { 'aws-role-name': NEW_ROLE }));
    const run = await world.sync();
    expect(
      run.results[0]!.outcomes.map((o) => [
        o.agreementId,
        o.decision,
        o.effect,
        policyChanges(o.changes).map((c) => `${c.roleName}:${c.action}:${c.policyName}`),
      ]),
    ).toEqual([
      ['agr-1', 'grant', 'granted', [`${NEW_ROLE}:put:dmm-aws-pack-1`, `${ROLE}:put:dmm-aws-pack-1`]],
      ['agr-2', 'grant', 'granted', [`${NEW_ROLE}:put:dmm-aws-pack-1`, `${ROLE}:put:dmm-aws-pack-1`]],
    ]);
    expect([...(await grantsOn(world.iam, NEW_ROLE)).keys()].sort()).toEqual(['agr-1', 'agr-2']);
    // Only the other consumer's agreement stays on the old role.
    expect([...(await grantsOn(world.iam, ROLE)).keys()]).toEqual(['agr-other']);
    const newArn = `arn:aws:iam::${ACCOUNT}:role/${NEW_ROLE}`;
    expect(view(world, 'agr-1').custom).toEqual({
      'aws-policy-name': 'dmm-aws-pack-1',
      'aws-granted-role-arn': newArn,
    });
    expect((await provisioningOf(world, 'agr-1')).body?.reference).toBe(`${newArn} (policies: dmm-aws-pack-1)`);

    // Later the agreement ends: the revoke is found on the role recorded last.
    await world.settle();
    world.sim.deactivate('agr-1');
    await world.settle();
    expect([...(await grantsOn(world.iam, NEW_ROLE)).keys()]).toEqual(['agr-2']);
    expect([...(await grantsOn(world.iam, ROLE)).keys()]).toEqual(['agr-other']);
  });

  it('a consumer role change to a role that does not exist revokes on the old role and reports the failure', async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();
    world.sim.putDataProduct(consumerProduct('consumer', { 'aws-role-name': 'not-created-yet' }));
    await world.settle();
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    expect(view(world, 'agr-1').custom['aws-integration-error']).toBe(
      `IAM role not-created-yet (from the consumer data product consumer) does not exist in account ${ACCOUNT}, or is outside the roles this integration may manage`,
    );
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('provisioning-failed');
  });

  it('a deleted consumer data product revokes its agreements', async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();
    world.sim.deleteDataProduct('consumer', { force: true });
    await world.settle();
    expect((await grantsOn(world.iam)).size).toBe(0);
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('deprovisioned');
  });
});
