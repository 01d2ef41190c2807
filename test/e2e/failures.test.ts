import { describe, expect, it } from 'vitest';
import { iamCharacterCount } from '../../src/interfaces/iam-account.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ACCOUNT,
  ROLE,
  agreement,
  consumerProduct,
  dpsProduct,
  glueTablePort,
  grantsOn,
  ordersProduct,
  policyNames,
  provisioningOf,
  s3BucketPort,
  startWorld,
  view,
  expectFailed,
  startOrdersWorld,
} from './harness.js';

/** Every kind of failure is reported on its agreement and never holds up the others. */

describe('failures', () => {
  it('metadata and account problems are reported per agreement; a good agreement in the same sync is granted', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          dpsProduct('orders', {
            ports: [
              s3BucketPort('orders-s3', 'acme-orders'),
              { id: 'orders-kafka', name: 'Orders (Kafka)', custom: { 'output-port-type': 'kafka_topic' } },
              {
                id: 'orders-all',
                name: 'Everything',
                custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::*' },
              },
            ],
          }),
          consumerProduct(),
          consumerProduct('no-role', {}),
          consumerProduct('ghost', { 'aws-role-name': 'ghost-role' }),
          consumerProduct('elsewhere', { 'aws-role-arn': 'arn:aws:iam::999999999999:role/analytics-consumer' }),
        ],
        agreements: [
          agreement('agr-no-role', 'orders', 'orders-s3', { consumer: 'no-role', active: true }),
          agreement('agr-kafka', 'orders', 'orders-kafka', { active: true }),
          agreement('agr-wildcard', 'orders', 'orders-all', { active: true }),
          agreement('agr-ghost', 'orders', 'orders-s3', { consumer: 'ghost', active: true }),
          agreement('agr-elsewhere', 'orders', 'orders-s3', { consumer: 'elsewhere', active: true }),
          agreement('agr-ok', 'orders', 'orders-s3', { active: true }),
        ],
      },
    });
    const run = await world.sync();
    expect(run.stats.retried).toBe(0);
    expect(run.stats.deadLettered).toBe(0);
    const decisions = new Map(
      run.results
        .flatMap((r) => r.outcomes)
        .filter((o) => o.decision !== 'none')
        .map((o) => [o.agreementId, o.decision]),
    );
    expect(Object.fromEntries(decisions)).toEqual({
      'agr-no-role': 'failed',
      'agr-kafka': 'failed',
      'agr-wildcard': 'failed',
      'agr-ghost': 'failed',
      'agr-elsewhere': 'failed',
      'agr-ok': 'grant',
    });

    await expectFailed(world, 'agr-no-role', 'consumer data product no-role: custom.aws-role-name is not set');
    await expectFailed(
      world,
      'agr-kafka',
      'custom.output-port-type is "kafka_topic", which is not a supported output port type (supported: s3_bucket, s3_prefix, glue_table, kinesis_stream, dynamodb_table, msk_topic, s3_table)',
    );
    await expectFailed(world, 'agr-wildcard', /custom\.aws-s3-bucket-arn .*wildcards.*arn:aws:s3:::\*/);
    await expectFailed(
      world,
      'agr-ghost',
      `IAM role ghost-role (from the consumer data product ghost) does not exist in account ${ACCOUNT}, or is outside the roles this integration may manage`,
    );
    await expectFailed(
      world,
      'agr-elsewhere',
      `custom.aws-role-arn is a role in account 999999999999, but this tool manages roles in account ${ACCOUNT}`,
    );

    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-ok']);
    expect(view(world, 'agr-ok').tags.sort()).toEqual(['aws-integration', 'aws-integration-active']);

    // Failures converge too: the echo of the reports writes nothing more.
    const writes = world.writes.length;
    const rounds = await world.settle();
    expect(rounds.at(-1)!.polled.events).toBe(0);
    expect(world.writes.length).toBe(writes);
  });

  it('a fixed failure clears the error marker; a grant that breaks is revoked and reported', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [ordersProduct(), consumerProduct('consumer', {})],
        agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true, tags: ['team-tag'] })],
      },
    });
    await world.settle();
    await expectFailed(world, 'agr-1', 'custom.aws-role-name is not set');

    world.sim.putDataProduct(consumerProduct('consumer', { 'aws-role-name': ROLE }));
    await world.settle();
    const fixed = view(world, 'agr-1');
    expect(fixed.tags.sort()).toEqual(['aws-integration', 'aws-integration-active', 'team-tag']);
    expect(fixed.custom['aws-integration-error']).toBeUndefined();
    expect((await provisioningOf(world, 'agr-1')).body).toMatchObject({ status: 'provisioned', diagnostics: null });
    expect((await grantsOn(world.iam)).has('agr-1')).toBe(true);

    // The provider breaks its port: the grant is removed and the agreement reported failed.
    world.sim.putDataProduct(
      dpsProduct('orders', {
        ports: [
          {
            id: 'orders-s3',
            name: 'x',
            custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-*' },
          },
        ],
      }),
    );
    await world.settle();
    expect((await grantsOn(world.iam)).size).toBe(0);
    await expectFailed(world, 'agr-1', 'wildcards');
  });

  it('a role that is full: the agreements that fit are packed inline then managed, the rest fail with "no room"', async () => {
    const glue = (n: number) => glueTablePort(`t${n}`, 'sales', `table_${n}`, 'acme-sales-lake');
    // One agreement's own three statements (Glue, two S3 with the s3:ResourceAccount condition)
    // take 810 characters with their Sids; a pack of two takes 1658, of three 2468. The Athena
    // workgroup statement is stored once, in the first pack, with a member record naming each
    // agreement (~11 characters each). A limit of 2200 thus holds exactly two agreements' own
    // statements per policy: two inline, two in the one managed policy.
    const world = await startWorld({
      limits: { inlineCharacters: 2200, managedCharacters: 2200, attachedPolicies: 1 },
      mesh: {
        dataProducts: [dpsProduct('sales', { ports: [1, 2, 3, 4, 5, 6, 7].map(glue) }), consumerProduct()],
        agreements: [1, 2, 3, 4, 5, 6, 7].map((n) => agreement(`agr-${n}`, 'sales', `t${n}`, { active: true })),
      },
    });
    const [run] = await world.settle();
    expect(run!.stats).toMatchObject({ retried: 0, deadLettered: 0 });
    const placed = Object.fromEntries([...(await grantsOn(world.iam))].map(([id, g]) => [id, g.policies]));
    expect(placed).toEqual({
      'agr-1': ['dmm-aws-pack-1'],
      'agr-2': ['dmm-aws-pack-1'],
      'agr-3': ['dmm-aws-analytics-consumer-1', 'dmm-aws-pack-1'],
      'agr-4': ['dmm-aws-analytics-consumer-1', 'dmm-aws-pack-1'],
    });
    expect(await policyNames(world.iam)).toEqual({
      inline: ['dmm-aws-pack-1'],
      managed: ['dmm-aws-analytics-consumer-1'],
    });
    expect(view(world, 'agr-3').custom['aws-policy-name']).toBe('dmm-aws-analytics-consumer-1,dmm-aws-pack-1');
    const inlinePack = (await world.iam.listInlinePolicies(ROLE))[0]!.document;
    expect(iamCharacterCount(inlinePack)).toBe(1962);
    const [managedPack] = await world.iam.listAttachedPolicies(ROLE);
    expect(iamCharacterCount(await world.iam.getManagedPolicyDocument(managedPack!.arn))).toBe(1658);
    for (const id of ['agr-5', 'agr-6', 'agr-7']) {
      const error = await expectFailed(
        world,
        id,
        /^role analytics-consumer has no room left for this agreement's \d+-character policy: its inline policies use 1962 of 2200 characters and 1 of 1 managed-policy attachments are taken\./,
      );
      expect(error).toContain('Detach unused managed policies');
    }

    // Room comes back when an agreement ends; a full reconcile places a waiting agreement first-fit.
    world.sim.deactivate('agr-2');
    const revoke = await world.sync();
    expect(revoke.results.flatMap((r) => r.outcomes).map((o) => [o.agreementId, o.decision])).toEqual([
      ['agr-2', 'revoke'],
    ]);
    expect((await grantsOn(world.iam)).has('agr-2')).toBe(false);
    await expectFailed(world, 'agr-5', 'has no room left');
    const full = await reconcileAll(world.ctx);
    expect(
      full.outcomes.filter((o) => o.decision === 'grant' && o.effect === 'granted').map((o) => o.agreementId),
    ).toEqual(['agr-5']);
    expect((await grantsOn(world.iam)).get('agr-5')?.policies).toEqual(['dmm-aws-pack-1']);
    expect(view(world, 'agr-5').tags.sort()).toEqual(['aws-integration', 'aws-integration-active']);
    expect((await provisioningOf(world, 'agr-5')).body?.status).toBe('provisioned');
    await expectFailed(world, 'agr-6', 'has no room left');
  });

  it('a role with 10 foreign managed policies and a big foreign inline policy has no room at all', async () => {
    const world = await startOrdersWorld('agr-1');
    const doc = (resource: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }],
      });
    for (let i = 0; i < 10; i++) {
      const policy = await world.iam.createManagedPolicy(`team-policy-${i}`, doc(`arn:aws:s3:::team-bucket-${i}/*`));
      await world.iam.attachExistingPolicy(ROLE, policy.arn);
    }
    await world.iam.putInlinePolicy(ROLE, 'team-big', doc(`arn:aws:s3:::team-bucket/${'x'.repeat(10_100)}`));

    const setupWrites = world.writes.length;
    await world.sync();
    await expectFailed(
      world,
      'agr-1',
      /^role analytics-consumer has no room left for this agreement's \d+-character policy: its inline policies use 10\d{3} of 10240 characters and 10 of 10 managed-policy attachments are taken/,
    );
    const names = await policyNames(world.iam);
    expect(names.inline).toEqual(['team-big']);
    expect(names.managed).toHaveLength(10);
    expect(names.managed.every((n) => n.startsWith('team-policy-'))).toBe(true);
    expect(world.writes.length).toBe(setupWrites);
  });
});
