import { describe, expect, it } from 'vitest';
import { FileIamAccount } from '../../../src/local/file-iam-account.js';
import type { PolicyStatement } from '../../../src/model/policy.js';
import { applyChanges } from '../../../src/targets/identity-policy/apply.js';
import { planRole, type RolePlanInput } from '../../../src/targets/identity-policy/packing.js';
import { agreementsOnRole, readRoleState, sharedMemberships } from '../../../src/targets/identity-policy/role-state.js';
import { MAX_RECORD_SID, sharedUnitFromSid } from '../../../src/targets/identity-policy/shared.js';

const ROLE = 'consumer';
const WORKGROUP: PolicyStatement = {
  Effect: 'Allow',
  Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution'],
  Resource: 'arn:aws:athena:eu-central-1:123456789012:workgroup/analytics',
};
const RESULTS: PolicyStatement = {
  Effect: 'Allow',
  Action: ['s3:GetObject', 's3:PutObject'],
  Resource: 'arn:aws:s3:::results/consumer/*',
};
const OTHER_WORKGROUP: PolicyStatement = { ...WORKGROUP, Resource: `${WORKGROUP.Resource as string}-2` };

const own = (n: number): PolicyStatement[] => [
  { Effect: 'Allow', Action: 'glue:GetTable', Resource: `arn:aws:glue:eu-central-1:123456789012:table/db/t${n}` },
];

async function account() {
  const iam = new FileIamAccount();
  await iam.createRole(ROLE);
  return iam;
}

async function converge(
  iam: FileIamAccount,
  desired: Map<string, PolicyStatement[]>,
  shared: Map<string, PolicyStatement[]>,
  scope: RolePlanInput['scope'] = 'all',
) {
  const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
  const plan = planRole({ state, desired, shared, scope });
  await applyChanges(iam, plan.changes);
  return plan;
}

async function statements(iam: FileIamAccount): Promise<PolicyStatement[]> {
  const docs = [
    ...(await iam.listInlinePolicies(ROLE)).map((p) => p.document),
    ...(await Promise.all((await iam.listAttachedPolicies(ROLE)).map((p) => iam.getManagedPolicyDocument(p.arn)))),
  ];
  return docs.flatMap((d) => (JSON.parse(d) as { Statement: PolicyStatement[] }).Statement);
}

const withoutSids = (list: PolicyStatement[]) => list.map(({ Sid: _sid, ...rest }) => rest);
const count = (list: PolicyStatement[], wanted: PolicyStatement) =>
  withoutSids(list).filter((s) => JSON.stringify(s) === JSON.stringify(wanted)).length;

describe('statements shared by several agreements on one role', () => {
  it('are stored once, with one member record naming every agreement that needs them', async () => {
    const iam = await account();
    const ids = ['a1', 'a2', 'a3'];
    const plan = await converge(
      iam,
      new Map(ids.map((id, n) => [id, own(n)])),
      new Map(ids.map((id) => [id, [WORKGROUP, RESULTS]])),
    );
    for (const id of ids) expect(plan.effects.get(id)).toBe('granted');
    const all = await statements(iam);
    expect(count(all, WORKGROUP)).toBe(1);
    expect(count(all, RESULTS)).toBe(1);
    const record = all.find((s) => sharedUnitFromSid(s.Sid)?.record !== undefined);
    expect(sharedUnitFromSid(record!.Sid)?.members).toEqual(ids);
    // The body's Sid names no agreement: only the record says who needs it.
    expect(all.find((s) => s.Resource === RESULTS.Resource)?.Sid).toMatch(/^DmmB[0-9a-f]{12}P2$/);
    expect(plan.placements.get('a2')).toEqual(['dmm-aws-pack-1']);
  });

  it('stay while another agreement needs them and go with the last one (events know only their own agreement)', async () => {
    const iam = await account();
    await converge(
      iam,
      new Map([
        ['a1', own(1)],
        ['a2', own(2)],
      ]),
      new Map([
        ['a1', [WORKGROUP, RESULTS]],
        ['a2', [WORKGROUP, RESULTS]],
      ]),
    );
    const first = await converge(iam, new Map(), new Map(), new Set(['a1']));
    expect(first.effects.get('a1')).toBe('revoked');
    expect(first.changes).toHaveLength(1);
    expect(first.changes[0]!.agreementIds).toEqual(['a1']);
    let all = await statements(iam);
    expect(count(all, WORKGROUP)).toBe(1);
    expect(count(all, RESULTS)).toBe(1);
    expect(count(all, own(1)[0]!)).toBe(0);
    expect(count(all, own(2)[0]!)).toBe(1);
    const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
    expect([...sharedMemberships(state.packs).keys()]).toEqual(['a2']);

    const last = await converge(iam, new Map(), new Map(), new Set(['a2']));
    expect(last.effects.get('a2')).toBe('revoked');
    all = await statements(iam);
    expect(all).toEqual([]);
    expect(await iam.listInlinePolicies(ROLE)).toEqual([]);
  });

  it('an agreement with nothing but shared statements holds access through its record alone', async () => {
    const iam = await account();
    const plan = await converge(iam, new Map([['lf', []]]), new Map([['lf', [WORKGROUP]]]));
    expect(plan.effects.get('lf')).toBe('granted');
    const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
    expect(agreementsOnRole(state)).toEqual(new Set(['lf']));
    const again = await converge(iam, new Map([['lf', []]]), new Map([['lf', [WORKGROUP]]]));
    expect(again.changes).toEqual([]);
    expect(again.effects.get('lf')).toBe('unchanged');
    const gone = await converge(iam, new Map(), new Map(), new Set(['lf']));
    expect(gone.effects.get('lf')).toBe('revoked');
    expect(await statements(iam)).toEqual([]);
  });

  it('writes nothing when nothing changed, for an event and for a full reconcile', async () => {
    const iam = await account();
    const desired = new Map([
      ['a1', own(1)],
      ['a2', own(2)],
    ]);
    const shared = new Map([
      ['a1', [WORKGROUP, RESULTS]],
      ['a2', [WORKGROUP, RESULTS]],
    ]);
    await converge(iam, desired, shared);
    expect((await converge(iam, desired, shared)).changes).toEqual([]);
    const event = await converge(
      iam,
      new Map([['a1', own(1)]]),
      new Map([['a1', [WORKGROUP, RESULTS]]]),
      new Set(['a1']),
    );
    expect(event.changes).toEqual([]);
    expect(event.effects.get('a1')).toBe('unchanged');
  });

  it('an agreement whose shared statements change leaves the old bundle and joins the new one', async () => {
    const iam = await account();
    await converge(
      iam,
      new Map([
        ['a1', own(1)],
        ['a2', own(2)],
      ]),
      new Map([
        ['a1', [WORKGROUP]],
        ['a2', [WORKGROUP]],
      ]),
    );
    const moved = await converge(iam, new Map([['a1', own(1)]]), new Map([['a1', [OTHER_WORKGROUP]]]), new Set(['a1']));
    expect(moved.effects.get('a1')).toBe('updated');
    let all = await statements(iam);
    expect(count(all, WORKGROUP)).toBe(1); // a2 still needs it
    expect(count(all, OTHER_WORKGROUP)).toBe(1);
    await converge(iam, new Map([['a2', own(2)]]), new Map([['a2', [OTHER_WORKGROUP]]]), new Set(['a2']));
    all = await statements(iam);
    expect(count(all, WORKGROUP)).toBe(0);
    expect(count(all, OTHER_WORKGROUP)).toBe(1);
  });

  it('many members take several records, each with a bounded Sid', async () => {
    const iam = await account();
    const ids = Array.from({ length: 120 }, (_, n) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
    const plan = await converge(
      iam,
      new Map(ids.map((id) => [id, []])),
      new Map(ids.map((id) => [id, [WORKGROUP, RESULTS]])),
    );
    expect(plan.unplaced).toEqual(new Map());
    const all = await statements(iam);
    const records = all.filter((s) => sharedUnitFromSid(s.Sid)?.record !== undefined);
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect(r.Sid!.length).toBeLessThanOrEqual(MAX_RECORD_SID);
    expect(records.flatMap((r) => sharedUnitFromSid(r.Sid)!.members).sort()).toEqual(ids);
    expect(count(all, RESULTS)).toBe(1);
  });

  it('a full reconcile rewrites a hand-edited shared statement and drops records of agreements that are gone', async () => {
    const iam = await account();
    await converge(
      iam,
      new Map([
        ['a1', own(1)],
        ['a2', own(2)],
      ]),
      new Map([
        ['a1', [WORKGROUP, RESULTS]],
        ['a2', [WORKGROUP, RESULTS]],
      ]),
    );
    const [pack] = await iam.listInlinePolicies(ROLE);
    const doc = JSON.parse(pack!.document) as { Statement: PolicyStatement[] };
    // Someone widens the shared result statement by hand.
    for (const s of doc.Statement) if (s.Resource === RESULTS.Resource) s.Resource = 'arn:aws:s3:::results/*';
    await iam.putInlinePolicy(ROLE, pack!.name, JSON.stringify(doc));

    const plan = await converge(iam, new Map([['a2', own(2)]]), new Map([['a2', [WORKGROUP, RESULTS]]]));
    expect(plan.effects.get('a1')).toBe('revoked');
    expect(plan.effects.get('a2')).toBe('updated');
    const all = await statements(iam);
    expect(withoutSids(all)).toEqual([...own(2), WORKGROUP, RESULTS]);
  });

  it('an agreement that does not fit keeps nothing, and the others keep their shared statements', async () => {
    const iam = await account();
    const limits = { inlineCharacters: 700, managedCharacters: 400, attachedPolicies: 0 };
    const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
    const big = [
      { ...own(9)[0]!, Resource: Array.from({ length: 8 }, (_, i) => `arn:aws:glue:eu-central-1:1:table/db/x${i}`) },
    ];
    const plan = planRole({
      state,
      desired: new Map([
        ['a1', own(1)],
        ['a2', big],
      ]),
      shared: new Map([
        ['a1', [WORKGROUP]],
        ['a2', [WORKGROUP]],
      ]),
      scope: 'all',
      limits,
    });
    expect(plan.unplaced.has('a2')).toBe(true);
    expect(plan.effects.get('a1')).toBe('granted');
    await applyChanges(iam, plan.changes);
    const after = await readRoleState(iam, (await iam.getRole(ROLE))!);
    expect([...sharedMemberships(after.packs).keys()]).toEqual(['a1']);
    expect(agreementsOnRole(after)).toEqual(new Set(['a1']));
  });
});
