/**
 * The agreement index: a deleted agreement leaves nothing in Data Mesh Manager that says where its
 * access was granted, so without the index its revocation reads every managed role. With it, the
 * roles it names are read and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { MemoryAgreementIndex, type AgreementIndex } from '../../src/sync/agreement-index.js';
import { reconcileAgreement } from '../../src/sync/reconcile.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ACCOUNT,
  ROLE,
  ROLE_ARN,
  agreement,
  bucketReadStatement,
  consumerProduct,
  dpsProduct,
  grantsOn,
  ordersProduct,
  s3BucketPort,
  startWorld,
  type World,
} from './harness.js';

const billing = () => dpsProduct('billing', { ports: [s3BucketPort('billing-s3', 'acme-billing')] });
/** Roles of other teams: a scan reads them all, the index never needs to. */
const BYSTANDERS = Array.from({ length: 12 }, (_, i) => `bystander-${i}`);
const REPORTING = 'reporting-consumer';
const REPORTING_ARN = `arn:aws:iam::${ACCOUNT}:role/${REPORTING}`;

/** Two active agreements of the analytics consumer, one of the reporting consumer, many other roles. */
async function indexedWorld(
  index: AgreementIndex = new MemoryAgreementIndex(),
): Promise<World & { listRolesCalls: () => number }> {
  const world = await startWorld({
    roles: [ROLE, REPORTING, ...BYSTANDERS],
    mesh: {
      dataProducts: [
        ordersProduct(),
        billing(),
        consumerProduct(),
        consumerProduct('reporting', { 'aws-role-name': REPORTING }),
      ],
      agreements: [
        agreement('agr-del', 'orders', 'orders-s3', { active: true }),
        agreement('agr-keep', 'billing', 'billing-s3', { active: true }),
        agreement('agr-report', 'orders', 'orders-s3', { active: true, consumer: 'reporting' }),
      ],
    },
  });
  world.ctx.agreementIndex = index;
  let calls = 0;
  const listRoles = world.iam.listRoles.bind(world.iam);
  world.iam.listRoles = () => {
    calls++;
    return listRoles();
  };
  return Object.assign(world, { listRolesCalls: () => calls });
}

function deleteAndSync(world: World, id: string) {
  world.sim.deleteAgreement(id);
  return world.sync();
}

describe('agreement index', () => {
  it("every applied change records where the agreement's statements are", async () => {
    const index = new MemoryAgreementIndex();
    const world = await indexedWorld(index);
    await world.settle();
    expect(index.snapshot()).toEqual({ 'agr-del': [ROLE_ARN], 'agr-keep': [ROLE_ARN], 'agr-report': [REPORTING_ARN] });

    world.sim.deactivate('agr-keep');
    await world.sync();
    expect(index.snapshot()).toEqual({ 'agr-keep': [], 'agr-del': [ROLE_ARN], 'agr-report': [REPORTING_ARN] });
  });

  it('a deleted agreement is revoked through the index without listing a single role', async () => {
    const world = await indexedWorld();
    await world.settle();
    const listedBefore = world.listRolesCalls();

    const run = await deleteAndSync(world, 'agr-del');
    expect(run.results.flatMap((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]))).toEqual([
      ['agr-del', 'revoke', 'revoked'],
    ]);
    expect(world.listRolesCalls() - listedBefore).toBe(0);
    const grants = await grantsOn(world.iam);
    expect([...grants.keys()]).toEqual(['agr-keep']);
    expect(grants.get('agr-keep')!.statements).toEqual([bucketReadStatement('agr-keep', 'acme-billing')]);
    expect([...(await grantsOn(world.iam, REPORTING)).keys()]).toEqual(['agr-report']);
    expect(await world.ctx.agreementIndex!.holdingsOf('agr-del')).toBeUndefined();
  });

  it('an agreement that ended and is then deleted needs no role scan either, and leaves no entry', async () => {
    const world = await indexedWorld();
    await world.settle();
    world.sim.deactivate('agr-keep');
    await world.settle();
    expect(await world.ctx.agreementIndex!.holdingsOf('agr-keep')).toEqual([]);
    const listedBefore = world.listRolesCalls();

    const run = await deleteAndSync(world, 'agr-keep');
    expect(run.results.flatMap((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]))).toEqual([
      ['agr-keep', 'none', 'absent'],
    ]);
    expect(world.listRolesCalls() - listedBefore).toBe(0);
    expect(await world.ctx.agreementIndex!.holdingsOf('agr-keep')).toBeUndefined();
  });

  it('with an empty index (grants made before it existed) a deleted agreement is still found, by a role scan', async () => {
    const world = await indexedWorld();
    await world.settle();
    // The index is lost (or the grant predates it): nothing names the agreement's role any more.
    world.ctx.agreementIndex = new MemoryAgreementIndex();
    const listedBefore = world.listRolesCalls();

    const run = await deleteAndSync(world, 'agr-del');
    expect(run.results.flatMap((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]))).toEqual([
      ['agr-del', 'revoke', 'revoked'],
    ]);
    expect(world.listRolesCalls() - listedBefore).toBe(1);
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-keep']);
  });

  it('a full reconcile rebuilds a lost index, after which deletions need no scan again', async () => {
    const world = await indexedWorld();
    await world.settle();
    // A ghost: statements of an agreement deleted while nothing was listening.
    const pack = JSON.parse((await world.iam.listInlinePolicies(ROLE))[0]!.document) as { Statement: unknown[] };
    await world.iam.putInlinePolicy(
      ROLE,
      'dmm-aws-pack-1',
      JSON.stringify({ Version: '2012-10-17', Statement: [...pack.Statement, bucketReadStatement('agr-ghost')] }),
    );
    const rebuilt = new MemoryAgreementIndex();
    // A stale entry the index still has for the ghost, on a role it never was on.
    await rebuilt.record('agr-ghost', [REPORTING_ARN]);
    world.ctx.agreementIndex = rebuilt;

    await reconcileAll(world.ctx, { dryRun: true });
    expect(rebuilt.snapshot()).toEqual({ 'agr-ghost': [REPORTING_ARN] });

    const result = await reconcileAll(world.ctx);
    expect(result.outcomes.map((o) => [o.agreementId, o.effect])).toEqual([
      ['agr-del', 'unchanged'],
      ['agr-ghost', 'revoked'],
      ['agr-keep', 'unchanged'],
      ['agr-report', 'unchanged'],
    ]);
    expect(rebuilt.snapshot()).toEqual({
      'agr-del': [ROLE_ARN],
      'agr-keep': [ROLE_ARN],
      'agr-report': [REPORTING_ARN],
    });

    const listedBefore = world.listRolesCalls();
    await deleteAndSync(world, 'agr-report');
    expect(world.listRolesCalls() - listedBefore).toBe(0);
    expect(await grantsOn(world.iam, REPORTING)).toEqual(new Map());
  });

  it('a dry run reads the index but writes nothing to it', async () => {
    const index = new MemoryAgreementIndex();
    const world = await indexedWorld(index);
    const plan = await reconcileAgreement(world.ctx, 'agr-del', { dryRun: true });
    expect(plan.decision).toBe('grant');
    expect(index.snapshot()).toEqual({});
  });

  it('an index that cannot be written does not fail the event: IAM is changed, the failure is logged', async () => {
    const world = await indexedWorld({
      holdingsOf: async () => undefined,
      list: async () => new Map(),
      record: async () => {
        throw new Error('AccessDenied: not allowed to write the index');
      },
      forget: async () => {
        throw new Error('AccessDenied: not allowed to write the index');
      },
    });
    await world.settle();
    expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-del', 'agr-keep']);
    const warnings = world.log.entries.filter(
      (e) => e.message === 'agreement index not updated; the next full reconcile repairs it',
    );
    // Each event of each agreement tries again (our own write-back echoes come back as events).
    expect([...new Set(warnings.map((e) => e.fields.agreementId))].sort()).toEqual([
      'agr-del',
      'agr-keep',
      'agr-report',
    ]);
    expect(warnings[0]!.fields.error).toContain('AccessDenied');
  });
});
