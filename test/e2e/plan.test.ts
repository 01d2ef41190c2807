import { describe, expect, it } from 'vitest';
import { statementSid } from '../../src/targets/sid.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ROLE,
  ROLE_ARN,
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  glueTablePort,
  ordersProduct,
  policyNames,
  s3BucketPort,
  startWorld,
  policyChanges,
} from './harness.js';

/** `dmm-aws plan` is reconcileAll({dryRun: true}): every change with role, policy, agreements and full document; nothing written. */

describe('plan (dry run)', () => {
  it('lists the full documents it would write, writes nothing, and apply then does exactly that', async () => {
    const world = await startWorld({
      limits: { inlineCharacters: 1000, managedCharacters: 6144, attachedPolicies: 10 },
      mesh: {
        dataProducts: [
          ordersProduct(),
          dpsProduct('sales', { ports: [glueTablePort('tx-glue', 'sales', 'transactions', 'acme-sales-lake')] }),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-a', 'orders', 'orders-s3', { active: true }),
          agreement('agr-b', 'sales', 'tx-glue', { active: true }),
          agreement('agr-requested', 'orders', 'orders-s3'),
        ],
      },
    });
    await world.iam.putInlinePolicy(
      ROLE,
      'DMM_DataUsageAgreement_agr-gone',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-old/*' }],
      }),
    );
    const writes = world.writes.length;
    const feed = world.sim.state.events.length;
    const iamBefore = JSON.stringify(await world.iam.listInlinePolicies(ROLE));

    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(world.writes.length).toBe(writes);
    expect(world.sim.state.events.length).toBe(feed);
    expect(JSON.stringify(await world.iam.listInlinePolicies(ROLE))).toBe(iamBefore);
    expect(plan.rolesExamined).toBe(1);
    expect(plan.outcomes.map((o) => [o.agreementId, o.decision, o.effect, o.role, o.policyNames, o.report])).toEqual([
      ['agr-a', 'grant', 'granted', ROLE_ARN, ['dmm-aws-pack-1'], undefined],
      // Its own statements overflow into a managed pack; its workgroup statement, stored once per
      // role, still fits inline.
      ['agr-b', 'grant', 'granted', ROLE_ARN, ['dmm-aws-analytics-consumer-1', 'dmm-aws-pack-1'], undefined],
      ['agr-gone', 'revoke', 'revoked', undefined, [], undefined],
      ['agr-requested', 'none', 'absent', undefined, [], undefined],
    ]);

    // Managed writes first, then the reference policy's removal, then the inline pack.
    expect(
      policyChanges(plan.changes).map((c) => [c.kind, c.action, c.roleName, c.policyName, c.agreementIds]),
    ).toEqual([
      ['managed', 'put', ROLE, 'dmm-aws-analytics-consumer-1', ['agr-b']],
      ['inline', 'delete', ROLE, 'DMM_DataUsageAgreement_agr-gone', ['agr-gone']],
      ['inline', 'put', ROLE, 'dmm-aws-pack-1', ['agr-a', 'agr-b']],
    ]);
    const [managed, , inline] = policyChanges(plan.changes);
    expect(managed).toMatchObject({ policyPath: '/dmm-aws/' });
    expect(managed!.policyArn).toBeUndefined();
    expect(inline!.document).toEqual({
      Version: '2012-10-17',
      Statement: [
        bucketReadStatement('agr-a', 'acme-orders'),
        expect.objectContaining({
          Sid: expect.stringMatching(new RegExp(`^DmmB[0-9a-f]{12}N1${statementSid('agr-b', 1).slice(3, -2)}$`)),
          Resource: 'arn:aws:athena:eu-central-1:123456789012:workgroup/primary',
        }),
      ],
    });
    const glue = managed!.document!.Statement;
    expect(glue).toHaveLength(3);
    expect(glue.map((s) => s.Sid)).toEqual([1, 2, 3].map((n) => statementSid('agr-b', n)));
    expect(glue[0]!.Resource).toContain('arn:aws:glue:eu-central-1:123456789012:table/sales/transactions');
    // The outcome of each agreement carries its own changes.
    expect(plan.outcomes.find((o) => o.agreementId === 'agr-b')!.changes).toEqual([managed, inline]);

    // Apply writes exactly the planned documents.
    const applied = await reconcileAll(world.ctx);
    expect(policyChanges(applied.changes).map((c) => [c.action, c.policyName, c.document])).toEqual(
      policyChanges(plan.changes).map((c) => [c.action, c.policyName, c.document]),
    );
    expect(await policyNames(world.iam)).toEqual({
      inline: ['dmm-aws-pack-1'],
      managed: ['dmm-aws-analytics-consumer-1'],
    });
    const stored = await world.iam.listInlinePolicies(ROLE);
    expect(JSON.parse(stored[0]!.document)).toEqual(inline!.document);
    const [attached] = await world.iam.listAttachedPolicies(ROLE);
    expect(attached!.arn).toBe('arn:aws:iam::123456789012:policy/dmm-aws/dmm-aws-analytics-consumer-1');
    expect(JSON.parse(await world.iam.getManagedPolicyDocument(attached!.arn))).toEqual(managed!.document);

    // Converged: the next plan is empty, and so is the sync of everything the apply reported.
    expect((await reconcileAll(world.ctx, { dryRun: true })).changes).toEqual([]);
    const writesAfterApply = world.writes.length;
    await world.settle();
    expect(world.writes.length).toBe(writesAfterApply);
  });

  it('a dry run after a revoke shows the shrunk pack with the remaining agreements only', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          ordersProduct(),
          dpsProduct('billing', { ports: [s3BucketPort('billing-s3', 'acme-billing')] }),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-a', 'orders', 'orders-s3', { active: true }),
          agreement('agr-b', 'billing', 'billing-s3', { active: true }),
        ],
      },
    });
    await reconcileAll(world.ctx);
    world.sim.deactivate('agr-a');
    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(plan.changes).toEqual([
      {
        target: 'identity-policy',
        action: 'put',
        kind: 'inline',
        roleName: ROLE,
        policyName: 'dmm-aws-pack-1',
        document: { Version: '2012-10-17', Statement: [bucketReadStatement('agr-b', 'acme-billing')] },
        agreementIds: ['agr-a'],
      },
    ]);
    expect(plan.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([
      ['agr-a', 'revoke', 'revoked'],
      ['agr-b', 'grant', 'unchanged'],
    ]);
  });
});
