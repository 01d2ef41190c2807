import { describe, expect, it } from 'vitest';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { formatPlan } from '../../src/cli/format.js';
import { FileResourceTags } from '../../src/local/file-resource-tags.js';
import { defaultGuardrails } from '../../src/sync/guardrails.js';
import { accessRemovedByOwnershipProof, planJson } from '../../src/sync/plan-json.js';
import {
  ACCOUNT,
  OTHER_ACCOUNT,
  ROLE,
  ROLE_ARN,
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  expectFailed,
  glueTablePort,
  grantsOn,
  ordersProduct,
  policyNames,
  provisioningOf,
  setRoleTags,
  startWorld,
  view,
  policyChanges,
  REGION,
  s3BucketPort,
} from './harness.js';

/** The operator's guardrails, end to end: what metadata may not make the tool do. */

const sid = expect.stringMatching(/^DmmH[0-9a-f]+S\d+$/);

/** Ownership proof is on with these guardrails: the providers tagged their resources. */
const OWNER_TAG = 'dmm:data-product';
const ORDERS_TAGGED = { buckets: { 'acme-orders': { [OWNER_TAG]: 'orders' } } };

describe('guardrails: allowed resource accounts', () => {
  // The provider's Glue catalog lives in another account; the data stays in a bucket name (no account in S3 ARNs).
  const crossAccountMesh = () => ({
    dataProducts: [
      dpsProduct('sales', {
        ports: [glueTablePort('tx-glue', 'sales', 'transactions', 'acme-sales-lake', OTHER_ACCOUNT)],
      }),
      consumerProduct(),
    ],
    agreements: [agreement('agr-x', 'sales', 'tx-glue', { active: true })],
  });

  it('a Glue table in another account is granted when guardrails.allowedResourceAccounts lists that account; S3 is bound to both accounts', async () => {
    const world = await startWorld({
      guardrails: guardrailsFrom(ACCOUNT, { allowedResourceAccounts: [ACCOUNT, OTHER_ACCOUNT] }),
      resourceTags: {
        buckets: { 'acme-sales-lake': { [OWNER_TAG]: 'sales' } },
        glueTables: { [`${OTHER_ACCOUNT}/${REGION}/sales/transactions`]: { [OWNER_TAG]: 'sales' } },
      },
      mesh: crossAccountMesh(),
    });
    await world.settle();
    const grant = (await grantsOn(world.iam)).get('agr-x');
    expect(grant?.policies).toEqual(['dmm-aws-pack-1']);
    const bothAccounts = { StringEquals: { 's3:ResourceAccount': [ACCOUNT, OTHER_ACCOUNT] } };
    expect(grant?.statements).toEqual([
      {
        Sid: sid,
        Effect: 'Allow',
        Action: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
        ],
        Resource: [
          `arn:aws:glue:eu-central-1:${OTHER_ACCOUNT}:catalog`,
          `arn:aws:glue:eu-central-1:${OTHER_ACCOUNT}:database/sales`,
          `arn:aws:glue:eu-central-1:${OTHER_ACCOUNT}:table/sales/transactions`,
        ],
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-sales-lake',
        Condition: { StringLike: { 's3:prefix': ['transactions/', 'transactions/*'] }, ...bothAccounts },
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject'],
        Resource: ['arn:aws:s3:::acme-sales-lake', 'arn:aws:s3:::acme-sales-lake/transactions/*'],
        Condition: bothAccounts,
      },
      {
        // Stored once per role (the workgroup is the same for every table); its Sid names the agreement.
        Sid: expect.stringMatching(/^DmmB[0-9a-f]{12}N1H[0-9a-f]+$/),
        Effect: 'Allow',
        Action: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        // The workgroup is always the consumer's own.
        Resource: `arn:aws:athena:eu-central-1:${ACCOUNT}:workgroup/primary`,
      },
    ]);
    expect(view(world, 'agr-x').tags.sort()).toEqual(['aws-integration', 'aws-integration-active']);
    expect((await provisioningOf(world, 'agr-x')).body?.status).toBe('provisioned');
  });

  it('without that setting (the default: the managed account only) the same grant is refused, naming guardrails.allowedResourceAccounts', async () => {
    const world = await startWorld({ mesh: crossAccountMesh() });
    const run = await world.sync();
    // Every event of the agreement (one per feed entry) converges to the same refusal.
    expect(
      new Set(run.results.flatMap((r) => r.outcomes).map((o) => `${o.agreementId} ${o.decision} ${o.effect}`)),
    ).toEqual(new Set(['agr-x failed absent']));
    await expectFailed(
      world,
      'agr-x',
      `Agreement agr-x: resource arn:aws:glue:eu-central-1:${OTHER_ACCOUNT}:catalog is in account ${OTHER_ACCOUNT}, ` +
        `which is not an allowed resource account (guardrails.allowedResourceAccounts: ${ACCOUNT})`,
    );
    expect(world.writes).toEqual([]);
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    // A full reconcile refuses it the same way and plans nothing.
    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes.map((o) => [o.agreementId, o.decision])).toEqual([['agr-x', 'failed']]);
    expect(plan.outcomes[0]!.diagnostic).toContain('(guardrails.allowedResourceAccounts: 123456789012)');
  });
});

describe('guardrails: roles', () => {
  it('a protected role as consumer (OrganizationAccountAccessRole, AWSReservedSSO_*) is refused; nothing is written', async () => {
    const sso = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
    const world = await startWorld({
      roles: [ROLE, 'OrganizationAccountAccessRole', { name: sso, path: '/aws-reserved/sso.amazonaws.com/' }],
      mesh: {
        dataProducts: [
          ordersProduct(),
          consumerProduct('admin', { 'aws-role-name': 'OrganizationAccountAccessRole' }),
          consumerProduct('sso', {
            'aws-role-arn': `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${sso}`,
          }),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-admin', 'orders', 'orders-s3', { consumer: 'admin', active: true }),
          agreement('agr-sso', 'orders', 'orders-s3', { consumer: 'sso', active: true }),
          agreement('agr-ok', 'orders', 'orders-s3', { active: true }),
        ],
      },
    });
    await world.settle();
    await expectFailed(
      world,
      'agr-admin',
      'Agreement agr-admin: role OrganizationAccountAccessRole is protected (guardrails.protectedRoles): dmm-aws never grants on it',
    );
    await expectFailed(
      world,
      'agr-sso',
      `Agreement agr-sso: role ${sso} is protected (guardrails.protectedRoles): dmm-aws never grants on it`,
    );
    expect(await policyNames(world.iam, 'OrganizationAccountAccessRole')).toEqual({ inline: [], managed: [] });
    expect(await policyNames(world.iam, sso)).toEqual({ inline: [], managed: [] });
    // Only the good agreement's role was ever written.
    expect(world.writes.map((w) => w.roleName)).toEqual([ROLE]);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-ok']);
    expect((await reconcileAll(world.ctx, { dryRun: true })).changes).toEqual([]);
  });

  it('guardrails.requiredRoleTag: a role without the tag, or with another value, is refused; a tagged role is granted', async () => {
    const world = await startWorld({
      guardrails: guardrailsFrom(ACCOUNT, { requiredRoleTag: 'dmm-managed=true' }),
      resourceTags: ORDERS_TAGGED,
      roles: [
        ROLE,
        { name: 'wrong-consumer', tags: { 'dmm-managed': 'no' } },
        { name: 'tagged-consumer', tags: { 'dmm-managed': 'true' } },
      ],
      mesh: {
        dataProducts: [
          ordersProduct(),
          consumerProduct(),
          consumerProduct('wrong', { 'aws-role-name': 'wrong-consumer' }),
          consumerProduct('tagged', { 'aws-role-name': 'tagged-consumer' }),
        ],
        agreements: [
          agreement('agr-untagged', 'orders', 'orders-s3', { active: true }),
          agreement('agr-wrong', 'orders', 'orders-s3', { consumer: 'wrong', active: true }),
          agreement('agr-tagged', 'orders', 'orders-s3', { consumer: 'tagged', active: true }),
        ],
      },
    });
    await world.settle();
    await expectFailed(
      world,
      'agr-untagged',
      `Agreement agr-untagged: role ${ROLE} lacks the tag dmm-managed that marks roles dmm-aws may manage (guardrails.requiredRoleTag)`,
    );
    await expectFailed(
      world,
      'agr-wrong',
      'Agreement agr-wrong: role wrong-consumer has tag dmm-managed=no, but dmm-aws manages only roles with dmm-managed=true (guardrails.requiredRoleTag)',
    );
    expect(world.writes.map((w) => w.roleName)).toEqual(['tagged-consumer']);
    expect((await grantsOn(world.iam, 'tagged-consumer')).get('agr-tagged')?.statements).toEqual([
      bucketReadStatement('agr-tagged'),
    ]);
    expect(view(world, 'agr-tagged').tags.sort()).toEqual(['aws-integration', 'aws-integration-active']);
  });

  it('a granted role that loses its required tag cannot be revoked: deprovisioning-failed, aws-granted-role-arn kept; the tag back, a reconcile revokes', async () => {
    const tagged = { 'dmm-managed': 'true' };
    const world = await startWorld({
      guardrails: guardrailsFrom(ACCOUNT, { requiredRoleTag: 'dmm-managed' }),
      resourceTags: ORDERS_TAGGED,
      roles: [{ name: ROLE, tags: tagged }],
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct()],
        agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
      },
    });
    await world.settle();
    expect(view(world, 'agr-1').custom).toEqual({
      'aws-policy-name': 'dmm-aws-pack-1',
      'aws-granted-role-arn': ROLE_ARN,
    });
    const pack = await world.iam.listInlinePolicies(ROLE);

    await setRoleTags(world.iam, ROLE, {});
    world.sim.deactivate('agr-1');
    const writes = world.writes.length;
    const run = await world.sync();
    expect(
      run.results.flatMap((r) => r.outcomes).map((o) => [o.agreementId, o.decision, o.effect, o.heldOnRoleArns]),
    ).toEqual([['agr-1', 'failed', 'absent', [ROLE_ARN]]]);
    await expectFailed(
      world,
      'agr-1',
      `Agreement agr-1: its statements on role ${ROLE} cannot be removed: role ${ROLE} lacks the tag dmm-managed that marks roles dmm-aws may manage (guardrails.requiredRoleTag)`,
      { status: 'deprovisioning-failed', heldOn: ROLE_ARN },
    );
    // Nothing was written: the access is still there, and the agreement says where.
    expect(world.writes.length).toBe(writes);
    expect(await world.iam.listInlinePolicies(ROLE)).toEqual(pack);
    await world.settle();
    expect(world.writes.length).toBe(writes);

    // The operator tags the role again: the next full reconcile finds it through the recorded ARN.
    await setRoleTags(world.iam, ROLE, tagged);
    const full = await reconcileAll(world.ctx);
    expect(full.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual([['agr-1', 'revoke', 'revoked']]);
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    expect(view(world, 'agr-1').tags.sort()).toEqual(['aws-integration', 'aws-integration-inactive']);
    expect(view(world, 'agr-1').custom).toEqual({});
    expect((await provisioningOf(world, 'agr-1')).body?.status).toBe('deprovisioned');
  });

  it('guardrails.managedRolePath narrowed: reconcileAll never touches roles outside it, even with dmm-aws packs; their agreements are reported failed', async () => {
    const lakeArn = `arn:aws:iam::${ACCOUNT}:role/data-consumers/lake-consumer`;
    const world = await startWorld({
      roles: [ROLE, { name: 'lake-consumer', path: '/data-consumers/' }],
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct(), consumerProduct('lake', { 'aws-role-arn': lakeArn })],
        agreements: [
          agreement('agr-old', 'orders', 'orders-s3', { active: true }),
          agreement('agr-lake', 'orders', 'orders-s3', { consumer: 'lake', active: true }),
        ],
      },
    });
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-old']);
    expect([...(await grantsOn(world.iam, 'lake-consumer')).keys()]).toEqual(['agr-lake']);
    // A ghost (an agreement deleted long ago) also left a block in the pack on the role at `/`.
    const [pack] = await world.iam.listInlinePolicies(ROLE);
    const statements = (JSON.parse(pack!.document) as { Statement: unknown[] }).Statement;
    await world.iam.putInlinePolicy(
      ROLE,
      'dmm-aws-pack-1',
      JSON.stringify({ Version: '2012-10-17', Statement: [...statements, bucketReadStatement('agr-ghost')] }),
    );
    const before = await world.iam.listInlinePolicies(ROLE);

    // The operator narrows the managed path; both agreements end.
    world.ctx.guardrails = guardrailsFrom(ACCOUNT, { managedRolePath: '/data-consumers/' });
    world.sim.deactivate('agr-old');
    world.sim.deactivate('agr-lake');
    const plan = await reconcileAll(world.ctx, { dryRun: true });
    expect(policyChanges(plan.changes).map((c) => [c.action, c.roleName, c.policyName, c.agreementIds])).toEqual([
      ['delete', 'lake-consumer', 'dmm-aws-pack-1', ['agr-lake']],
    ]);

    const writes = world.writes.length;
    const result = await reconcileAll(world.ctx);
    expect(result.changes).toEqual(plan.changes);
    expect(world.writes.slice(writes)).toEqual([
      { method: 'deleteInlinePolicy', roleName: 'lake-consumer', policy: 'dmm-aws-pack-1' },
    ]);
    expect(await world.iam.listInlinePolicies(ROLE)).toEqual(before);

    const outside = `role ${ROLE} has path /, outside the managed path /data-consumers/ (guardrails.managedRolePath)`;
    expect(result.outcomes.map((o) => [o.agreementId, o.decision, o.effect, o.heldOnRoleArns, o.diagnostic])).toEqual([
      [
        'agr-ghost',
        'failed',
        'absent',
        [ROLE_ARN],
        `Agreement agr-ghost: its statements on role ${ROLE} cannot be removed: ${outside}`,
      ],
      ['agr-lake', 'revoke', 'revoked', [], undefined],
      [
        'agr-old',
        'failed',
        'absent',
        [ROLE_ARN],
        `Agreement agr-old: its statements on role ${ROLE} cannot be removed: ${outside}`,
      ],
    ]);
    await expectFailed(
      world,
      'agr-old',
      `Agreement agr-old: its statements on role ${ROLE} cannot be removed: ${outside}`,
      {
        status: 'deprovisioning-failed',
        heldOn: ROLE_ARN,
      },
    );
    expect(view(world, 'agr-lake').tags.sort()).toEqual(['aws-integration', 'aws-integration-inactive']);

    // The echo of the reports converges without touching the role outside the path.
    const after = world.writes.length;
    await world.settle();
    expect(world.writes.length).toBe(after);
    expect(await world.iam.listInlinePolicies(ROLE)).toEqual(before);
  });
});

describe('guardrails: ownership proof by default', () => {
  const twoProviders = () => ({
    dataProducts: [
      ordersProduct(),
      dpsProduct('payments', { ports: [s3BucketPort('payments-s3', 'acme-payments')] }),
      consumerProduct(),
    ],
    agreements: [
      agreement('agr-orders', 'orders', 'orders-s3', { active: true }),
      agreement('agr-payments', 'payments', 'payments-s3', { active: true }),
    ],
  });

  it('upgrading: plan lists exactly the current grants the new default would remove, and why', async () => {
    // Before: an installation that ran with proof off granted both.
    const world = await startWorld({ mesh: twoProviders() });
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-orders', 'agr-payments']);

    // After the upgrade: the defaults, and only orders' bucket is tagged so far.
    world.ctx.guardrails = defaultGuardrails(ACCOUNT);
    world.ctx.resourceTags = new FileResourceTags(ORDERS_TAGGED);
    const plan = await reconcileAll(world.ctx, { dryRun: true });
    const removed = accessRemovedByOwnershipProof(plan);
    expect(removed).toEqual([
      {
        agreementId: 'agr-payments',
        from: [`inline policy dmm-aws-pack-1 on role ${ROLE}`],
        reason: expect.stringMatching(
          /^Agreement agr-payments: ownership proof failed: S3 bucket acme-payments does not exist or its tags cannot be read/,
        ),
      },
    ]);
    expect(planJson(plan, false).accessRemovedByOwnershipProof).toEqual(removed);
    const text = formatPlan(plan, false);
    expect(text).toContain('Ownership proof removes the access of 1 agreement(s) that held it');
    expect(text).toContain(`agr-payments (inline policy dmm-aws-pack-1 on role ${ROLE})`);

    // Applying removes exactly that access; tagging the bucket brings it back.
    await reconcileAll(world.ctx);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-orders']);
    world.ctx.resourceTags = new FileResourceTags({
      buckets: { ...ORDERS_TAGGED.buckets, 'acme-payments': { [OWNER_TAG]: 'payments' } },
    });
    await reconcileAll(world.ctx);
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-orders', 'agr-payments']);
  });

  it("an operator allow-list entry vouches for a product's resources without tags", async () => {
    const world = await startWorld({
      guardrails: guardrailsFrom(ACCOUNT, {
        ownershipAllowList: [{ dataProduct: 'payments', resources: ['arn:aws:s3:::acme-payments'] }],
      }),
      resourceTags: ORDERS_TAGGED,
      mesh: twoProviders(),
    });
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-orders', 'agr-payments']);
  });
});
