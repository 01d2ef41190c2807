import { describe, expect, it } from 'vitest';
import { FileIamAccount } from '../../../src/local/file-iam-account.js';
import type { PolicyStatement } from '../../../src/model/policy.js';
import { applyChanges } from '../../../src/targets/identity-policy/apply.js';
import { iamCharacterCount } from '../../../src/interfaces/iam-account.js';
import {
  packCharacters,
  packDocument,
  planRole,
  type RolePlanInput,
} from '../../../src/targets/identity-policy/packing.js';
import { readRoleState } from '../../../src/targets/identity-policy/role-state.js';

const ROLE = 'consumer';

/** A realistic statement set of about `size` characters for agreement `n`. */
function statementsFor(n: number, resources = 1): PolicyStatement[] {
  return [
    { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: `arn:aws:s3:::bucket-${n}` },
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: Array.from({ length: resources }, (_, i) => `arn:aws:s3:::bucket-${n}/prefix-${i}/*`),
    },
  ];
}

async function account() {
  const iam = new FileIamAccount();
  await iam.createRole(ROLE);
  const role = (await iam.getRole(ROLE))!;
  return { iam, role };
}

async function converge(
  iam: FileIamAccount,
  desired: Map<string, PolicyStatement[]>,
  scope: RolePlanInput['scope'] = 'all',
) {
  const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
  const plan = planRole({ state, desired, scope });
  await applyChanges(iam, plan.changes);
  return plan;
}

describe('planRole', () => {
  it('puts a new agreement into an inline pack, marking each statement with its Sid', async () => {
    const { iam } = await account();
    const plan = await converge(iam, new Map([['a1', statementsFor(1)]]));
    expect(plan.effects.get('a1')).toBe('granted');
    expect(plan.changes).toHaveLength(1);
    const [policy] = await iam.listInlinePolicies(ROLE);
    expect(policy!.name).toBe('dmm-aws-pack-1');
    expect(JSON.parse(policy!.document)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DmmH6131S1',
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation'],
          Resource: 'arn:aws:s3:::bucket-1',
        },
        { Sid: 'DmmH6131S2', Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::bucket-1/prefix-0/*'] },
      ],
    });
  });

  it('writes nothing when the role already matches (idempotent)', async () => {
    const { iam } = await account();
    const desired = new Map([
      ['a1', statementsFor(1)],
      ['a2', statementsFor(2)],
    ]);
    await converge(iam, desired);
    const again = await converge(iam, desired);
    expect(again.changes).toEqual([]);
    expect(again.effects.get('a1')).toBe('unchanged');
  });

  it('revokes exactly one agreement and leaves the others byte-for-byte alone', async () => {
    const { iam } = await account();
    await converge(
      iam,
      new Map([
        ['a1', statementsFor(1)],
        ['a2', statementsFor(2)],
        ['a3', statementsFor(3)],
      ]),
    );
    const plan = await converge(iam, new Map(), new Set(['a2']));
    expect(plan.effects.get('a2')).toBe('revoked');
    const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
    const ids = state.packs.flatMap((p) => [...p.blocks.keys()]);
    expect(ids.sort()).toEqual(['a1', 'a3']);
    expect(state.packs[0]!.blocks.get('a1')!.map((s) => s.Resource)).toEqual([
      'arn:aws:s3:::bucket-1',
      ['arn:aws:s3:::bucket-1/prefix-0/*'],
    ]);
  });

  it('leaves agreements outside the scope untouched, even when they are not desired', async () => {
    const { iam } = await account();
    await converge(
      iam,
      new Map([
        ['a1', statementsFor(1)],
        ['a2', statementsFor(2)],
      ]),
    );
    const plan = await converge(iam, new Map([['a3', statementsFor(3)]]), new Set(['a3']));
    expect(plan.effects.get('a1')).toBeUndefined();
    const state = await readRoleState(iam, (await iam.getRole(ROLE))!);
    expect([...state.packs[0]!.blocks.keys()].sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('deletes a pack that becomes empty', async () => {
    const { iam } = await account();
    await converge(iam, new Map([['a1', statementsFor(1)]]));
    const plan = await converge(iam, new Map());
    expect(plan.changes.map((c) => [c.action, c.policyName])).toEqual([['delete', 'dmm-aws-pack-1']]);
    expect(await iam.listInlinePolicies(ROLE)).toEqual([]);
  });

  it('replaces a changed agreement in place of its old statements', async () => {
    const { iam } = await account();
    await converge(iam, new Map([['a1', statementsFor(1)]]));
    const plan = await converge(iam, new Map([['a1', statementsFor(9)]]), new Set(['a1']));
    expect(plan.effects.get('a1')).toBe('updated');
    const [policy] = await iam.listInlinePolicies(ROLE);
    expect(policy!.document).toContain('bucket-9');
    expect(policy!.document).not.toContain('bucket-1"');
  });

  it('adopts a reference-integration policy: statements move into a pack, the old policy goes', async () => {
    const { iam } = await account();
    const legacy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    await iam.putInlinePolicy(ROLE, 'DMM_DataUsageAgreement_a1', JSON.stringify(legacy));
    const plan = await converge(iam, new Map([['a1', statementsFor(1)]]), new Set(['a1']));
    expect(plan.effects.get('a1')).toBe('adopted');
    expect((await iam.listInlinePolicies(ROLE)).map((p) => p.name)).toEqual(['dmm-aws-pack-1']);
  });

  it('removes a reference-integration policy whose agreement is no longer active', async () => {
    const { iam } = await account();
    const legacy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
    };
    await iam.putInlinePolicy(ROLE, 'DMM_DataUsageAgreement_gone', JSON.stringify(legacy));
    const plan = await converge(iam, new Map());
    expect(plan.effects.get('gone')).toBe('revoked');
    expect(await iam.listInlinePolicies(ROLE)).toEqual([]);
  });

  it('never touches policies it does not own, and counts them against the inline budget', async () => {
    const { iam } = await account();
    const theirs = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: `arn:aws:s3:::b/${'x'.repeat(9_780)}` }],
    });
    await iam.putInlinePolicy(ROLE, 'team-own-policy', theirs);
    await converge(iam, new Map([['a1', statementsFor(1, 5)]]));
    expect((await iam.listInlinePolicies(ROLE)).map((p) => p.name)).toEqual(['team-own-policy']);
    const attached = await iam.listAttachedPolicies(ROLE);
    expect(attached.map((p) => p.name)).toEqual(['dmm-aws-consumer-1']);
    expect(attached[0]!.path).toBe('/dmm-aws/');
    expect((await iam.listInlinePolicies(ROLE))[0]!.document).toBe(theirs);
  });

  it('removes hand-added statements from its packs on a full reconcile', async () => {
    const { iam } = await account();
    await converge(iam, new Map([['a1', statementsFor(1)]]));
    const [pack] = await iam.listInlinePolicies(ROLE);
    const doc = JSON.parse(pack!.document);
    doc.Statement.push({ Effect: 'Allow', Action: 'iam:*', Resource: '*' });
    await iam.putInlinePolicy(ROLE, pack!.name, JSON.stringify(doc));
    const plan = await converge(iam, new Map([['a1', statementsFor(1)]]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.note).toMatch(/no agreement explains/);
    expect((await iam.listInlinePolicies(ROLE))[0]!.document).not.toContain('iam:*');
  });

  it('overflows into managed packs and reports a full role instead of failing the write', async () => {
    const { iam } = await account();
    const desired = new Map<string, PolicyStatement[]>();
    for (let n = 0; n < 200; n++) desired.set(`agreement-${String(n).padStart(3, '0')}`, statementsFor(n, 8));
    const plan = await converge(iam, desired);
    const inline = await iam.listInlinePolicies(ROLE);
    const managed = await iam.listAttachedPolicies(ROLE);
    expect(inline.reduce((sum, p) => sum + iamCharacterCount(p.document), 0)).toBeLessThanOrEqual(10_240);
    expect(managed).toHaveLength(10);
    expect(plan.unplaced.size).toBeGreaterThan(0);
    const [id, reason] = [...plan.unplaced][0]!;
    expect(plan.effects.get(id)).toBe('absent');
    expect(reason).toMatch(/has no room left.*10 of 10 managed-policy attachments/);
    expect(plan.placements.size + plan.unplaced.size).toBe(200);
  });
});

describe('packCharacters', () => {
  it('is the character count of the pack document as serialised, for empty, one-statement and mixed packs', () => {
    const sid = (id: string, statements: PolicyStatement[]) =>
      statements.map((s, i) => ({ Sid: `Dmm${id}S${i + 1}`, ...s }));
    const packs = [
      { blocks: new Map(), shared: new Map(), strays: [] },
      { blocks: new Map([['a', sid('a', statementsFor(1).slice(0, 1))]]), shared: new Map(), strays: [] },
      {
        blocks: new Map([
          ['b', sid('b', statementsFor(2, 3))],
          ['a', sid('a', statementsFor(1))],
        ]),
        shared: new Map([
          ['bundle', [{ Sid: 'DmmBundle', Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }]],
        ]),
        strays: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-central-1:1:ünïcödé-😀' }],
      },
    ] as Parameters<typeof packCharacters>[0][];
    for (const pack of packs) {
      expect(packCharacters(pack)).toBe(iamCharacterCount(JSON.stringify(packDocument(pack))));
    }
  });
});
