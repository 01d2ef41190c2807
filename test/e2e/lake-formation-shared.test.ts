/**
 * Lake Formation keeps one permission per role and table, however many agreements need it. Two
 * agreements of one consumer on one table share it through the core (event path, local stand-ins):
 * ending one keeps the permission, ending both revokes it, and a permission someone else granted
 * is never revoked.
 */
import { describe, expect, it } from 'vitest';
import { FileLakeFormation } from '../../src/local/file-lake-formation.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { PortFieldError, type PortType } from '../../src/output-ports/port-type.js';
import { PORT_TYPES } from '../../src/output-ports/registry.js';
import { MemoryAgreementIndex } from '../../src/sync/agreement-index.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';
import { ACCOUNT, agreement, consumerProduct, dpsProduct, REGION, ROLE_ARN, startWorld } from './harness.js';

/** Test only: read one table through Lake Formation (no production port type grants there yet). */
const lakeTable: PortType<LakeFormationResource> = {
  type: 'test_lake_table',
  describe: 'Test only: SELECT and DESCRIBE on one Lake Formation table.',
  technicalTypes: [],
  resourcesFrom(port) {
    const table = port.custom['test-table'];
    if (!table) throw new PortFieldError('custom.test-table', 'is required');
    return { kind: 'table', catalogId: ACCOUNT, region: REGION, database: 'sales', table };
  },
  grants: (table) => [{ target: 'lake-formation', resource: table, permissions: ['SELECT', 'DESCRIBE'] }],
  summary: (table) => `Read ${table.kind === 'table' ? table.table : table.database}.`,
  providerResources: () => [],
};

const port = (id: string, table: string) => ({
  id,
  name: id,
  custom: { 'output-port-type': 'test_lake_table', 'test-table': table },
});

async function lakeWorld() {
  const world = await startWorld({
    mesh: {
      dataProducts: [
        dpsProduct('orders', {
          ports: [port('orders-a', 'orders'), port('orders-b', 'orders'), port('returns', 'returns')],
        }),
        consumerProduct(),
      ],
      agreements: [
        agreement('agr-a', 'orders', 'orders-a'),
        agreement('agr-b', 'orders', 'orders-b'),
        agreement('agr-r', 'orders', 'returns'),
      ],
    },
  });
  const lf = new FileLakeFormation();
  await lf.addDatabase(ACCOUNT, REGION, 'sales');
  for (const table of ['orders', 'returns']) await lf.addTable(ACCOUNT, REGION, 'sales', table);
  const index = new MemoryAgreementIndex();
  world.ctx = {
    ...world.ctx,
    lakeFormation: lf,
    agreementIndex: index,
    resolve: { ...world.ctx.resolve, portTypes: [...PORT_TYPES, lakeTable] },
  };
  const table = (name: string): LakeFormationResource => ({
    kind: 'table',
    catalogId: ACCOUNT,
    region: REGION,
    database: 'sales',
    table: name,
  });
  return { world, lf, index, permissionsOn: (name: string) => lf.listPermissions(ROLE_ARN, table(name)), table };
}

describe('Lake Formation permissions shared by agreements', () => {
  it('ending one of two agreements keeps the permission; ending both revokes it', async () => {
    const { world, permissionsOn } = await lakeWorld();
    world.sim.approve('agr-a');
    expect(await reconcileAgreement(world.ctx, 'agr-a')).toMatchObject({ decision: 'grant', effect: 'granted' });
    // Already in place, granted by this tool for agr-a: agr-b records it as its own too.
    world.sim.approve('agr-b');
    const second = await reconcileAgreement(world.ctx, 'agr-b');
    expect([second.decision, second.changes]).toEqual(['grant', []]);
    expect(second.heldOnResources).toHaveLength(1);

    world.sim.deactivate('agr-a');
    const first = await reconcileAgreement(world.ctx, 'agr-a');
    expect([first.decision, first.changes]).toEqual(['revoke', []]);
    expect(await permissionsOn('orders')).toEqual(['DESCRIBE', 'SELECT']);

    world.sim.deactivate('agr-b');
    const last = await reconcileAgreement(world.ctx, 'agr-b');
    expect(last.changes.map((c) => [c.target, c.action])).toEqual([['lake-formation', 'revoke']]);
    expect(await permissionsOn('orders')).toEqual([]);
  });

  it('a permission someone else granted is neither recorded as ours nor revoked', async () => {
    const { world, lf, index, permissionsOn, table } = await lakeWorld();
    await lf.grant(ROLE_ARN, table('returns'), ['SELECT']);
    world.sim.approve('agr-r');
    const granted = await reconcileAgreement(world.ctx, 'agr-r');
    expect(granted.changes.map((c) => [c.action, 'permissions' in c ? c.permissions : []])).toEqual([
      ['grant', ['DESCRIBE']],
    ]);
    expect((await index.holdingsOf('agr-r'))?.filter((h) => h.startsWith('lakeformation:'))).toEqual([
      expect.stringContaining('"permissions":["DESCRIBE"]'),
    ]);

    world.sim.deactivate('agr-r');
    await reconcileAgreement(world.ctx, 'agr-r');
    expect(await permissionsOn('returns')).toEqual(['SELECT']);
  });
});
