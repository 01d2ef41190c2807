import { describe, expect, it } from 'vitest';
import type { Agreement } from '../../src/model/agreement.js';
import type { DataProduct } from '../../src/model/data-product.js';
import { DataProductFormatError, readDataProduct } from '../../src/model/read-data-product.js';
import { resolveAgreement, type ResolveOptions } from '../../src/sync/resolve.js';

const OPTS: ResolveOptions = {
  accountId: '111122223333',
  defaultRegion: 'eu-central-1',
  defaultAthenaWorkgroup: 'primary',
};

function agreement(partial: Partial<Agreement> = {}): Agreement {
  return {
    id: 'agr-1',
    status: 'approved',
    active: true,
    provider: { dataProductId: 'orders', outputPortId: 'orders-s3' },
    consumer: { dataProductId: 'analytics' },
    tags: [],
    custom: {},
    raw: {},
    ...partial,
  };
}

const provider = readDataProduct({
  id: 'orders',
  info: { title: 'Orders', owner: 'sales' },
  outputPorts: [
    {
      id: 'orders-s3',
      name: 'Orders files',
      custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
    },
    {
      id: 'orders-glue',
      name: 'Orders table',
      type: 'glue',
      server: { database: 'sales', table: 'orders', location: 's3://acme-lake/sales/orders/' },
    },
    { id: 'orders-snowflake', name: 'Orders in Snowflake', type: 'snowflake' },
    {
      id: 'orders-bad',
      name: 'Bad',
      custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::*' },
    },
  ],
});

function consumer(custom: Record<string, string>): DataProduct {
  return readDataProduct({ id: 'analytics', info: { title: 'Analytics', owner: 'bi' }, custom });
}

function lookups(...products: DataProduct[]) {
  const byId = new Map(products.map((p) => [p.id, p]));
  return { getDataProduct: async (id: string) => byId.get(id) };
}

const both = lookups(provider, consumer({ 'aws-role-name': 'analytics-reader' }));

describe('resolveAgreement: grants', () => {
  it('grants an active agreement on the consumer role', async () => {
    expect(await resolveAgreement(agreement(), both, OPTS)).toEqual({
      kind: 'grant',
      grant: {
        agreementId: 'agr-1',
        role: {
          name: 'analytics-reader',
          arn: 'arn:aws:iam::111122223333:role/analytics-reader',
          accountId: '111122223333',
        },
        portType: 's3_bucket',
        outputPortId: 'orders-s3',
        providerDataProductId: 'orders',
        providerTeamId: 'sales',
        consumerDataProductId: 'analytics',
        grants: [
          {
            target: 'identity-policy',
            statements: [
              {
                Effect: 'Allow',
                Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
                Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
              },
            ],
          },
          // Kept only when the bucket is in another member account of a hub (src/accounts/cross-account.ts).
          {
            target: 'resource-policy',
            resource: { service: 's3', arn: 'arn:aws:s3:::acme-orders', bucket: 'acme-orders' },
            statements: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::111122223333:role/analytics-reader' },
                Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
                Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
              },
            ],
            acrossAccounts: true,
          },
        ],
        summary: 'List and read all objects in s3://acme-orders/.',
        providerResources: [{ arn: 'arn:aws:s3:::acme-orders' }],
      },
    });
  });

  it('matches the output port by id or by name', async () => {
    const byName = await resolveAgreement(
      agreement({ provider: { dataProductId: 'orders', outputPortId: 'Orders table' } }),
      both,
      OPTS,
    );
    expect(byName.kind === 'grant' && [byName.grant.outputPortId, byName.grant.portType]).toEqual([
      'orders-glue',
      'glue_table',
    ]);
  });

  it('takes the role from aws-role-arn, keeping its path, in the configured partition', async () => {
    const arn = 'arn:aws-us-gov:iam::111122223333:role/data/analytics-reader';
    const products = lookups(provider, consumer({ 'aws-role-arn': arn }));
    const glue = agreement({ provider: { dataProductId: 'orders', outputPortId: 'orders-glue' } });
    const result = await resolveAgreement(glue, products, { ...OPTS, partition: 'aws-us-gov' });
    expect(result.kind === 'grant' && result.grant.role).toEqual({
      name: 'analytics-reader',
      arn,
      accountId: '111122223333',
    });
  });

  it('builds the role ARN from the name with the configured partition', async () => {
    const result = await resolveAgreement(
      agreement({ provider: { dataProductId: 'orders', outputPortId: 'orders-glue' } }),
      both,
      { ...OPTS, partition: 'aws-cn' },
    );
    expect(result.kind === 'grant' && result.grant.role.arn).toBe('arn:aws-cn:iam::111122223333:role/analytics-reader');
  });

  it('refuses a port ARN of another partition than the account', async () => {
    const result = await resolveAgreement(agreement(), both, { ...OPTS, partition: 'aws-cn' });
    expect(result).toMatchObject({
      kind: 'failed',
      field: 'custom.aws-s3-bucket-arn',
      reason: expect.stringContaining('is in AWS partition "aws"'),
    });
  });
});

describe('resolveAgreement: nothing to grant', () => {
  it.each<[string, Partial<Agreement>, string]>([
    [
      'requested',
      { status: 'requested', active: false },
      'Agreement agr-1 is not active (status: requested), so it grants nothing.',
    ],
    [
      'rejected',
      { status: 'rejected', active: false },
      'Agreement agr-1 is not active (status: rejected), so it grants nothing.',
    ],
    [
      'approved but ended',
      { status: 'approved', active: false },
      'Agreement agr-1 is not active (status: approved), so it grants nothing.',
    ],
    [
      'deleted provider port',
      { provider: { dataProductId: 'orders', outputPortId: 'unknown' } },
      'Agreement agr-1: the provider data product or its output port was deleted, so there is nothing to grant.',
    ],
    [
      'deleted provider product',
      { provider: { dataProductId: 'unknown', outputPortId: 'unknown' } },
      'Agreement agr-1: the provider data product or its output port was deleted, so there is nothing to grant.',
    ],
    [
      'provider product gone (404)',
      { provider: { dataProductId: 'gone', outputPortId: 'x' } },
      'Agreement agr-1: provider data product gone no longer exists (deleted), so there is nothing to grant.',
    ],
    [
      'consumer product gone (404)',
      { consumer: { dataProductId: 'gone' } },
      'Agreement agr-1: consumer data product gone no longer exists (deleted), so there is nothing to grant.',
    ],
  ])('%s', async (_name, partial, reason) => {
    expect(await resolveAgreement(agreement(partial), both, OPTS)).toEqual({ kind: 'none', reason });
  });
});

describe('resolveAgreement: failures name product, port and field', () => {
  it("a team consumer: its role from the team's custom fields; a deleted team grants nothing", async () => {
    const teams = (custom?: Record<string, unknown>) => ({
      ...both,
      getTeam: async (id: string) => (custom ? { id, raw: { id, custom } } : undefined),
    });
    const teamAgreement = agreement({ consumer: { teamId: 'bi-team' } });
    const granted = await resolveAgreement(teamAgreement, teams({ 'aws-role-name': 'bi-reader', other: 7 }), OPTS);
    expect(granted.kind === 'grant' && granted.grant).toMatchObject({
      role: { name: 'bi-reader', arn: 'arn:aws:iam::111122223333:role/bi-reader' },
      consumerTeamId: 'bi-team',
    });
    expect(granted.kind === 'grant' && granted.grant.consumerDataProductId).toBeUndefined();
    expect(await resolveAgreement(teamAgreement, teams(), OPTS)).toEqual({
      kind: 'none',
      reason: 'Agreement agr-1: consumer team bi-team no longer exists (deleted), so there is nothing to grant.',
    });
    // A role name that is not text is not a role name.
    expect(await resolveAgreement(teamAgreement, teams({ 'aws-role-name': ['admin'] }), OPTS)).toMatchObject({
      kind: 'failed',
      field: 'custom.aws-role-name',
    });
  });

  it('a user consumer has no role of their own', async () => {
    expect(await resolveAgreement(agreement({ consumer: { userId: 'alice' } }), both, OPTS)).toEqual({
      kind: 'failed',
      field: 'consumer.dataProductId',
      reason:
        'Agreement agr-1: the consumer is user alice, not a data product or a team, so there is no IAM role to grant access to: people get access through a team or data product role. Request access for a consumer data product or team with custom.aws-role-name instead.',
    });
  });

  it('a consumer without role fields', async () => {
    expect(await resolveAgreement(agreement(), lookups(provider, consumer({})), OPTS)).toEqual({
      kind: 'failed',
      field: 'custom.aws-role-name',
      reason:
        'Agreement agr-1: consumer data product analytics: custom.aws-role-name is not set, so there is no IAM role to grant access to (set aws-role-name or aws-role-arn).',
    });
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'an invalid role name',
      { 'aws-role-name': 'analytics/reader' },
      'custom.aws-role-name',
      'is not a valid IAM role name',
    ],
    [
      'a role ARN as the name',
      { 'aws-role-name': 'arn:aws:iam::111122223333:role/x' },
      'custom.aws-role-name',
      'put it in custom.aws-role-arn instead',
    ],
    ['a wildcard role', { 'aws-role-name': '*' }, 'custom.aws-role-name', 'wildcards'],
    [
      'a role in a foreign account',
      { 'aws-role-arn': 'arn:aws:iam::444455556666:role/x' },
      'custom.aws-role-arn',
      'this tool manages roles in account 111122223333',
    ],
    [
      'a user ARN',
      { 'aws-role-arn': 'arn:aws:iam::111122223333:user/alice' },
      'custom.aws-role-arn',
      'is not an IAM role ARN',
    ],
    [
      'name and ARN that disagree',
      { 'aws-role-name': 'a', 'aws-role-arn': 'arn:aws:iam::111122223333:role/b' },
      'custom.aws-role-name',
      'name different roles',
    ],
  ])('%s', async (_name, custom, field, problem) => {
    const result = await resolveAgreement(agreement(), lookups(provider, consumer(custom)), OPTS);
    expect(result).toMatchObject({ kind: 'failed', field, reason: expect.stringContaining(problem) });
    expect(result.kind === 'failed' && result.reason).toMatch(/^Agreement agr-1: consumer data product analytics: /);
  });

  it('a port that does not exist', async () => {
    expect(
      await resolveAgreement(
        agreement({ provider: { dataProductId: 'orders', outputPortId: 'orders-kafka' } }),
        both,
        OPTS,
      ),
    ).toEqual({
      kind: 'failed',
      field: 'provider.outputPortId',
      reason:
        'Agreement agr-1: provider data product orders has no output port with id or name "orders-kafka" (its ports: orders-s3, orders-glue, orders-snowflake, orders-bad).',
    });
  });

  it('a port of another platform is left to other integrations, not failed', async () => {
    expect(
      await resolveAgreement(
        agreement({ provider: { dataProductId: 'orders', outputPortId: 'orders-snowflake' } }),
        both,
        OPTS,
      ),
    ).toEqual({
      kind: 'none',
      notOurs: true,
      reason:
        'Agreement agr-1: output port orders-snowflake of orders is not an AWS port (type snowflake), so it is left to other integrations.',
    });
  });

  it('a wildcard ARN', async () => {
    expect(
      await resolveAgreement(
        agreement({ provider: { dataProductId: 'orders', outputPortId: 'orders-bad' } }),
        both,
        OPTS,
      ),
    ).toEqual({
      kind: 'failed',
      field: 'custom.aws-s3-bucket-arn',
      reason:
        'Agreement agr-1: output port orders-bad of provider data product orders: custom.aws-s3-bucket-arn must not contain wildcards or policy variables (*, ?, ${…}): got "arn:aws:s3:::*".',
    });
  });

  it('a malformed data product', async () => {
    const broken = {
      getDataProduct: async (id: string) => {
        if (id === 'orders')
          throw new DataProductFormatError('orders', 'outputPorts[0].id', 'must be a non-empty string');
        return consumer({ 'aws-role-name': 'r' });
      },
    };
    expect(await resolveAgreement(agreement(), broken, OPTS)).toEqual({
      kind: 'failed',
      field: 'outputPorts[0].id',
      reason: 'Agreement agr-1: Data product "orders": outputPorts[0].id: must be a non-empty string.',
    });
  });

  it('passes other lookup errors on, so the caller retries', async () => {
    const down = { getDataProduct: async () => Promise.reject(new Error('ECONNRESET')) };
    await expect(resolveAgreement(agreement(), down, OPTS)).rejects.toThrow('ECONNRESET');
  });

  it('ambiguous ports', async () => {
    const twice = readDataProduct({
      kind: 'DataProduct',
      apiVersion: 'v1.0.0',
      id: 'orders',
      outputPorts: [{ name: 'p' }, { name: 'p' }],
    });
    const result = await resolveAgreement(
      agreement({ provider: { dataProductId: 'orders', outputPortId: 'p' } }),
      lookups(twice, consumer({ 'aws-role-name': 'r' })),
      OPTS,
    );
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringContaining('ambiguous') });
  });
});
