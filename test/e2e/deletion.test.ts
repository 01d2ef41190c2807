import { describe, expect, it } from 'vitest';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ROLE,
  ROLE_ARN,
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  eventsNamed,
  grantsOn,
  ordersProduct,
  policyNames,
  provisioningOf,
  s3BucketPort,
  startWorld,
  view,
  policyChanges,
} from './harness.js';

/** Access goes away when what explained it goes away, with or without an event saying so. */

const billing = () => dpsProduct('billing', { ports: [s3BucketPort('billing-s3', 'acme-billing')] });

/** An active agreement on `orders` as the reference integration left it: its markers and its policy's name. */
const grantedByReferenceIntegration = (id: string) =>
  agreement(id, 'orders', 'orders-s3', {
    active: true,
    tags: ['aws-integration', 'aws-integration-active'],
    custom: { 'aws-policy-name': `DMM_DataUsageAgreement_${id}` },
  });

describe('deletion', () => {
  it('an active agreement that is deleted (only AccessDeletedEvent) loses its access; others stay', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), billing(), consumerProduct()],
        agreements: [
          agreement('agr-del', 'orders', 'orders-s3', { active: true }),
          agreement('agr-keep', 'billing', 'billing-s3', { active: true }),
        ],
      },
    });
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-del', 'agr-keep']);

    const deleted = world.sim.deleteAgreement('agr-del');
    expect(deleted.events.map((e) => e.type.replace(/^.*\./, ''))).toEqual(['AccessDeletedEvent']);
    const run = await world.sync();
    expect(run.results.map((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]))).toEqual([
      [['agr-del', 'revoke', 'revoked']],
    ]);
    const grants = await grantsOn(world.iam);
    expect([...grants.keys()]).toEqual(['agr-keep']);
    expect(grants.get('agr-keep')!.statements).toEqual([bucketReadStatement('agr-keep', 'acme-billing')]);
  });

  it('a deleted provider data product (agreements then show provider "unknown") loses its access', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), billing(), consumerProduct()],
        agreements: [
          agreement('agr-orders', 'orders', 'orders-s3', { active: true }),
          agreement('agr-billing', 'billing', 'billing-s3', { active: true }),
        ],
      },
    });
    await world.settle();
    expect((await grantsOn(world.iam)).size).toBe(2);

    const updatesBefore = eventsNamed(world, 'AccessUpdatedEvent', 'agr-orders');
    world.sim.deleteDataProduct('orders', { force: true });
    expect(world.sim.state.agreementView('agr-orders')!.provider).toMatchObject({
      dataProductId: 'unknown',
      outputPortId: 'unknown',
    });
    const run = await world.sync();
    expect(run.results[0]!.target).toEqual({ kind: 'dataProduct', dataProductId: 'orders' });
    expect(run.results[0]!.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([
      ['agr-orders', 'revoke', 'revoked'],
    ]);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-billing']);

    // The provider reads "unknown": a PUT would write that placeholder over the real id, so the
    // revoke is reported through the provisioning endpoint only and the document is left alone.
    expect(run.results[0]!.outcomes[0]!.report).toMatchObject({ tagsWritten: false });
    expect(run.results[0]!.outcomes[0]!.report?.tagsNotWritten).toMatch(/provider.dataProductId reads "unknown"/);
    expect(eventsNamed(world, 'AccessUpdatedEvent', 'agr-orders')).toBe(updatesBefore);
    expect(world.sim.state.agreements.get('agr-orders')!.doc.provider).toMatchObject({
      dataProductId: 'orders',
      outputPortId: 'orders-s3',
    });
    expect((await provisioningOf(world, 'agr-orders')).body).toMatchObject({
      status: 'deprovisioned',
      diagnostics: null,
    });
  });

  it('reconcileAll removes statements of an agreement that no longer exists, without any event', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [agreement('agr-live', 'orders', 'orders-s3', { active: true })],
      },
    });
    await world.sync();
    // Someone (an earlier run whose events were lost) left a ghost's statements in our pack.
    const pack = JSON.parse((await world.iam.listInlinePolicies(ROLE))[0]!.document) as { Statement: unknown[] };
    await world.iam.putInlinePolicy(
      ROLE,
      'dmm-aws-pack-1',
      JSON.stringify({ Version: '2012-10-17', Statement: [...pack.Statement, bucketReadStatement('agr-ghost')] }),
    );
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-ghost', 'agr-live']);
    const feed = world.sim.state.events.length;

    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([
      ['agr-ghost', 'revoke', 'revoked'],
      ['agr-live', 'grant', 'unchanged'],
    ]);
    expect(result.changes).toEqual([
      {
        target: 'identity-policy',
        action: 'put',
        kind: 'inline',
        roleName: ROLE,
        policyName: 'dmm-aws-pack-1',
        document: { Version: '2012-10-17', Statement: [bucketReadStatement('agr-live')] },
        agreementIds: ['agr-ghost'],
      },
    ]);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-live']);
    // The live agreement's write-back was already right: nothing is written to DMM.
    expect(world.sim.state.events.length).toBe(feed);
  });

  it('reconcileAll deletes the reference policy of a deleted agreement and adopts that of an active one', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [grantedByReferenceIntegration('agr-ref')],
      },
    });
    // What the reference integration wrote: one inline policy per agreement, no Sids.
    const reference = (bucket: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:ListBucket'],
            Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          },
        ],
      });
    await world.iam.putInlinePolicy(ROLE, 'DMM_DataUsageAgreement_agr-ref', reference('acme-orders'));
    await world.iam.putInlinePolicy(ROLE, 'DMM_DataUsageAgreement_agr-deleted-long-ago', reference('acme-old'));
    await world.iam.putInlinePolicy(ROLE, 'team-own-policy', reference('acme-team'));

    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(policyChanges(plan.changes).map((c) => [c.action, c.policyName, c.agreementIds, c.note])).toEqual([
      [
        'delete',
        'DMM_DataUsageAgreement_agr-deleted-long-ago',
        ['agr-deleted-long-ago'],
        'reference integration policy no active agreement explains',
      ],
      [
        'delete',
        'DMM_DataUsageAgreement_agr-ref',
        ['agr-ref'],
        'adopt reference integration policy: its access moves into a pack',
      ],
      ['put', 'dmm-aws-pack-1', ['agr-ref'], undefined],
    ]);

    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([
      ['agr-deleted-long-ago', 'revoke', 'revoked'],
      ['agr-ref', 'grant', 'adopted'],
    ]);
    expect(await policyNames(world.iam)).toEqual({ inline: ['dmm-aws-pack-1', 'team-own-policy'], managed: [] });
    expect((await grantsOn(world.iam)).get('agr-ref')).toEqual({
      policies: ['dmm-aws-pack-1'],
      statements: [bucketReadStatement('agr-ref')],
    });
    expect(view(world, 'agr-ref').custom).toEqual({
      'aws-policy-name': 'dmm-aws-pack-1',
      'aws-granted-role-arn': ROLE_ARN,
    });
    expect((await provisioningOf(world, 'agr-ref')).body?.status).toBe('provisioned');

    // A second full reconcile has nothing left to do.
    const again = await reconcileAll(world.ctx, { dryRun: true });
    expect(again.changes).toEqual([]);
  });

  it('an event for a reference-integration agreement that ended finds its policy without a recorded role', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [grantedByReferenceIntegration('agr-old')],
      },
    });
    await world.iam.putInlinePolicy(
      ROLE,
      'DMM_DataUsageAgreement_agr-old',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-orders/*' }],
      }),
    );
    // The sync starts after the agreement ended: its first event says deactivated.
    world.sim.deactivate('agr-old');
    await world.checkpoint.write(world.sim.state.events.at(-2)!.id);
    await world.sync();
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    expect(view(world, 'agr-old').tags.sort()).toEqual(['aws-integration', 'aws-integration-inactive']);
    expect(eventsNamed(world, 'AccessUpdatedEvent', 'agr-old')).toBe(1);
  });
});
