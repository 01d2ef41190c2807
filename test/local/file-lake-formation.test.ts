import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileLakeFormation } from '../../src/local/file-lake-formation.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { targetError, useTempDir } from './helpers.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const CONSUMER = `arn:aws:iam::${ACCOUNT}:role/dmm/consumer`;
const OTHER = `arn:aws:iam::${ACCOUNT}:role/other`;

const database: LakeFormationResource = { kind: 'database', catalogId: ACCOUNT, region: REGION, database: 'sales' };
const orders: LakeFormationResource = {
  kind: 'table',
  catalogId: ACCOUNT,
  region: REGION,
  database: 'sales',
  table: 'orders',
};
const returns: LakeFormationResource = { ...orders, table: 'returns' };

const newTempDir = useTempDir();

const modes = [
  ['in memory', async () => new FileLakeFormation()],
  ['file-backed', async () => new FileLakeFormation({ file: join(await newTempDir(), 'lake-formation.json') })],
] as const;

describe.each(modes)('FileLakeFormation %s', (_mode, create) => {
  let lf: FileLakeFormation;
  beforeEach(async () => {
    lf = await create();
    await lf.addDatabase(ACCOUNT, REGION, 'sales');
    await lf.addTable(ACCOUNT, REGION, 'sales', 'orders');
    await lf.addTable(ACCOUNT, REGION, 'sales', 'returns');
  });

  describe('grant and list', () => {
    it('lists nothing before a grant, then the permissions sorted', async () => {
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual([]);
      await lf.grant(CONSUMER, orders, ['SELECT', 'DESCRIBE']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE', 'SELECT']);
    });

    it('is idempotent and adds to what is held, without duplicates', async () => {
      await lf.grant(CONSUMER, orders, ['SELECT']);
      await lf.grant(CONSUMER, orders, ['SELECT', 'SELECT']);
      await lf.grant(CONSUMER, orders, ['DESCRIBE', 'SELECT']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE', 'SELECT']);
      expect((await lf.snapshot()).grants).toEqual([
        { principal: CONSUMER, resource: orders, permissions: ['DESCRIBE', 'SELECT'] },
      ]);
    });

    it('lists exactly that principal on exactly that resource', async () => {
      await lf.grant(CONSUMER, orders, ['SELECT']);
      await lf.grant(CONSUMER, database, ['DESCRIBE']);
      await lf.grant(OTHER, returns, ['INSERT']);
      await lf.addDatabase(ACCOUNT, 'eu-west-1', 'sales');
      await lf.addTable(ACCOUNT, 'eu-west-1', 'sales', 'orders');

      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['SELECT']);
      expect(await lf.listPermissions(CONSUMER, database)).toEqual(['DESCRIBE']);
      expect(await lf.listPermissions(CONSUMER, returns)).toEqual([]);
      expect(await lf.listPermissions(OTHER, orders)).toEqual([]);
      expect(await lf.listPermissions(OTHER, returns)).toEqual(['INSERT']);
      // Same names in another region: another table.
      expect(await lf.listPermissions(CONSUMER, { ...orders, region: 'eu-west-1' })).toEqual([]);
      // Role ARNs are compared exactly, path included.
      expect(await lf.listPermissions(`arn:aws:iam::${ACCOUNT}:role/consumer`, orders)).toEqual([]);
    });

    it('hands out copies', async () => {
      await lf.grant(CONSUMER, orders, ['SELECT']);
      (await lf.listPermissions(CONSUMER, orders)).push('DROP');
      (await lf.snapshot()).grants[0]!.permissions.push('DROP');
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['SELECT']);
    });

    it('accepts IAM users and roles with paths, in any partition', async () => {
      const principals = [
        `arn:aws:iam::${ACCOUNT}:user/alice`,
        `arn:aws:iam::${ACCOUNT}:role/a/b/c-role`,
        'arn:aws-cn:iam::210987654321:role/x',
      ];
      for (const principal of principals) await lf.grant(principal, orders, ['SELECT']);
      expect((await lf.snapshot()).grants.map((g) => g.principal)).toEqual([...principals].sort());
    });

    it('keeps what a caller passes in other fields out of the state', async () => {
      await lf.grant(CONSUMER, { ...orders, extra: 'x' } as LakeFormationResource, ['SELECT']);
      expect((await lf.snapshot()).grants[0]!.resource).toEqual(orders);
    });
  });

  describe('revoke', () => {
    it('removes only the given permissions, and the grant when none are left', async () => {
      await lf.grant(CONSUMER, orders, ['DESCRIBE', 'SELECT', 'INSERT']);
      await lf.revoke(CONSUMER, orders, ['INSERT', 'SELECT']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE']);
      await lf.revoke(CONSUMER, orders, ['DESCRIBE']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual([]);
      expect((await lf.snapshot()).grants).toEqual([]);
    });

    it('is success for permissions not held, changing nothing else', async () => {
      await lf.grant(CONSUMER, orders, ['SELECT']);
      await lf.revoke(CONSUMER, orders, ['DELETE']);
      await lf.revoke(OTHER, orders, ['SELECT']);
      await lf.revoke(CONSUMER, returns, ['SELECT']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['SELECT']);
    });

    it('does not touch the same permission on another resource', async () => {
      await lf.grant(CONSUMER, orders, ['DESCRIBE']);
      await lf.grant(CONSUMER, database, ['DESCRIBE']);
      await lf.revoke(CONSUMER, database, ['DESCRIBE']);
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE']);
    });
  });

  describe('refusals', () => {
    it('is NoSuchEntity for a database or table that does not exist', async () => {
      const missing: LakeFormationResource[] = [
        { ...database, database: 'marketing' },
        { ...orders, table: 'customers' },
        { ...orders, database: 'marketing' },
        { ...orders, catalogId: '210987654321' },
        { ...database, region: 'eu-west-1' },
      ];
      for (const resource of missing) {
        const permissions = resource.kind === 'table' ? ['SELECT'] : ['DESCRIBE'];
        for (const call of [
          lf.grant(CONSUMER, resource, permissions),
          lf.revoke(CONSUMER, resource, permissions),
          lf.listPermissions(CONSUMER, resource),
        ]) {
          const err = await targetError(call);
          expect(err.code).toBe('NoSuchEntity');
          expect(err.message).toMatch(/^EntityNotFoundException: (table|database) /);
        }
      }
      expect((await targetError(lf.grant(CONSUMER, { ...orders, table: 'customers' }, ['SELECT']))).message).toBe(
        `EntityNotFoundException: table sales.customers (${ACCOUNT}/${REGION}) does not exist.`,
      );
      expect((await lf.snapshot()).grants).toEqual([]);
    });

    it('knows which permissions each kind of resource has', async () => {
      for (const permission of ['SELECT', 'INSERT', 'DELETE', 'DESCRIBE', 'ALTER', 'DROP', 'ALL']) {
        await lf.grant(CONSUMER, orders, [permission]);
      }
      for (const permission of ['CREATE_TABLE', 'ALTER', 'DROP', 'DESCRIBE', 'ALL']) {
        await lf.grant(CONSUMER, database, [permission]);
      }
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual([
        'ALL',
        'ALTER',
        'DELETE',
        'DESCRIBE',
        'DROP',
        'INSERT',
        'SELECT',
      ]);
      expect(await lf.listPermissions(CONSUMER, database)).toEqual([
        'ALL',
        'ALTER',
        'CREATE_TABLE',
        'DESCRIBE',
        'DROP',
      ]);
    });

    it('is InvalidInput for a permission the resource does not have, and grants none of the request', async () => {
      const refused: [LakeFormationResource, string[]][] = [
        [orders, ['SELECT', 'CREATE_TABLE']],
        [orders, ['select']],
        [orders, ['SELECT', 'DATA_LOCATION_ACCESS']],
        [database, ['DESCRIBE', 'SELECT']],
        [database, ['INSERT']],
        [orders, []],
      ];
      for (const [resource, permissions] of refused) {
        const err = await targetError(lf.grant(CONSUMER, resource, permissions));
        expect(err.code, permissions.join()).toBe('InvalidInput');
        expect((await targetError(lf.revoke(CONSUMER, resource, permissions))).code).toBe('InvalidInput');
      }
      expect((await targetError(lf.grant(CONSUMER, orders, ['SELECT', 'CREATE_TABLE']))).message).toContain(
        'CREATE_TABLE',
      );
      expect((await lf.snapshot()).grants).toEqual([]);
    });

    it('is InvalidInput for a principal that is not an IAM role or user ARN', async () => {
      const refused = [
        'consumer',
        ACCOUNT,
        `arn:aws:iam::${ACCOUNT}:root`,
        `arn:aws:iam::${ACCOUNT}:group/analysts`,
        `arn:aws:iam::123:role/consumer`,
        `arn:aws:sts::${ACCOUNT}:assumed-role/consumer/session`,
        `arn:aws:iam::${ACCOUNT}:role/`,
        `arn:aws:iam::${ACCOUNT}:role/${'r'.repeat(65)}`,
        'IAM_ALLOWED_PRINCIPALS',
      ];
      for (const principal of refused) {
        expect((await targetError(lf.grant(principal, orders, ['SELECT']))).code, principal).toBe('InvalidInput');
        expect((await targetError(lf.listPermissions(principal, orders))).code, principal).toBe('InvalidInput');
      }
      expect((await lf.snapshot()).grants).toEqual([]);
    });

    it('is InvalidInput for a malformed catalog id or region, before looking the resource up', async () => {
      for (const resource of [
        { ...orders, catalogId: '1234' },
        { ...orders, region: 'Frankfurt' },
        { ...orders, table: '' },
      ]) {
        expect((await targetError(lf.grant(CONSUMER, resource, ['SELECT']))).code, JSON.stringify(resource)).toBe(
          'InvalidInput',
        );
      }
    });
  });

  describe('catalog', () => {
    it('lower-cases names as Glue does, and refuses duplicates', async () => {
      expect(await lf.addDatabase(ACCOUNT, REGION, 'Marketing')).toEqual({
        catalogId: ACCOUNT,
        region: REGION,
        database: 'marketing',
      });
      expect(await lf.addTable(ACCOUNT, REGION, 'MARKETING', 'Leads')).toEqual({
        catalogId: ACCOUNT,
        region: REGION,
        database: 'marketing',
        table: 'leads',
      });
      expect((await targetError(lf.addDatabase(ACCOUNT, REGION, 'sales'))).code).toBe('EntityAlreadyExists');
      expect((await targetError(lf.addTable(ACCOUNT, REGION, 'sales', 'Orders'))).code).toBe('EntityAlreadyExists');
      await lf.grant(CONSUMER, { ...orders, database: 'marketing', table: 'leads' }, ['SELECT']);
    });

    it('adds a table only to an existing database, and refuses names Glue refuses', async () => {
      expect((await targetError(lf.addTable(ACCOUNT, REGION, 'marketing', 'leads'))).code).toBe('NoSuchEntity');
      expect((await targetError(lf.addDatabase(ACCOUNT, REGION, 'bad name'))).code).toBe('InvalidInput');
      expect((await targetError(lf.addDatabase('1234', REGION, 'x'))).code).toBe('InvalidInput');
      expect((await targetError(lf.addDatabase(ACCOUNT, 'nowhere', 'x'))).code).toBe('InvalidInput');
      expect((await targetError(lf.addTable(ACCOUNT, REGION, 'sales', 'orders*'))).code).toBe('InvalidInput');
      const { databases, tables } = await lf.snapshot();
      expect(databases.map((d) => d.database)).toEqual(['sales']);
      expect(tables.map((t) => t.table)).toEqual(['orders', 'returns']);
    });

    it('removes a table with the permissions on it, and a database with its tables', async () => {
      await lf.grant(CONSUMER, orders, ['SELECT']);
      await lf.grant(CONSUMER, returns, ['SELECT']);
      await lf.grant(CONSUMER, database, ['DESCRIBE']);
      await lf.removeTable(ACCOUNT, REGION, 'sales', 'orders');
      expect((await targetError(lf.listPermissions(CONSUMER, orders))).code).toBe('NoSuchEntity');
      expect(await lf.listPermissions(CONSUMER, returns)).toEqual(['SELECT']);
      // Re-created, the table starts without permissions.
      await lf.addTable(ACCOUNT, REGION, 'sales', 'orders');
      expect(await lf.listPermissions(CONSUMER, orders)).toEqual([]);

      await lf.removeDatabase(ACCOUNT, REGION, 'sales');
      expect(await lf.snapshot()).toEqual({ databases: [], tables: [], grants: [] });
      expect((await targetError(lf.removeDatabase(ACCOUNT, REGION, 'sales'))).code).toBe('NoSuchEntity');
      expect((await targetError(lf.removeTable(ACCOUNT, REGION, 'sales', 'orders'))).code).toBe('NoSuchEntity');
    });

    it('shows databases, tables and grants sorted in a snapshot', async () => {
      await lf.addDatabase(ACCOUNT, REGION, 'archive');
      await lf.grant(OTHER, orders, ['SELECT']);
      await lf.grant(CONSUMER, returns, ['SELECT']);
      await lf.grant(CONSUMER, orders, ['SELECT']);
      const snapshot = await lf.snapshot();
      expect(snapshot.databases.map((d) => d.database)).toEqual(['archive', 'sales']);
      expect(snapshot.tables).toEqual([
        { catalogId: ACCOUNT, region: REGION, database: 'sales', table: 'orders' },
        { catalogId: ACCOUNT, region: REGION, database: 'sales', table: 'returns' },
      ]);
      expect(snapshot.grants.map((g) => [g.principal, g.resource.kind === 'table' && g.resource.table])).toEqual([
        [CONSUMER, 'orders'],
        [CONSUMER, 'returns'],
        [OTHER, 'orders'],
      ]);
    });
  });
});

describe('FileLakeFormation state file', () => {
  it('is shared by two instances on the same file', async () => {
    const file = join(await newTempDir(), 'state', 'lake-formation.json');
    const writer = new FileLakeFormation({ file });
    expect(writer.file).toBe(file);
    await writer.addDatabase(ACCOUNT, REGION, 'sales');
    await writer.addTable(ACCOUNT, REGION, 'sales', 'orders');
    await writer.grant(CONSUMER, orders, ['SELECT', 'DESCRIBE']);

    const reader = new FileLakeFormation({ file });
    expect(await reader.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE', 'SELECT']);
    await reader.revoke(CONSUMER, orders, ['SELECT']);
    expect(await writer.listPermissions(CONSUMER, orders)).toEqual(['DESCRIBE']);
    expect(await reader.snapshot()).toEqual(await writer.snapshot());
    expect(JSON.parse(await readFile(file, 'utf8')).format).toBe(1);
  });

  it('leaves the file untouched when a call is refused or changes nothing', async () => {
    const file = join(await newTempDir(), 'lake-formation.json');
    const lf = new FileLakeFormation({ file });
    await lf.addDatabase(ACCOUNT, REGION, 'sales');
    await lf.addTable(ACCOUNT, REGION, 'sales', 'orders');
    await lf.grant(CONSUMER, orders, ['SELECT']);
    const before = await readFile(file, 'utf8');
    await targetError(lf.grant(CONSUMER, orders, ['SELECT', 'CREATE_TABLE']));
    await targetError(lf.grant(CONSUMER, returns, ['SELECT']));
    await targetError(lf.addTable(ACCOUNT, REGION, 'sales', 'orders'));
    await lf.grant(CONSUMER, orders, ['SELECT']);
    await lf.revoke(CONSUMER, orders, ['INSERT']);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses a file it did not write, naming it', async () => {
    const file = join(await newTempDir(), 'lake-formation.json');
    await writeFile(
      file,
      JSON.stringify({
        format: 1,
        databases: [],
        tables: [],
        grants: [{ principal: CONSUMER, resource: orders, permissions: [] }],
      }),
    );
    await expect(new FileLakeFormation({ file }).snapshot()).rejects.toThrow(file);
  });

  it('keeps state in memory per instance without a file', async () => {
    const first = new FileLakeFormation();
    await first.addDatabase(ACCOUNT, REGION, 'sales');
    expect(first.file).toBeUndefined();
    expect(await new FileLakeFormation().snapshot()).toEqual({ databases: [], tables: [], grants: [] });
  });
});
