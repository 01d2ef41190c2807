/**
 * HOLE (design): every glue_table grant opens the SAME configured query-result location to every
 * consumer role (src/output-ports/glue-table.ts statements(): ListBucket on the results prefix and
 * GetObject/PutObject/AbortMultipartUpload on `<results bucket>/<prefix>*`). Athena writes each
 * query's full result set there, so consumer A (agreement on sales.orders only) can list and read
 * the results of consumer B's queries on hr.salaries, and overwrite them: more access than A's
 * agreement says.
 *
 * Should: scope the result location per role (e.g. `<prefix><role-name>/`, with the role's
 * workgroup enforcing that output location), so A is denied B's results.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT, agreement, consumerProduct, dpsProduct, startWorld } from '../e2e/harness.js';
import { evaluatePolicies } from './helpers.js';

const RESULTS = 's3://acme-athena-results/consumers/';

describe('Athena query results are shared between consumers', () => {
  it("consumer A cannot read or overwrite consumer B's query results", async () => {
    const glue = (id: string, db: string, table: string) => ({
      id,
      name: id,
      type: 'glue',
      server: { type: 'glue', account: ACCOUNT, database: db, table, location: `s3://acme-lake/${db}/${table}/` },
    });
    const world = await startWorld({
      mesh: {
        dataProducts: [
          dpsProduct('sales', { ports: [glue('orders', 'sales', 'orders')] }),
          dpsProduct('hr', { ports: [glue('salaries', 'hr', 'salaries')] }),
          consumerProduct('a', { 'aws-role-name': 'consumer-a' }),
          consumerProduct('b', { 'aws-role-name': 'consumer-b' }),
        ],
        agreements: [
          agreement('agr-a', 'sales', 'orders', { consumer: 'a', active: true }),
          agreement('agr-b', 'hr', 'salaries', { consumer: 'b', active: true }),
        ],
      },
      roles: ['consumer-a', 'consumer-b'],
      athenaQueryResultsLocation: RESULTS,
    });
    await world.sync();
    const policiesOf = async (role: string) =>
      (await world.iam.listInlinePolicies(role)).map((p) => ({
        name: p.name,
        policy: JSON.parse(p.document) as unknown,
      }));
    const a = await policiesOf('consumer-a');
    // B ran a query on hr.salaries; Athena wrote its result here. A has no agreement on hr.salaries.
    const bResult = 'arn:aws:s3:::acme-athena-results/consumers/5f1c-query-of-b.csv';
    expect(
      await evaluatePolicies(
        a,
        { action: 's3:GetObject', resource: bResult },
        `arn:aws:iam::${ACCOUNT}:role/consumer-a`,
      ),
    ).toBe('ImplicitlyDenied');
    expect(
      await evaluatePolicies(
        a,
        { action: 's3:PutObject', resource: bResult },
        `arn:aws:iam::${ACCOUNT}:role/consumer-a`,
      ),
    ).toBe('ImplicitlyDenied');
    expect(
      await evaluatePolicies(
        a,
        {
          action: 's3:ListBucket',
          resource: 'arn:aws:s3:::acme-athena-results',
          context: { 's3:prefix': 'consumers/' },
        },
        `arn:aws:iam::${ACCOUNT}:role/consumer-a`,
      ),
    ).toBe('ImplicitlyDenied');
  });
});
