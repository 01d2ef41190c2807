import { describe, expect, it } from 'vitest';
import { FileIamAccount } from '../../../src/local/file-iam-account.js';
import type { OutputPort } from '../../../src/model/data-product.js';
import { identityStatements } from '../../../src/model/grants.js';
import { planPort } from '../../../src/output-ports/registry.js';
import { applyChanges } from '../../../src/targets/identity-policy/apply.js';
import { iamCharacterCount } from '../../../src/interfaces/iam-account.js';
import { defaultGuardrails, constrainStatements } from '../../../src/sync/guardrails.js';
import { planRole } from '../../../src/targets/identity-policy/packing.js';
import { readRoleState } from '../../../src/targets/identity-policy/role-state.js';

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
    for (let n = 0; n < 50; n++) desired.set(uuid(n), statementsOf(port(n, n % 2 === 0 ? 'glue' : 's3')));

    const role = (await iam.getRole('consumer'))!;
    const plan = planRole({ state: await readRoleState(iam, role), desired, scope: 'all' });
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
});

function statementsOf(p: OutputPort) {
  const planned = planPort(p, OPTIONS, CONSUMER);
  if (!planned.ok) throw new Error(`${planned.field}: ${planned.problem}`);
  // As written in production: with the default guardrails' bucket-owner condition.
  return constrainStatements(identityStatements(planned.grants), defaultGuardrails(OPTIONS.accountId));
}
