import { describe, expect, it } from 'vitest';
import type { OutputPort } from '../../src/model/data-product.js';
import { identityStatements, sharedIdentityStatements } from '../../src/model/grants.js';
import { planPort } from '../../src/output-ports/registry.js';
import { CONSUMER, OPTS, port } from './fixtures.js';

const GOVERNED = { ...OPTS, glueTablesGovernedBy: 'lake-formation' as const, defaultAthenaWorkgroup: 'analysts' };
const RESULTS = { ...GOVERNED, athenaQueryResultsLocation: 's3://acme-athena-results/consumers/consumer/' };

function gluePort(custom: Record<string, string> = {}, location = true): OutputPort {
  return port({
    type: 'glue',
    server: {
      account: '111122223333',
      database: 'sales',
      table: 'orders',
      ...(location ? { location: 's3://acme-lake/sales/orders/' } : {}),
    },
    custom,
  });
}

describe('glue_table governed by Lake Formation', () => {
  it('grants SELECT and DESCRIBE on the table, DESCRIBE on its database, and only shared identity statements', () => {
    const plan = planPort(gluePort(), RESULTS, CONSUMER);
    if (!plan.ok) throw new Error(plan.problem);
    expect(plan.grants.filter((g) => g.target === 'lake-formation')).toEqual([
      {
        target: 'lake-formation',
        resource: {
          kind: 'table',
          catalogId: '111122223333',
          region: 'eu-central-1',
          database: 'sales',
          table: 'orders',
        },
        permissions: ['SELECT', 'DESCRIBE'],
      },
      {
        target: 'lake-formation',
        resource: { kind: 'database', catalogId: '111122223333', region: 'eu-central-1', database: 'sales' },
        permissions: ['DESCRIBE'],
      },
    ]);
    // Nothing is the agreement's alone on the role: no S3 data, no table ARN.
    expect(identityStatements(plan.grants)).toEqual([]);
    const shared = sharedIdentityStatements(plan.grants);
    expect(shared.slice(0, 2)).toEqual([
      { Effect: 'Allow', Action: 'lakeformation:GetDataAccess', Resource: '*' },
      {
        Effect: 'Allow',
        Action: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
        ],
        Resource: [
          'arn:aws:glue:eu-central-1:111122223333:catalog',
          'arn:aws:glue:eu-central-1:111122223333:database/*',
          'arn:aws:glue:eu-central-1:111122223333:table/*/*',
        ],
      },
    ]);
    expect(shared[2]).toMatchObject({ Resource: 'arn:aws:athena:eu-central-1:111122223333:workgroup/analysts' });
    expect(JSON.stringify(shared)).not.toContain('acme-lake');
    expect(JSON.stringify(shared)).toContain('acme-athena-results/consumers/consumer/*');
    // Every governed table of the catalog needs the very same statements: stored once per role.
    const other = planPort(port({ type: 'glue', server: { database: 'hr', table: 'salaries' } }), RESULTS, CONSUMER);
    expect(other.ok && sharedIdentityStatements(other.grants)).toEqual(shared);
    expect(plan.summary).toBe(
      'Query Glue table sales.orders (eu-central-1, account 111122223333), governed by Lake Formation, with Athena workgroup analysts: Lake Formation SELECT and DESCRIBE on the table and DESCRIBE on database sales; the role may ask Lake Formation for data access and read the catalog metadata Lake Formation shows it; write query results to s3://acme-athena-results/consumers/consumer/.',
    );
  });

  it('needs no data location, and opens only the table to ownership proof', () => {
    const plan = planPort(gluePort({}, false), GOVERNED, CONSUMER);
    expect(plan.ok).toBe(true);
    expect(plan.ok && plan.providerResources.map((r) => r.arn)).toEqual([
      'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
    ]);
  });

  it('a port may step back to IAM (custom.aws-lake-formation: false): the IAM grant of that table', () => {
    const plan = planPort(gluePort({ 'aws-lake-formation': 'false' }), GOVERNED, CONSUMER);
    const iam = planPort(gluePort(), { ...GOVERNED, glueTablesGovernedBy: 'iam' }, CONSUMER);
    expect(plan).toEqual(iam);
    expect(plan.ok && plan.grants.some((g) => g.target === 'lake-formation')).toBe(false);
  });

  it('a port cannot switch Lake Formation on: the operator decides', () => {
    expect(planPort(gluePort({ 'aws-lake-formation': 'true' }), OPTS, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-lake-formation',
      problem: expect.stringContaining('only the operator can turn them on (glue.tablesGovernedBy: lake-formation'),
    });
    expect(planPort(gluePort({ 'aws-lake-formation': 'true' }), GOVERNED, CONSUMER)).toMatchObject({ ok: true });
  });

  it.each(['yes', '*', ''])('refuses custom.aws-lake-formation = %j', (value) => {
    expect(planPort(gluePort({ 'aws-lake-formation': value }), GOVERNED, CONSUMER)).toMatchObject({
      ok: false,
      field: 'custom.aws-lake-formation',
      problem: expect.stringContaining('must be true or false'),
    });
  });

  it('without the operator setting, ports keep the IAM grant (the default)', () => {
    const plan = planPort(gluePort(), { ...OPTS, defaultAthenaWorkgroup: 'analysts' }, CONSUMER);
    // Resource-policy grants apply only when the table is in another account (ADR 0010).
    const sameAccount = plan.ok ? plan.grants.filter((g) => !('acrossAccounts' in g && g.acrossAccounts)) : [];
    expect(sameAccount.map((g) => g.target)).toEqual(['identity-policy']);
  });
});
