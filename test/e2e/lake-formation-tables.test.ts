/**
 * Lake Formation-governed Glue tables through the core (local stand-ins, full reconcile and
 * events): many governed tables on one role share one set of identity statements, a port that
 * steps back to IAM keeps the IAM grant next to them, a converged reconcile writes nothing, and
 * the role explanation lists agreements that hold only shared statements.
 */
import { describe, expect, it } from 'vitest';
import { FileLakeFormation } from '../../src/local/file-lake-formation.js';
import type { LakeFormationResource } from '../../src/model/grants.js';
import { MemoryAgreementIndex } from '../../src/sync/agreement-index.js';
import { explainRole } from '../../src/sync/explain.js';
import { reconcileAgreement, reconcileAll } from '../../src/sync/reconcile.js';
import { sharedMemberships } from '../../src/targets/identity-policy/role-state.js';
import {
  ACCOUNT,
  agreement,
  consumerProduct,
  dpsProduct,
  glueTablePort,
  grantsOn,
  REGION,
  ROLE,
  ROLE_ARN,
  roleState,
  startWorld,
} from './harness.js';

const TABLES = ['orders', 'returns', 'invoices'];

async function governedWorld() {
  const iamPort = { ...glueTablePort('legacy', 'sales', 'legacy', 'acme-sales-lake') };
  iamPort.custom = { ...(iamPort.custom as Record<string, string>), 'aws-lake-formation': 'false' };
  const world = await startWorld({
    mesh: {
      dataProducts: [
        dpsProduct('sales', {
          ports: [...TABLES.map((t) => glueTablePort(t, 'sales', t, 'acme-sales-lake')), iamPort],
        }),
        consumerProduct(),
      ],
      agreements: [...TABLES, 'legacy'].map((t) => agreement(`agr-${t}`, 'sales', t, { active: true })),
    },
  });
  const lf = new FileLakeFormation();
  await lf.addDatabase(ACCOUNT, REGION, 'sales');
  for (const t of TABLES) await lf.addTable(ACCOUNT, REGION, 'sales', t);
  world.ctx = {
    ...world.ctx,
    lakeFormation: lf,
    agreementIndex: new MemoryAgreementIndex(),
    resolve: { ...world.ctx.resolve, glueTablesGovernedBy: 'lake-formation', defaultAthenaWorkgroup: 'primary' },
  };
  const on = (table?: string): LakeFormationResource =>
    table
      ? { kind: 'table', catalogId: ACCOUNT, region: REGION, database: 'sales', table }
      : { kind: 'database', catalogId: ACCOUNT, region: REGION, database: 'sales' };
  return { world, lf, on };
}

describe('Lake Formation-governed Glue tables through the core', () => {
  it('a full reconcile grants each table in Lake Formation and the role the generic statements once', async () => {
    const { world, lf, on } = await governedWorld();
    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.decision, o.effect])).toEqual(
      [...TABLES, 'legacy'].sort().map((t) => [`agr-${t}`, 'grant', 'granted']),
    );
    for (const t of TABLES) expect(await lf.listPermissions(ROLE_ARN, on(t))).toEqual(['DESCRIBE', 'SELECT']);
    expect(await lf.listPermissions(ROLE_ARN, on())).toEqual(['DESCRIBE']);

    // Two bundles: the Lake Formation one for the three governed tables, the IAM one (workgroup
    // and result folder) for the port that stepped back; the IAM agreement keeps its own S3 reads.
    const members = sharedMemberships((await roleState(world.iam)).packs);
    const bundles = new Set([...members.values()].map((m) => m.bundle));
    expect(bundles.size).toBe(2);
    const grants = await grantsOn(world.iam);
    expect(JSON.stringify(grants.get('agr-legacy')?.statements)).toContain('acme-sales-lake/legacy/*');
    for (const t of TABLES) {
      const held = JSON.stringify(grants.get(`agr-${t}`)?.statements);
      expect(held).toContain('lakeformation:GetDataAccess');
      expect(held).not.toContain('acme-sales-lake');
    }

    // Converged: nothing to write anywhere, and the role's explanation lists every agreement.
    const writes = world.writes.length;
    expect((await reconcileAll(world.ctx)).changes).toEqual([]);
    expect(world.writes.length).toBe(writes);
    const explained = await explainRole(world.ctx, ROLE);
    expect(explained.agreements.map((a) => [a.agreementId, a.effect])).toEqual(
      [...TABLES, 'legacy'].sort().map((t) => [`agr-${t}`, 'unchanged']),
    );
  });

  it('events revoke one table at a time; the generic statements go with the last governed table', async () => {
    const { world, lf, on } = await governedWorld();
    await reconcileAll(world.ctx);
    for (const [i, t] of TABLES.entries()) {
      world.sim.deactivate(`agr-${t}`);
      const outcome = await reconcileAgreement(world.ctx, `agr-${t}`);
      expect([outcome.decision, outcome.effect]).toEqual(['revoke', 'revoked']);
      expect(await lf.listPermissions(ROLE_ARN, on(t))).toEqual([]);
      const last = i === TABLES.length - 1;
      expect(await lf.listPermissions(ROLE_ARN, on())).toEqual(last ? [] : ['DESCRIBE']);
      const documents = (await world.iam.listInlinePolicies(ROLE)).map((p) => p.document).join();
      expect(documents.includes('lakeformation:GetDataAccess')).toBe(!last);
    }
    // The IAM agreement is untouched throughout.
    expect(JSON.stringify((await grantsOn(world.iam)).get('agr-legacy')?.statements)).toContain(
      'athena:StartQueryExecution',
    );
  });
});
