import { CreateDatabaseCommand, CreateTableCommand } from '@aws-sdk/client-glue';
import {
  ListPermissionsCommand,
  type LakeFormationClient,
  type ListPermissionsResponse,
} from '@aws-sdk/client-lakeformation';
import { describe, expect, it } from 'vitest';
import { createGlueClient, createLakeFormationClient } from '../../src/aws/clients.js';
import { AwsLakeFormationPermissions, LAKE_FORMATION_ACTIONS_USED } from '../../src/aws/lake-formation.js';
import { TargetError } from '../../src/interfaces/target-error.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { MOTO_ACCOUNT, REGION, motoOptions, recordCommands, unique } from './moto.js';

const motoLakeFormation = (region = REGION) => createLakeFormationClient({ ...motoOptions(), region });

/** A role ARN: Lake Formation (and moto) take it as the principal without looking the role up. */
const role = () => `arn:aws:iam::${MOTO_ACCOUNT}:role/${unique('consumer')}`;

/** A Glue database with one table, as a provider's output port has them. */
async function glueTable(region = REGION): Promise<LakeFormationResource & { kind: 'table' }> {
  const glue = createGlueClient({ ...motoOptions(), region });
  const database = unique('sales');
  const table = unique('orders');
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: { Name: table } }));
  return { kind: 'table', catalogId: MOTO_ACCOUNT, region, database, table };
}

const databaseOf = (t: LakeFormationResource): LakeFormationResource => ({
  kind: 'database',
  catalogId: t.catalogId,
  region: t.region,
  database: t.database,
});

async function rejection(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

const awsError = (name: string, message = `${name} from AWS`) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

/** A client answering each call with the next of `answers` (a response, or an error to throw), recording the commands. */
function scripted(answers: (object | Error)[]): {
  client: LakeFormationClient;
  sent: ReturnType<typeof recordCommands>;
} {
  const client = motoLakeFormation();
  const queue = [...answers];
  client.send = (async () => {
    const answer = queue.shift();
    if (answer === undefined) throw new Error('unexpected call');
    if (answer instanceof Error) throw answer;
    return answer;
  }) as never;
  return { client, sent: recordCommands(client) };
}

describe('AwsLakeFormationPermissions on moto', () => {
  it('grants SELECT and DESCRIBE on a table, lists exactly those, and revokes them', async () => {
    const client = motoLakeFormation();
    const permissions = new AwsLakeFormationPermissions({ client });
    const table = await glueTable();
    const principal = role();
    expect(await permissions.listPermissions(principal, table)).toEqual([]);

    await permissions.grant(principal, table, ['SELECT', 'DESCRIBE']);
    expect(await permissions.listPermissions(principal, table)).toEqual(['DESCRIBE', 'SELECT']);

    await permissions.revoke(principal, table, ['SELECT']);
    expect(await permissions.listPermissions(principal, table)).toEqual(['DESCRIBE']);
    // Revoking what is not held is success (moto answers it so; AWS's refusal is below).
    await permissions.revoke(principal, table, ['SELECT']);
    await permissions.revoke(role(), table, ['SELECT', 'DESCRIBE']);
    expect(await permissions.listPermissions(principal, table)).toEqual(['DESCRIBE']);
    await permissions.revoke(principal, table, ['DESCRIBE']);
    expect(await permissions.listPermissions(principal, table)).toEqual([]);
  });

  /**
   * Not followed by a revoke: moto 5.2.1 merges a repeated grant into the stored one in place,
   * which can change its hash inside a set, and a later RevokePermissions on it then fails with
   * a KeyError (HTTP 500), depending on the server's string hash seed.
   */
  it('granting what is held is success and changes nothing', async () => {
    const permissions = new AwsLakeFormationPermissions({ client: motoLakeFormation() });
    const table = await glueTable();
    const principal = role();
    await permissions.grant(principal, table, ['SELECT', 'DESCRIBE']);
    await permissions.grant(principal, table, ['SELECT', 'DESCRIBE']);
    await permissions.grant(principal, table, ['SELECT']);
    expect(await permissions.listPermissions(principal, table)).toEqual(['DESCRIBE', 'SELECT']);
  });

  it('never grants with grant option, and sends the role ARN and the table as given', async () => {
    const client = motoLakeFormation();
    const sent = recordCommands(client);
    const table = await glueTable();
    const principal = role();
    await new AwsLakeFormationPermissions({ client }).grant(principal, table, ['SELECT']);
    expect(sent.inputs('GrantPermissionsCommand')).toEqual([
      {
        Principal: { DataLakePrincipalIdentifier: principal },
        Resource: { Table: { CatalogId: MOTO_ACCOUNT, DatabaseName: table.database, Name: table.table } },
        Permissions: ['SELECT'],
      },
    ]);
    const listed = await client.send(
      new ListPermissionsCommand({
        Principal: { DataLakePrincipalIdentifier: principal },
        Resource: { Table: { CatalogId: MOTO_ACCOUNT, DatabaseName: table.database, Name: table.table } },
      }),
    );
    expect(listed.PrincipalResourcePermissions?.map((p) => p.PermissionsWithGrantOption ?? [])).toEqual([[]]);
  });

  it("lists only the principal's permissions on exactly the resource: not another principal's, not the database's", async () => {
    const permissions = new AwsLakeFormationPermissions({ client: motoLakeFormation() });
    const table = await glueTable();
    const database = databaseOf(table);
    const principal = role();
    const other = role();
    await permissions.grant(principal, table, ['SELECT']);
    await permissions.grant(other, table, ['SELECT', 'DESCRIBE', 'ALTER']);
    await permissions.grant(principal, database, ['DESCRIBE']);

    expect(await permissions.listPermissions(principal, table)).toEqual(['SELECT']);
    expect(await permissions.listPermissions(principal, database)).toEqual(['DESCRIBE']);
    expect(await permissions.listPermissions(other, table)).toEqual(['ALTER', 'DESCRIBE', 'SELECT']);
    expect(await permissions.listPermissions(other, database)).toEqual([]);

    await permissions.revoke(principal, database, ['DESCRIBE']);
    expect(await permissions.listPermissions(principal, database)).toEqual([]);
    expect(await permissions.listPermissions(principal, table)).toEqual(['SELECT']);
  });

  it('without an injected client, each resource is addressed in its own region', async () => {
    const oregon = await glueTable('us-west-2');
    const principal = role();
    const permissions = new AwsLakeFormationPermissions({ clientOptions: motoOptions() });
    await permissions.grant(principal, oregon, ['SELECT']);
    expect(await permissions.listPermissions(principal, oregon)).toEqual(['SELECT']);
    // The same table named in another region holds nothing there.
    expect(await permissions.listPermissions(principal, { ...oregon, region: REGION })).toEqual([]);
    const listedInOregon = await motoLakeFormation('us-west-2').send(
      new ListPermissionsCommand({
        Principal: { DataLakePrincipalIdentifier: principal },
        Resource: { Table: { CatalogId: MOTO_ACCOUNT, DatabaseName: oregon.database, Name: oregon.table } },
      }),
    );
    expect(listedInOregon.PrincipalResourcePermissions?.[0]?.Permissions).toEqual(['SELECT']);
  });

  it('an empty permission list calls nothing', async () => {
    const client = motoLakeFormation();
    const sent = recordCommands(client);
    const permissions = new AwsLakeFormationPermissions({ client });
    const table = await glueTable();
    await permissions.grant(role(), table, []);
    await permissions.revoke(role(), table, []);
    expect(sent.names()).toEqual([]);
  });
});

/** AWS answers moto does not give: pagination, SELECT listed per column, refusals. */
describe('AwsLakeFormationPermissions against AWS-shaped answers', () => {
  const principal = `arn:aws:iam::${MOTO_ACCOUNT}:role/consumer`;
  const table: LakeFormationResource = {
    kind: 'table',
    catalogId: '111122223333',
    region: REGION,
    database: 'sales',
    table: 'orders',
  };
  const tableRef = { CatalogId: '111122223333', DatabaseName: 'sales', Name: 'orders' };

  it('follows NextToken and keeps only the exact table grant, including SELECT listed on all its columns', async () => {
    const page1: ListPermissionsResponse = {
      PrincipalResourcePermissions: [
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: tableRef },
          Permissions: ['DESCRIBE'],
          PermissionsWithGrantOption: [],
        },
        // AWS's form of SELECT on a whole table.
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { TableWithColumns: { ...tableRef, ColumnWildcard: {} } },
          Permissions: ['SELECT'],
        },
        // Other grants: another principal, some columns only, all tables, another catalog, a condition.
        {
          Principal: { DataLakePrincipalIdentifier: `${principal}-other` },
          Resource: { Table: tableRef },
          Permissions: ['ALTER'],
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { TableWithColumns: { ...tableRef, ColumnNames: ['id'] } },
          Permissions: ['INSERT'],
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { TableWithColumns: { ...tableRef, ColumnWildcard: { ExcludedColumnNames: ['ssn'] } } },
          Permissions: ['DROP'],
        },
      ],
      NextToken: 'page-2',
    };
    const page2: ListPermissionsResponse = {
      PrincipalResourcePermissions: [
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: { CatalogId: '111122223333', DatabaseName: 'sales', TableWildcard: {} } },
          Permissions: ['DELETE'],
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: { ...tableRef, CatalogId: '444455556666' } },
          Permissions: ['ALL'],
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: tableRef },
          Permissions: ['INSERT'],
          Condition: { Expression: 'context.x = 1' },
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Database: { CatalogId: '111122223333', Name: 'sales' } },
          Permissions: ['CREATE_TABLE'],
        },
        {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: tableRef },
          Permissions: ['SELECT'],
        },
      ],
    };
    const { client, sent } = scripted([page1, page2]);
    expect(await new AwsLakeFormationPermissions({ client }).listPermissions(principal, table)).toEqual([
      'DESCRIBE',
      'SELECT',
    ]);
    expect(sent.inputs('ListPermissionsCommand').map((i) => i.NextToken)).toEqual([undefined, 'page-2']);
    expect(sent.inputs('ListPermissionsCommand')[0]).toMatchObject({
      Principal: { DataLakePrincipalIdentifier: principal },
      Resource: { Table: tableRef },
    });
  });

  it('AWS\'s "No permissions revoked" is success; for several permissions each is then revoked alone', async () => {
    const nothing = () =>
      awsError(
        'InvalidInputException',
        'No permissions revoked. Grantee has no permissions and no grantable permissions on resource.',
      );
    const single = scripted([nothing()]);
    await new AwsLakeFormationPermissions({ client: single.client }).revoke(principal, table, ['SELECT']);
    expect(single.sent.names()).toEqual(['RevokePermissionsCommand']);

    const several = scripted([nothing(), {}, nothing()]);
    await new AwsLakeFormationPermissions({ client: several.client }).revoke(principal, table, ['SELECT', 'DESCRIBE']);
    expect(several.sent.inputs('RevokePermissionsCommand').map((i) => i.Permissions)).toEqual([
      ['SELECT', 'DESCRIBE'],
      ['SELECT'],
      ['DESCRIBE'],
    ]);
  });

  it.each([
    ['EntityNotFoundException', 'NoSuchEntity'],
    ['InvalidInputException', 'InvalidInput'],
    ['ConcurrentModificationException', 'ConcurrentModification'],
    ['AccessDeniedException', 'AccessDenied'],
    ['ThrottledException', 'Throttling'],
  ])('%s → %s, for list, grant and revoke', async (name, code) => {
    for (const call of [
      (p: AwsLakeFormationPermissions) => p.listPermissions(principal, table),
      (p: AwsLakeFormationPermissions) => p.grant(principal, table, ['SELECT']),
      (p: AwsLakeFormationPermissions) => p.revoke(principal, table, ['SELECT']),
    ]) {
      const { client } = scripted([awsError(name)]);
      const error = await rejection(call(new AwsLakeFormationPermissions({ client })));
      expect(error.code).toBe(code);
      expect(error.message).toContain(`${name} from AWS`);
      expect(error.message).toContain('table sales.orders');
    }
  });

  it('leaves errors without a known code as they are, to be retried', async () => {
    const failure = awsError('InternalServiceException');
    const { client } = scripted([failure]);
    await expect(new AwsLakeFormationPermissions({ client }).grant(principal, table, ['SELECT'])).rejects.toBe(failure);
  });

  it('LAKE_FORMATION_ACTIONS_USED', () => {
    expect([...LAKE_FORMATION_ACTIONS_USED].sort()).toEqual([
      'lakeformation:GrantPermissions',
      'lakeformation:ListPermissions',
      'lakeformation:RevokePermissions',
    ]);
  });
});
