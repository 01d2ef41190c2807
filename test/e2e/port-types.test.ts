import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  OWN_ACCOUNT,
  ROLE,
  ROLE_ARN,
  agreement,
  consumerProduct,
  dpsProduct,
  glueTablePort,
  grantsOn,
  odpsProduct,
  odpsS3Port,
  policyNames,
  providersOfEveryPortType,
  provisioningOf,
  s3BucketPort,
  s3ServerPort,
  startWorld,
  view,
  startOrdersWorld,
} from './harness.js';

/** Each port type and both ways of naming the consumer role, through the whole pipeline. */

const sid = expect.stringMatching(/^DmmH[0-9a-f]+S\d+$/);

describe('port types', () => {
  it('s3_bucket from reference custom fields: list and read the whole bucket', async () => {
    const world = await startOrdersWorld('agr-s3');
    await world.sync();
    expect((await grantsOn(world.iam)).get('agr-s3')).toEqual({
      policies: ['dmm-aws-pack-1'],
      statements: [
        {
          Sid: sid,
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
          Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
          Condition: OWN_ACCOUNT,
        },
      ],
    });
  });

  it('glue_table from reference custom fields: an Athena query of exactly that table, results location from configuration', async () => {
    const world = await startWorld({
      athenaQueryResultsLocation: 's3://acme-athena-results/consumer/',
      mesh: {
        dataProducts: [
          dpsProduct('sales', { ports: [glueTablePort('tx-glue', 'sales', 'transactions', 'acme-sales-lake')] }),
          consumerProduct(),
        ],
        agreements: [agreement('agr-glue', 'sales', 'tx-glue', { active: true })],
      },
    });
    await world.sync();
    const grant = (await grantsOn(world.iam)).get('agr-glue');
    expect(grant?.policies).toEqual(['dmm-aws-pack-1']);
    const athena = {
      Effect: 'Allow',
      Action: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      Resource: `arn:aws:athena:eu-central-1:${ACCOUNT}:workgroup/primary`,
    };
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
          `arn:aws:glue:eu-central-1:${ACCOUNT}:catalog`,
          `arn:aws:glue:eu-central-1:${ACCOUNT}:database/sales`,
          `arn:aws:glue:eu-central-1:${ACCOUNT}:table/sales/transactions`,
        ],
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-sales-lake',
        // The port's own condition stays; the account condition is added next to it.
        Condition: {
          StringLike: { 's3:prefix': ['transactions/', 'transactions/*'] },
          StringEquals: { 's3:ResourceAccount': ACCOUNT },
        },
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject'],
        Resource: ['arn:aws:s3:::acme-sales-lake', 'arn:aws:s3:::acme-sales-lake/transactions/*'],
        Condition: OWN_ACCOUNT,
      },
      // The workgroup and the role's result folder are stored once per role: the first statement
      // is the member record naming the agreement, the others the bundle's body.
      { Sid: expect.stringMatching(/^DmmB[0-9a-f]{12}N1H6167722d676c7565$/), ...athena },
      {
        Sid: expect.stringMatching(/^DmmB[0-9a-f]{12}P2$/),
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-athena-results',
        Condition: {
          StringLike: { 's3:prefix': ['consumer/analytics-consumer/', 'consumer/analytics-consumer/*'] },
          ...OWN_ACCOUNT,
        },
      },
      {
        Sid: expect.stringMatching(/^DmmB[0-9a-f]{12}P3$/),
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [
          'arn:aws:s3:::acme-athena-results',
          'arn:aws:s3:::acme-athena-results/consumer/analytics-consumer/*',
        ],
        Condition: OWN_ACCOUNT,
      },
    ]);
    // Statement numbers are consecutive per agreement.
    expect(grant?.statements.slice(0, 3).map((s) => s.Sid!.replace(/^.*S/, ''))).toEqual(['1', '2', '3']);
  });

  it('s3 prefix from a DPS server block: list and read under the prefix only', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          dpsProduct('clicks', { ports: [s3ServerPort('clicks-s3', 's3://acme-clicks/curated/v1/')] }),
          consumerProduct(),
        ],
        agreements: [agreement('agr-prefix', 'clicks', 'clicks-s3', { active: true })],
      },
    });
    await world.sync();
    expect((await grantsOn(world.iam)).get('agr-prefix')?.statements).toEqual([
      {
        Sid: sid,
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-clicks',
        Condition: { StringLike: { 's3:prefix': ['curated/v1/', 'curated/v1/*'] }, ...OWN_ACCOUNT },
      },
      {
        Sid: sid,
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject'],
        Resource: ['arn:aws:s3:::acme-clicks', 'arn:aws:s3:::acme-clicks/curated/v1/*'],
        Condition: OWN_ACCOUNT,
      },
    ]);
  });

  it('s3 prefix from an ODPS server custom property, port named by name', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          odpsProduct('clicks', { ports: [odpsS3Port('clicks-s3', 's3://acme-clicks/curated/')] }),
          consumerProduct(),
        ],
        agreements: [agreement('agr-odps', 'clicks', 'clicks-s3', { active: true })],
      },
    });
    await world.sync();
    const resources = (await grantsOn(world.iam)).get('agr-odps')?.statements.flatMap((s) => s.Resource);
    expect(resources).toEqual([
      'arn:aws:s3:::acme-clicks',
      'arn:aws:s3:::acme-clicks',
      'arn:aws:s3:::acme-clicks/curated/*',
    ]);
  });

  it('several port types on one role share one pack, each agreement in its own Sid block', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [...providersOfEveryPortType(), consumerProduct()],
        agreements: [
          agreement('agr-a', 'orders', 'orders-s3', { active: true }),
          agreement('agr-b', 'sales', 'tx-glue', { active: true }),
          agreement('agr-c', 'clicks', 'clicks-s3', { active: true }),
        ],
      },
    });
    await world.sync();
    const grants = await grantsOn(world.iam);
    expect([...grants.keys()].sort()).toEqual(['agr-a', 'agr-b', 'agr-c']);
    for (const grant of grants.values()) expect(grant.policies).toEqual(['dmm-aws-pack-1']);
    expect(await policyNames(world.iam)).toEqual({ inline: ['dmm-aws-pack-1'], managed: [] });
    for (const id of ['agr-a', 'agr-b', 'agr-c'])
      expect(view(world, id).custom['aws-policy-name']).toBe('dmm-aws-pack-1');
  });
});

describe('consumer role', () => {
  const mesh = (custom: Record<string, string>) => ({
    dataProducts: [
      dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] }),
      consumerProduct('consumer', custom),
    ],
    agreements: [agreement('agr-1', 'orders', 'orders-s3', { active: true })],
  });

  it('from custom.aws-role-name', async () => {
    const world = await startWorld({ mesh: mesh({ 'aws-role-name': ROLE }) });
    await world.sync();
    expect((await grantsOn(world.iam, ROLE)).has('agr-1')).toBe(true);
    expect(view(world, 'agr-1').custom['aws-granted-role-arn']).toBe(ROLE_ARN);
  });

  it('from custom.aws-role-arn with a path; the recorded ARN keeps the path', async () => {
    const arn = `arn:aws:iam::${ACCOUNT}:role/data/teams/pathed-consumer`;
    const world = await startWorld({
      roles: [ROLE, { name: 'pathed-consumer', path: '/data/teams/' }],
      mesh: mesh({ 'aws-role-arn': arn }),
    });
    await world.sync();
    expect((await grantsOn(world.iam, 'pathed-consumer')).has('agr-1')).toBe(true);
    expect((await grantsOn(world.iam, ROLE)).size).toBe(0);
    expect(view(world, 'agr-1').custom['aws-granted-role-arn']).toBe(arn);
    expect((await provisioningOf(world, 'agr-1')).body?.reference).toBe(`${arn} (policies: dmm-aws-pack-1)`);

    world.sim.deactivate('agr-1');
    await world.sync();
    expect((await grantsOn(world.iam, 'pathed-consumer')).size).toBe(0);
  });
});
