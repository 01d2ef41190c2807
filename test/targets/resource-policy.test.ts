import { describe, expect, it } from 'vitest';
import { RESOURCE_POLICY_LIMITS, type ResourcePolicies } from '../../src/interfaces/resource-policies.js';
import { TargetError } from '../../src/interfaces/target-error.js';
import { FileResourcePolicies } from '../../src/local/file-resource-policies.js';
import type { PolicyResource } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { lakeFormationHolding } from '../../src/targets/lake-formation.js';
import {
  applyResourcePolicyChanges,
  planResourcePolicy,
  policyResourceFromArn,
  readResourcePolicy,
  type ResourcePolicyState,
} from '../../src/targets/resource-policy.js';
import { statementSid } from '../../src/targets/sid.js';

const ROLE = 'arn:aws:iam::210987654321:role/consumer';
const BUCKET: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::acme-provider', bucket: 'acme-provider' };
const KEY: PolicyResource = {
  service: 'kms',
  arn: 'arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  region: 'eu-central-1',
  account: '123456789012',
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
};

const A1 = '640864de-83d4-4619-afba-ccea8037ed3a';
const A2 = '7a1b2c3d-0000-4000-8000-000000000002';
const A3 = '8a1b2c3d-0000-4000-8000-000000000003';

/** Deliberately odd key order, so any re-serialisation of the owner's statement would show. */
const OWNER_STATEMENT = {
  Principal: { AWS: 'arn:aws:iam::123456789012:root' },
  Sid: 'OwnerFullAccess',
  Effect: 'Allow',
  Resource: ['arn:aws:s3:::acme-provider', 'arn:aws:s3:::acme-provider/*'],
  Action: 's3:*',
};
const OWNER_POLICY = JSON.stringify({ Version: '2012-10-17', Id: 'acme-owner-policy', Statement: [OWNER_STATEMENT] });

function s3Read(prefix: string): PolicyStatement[] {
  return [
    {
      Effect: 'Allow',
      Principal: { AWS: ROLE },
      Action: ['s3:GetObject'],
      Resource: `arn:aws:s3:::acme-provider/${prefix}/*`,
    },
    {
      Effect: 'Allow',
      Principal: { AWS: ROLE },
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::acme-provider',
      Condition: { StringLike: { 's3:prefix': `${prefix}/*` } },
    },
  ];
}

function kmsDecrypt(): PolicyStatement[] {
  return [{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'kms:Decrypt', Resource: '*' }];
}

async function bucketWith(policy?: string): Promise<FileResourcePolicies> {
  const policies = new FileResourcePolicies();
  await policies.addResource(BUCKET, policy);
  return policies;
}

/** Writes `desired` for every agreement in it onto `resource` and returns the re-read state. */
async function grant(
  policies: ResourcePolicies,
  resource: PolicyResource,
  desired: Map<string, PolicyStatement[]>,
): Promise<ResourcePolicyState> {
  const plan = planResourcePolicy(await readResourcePolicy(policies, resource), desired, 'all');
  await applyResourcePolicyChanges(policies, plan.changes);
  return readResourcePolicy(policies, resource);
}

function parse(text: string | undefined): { Id?: string; Version?: string; Statement: Record<string, unknown>[] } {
  expect(text).toBeDefined();
  return JSON.parse(text as string);
}

describe('planResourcePolicy: granting into a policy the owner already has', () => {
  it("keeps the owner's statement first and byte-identical, appends ours with agreement Sids, keeps Id", async () => {
    const policies = await bucketWith(OWNER_POLICY);
    const state = await readResourcePolicy(policies, BUCKET);
    expect(state.exists).toBe(true);
    expect(state.blocks.size).toBe(0);

    const plan = planResourcePolicy(state, new Map([[A1, s3Read('sales')]]), 'all');
    expect(plan.changes).toHaveLength(1);
    const change = plan.changes[0]!;
    expect(change.action).toBe('put');
    expect(change.agreementIds).toEqual([A1]);
    expect(plan.effects.get(A1)).toBe('granted');
    expect(plan.holders).toEqual(new Set([A1]));
    expect(plan.holding).toBe(BUCKET.arn);

    const document = change.document as { Id: string; Version: string; Statement: unknown[] };
    expect(document.Id).toBe('acme-owner-policy');
    expect(document.Version).toBe('2012-10-17');
    expect(document.Statement).toHaveLength(3);
    expect(JSON.stringify(document.Statement[0])).toBe(JSON.stringify(OWNER_STATEMENT));
    const ours = document.Statement.slice(1) as PolicyStatement[];
    expect(ours.map((s) => s.Sid)).toEqual([statementSid(A1, 1), statementSid(A1, 2)]);
    expect(ours.map(({ Sid: _sid, ...rest }) => rest)).toEqual(s3Read('sales'));

    await applyResourcePolicyChanges(policies, plan.changes);
    const written = parse(await policies.getPolicy(BUCKET));
    expect(JSON.stringify(written.Statement[0])).toBe(JSON.stringify(OWNER_STATEMENT));
    expect(written.Id).toBe('acme-owner-policy');
  });

  it('replanning the resulting state with the same desired statements changes nothing', async () => {
    const policies = await bucketWith(OWNER_POLICY);
    const desired = new Map([
      [A2, s3Read('orders')],
      [A1, s3Read('sales')],
    ]);
    const state = await grant(policies, BUCKET, desired);
    expect([...state.blocks.keys()].sort()).toEqual([A1, A2].sort());

    const again = planResourcePolicy(state, desired, 'all');
    expect(again.changes).toEqual([]);
    expect(again.effects.get(A1)).toBe('unchanged');
    expect(again.effects.get(A2)).toBe('unchanged');
    expect(again.holders).toEqual(new Set([A1, A2]));
  });

  it('orders our statements by agreement id, whatever order desired lists them in', () => {
    const state: ResourcePolicyState = { resource: BUCKET, exists: false, header: {}, foreign: [], blocks: new Map() };
    const plan = planResourcePolicy(
      state,
      new Map([
        [A2, s3Read('orders')],
        [A1, s3Read('sales')],
      ]),
      'all',
    );
    const sids = (plan.changes[0]!.document!.Statement as PolicyStatement[]).map((s) => s.Sid);
    expect(sids).toEqual([statementSid(A1, 1), statementSid(A1, 2), statementSid(A2, 1), statementSid(A2, 2)]);
  });
});

describe('planResourcePolicy: revoking', () => {
  it("revoking the only agreement of a policy with owner statements puts back only the owner's", async () => {
    const policies = await bucketWith(OWNER_POLICY);
    const state = await grant(policies, BUCKET, new Map([[A1, s3Read('sales')]]));

    const plan = planResourcePolicy(state, new Map(), new Set([A1]));
    expect(plan.changes).toHaveLength(1);
    const change = plan.changes[0]!;
    expect(change.action).toBe('put');
    expect(change.agreementIds).toEqual([A1]);
    expect(change.document).toEqual({ Version: '2012-10-17', Id: 'acme-owner-policy', Statement: [OWNER_STATEMENT] });
    expect(plan.effects.get(A1)).toBe('revoked');
    expect(plan.holders.size).toBe(0);

    await applyResourcePolicyChanges(policies, plan.changes);
    expect(parse(await policies.getPolicy(BUCKET))).toEqual(JSON.parse(OWNER_POLICY));
  });

  it('deletes an S3 bucket policy that held only our statements', async () => {
    const policies = await bucketWith();
    const state = await grant(policies, BUCKET, new Map([[A1, s3Read('sales')]]));
    expect(state.foreign).toEqual([]);

    const plan = planResourcePolicy(state, new Map(), new Set([A1]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.action).toBe('delete');
    expect(plan.changes[0]!.document).toBeUndefined();
    expect(plan.effects.get(A1)).toBe('revoked');

    await applyResourcePolicyChanges(policies, plan.changes);
    expect(await policies.getPolicy(BUCKET)).toBeUndefined();
  });

  it('never deletes a KMS key policy, even one that held only our statements', () => {
    const state: ResourcePolicyState = {
      resource: KEY,
      exists: true,
      header: { Version: '2012-10-17' },
      foreign: [],
      blocks: new Map([[A1, kmsDecrypt().map((s, i) => ({ Sid: statementSid(A1, i + 1), ...s }))]]),
    };
    const plan = planResourcePolicy(state, new Map(), new Set([A1]));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.action).toBe('put');
    expect(plan.changes[0]!.document).toEqual({ Version: '2012-10-17', Statement: [] });
    expect(plan.effects.get(A1)).toBe('revoked');
  });

  it("revokes from a KMS key's default policy by putting the default statement back", async () => {
    const policies = new FileResourcePolicies();
    await policies.addResource(KEY);
    const original = parse(await policies.getPolicy(KEY));
    const state = await grant(policies, KEY, new Map([[A1, kmsDecrypt()]]));
    expect(state.blocks.get(A1)).toHaveLength(1);

    const plan = planResourcePolicy(state, new Map(), new Set([A1]));
    expect(plan.changes.map((c) => c.action)).toEqual(['put']);
    await applyResourcePolicyChanges(policies, plan.changes);
    expect(parse(await policies.getPolicy(KEY))).toEqual(original);
  });
});

describe('planResourcePolicy: scope', () => {
  it('leaves statements of agreements outside the scope exactly where they are', async () => {
    const policies = await bucketWith(OWNER_POLICY);
    const state = await grant(
      policies,
      BUCKET,
      new Map([
        [A1, s3Read('sales')],
        [A2, s3Read('orders')],
        [A3, s3Read('stock')],
      ]),
    );
    const a2Before = state.blocks.get(A2);

    // Only A1 is being synced, and it no longer wants anything; A2 and A3 are not in desired at all.
    const plan = planResourcePolicy(state, new Map(), new Set([A1]));
    expect(plan.changes).toHaveLength(1);
    const change = plan.changes[0]!;
    expect(change.action).toBe('put');
    expect(change.agreementIds).toEqual([A1]);
    expect([...plan.effects.keys()]).toEqual([A1]);
    expect(plan.effects.get(A1)).toBe('revoked');
    expect(plan.holders).toEqual(new Set([A2, A3]));

    await applyResourcePolicyChanges(policies, plan.changes);
    const after = await readResourcePolicy(policies, BUCKET);
    expect([...after.blocks.keys()].sort()).toEqual([A2, A3].sort());
    expect(after.blocks.get(A2)).toEqual(a2Before);
    expect(after.foreign).toEqual([OWNER_STATEMENT]);
  });

  it('an out-of-scope agreement in desired is neither written nor reported', () => {
    const state: ResourcePolicyState = { resource: BUCKET, exists: false, header: {}, foreign: [], blocks: new Map() };
    const plan = planResourcePolicy(
      state,
      new Map([
        [A1, s3Read('sales')],
        [A2, s3Read('orders')],
      ]),
      new Set([A1]),
    );
    const sids = (plan.changes[0]!.document!.Statement as PolicyStatement[]).map((s) => s.Sid);
    expect(sids).toEqual([statementSid(A1, 1), statementSid(A1, 2)]);
    expect(plan.effects.has(A2)).toBe(false);
    expect(plan.holders).toEqual(new Set([A1]));
  });
});

describe('planResourcePolicy: size limit', () => {
  /** One statement of roughly `bytes` bytes once serialised. */
  function bulky(tag: string, bytes: number): PolicyStatement[] {
    const resources: string[] = [];
    for (let i = 0; resources.join('","').length < bytes; i++) {
      resources.push(`arn:aws:s3:::acme-provider/${tag}/partition-${String(i).padStart(6, '0')}/*`);
    }
    return [{ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 's3:GetObject', Resource: resources }];
  }

  it('leaves out the agreement that does not fit, with a reason, and still writes the others', async () => {
    const limit = RESOURCE_POLICY_LIMITS.s3;
    const policies = await bucketWith(OWNER_POLICY);
    const state = await readResourcePolicy(policies, BUCKET);
    // A1 and A2 each fit alone, not together; A3 is small and comes after the one that does not fit.
    const desired = new Map([
      [A1, bulky('a', Math.floor(limit * 0.6))],
      [A2, bulky('b', Math.floor(limit * 0.6))],
      [A3, s3Read('stock')],
    ]);
    const plan = planResourcePolicy(state, desired, 'all');

    expect([...plan.unplaced.keys()]).toEqual([A2]);
    expect(plan.unplaced.get(A2)).toMatch(/no room/);
    expect(plan.unplaced.get(A2)).toContain(`of ${limit} bytes`);
    expect(plan.effects.get(A1)).toBe('granted');
    expect(plan.effects.get(A2)).toBe('absent');
    expect(plan.effects.get(A3)).toBe('granted');
    expect(plan.holders).toEqual(new Set([A1, A3]));

    expect(plan.changes).toHaveLength(1);
    const change = plan.changes[0]!;
    expect(change.agreementIds).toEqual([A1, A3].sort());
    const text = JSON.stringify(change.document);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit);
    const sids = (change.document!.Statement as { Sid?: string }[]).map((s) => s.Sid);
    expect(sids).toEqual(['OwnerFullAccess', statementSid(A1, 1), statementSid(A3, 1), statementSid(A3, 2)]);

    // The stand-in enforces the service limit: the written document is one S3 would accept.
    await applyResourcePolicyChanges(policies, plan.changes);
    const after = await readResourcePolicy(policies, BUCKET);
    expect([...after.blocks.keys()].sort()).toEqual([A1, A3].sort());
  });

  it('an agreement already placed keeps its statements when a new one does not fit', async () => {
    const limit = RESOURCE_POLICY_LIMITS.s3;
    const policies = await bucketWith();
    const state = await grant(policies, BUCKET, new Map([[A2, bulky('b', Math.floor(limit * 0.6))]]));
    const plan = planResourcePolicy(
      state,
      new Map([
        [A2, state.blocks.get(A2)!],
        [A3, bulky('c', Math.floor(limit * 0.6))],
      ]),
      'all',
    );
    expect([...plan.unplaced.keys()]).toEqual([A3]);
    expect(plan.effects.get(A2)).toBe('unchanged');
    expect(plan.changes).toEqual([]);
  });
});

describe('readResourcePolicy', () => {
  const fixed = (text: string | undefined): ResourcePolicies => ({
    getPolicy: async () => text,
    putPolicy: async () => {
      throw new Error('not expected');
    },
    deletePolicy: async () => {
      throw new Error('not expected');
    },
  });

  it.each([
    ['text that is not JSON', '{"Version": "2012-10-17", "Statement": ['],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
  ])('refuses %s with MalformedPolicyDocument', async (_what, text) => {
    const error = await readResourcePolicy(fixed(text), BUCKET).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).code).toBe('MalformedPolicyDocument');
    expect((error as TargetError).message).toContain(BUCKET.arn);
  });

  it('reads a missing policy as absent and empty', async () => {
    const state = await readResourcePolicy(fixed(undefined), BUCKET);
    expect(state).toEqual({ resource: BUCKET, exists: false, header: {}, foreign: [], blocks: new Map() });
  });

  it('accepts a single Statement object and tells ours from foreign statements by Sid', async () => {
    const single = await readResourcePolicy(
      fixed(JSON.stringify({ Version: '2012-10-17', Statement: OWNER_STATEMENT })),
      BUCKET,
    );
    expect(single.foreign).toEqual([OWNER_STATEMENT]);
    expect(single.header).toEqual({ Version: '2012-10-17' });

    const ours = { Sid: statementSid(A1, 1), ...s3Read('sales')[0] };
    const mixed = await readResourcePolicy(
      fixed(JSON.stringify({ Version: '2012-10-17', Statement: [ours, OWNER_STATEMENT, { Sid: 'DmmNotOurs' }] })),
      BUCKET,
    );
    expect(mixed.foreign).toEqual([OWNER_STATEMENT, { Sid: 'DmmNotOurs' }]);
    expect(mixed.blocks).toEqual(new Map([[A1, [ours]]]));
  });
});

describe('policyResourceFromArn', () => {
  it('parses S3 bucket, KMS key and Glue catalog ARNs', () => {
    expect(policyResourceFromArn('arn:aws:s3:::acme-provider')).toEqual(BUCKET);
    expect(policyResourceFromArn(KEY.arn)).toEqual(KEY);
    expect(policyResourceFromArn('arn:aws-cn:glue:cn-north-1:123456789012:catalog')).toEqual({
      service: 'glue',
      arn: 'arn:aws-cn:glue:cn-north-1:123456789012:catalog',
      region: 'cn-north-1',
      account: '123456789012',
    });
  });

  it('returns undefined for holdings that are not resource policies', () => {
    expect(policyResourceFromArn(ROLE)).toBeUndefined();
    expect(
      policyResourceFromArn(
        lakeFormationHolding(
          {
            principal: ROLE,
            resource: { kind: 'database', catalogId: '123456789012', region: 'eu-central-1', database: 'sales' },
          },
          ['DESCRIBE'],
        ),
      ),
    ).toBeUndefined();
    expect(policyResourceFromArn('arn:aws:s3:::acme-provider/prefix/*')).toBeUndefined();
    expect(policyResourceFromArn('arn:aws:glue:eu-central-1:123456789012:database/sales')).toBeUndefined();
  });
});

describe('applyResourcePolicyChanges with FileResourcePolicies', () => {
  it('round-trips: what is applied reads back as the planned state, and replans to nothing', async () => {
    const policies = await bucketWith(OWNER_POLICY);
    const desired = new Map([
      [A1, s3Read('sales')],
      [A2, s3Read('orders')],
    ]);
    const plan = planResourcePolicy(await readResourcePolicy(policies, BUCKET), desired, 'all');
    await applyResourcePolicyChanges(policies, plan.changes);

    expect(parse(await policies.getPolicy(BUCKET))).toEqual(plan.changes[0]!.document);
    const state = await readResourcePolicy(policies, BUCKET);
    expect(state.foreign).toEqual([OWNER_STATEMENT]);
    expect(state.header).toEqual({ Version: '2012-10-17', Id: 'acme-owner-policy' });
    expect(state.blocks.get(A1)).toEqual(s3Read('sales').map((s, i) => ({ Sid: statementSid(A1, i + 1), ...s })));
    expect(planResourcePolicy(state, desired, 'all').changes).toEqual([]);

    // A changed grant for one agreement rewrites only its statements.
    const changed = new Map(desired).set(A2, s3Read('returns'));
    const update = planResourcePolicy(state, changed, 'all');
    expect(update.effects.get(A1)).toBe('unchanged');
    expect(update.effects.get(A2)).toBe('updated');
    expect(update.changes[0]!.agreementIds).toEqual([A2]);
    await applyResourcePolicyChanges(policies, update.changes);
    const updated = await readResourcePolicy(policies, BUCKET);
    expect(updated.blocks.get(A1)).toEqual(state.blocks.get(A1));
    expect(JSON.stringify(updated.blocks.get(A2))).toContain('returns/*');
  });
});
