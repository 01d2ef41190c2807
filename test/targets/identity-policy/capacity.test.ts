import { describe, expect, it } from 'vitest';
import { FileIamAccount } from '../../../src/local/file-iam-account.js';
import type { OutputPort } from '../../../src/model/data-product.js';
import { identityStatements, sharedIdentityStatements } from '../../../src/model/grants.js';
import { planPort } from '../../../src/output-ports/registry.js';
import { applyChanges } from '../../../src/targets/identity-policy/apply.js';
import { iamCharacterCount } from '../../../src/interfaces/iam-account.js';
import { defaultGuardrails, constrainStatements } from '../../../src/sync/guardrails.js';
import { planRole } from '../../../src/targets/identity-policy/packing.js';
import { readRoleState, sharedMemberships } from '../../../src/targets/identity-policy/role-state.js';
import { MAX_RECORD_SID } from '../../../src/targets/identity-policy/shared.js';

const OPTIONS = {
  accountId: '123456789012',
  defaultRegion: 'eu-central-1',
  athenaQueryResultsLocation: 's3://acme-athena-results/consumers/',
};

function port(n: number, kind: 'glue' | 's3'): OutputPort {
  const glue = 'arn:aws:glue:eu-central-1:123456789012';
  const custom: Record<string, string> =
    kind === 's3'
      ? { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::provider-bucket-${n}` }
      : {
          'output-port-type': 'glue_table',
          'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:123456789012:workgroup/analytics',
          'aws-glue-catalog-arn': `${glue}:catalog`,
          'aws-glue-database-arn': `${glue}:database/sales_${n}`,
          'aws-glue-table-arn': `${glue}:table/sales_${n}/orders_${n}`,
          'aws-s3-aws-s3-folder-arn': `arn:aws:s3:::provider-lake-${n}/orders`,
        };
  return { id: `port-${n}`, name: `port-${n}`, custom };
}

const CONSUMER = { roleArn: `arn:aws:iam::${OPTIONS.accountId}:role/consumer`, account: OPTIONS.accountId };

const uuid = (n: number) => `5f0c1e2a-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('capacity of one consumer role', () => {
  it('serves 50 active agreements of mixed port types, within every IAM limit, and revokes one exactly', async () => {
    const iam = new FileIamAccount();
    await iam.createRole('consumer');
    const desired = new Map<string, ReturnType<typeof statementsOf>>();
    const shared = new Map<string, ReturnType<typeof statementsOf>>();
    for (let n = 0; n < 50; n++) {
      const p = port(n, n % 2 === 0 ? 'glue' : 's3');
      desired.set(uuid(n), statementsOf(p));
      shared.set(uuid(n), sharedOf(p));
    }

    const role = (await iam.getRole('consumer'))!;
    const plan = planRole({ state: await readRoleState(iam, role), desired, shared, scope: 'all' });
    expect(plan.unplaced).toEqual(new Map());
    await applyChanges(iam, plan.changes);

    const inline = await iam.listInlinePolicies('consumer');
    expect(inline.reduce((sum, p) => sum + iamCharacterCount(p.document), 0)).toBeLessThanOrEqual(10_240);
    const managed = await iam.listAttachedPolicies('consumer');
    expect(managed.length).toBeGreaterThan(0);
    expect(managed.length).toBeLessThanOrEqual(10);
    for (const ref of managed)
      expect(iamCharacterCount(await iam.getManagedPolicyDocument(ref.arn))).toBeLessThanOrEqual(6_144);

    const state = await readRoleState(iam, role);
    const held = new Map(state.packs.flatMap((p) => [...p.blocks]));
    expect(held.size).toBe(50);

    const victim = uuid(7);
    const revoke = planRole({ state, desired: new Map(), scope: new Set([victim]) });
    expect(revoke.changes).toHaveLength(1);
    await applyChanges(iam, revoke.changes);
    const after = new Map((await readRoleState(iam, role)).packs.flatMap((p) => [...p.blocks]));
    expect(after.has(victim)).toBe(false);
    for (const [id, statements] of held) if (id !== victim) expect(after.get(id)).toEqual(statements);
  });
  it('holds at least 50 IAM-only Glue agreements with the default bucket-owner condition (the query-result folder and workgroup stored once per role)', async () => {
    const { iam, role, held } = await fill(70, (n) => port(n, 'glue'));
    expect(held).toBeGreaterThanOrEqual(50);
    expect(held).toBeLessThan(70); // the role did fill up: this is its capacity, not the offer
    // Every Glue agreement queries through the same workgroup and result folder: the result
    // statements are stored once, the workgroup statement once per member record (35 agreements each).
    const statementsNow = async () => {
      const documents = [
        ...(await iam.listInlinePolicies('consumer')).map((p) => p.document),
        ...(await Promise.all(
          (await iam.listAttachedPolicies('consumer')).map((r) => iam.getManagedPolicyDocument(r.arn)),
        )),
      ];
      return documents.flatMap((d) => (JSON.parse(d) as { Statement: { Sid: string; Resource: unknown }[] }).Statement);
    };
    const statements = await statementsNow();
    const results = 'arn:aws:s3:::acme-athena-results/consumers/*';
    const holding = (list: typeof statements, resource: string) =>
      list.filter((s) => s.Resource === resource || (Array.isArray(s.Resource) && s.Resource.includes(resource)));
    expect(holding(statements, results)).toHaveLength(1);
    const workgroup = 'arn:aws:athena:eu-central-1:123456789012:workgroup/analytics';
    const records = holding(statements, workgroup);
    const perRecord = Math.floor((MAX_RECORD_SID - 'DmmB0123456789abN1'.length) / 'U'.concat('0'.repeat(32)).length);
    expect(records.length).toBe(Math.ceil(held / perRecord));
    for (const r of records) expect(r.Sid).toMatch(/^DmmB[0-9a-f]{12}N\d+(U[0-9a-f]{32})+$/);

    // Revoking one agreement (an event that knows nothing of the others) removes exactly its access.
    const before = await readRoleState(iam, role);
    const victim = uuid(3);
    const revoke = planRole({ state: before, desired: new Map(), scope: new Set([victim]) });
    await applyChanges(iam, revoke.changes);
    const after = await readRoleState(iam, role);
    const blocks = (state: typeof after) => new Map(state.packs.flatMap((p) => [...p.blocks]));
    expect(blocks(after).has(victim)).toBe(false);
    for (const [id, s] of blocks(before)) if (id !== victim) expect(blocks(after).get(id)).toEqual(s);
    expect([...sharedMemberships(after.packs).keys()].sort()).toEqual(
      [...sharedMemberships(before.packs).keys()].filter((id) => id !== victim).sort(),
    );
    expect(holding(await statementsNow(), results)).toHaveLength(1);
  });
  it('holds at least 500 Lake Formation table agreements: their identity statements are the same for all, stored once', async () => {
    const governed = { ...OPTIONS, glueTablesGovernedBy: 'lake-formation' as const };
    const iam = new FileIamAccount();
    await iam.createRole('consumer');
    const role = (await iam.getRole('consumer'))!;
    const desired = new Map<string, ReturnType<typeof statementsOf>>();
    const shared = new Map<string, ReturnType<typeof statementsOf>>();
    for (let n = 0; n < 600; n++) {
      const planned = planPort(port(n, 'glue'), governed, CONSUMER);
      if (!planned.ok) throw new Error(planned.problem);
      const guard = defaultGuardrails(OPTIONS.accountId);
      desired.set(uuid(n), constrainStatements(identityStatements(planned.grants), guard));
      shared.set(uuid(n), constrainStatements(sharedIdentityStatements(planned.grants), guard));
    }
    const plan = planRole({ state: await readRoleState(iam, role), desired, shared, scope: 'all' });
    expect(plan.unplaced).toEqual(new Map());
    await applyChanges(iam, plan.changes);
    const state = await readRoleState(iam, role);
    expect(sharedMemberships(state.packs).size).toBe(600);
    const inline = await iam.listInlinePolicies('consumer');
    expect(inline.reduce((sum, p) => sum + iamCharacterCount(p.document), 0)).toBeLessThanOrEqual(10_240);
    // 600 agreements take the inline budget and a few managed packs of the ten a role may have.
    expect((await iam.listAttachedPolicies('consumer')).length).toBeLessThanOrEqual(4);

    // One event revokes one agreement: one record is rewritten, everyone else keeps access.
    const victim = uuid(123);
    const revoke = planRole({ state, desired: new Map(), scope: new Set([victim]) });
    expect(revoke.changes).toHaveLength(1);
    expect(revoke.changes[0]!.agreementIds).toEqual([victim]);
    await applyChanges(iam, revoke.changes);
    const members = sharedMemberships((await readRoleState(iam, role)).packs);
    expect(members.size).toBe(599);
    expect(members.has(victim)).toBe(false);
  });
});

function grantsOf(p: OutputPort) {
  const planned = planPort(p, OPTIONS, CONSUMER);
  if (!planned.ok) throw new Error(`${planned.field}: ${planned.problem}`);
  return planned.grants;
}

// As written in production: with the default guardrails' bucket-owner condition.
function statementsOf(p: OutputPort) {
  return constrainStatements(identityStatements(grantsOf(p)), defaultGuardrails(OPTIONS.accountId));
}

function sharedOf(p: OutputPort) {
  return constrainStatements(sharedIdentityStatements(grantsOf(p)), defaultGuardrails(OPTIONS.accountId));
}

/** Offer `count` agreements of one kind to an empty role; returns how many it holds and the account. */
async function fill(count: number, portOf: (n: number) => OutputPort) {
  const iam = new FileIamAccount();
  await iam.createRole('consumer');
  const role = (await iam.getRole('consumer'))!;
  const desired = new Map<string, ReturnType<typeof statementsOf>>();
  const shared = new Map<string, ReturnType<typeof statementsOf>>();
  for (let n = 0; n < count; n++) {
    desired.set(uuid(n), statementsOf(portOf(n)));
    shared.set(uuid(n), sharedOf(portOf(n)));
  }
  const plan = planRole({ state: await readRoleState(iam, role), desired, shared, scope: 'all' });
  await applyChanges(iam, plan.changes);
  return { iam, role, held: count - plan.unplaced.size, desired, shared };
}
