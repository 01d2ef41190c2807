import { describe, expect, it } from 'vitest';
import type { OutputPort } from '../../src/model/data-product.js';
import { identityStatements, sharedIdentityStatements } from '../../src/model/grants.js';
import { glueTable } from '../../src/output-ports/glue-table.js';
import { planPort } from '../../src/output-ports/registry.js';
import { CONSUMER, document, iamSize, OPTS, port } from './fixtures.js';

const ATHENA = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
  'athena:GetWorkGroup',
];
const GLUE = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'];
const KEY = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The reference integration's README example, filled in. */
function referencePort(extra: Record<string, string> = {}): OutputPort {
  return port({
    custom: {
      'output-port-type': 'glue_table',
      'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:111122223333:workgroup/primary',
      'aws-glue-catalog-arn': 'arn:aws:glue:eu-central-1:111122223333:catalog',
      'aws-glue-database-arn': 'arn:aws:glue:eu-central-1:111122223333:database/sales',
      'aws-glue-table-arn': 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
      'aws-s3-aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales/orders',
      ...extra,
    },
  });
}

const QUERY = {
  Effect: 'Allow',
  Action: ATHENA,
  Resource: 'arn:aws:athena:eu-central-1:111122223333:workgroup/primary',
};
const METADATA = {
  Effect: 'Allow',
  Action: GLUE,
  Resource: [
    'arn:aws:glue:eu-central-1:111122223333:catalog',
    'arn:aws:glue:eu-central-1:111122223333:database/sales',
    'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
  ],
};

const LIST_DATA = {
  Effect: 'Allow',
  Action: 's3:ListBucket',
  Resource: 'arn:aws:s3:::acme-lake',
  Condition: { StringLike: { 's3:prefix': ['sales/orders/', 'sales/orders/*'] } },
};
/** GetBucketLocation on the buckets, GetObject on the data: one statement (see locateAndRead). */
function locateAndRead(...buckets: string[]) {
  return {
    Effect: 'Allow',
    Action: ['s3:GetBucketLocation', 's3:GetObject'],
    Resource: [...buckets.map((b) => `arn:aws:s3:::${b}`), 'arn:aws:s3:::acme-lake/sales/orders/*'],
  };
}

describe('glue_table', () => {
  it('grants what an Athena query needs, without a result location (managed query results)', () => {
    const plan = planPort(referencePort(), OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('glue_table');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual({
      Version: '2012-10-17',
      Statement: [METADATA, LIST_DATA, locateAndRead('acme-lake')],
    });
    // The workgroup is the same for every table the role queries: stored once per role.
    expect(plan.ok && sharedIdentityStatements(plan.grants)).toEqual([QUERY]);
    expect(plan.ok && iamSize(identityStatements(plan.grants))).toBe(649);
    expect(plan.ok && plan.summary).toBe(
      'Query Glue table sales.orders (eu-central-1, account 111122223333) with Athena workgroup primary and read its data in s3://acme-lake/sales/orders/; no query-result location is configured, so the workgroup must use managed query results.',
    );
  });

  it('adds the configured result location (read/write under its prefix only) and kms:Decrypt for the port key', () => {
    const opts = { ...OPTS, athenaQueryResultsLocation: 's3://acme-athena-results/analytics/' };
    const plan = planPort(referencePort({ 'aws-kms-key-arn': KEY }), opts, CONSUMER);
    const statements = plan.ok ? identityStatements(plan.grants) : [];
    expect(plan.ok && sharedIdentityStatements(plan.grants)).toEqual([
      QUERY,
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-athena-results',
        Condition: { StringLike: { 's3:prefix': ['analytics/', 'analytics/*'] } },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        Resource: ['arn:aws:s3:::acme-athena-results', 'arn:aws:s3:::acme-athena-results/analytics/*'],
      },
    ]);
    expect(document(statements)).toEqual({
      Version: '2012-10-17',
      Statement: [
        METADATA,
        LIST_DATA,
        locateAndRead('acme-lake'),
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEY,
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
        },
      ],
    });
    expect(plan.ok && plan.summary).toContain(
      '; write query results to s3://acme-athena-results/analytics/; decrypt with KMS key',
    );
    // The agreement's own part; the query and result statements are stored once per role.
    expect(iamSize(statements)).toBe(863);
  });

  it("data and results in one bucket: the data listing stays the agreement's, the results listing is shared", () => {
    const plan = planPort(referencePort(), { ...OPTS, athenaQueryResultsLocation: 's3://acme-lake/athena/' }, CONSUMER);
    expect(plan.ok && identityStatements(plan.grants).slice(1)).toEqual([LIST_DATA, locateAndRead('acme-lake')]);
    expect(plan.ok && sharedIdentityStatements(plan.grants).slice(1)).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-lake',
        Condition: { StringLike: { 's3:prefix': ['athena/', 'athena/*'] } },
      },
      {
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        Resource: ['arn:aws:s3:::acme-lake', 'arn:aws:s3:::acme-lake/athena/*'],
      },
    ]);
  });

  it('reads the same grant from a server block, with the default region and the operator’s default workgroup', () => {
    const p = port({
      type: 'glue',
      server: {
        account: '1111-2222-3333',
        database: 'Sales',
        table: 'orders',
        location: 's3://acme-lake/sales/orders/',
      },
    });
    const withDefault = { ...OPTS, defaultAthenaWorkgroup: 'primary' };
    expect(planPort(p, withDefault, CONSUMER)).toEqual(planPort(referencePort(), OPTS, CONSUMER));
    // No implicit `primary`: without a workgroup from the port or the operator, nothing is granted.
    expect(planPort(p, OPTS, CONSUMER)).toEqual({
      ok: false,
      field: 'server.workgroup',
      problem:
        'server.workgroup is missing: the port names no Athena workgroup (server.workgroup or custom.aws-athena-workgroup-arn) and the operator configured no default (glue.athenaWorkgroup, DMM_ATHENA_WORKGROUP, Terraform athena_workgroup)',
    });
  });

  it('grants an Athena port or ODCS athena server exactly as the Glue table it names (stagingDir is never granted)', () => {
    const p = port({
      type: 'athena',
      server: {
        type: 'athena',
        catalog: 'AwsDataCatalog',
        schema: 'Sales',
        table: 'orders',
        regionName: 'eu-central-1',
        // From metadata, a results location would let a provider make consumers write anywhere.
        stagingDir: 's3://provider-chosen-bucket/results/',
        location: 's3://acme-lake/sales/orders/',
      },
    });
    const withDefault = { ...OPTS, defaultAthenaWorkgroup: 'primary' };
    const plan = planPort(p, withDefault, CONSUMER);
    expect(plan).toEqual(planPort(referencePort(), OPTS, CONSUMER));
    expect(JSON.stringify(plan)).not.toContain('provider-chosen-bucket');
    expect(
      planPort(port({ server: { type: 'athena', schema: 'sales', stagingDir: 's3://x/y/' } }), withDefault, CONSUMER),
    ).toMatchObject({
      ok: false,
      field: 'server.table',
    });
  });

  it('uses the server region and workgroup when given; the workgroup is always in the consumer account', () => {
    const p = port({
      type: 'glue',
      server: {
        account: '444455556666',
        region: 'eu-west-1',
        database: 'sales',
        table: 'orders',
        workgroup: 'analysts',
        location: 's3://acme-lake/sales/orders/',
      },
    });
    const resources = glueTable.resourcesFrom(p, OPTS);
    expect(resources.workgroup).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      account: '111122223333',
      name: 'analysts',
    });
    expect(resources.table).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      account: '444455556666',
      database: 'sales',
      table: 'orders',
    });
    expect(glueTable.summary(resources)).toContain('Cross-account: account 444455556666 must also allow this role');
  });

  it('uses the configured default workgroup', () => {
    const p = port({
      type: 'glue',
      server: { database: 'sales', table: 'orders', location: 's3://acme-lake/sales/orders/' },
    });
    expect(glueTable.resourcesFrom(p, { ...OPTS, defaultAthenaWorkgroup: 'consumers' }).workgroup.name).toBe(
      'consumers',
    );
  });

  it.each<[string, OutputPort, string, string]>([
    [
      'an S3 ARN in the table field (wrong service)',
      referencePort({ 'aws-glue-table-arn': 'arn:aws:s3:::acme-lake/sales/orders' }),
      'custom.aws-glue-table-arn',
      'must be a Glue table ARN',
    ],
    [
      'a database ARN in the table field (wrong resource type)',
      referencePort({ 'aws-glue-table-arn': 'arn:aws:glue:eu-central-1:111122223333:database/sales' }),
      'custom.aws-glue-table-arn',
      'must be a Glue table ARN',
    ],
    [
      'a wildcard table',
      referencePort({ 'aws-glue-table-arn': 'arn:aws:glue:eu-central-1:111122223333:table/sales/*' }),
      'custom.aws-glue-table-arn',
      'wildcards',
    ],
    [
      'a database ARN that is not the table’s',
      referencePort({ 'aws-glue-database-arn': 'arn:aws:glue:eu-central-1:111122223333:database/hr' }),
      'custom.aws-glue-database-arn',
      'is not the database of table',
    ],
    [
      'a workgroup in another account',
      referencePort({ 'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:444455556666:workgroup/primary' }),
      'custom.aws-athena-workgroup-arn',
      'cannot be used across accounts',
    ],
    [
      'no data location',
      port({
        custom: {
          'output-port-type': 'glue_table',
          'aws-glue-table-arn': 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
        },
      }),
      'server.location',
      "needs the table's S3 data location",
    ],
    [
      'no table',
      port({ type: 'glue', server: { database: 'sales', location: 's3://acme-lake/x/' } }),
      'server.table',
      'names Glue database sales but no table, and dmm-aws grants one table per port, never a whole database',
    ],
    [
      'a database ARN without a table',
      port({
        custom: {
          'output-port-type': 'glue_table',
          'aws-glue-database-arn': 'arn:aws:glue:eu-central-1:111122223333:database/sales',
          'aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/x',
        },
      }),
      'server.table',
      'names Glue database sales but no table',
    ],
    [
      'nothing naming a table or database',
      port({ type: 'glue', server: { location: 's3://acme-lake/x/' } }),
      'custom.aws-glue-table-arn',
      'needs its table',
    ],
    [
      'an Athena server on another data source',
      port({
        type: 'athena',
        server: { schema: 'sales', table: 'orders', catalog: 'dynamo_connector', location: 's3://acme-lake/x/' },
      }),
      'server.catalog',
      'grants only tables of the Glue Data Catalog',
    ],
    [
      'an Athena server whose schema and database disagree',
      port({
        type: 'athena',
        server: { schema: 'sales', database: 'hr', table: 'orders', location: 's3://acme-lake/x/' },
      }),
      'server.schema',
      'disagree',
    ],
    [
      'an ODCS template location',
      port({ type: 'glue', server: { database: 'sales', table: 'orders', location: 's3://acme-lake/{model}' } }),
      'server.location',
      'no fixed S3 prefix',
    ],
    [
      'server.table not a string',
      port({ type: 'glue', server: { database: 'sales', table: 42, location: 's3://acme-lake/x/' } }),
      'server.table',
      'must be a string',
    ],
  ])('fails on %s', (_name, p, field, problem) => {
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('fails without a region when none is configured', () => {
    const p = port({ type: 'glue', server: { database: 'sales', table: 'orders', location: 's3://acme-lake/x/' } });
    expect(planPort(p, { accountId: '111122223333' }, CONSUMER)).toMatchObject({ ok: false, field: 'server.region' });
  });

  it('fails on an invalid result location in the tool configuration', () => {
    expect(
      planPort(referencePort(), { ...OPTS, athenaQueryResultsLocation: 's3://results/*' }, CONSUMER),
    ).toMatchObject({
      ok: false,
      field: 'athenaQueryResultsLocation (tool configuration)',
    });
  });
});
