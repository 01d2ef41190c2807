import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { IAM_LIMITS, IamError, iamCharacterCount, type ManagedPolicyRef } from '../../src/interfaces/iam-account.js';
import { policy, useTempDir } from './helpers.js';

async function iamError(promise: Promise<unknown>): Promise<IamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof IamError)) throw new Error(`expected an IamError, got ${String(err)}`);
  return err;
}

/** A policy of exactly `size` non-whitespace characters. */
function policyOfSize(size: number, resource = 'arn:aws:s3:::b'): string {
  const base = policy(resource);
  const doc = policy(resource, size - iamCharacterCount(base));
  expect(iamCharacterCount(doc)).toBe(size);
  return doc;
}

const newTempDir = useTempDir();

const modes = [
  ['in memory', async () => new FileIamAccount()],
  ['file-backed', async () => new FileIamAccount({ file: join(await newTempDir(), 'iam.json') })],
] as const;

describe.each(modes)('FileIamAccount %s', (_mode, create) => {
  let account: FileIamAccount;
  beforeEach(async () => {
    account = await create();
    await account.createRole('consumer', { path: '/dmm/', tags: { team: 'analytics' } });
  });

  describe('roles', () => {
    it('defaults to account 123456789012 in partition aws and builds role ARNs with the path', async () => {
      expect(account.accountId).toBe('123456789012');
      expect(account.partition).toBe('aws');
      expect(await account.getRole('consumer')).toEqual({
        name: 'consumer',
        arn: 'arn:aws:iam::123456789012:role/dmm/consumer',
        path: '/dmm/',
        tags: { team: 'analytics' },
      });
    });

    it('returns undefined for a missing role and lists roles by name', async () => {
      await account.createRole('another');
      expect(await account.getRole('missing')).toBeUndefined();
      expect((await account.listRoles()).map((r) => r.name)).toEqual(['another', 'consumer']);
    });

    it('does not mistake Object.prototype members for roles', async () => {
      expect(await account.getRole('constructor')).toBeUndefined();
      expect((await iamError(account.putInlinePolicy('toString', 'p', policy()))).code).toBe('NoSuchEntity');
      await account.createRole('constructor');
      await account.putInlinePolicy('constructor', 'constructor', policy());
      expect(await account.listInlinePolicies('constructor')).toEqual([{ name: 'constructor', document: policy() }]);
    });

    it('refuses a second role whose name differs only in case', async () => {
      const err = await iamError(account.createRole('CONSUMER'));
      expect(err.code).toBe('EntityAlreadyExists');
      expect(err.message).toContain('consumer');
    });

    it('validates role names, paths and tags on create', async () => {
      expect((await iamError(account.createRole('r'.repeat(65)))).code).toBe('InvalidInput');
      expect((await iamError(account.createRole('ok', { path: 'no-slash' }))).code).toBe('InvalidInput');
      expect((await iamError(account.createRole('ok', { tags: { 'aws:x': 'y' } }))).code).toBe('InvalidInput');
      expect(await account.getRole('ok')).toBeUndefined();
    });

    it('deleteRole removes the role with its inline policies and detaches managed ones', async () => {
      await account.putInlinePolicy('consumer', 'p', policy());
      const managed = await account.putManagedPolicy('consumer', '/dmm/', 'consumer-grants', policy());
      await account.deleteRole('consumer');
      expect(await account.getRole('consumer')).toBeUndefined();
      expect(await account.getManagedPolicyDocument(managed.arn)).toBe(policy());
      expect((await iamError(account.deleteRole('consumer'))).code).toBe('NoSuchEntity');
    });
  });

  describe('batch', () => {
    it('keeps role names unique ignoring case across the calls of one batch, deletions included', async () => {
      const refused = account.batch(async (draft) => {
        await draft.createRole('Analyst');
        expect((await iamError(draft.createRole('analyst'))).code).toBe('EntityAlreadyExists');
      });
      await expect(refused).rejects.toThrow(/Role with name Analyst already exists/);
      // The refused call failed the batch: nothing of it was saved.
      expect(await account.getRole('Analyst')).toBeUndefined();

      await account.batch(async (draft) => {
        await draft.createRole('Analyst');
        await draft.deleteRole('consumer');
        await draft.createRole('CONSUMER');
      });
      expect((await account.listRoles()).map((r) => r.name)).toEqual(['Analyst', 'CONSUMER']);
      expect((await iamError(account.createRole('analyst'))).code).toBe('EntityAlreadyExists');
    });

    it('saves nothing when a call is refused, even if the work catches the refusal and goes on', async () => {
      const caught = account.batch(async (draft) => {
        await draft.createRole('first');
        await draft.putInlinePolicy('first', 'p', policy());
        await draft
          .putManagedPolicy('first', '/', 'big', policyOfSize(IAM_LIMITS.managedPolicyCharacters + 1))
          .catch(() => undefined);
        await draft.createRole('after');
      });
      await expect(caught).rejects.toThrow(/earlier change of this batch failed \(Cannot exceed quota for PolicySize/);
      expect((await account.listRoles()).map((r) => r.name)).toEqual(['consumer']);
    });

    it('reads what the calls before it changed, as copies', async () => {
      const seen = await account.batch(async (draft) => {
        await draft.putInlinePolicy('consumer', 'p', policy());
        const policies = await draft.listInlinePolicies('consumer');
        policies[0]!.document = 'changed by the caller';
        return draft.listInlinePolicies('consumer');
      });
      expect(seen).toEqual([{ name: 'p', document: policy() }]);
      expect(await account.listInlinePolicies('consumer')).toEqual([{ name: 'p', document: policy() }]);
    });
  });

  describe('inline policies', () => {
    it('puts, replaces, lists (by name) and deletes', async () => {
      await account.putInlinePolicy('consumer', 'b-policy', policy('arn:aws:s3:::one'));
      await account.putInlinePolicy('consumer', 'a-policy', policy('arn:aws:s3:::two'));
      await account.putInlinePolicy('consumer', 'b-policy', policy('arn:aws:s3:::three'));
      expect(await account.listInlinePolicies('consumer')).toEqual([
        { name: 'a-policy', document: policy('arn:aws:s3:::two') },
        { name: 'b-policy', document: policy('arn:aws:s3:::three') },
      ]);
      await account.deleteInlinePolicy('consumer', 'a-policy');
      expect((await account.listInlinePolicies('consumer')).map((p) => p.name)).toEqual(['b-policy']);
    });

    it('keeps the document byte for byte, whitespace included', async () => {
      const pretty = JSON.stringify(JSON.parse(policy()), null, 2);
      await account.putInlinePolicy('consumer', 'p', pretty);
      expect((await account.listInlinePolicies('consumer'))[0]?.document).toBe(pretty);
    });

    it('is NoSuchEntity, with AWS wording, on a missing role', async () => {
      const err = await iamError(account.putInlinePolicy('ghost', 'p', policy()));
      expect(err.code).toBe('NoSuchEntity');
      expect(err.message).toBe('The role with name ghost cannot be found.');
      expect((await iamError(account.listInlinePolicies('ghost'))).code).toBe('NoSuchEntity');
      expect((await iamError(account.listAttachedPolicies('ghost'))).code).toBe('NoSuchEntity');
    });

    it("treats deleting a missing policy, or a missing role's policy, as success", async () => {
      await expect(account.deleteInlinePolicy('consumer', 'never-there')).resolves.toBeUndefined();
      await expect(account.deleteInlinePolicy('ghost', 'never-there')).resolves.toBeUndefined();
    });

    it('rejects invalid policy and role names with InvalidInput', async () => {
      expect((await iamError(account.putInlinePolicy('consumer', 'bad name', policy()))).code).toBe('InvalidInput');
      expect((await iamError(account.putInlinePolicy('consumer', 'p'.repeat(129), policy()))).code).toBe(
        'InvalidInput',
      );
      expect((await iamError(account.putInlinePolicy('bad/role', 'p', policy()))).code).toBe('InvalidInput');
      expect((await iamError(account.deleteInlinePolicy('consumer', 'bad name'))).code).toBe('InvalidInput');
    });

    it('rejects characters outside Latin-1 and malformed documents with MalformedPolicyDocument', async () => {
      const nonLatin = policy().replace('s3:::bucket', 's3:::bücket\u2013x');
      expect((await iamError(account.putInlinePolicy('consumer', 'p', nonLatin))).code).toBe('MalformedPolicyDocument');
      expect((await iamError(account.putInlinePolicy('consumer', 'p', '{"Version":"2012-10-17"}'))).code).toBe(
        'MalformedPolicyDocument',
      );
      expect((await iamError(account.putInlinePolicy('consumer', 'p', 'not json'))).code).toBe(
        'MalformedPolicyDocument',
      );
      expect(await account.listInlinePolicies('consumer')).toEqual([]);
    });

    it('checks the character set before the role exists (parameter validation comes first, as on AWS)', async () => {
      expect((await iamError(account.putInlinePolicy('ghost', 'p', '\u0100'))).code).toBe('MalformedPolicyDocument');
    });

    it('allows exactly 10,240 non-whitespace characters across all inline policies of a role', async () => {
      const half = IAM_LIMITS.inlineRoleCharacters / 2;
      await account.putInlinePolicy('consumer', 'one', policyOfSize(half));
      await account.putInlinePolicy('consumer', 'two', policyOfSize(half));
      const names = (await account.listInlinePolicies('consumer')).map((p) => p.name);
      expect(names).toEqual(['one', 'two']);
    });

    it('is LimitExceeded, naming the role, the size and the limit, one character beyond', async () => {
      const half = IAM_LIMITS.inlineRoleCharacters / 2;
      await account.putInlinePolicy('consumer', 'one', policyOfSize(half));
      const err = await iamError(account.putInlinePolicy('consumer', 'two', policyOfSize(half + 1)));
      expect(err.code).toBe('LimitExceeded');
      expect(err.message).toContain('consumer');
      expect(err.message).toContain(String(IAM_LIMITS.inlineRoleCharacters + 1));
      expect(err.message).toContain(String(IAM_LIMITS.inlineRoleCharacters));
      expect((await account.listInlinePolicies('consumer')).map((p) => p.name)).toEqual(['one']);
    });

    it('does not count whitespace towards the limit', async () => {
      const doc = policyOfSize(IAM_LIMITS.inlineRoleCharacters);
      const spaced = JSON.stringify(JSON.parse(doc), null, 8);
      expect(spaced.length).toBeGreaterThan(IAM_LIMITS.inlineRoleCharacters);
      await expect(account.putInlinePolicy('consumer', 'p', spaced)).resolves.toBeUndefined();
    });

    it('counts a replaced policy only once', async () => {
      const big = policyOfSize(IAM_LIMITS.inlineRoleCharacters - 100);
      await account.putInlinePolicy('consumer', 'p', big);
      await expect(
        account.putInlinePolicy('consumer', 'p', policyOfSize(IAM_LIMITS.inlineRoleCharacters)),
      ).resolves.toBeUndefined();
    });

    it('applies the limit per role', async () => {
      await account.createRole('other');
      await account.putInlinePolicy('consumer', 'p', policyOfSize(IAM_LIMITS.inlineRoleCharacters));
      await expect(
        account.putInlinePolicy('other', 'p', policyOfSize(IAM_LIMITS.inlineRoleCharacters)),
      ).resolves.toBeUndefined();
    });
  });

  describe('managed policies', () => {
    it('creates, attaches and returns a customer-managed policy', async () => {
      const ref = await account.putManagedPolicy('consumer', '/dmm/', 'consumer-grants', policy());
      expect(ref).toEqual({
        name: 'consumer-grants',
        path: '/dmm/',
        arn: 'arn:aws:iam::123456789012:policy/dmm/consumer-grants',
      });
      expect(await account.listAttachedPolicies('consumer')).toEqual([ref]);
      expect(await account.getManagedPolicyDocument(ref.arn)).toBe(policy());
    });

    it('makes a new document the default version and keeps at most five versions', async () => {
      let ref: ManagedPolicyRef | undefined;
      for (let i = 1; i <= 7; i++)
        ref = await account.putManagedPolicy('consumer', '/', 'grants', policy(`arn:aws:s3:::v${i}`));
      expect(await account.getManagedPolicyDocument(ref!.arn)).toBe(policy('arn:aws:s3:::v7'));
      expect(await account.listAttachedPolicies('consumer')).toHaveLength(1);
    });

    it('prunes the oldest non-default version and never reuses version ids (file state)', async () => {
      if (!account.file) return;
      for (let i = 1; i <= 7; i++)
        await account.putManagedPolicy('consumer', '/', 'grants', policy(`arn:aws:s3:::v${i}`));
      const state = JSON.parse(await readFile(account.file, 'utf8'));
      const stored = state.policies['arn:aws:iam::123456789012:policy/grants'];
      expect(stored.versions.map((v: { versionId: string }) => v.versionId)).toEqual(['v3', 'v4', 'v5', 'v6', 'v7']);
      expect(stored.defaultVersionId).toBe('v7');
    });

    it('is LimitExceeded beyond 6,144 non-whitespace characters, and creates nothing', async () => {
      await expect(
        account.putManagedPolicy('consumer', '/', 'exact', policyOfSize(IAM_LIMITS.managedPolicyCharacters)),
      ).resolves.toBeDefined();
      const err = await iamError(
        account.putManagedPolicy('consumer', '/', 'too-big', policyOfSize(IAM_LIMITS.managedPolicyCharacters + 1)),
      );
      expect(err.code).toBe('LimitExceeded');
      expect(err.message).toContain(String(IAM_LIMITS.managedPolicyCharacters));
      expect((await account.listAttachedPolicies('consumer')).map((p) => p.name)).toEqual(['exact']);
      expect((await iamError(account.getManagedPolicyDocument('arn:aws:iam::123456789012:policy/too-big'))).code).toBe(
        'NoSuchEntity',
      );
    });

    it('allows ten attached policies per role and refuses the eleventh without creating it', async () => {
      for (let i = 0; i < IAM_LIMITS.attachedPoliciesPerRole; i++)
        await account.putManagedPolicy('consumer', '/', `p${i}`, policy());
      const err = await iamError(account.putManagedPolicy('consumer', '/', 'p10', policy()));
      expect(err.code).toBe('LimitExceeded');
      expect(await account.listAttachedPolicies('consumer')).toHaveLength(10);
      expect((await iamError(account.getManagedPolicyDocument('arn:aws:iam::123456789012:policy/p10'))).code).toBe(
        'NoSuchEntity',
      );
      // A new version of an attached policy needs no new attachment slot.
      await expect(account.putManagedPolicy('consumer', '/', 'p3', policy('arn:aws:s3:::new'))).resolves.toBeDefined();
    });

    it('counts policies the user attached towards the ten', async () => {
      for (let i = 0; i < 9; i++) await account.putManagedPolicy('consumer', '/', `p${i}`, policy());
      const theirs = await account.createManagedPolicy('theirs', policy());
      await account.attachExistingPolicy('consumer', theirs.arn);
      expect((await iamError(account.putManagedPolicy('consumer', '/', 'ours', policy()))).code).toBe('LimitExceeded');
    });

    it('is NoSuchEntity on a missing role and creates no policy', async () => {
      expect((await iamError(account.putManagedPolicy('ghost', '/', 'orphan', policy()))).code).toBe('NoSuchEntity');
      expect((await iamError(account.getManagedPolicyDocument('arn:aws:iam::123456789012:policy/orphan'))).code).toBe(
        'NoSuchEntity',
      );
    });

    it('refuses a policy name that already exists under another path', async () => {
      await account.putManagedPolicy('consumer', '/a/', 'grants', policy());
      expect((await iamError(account.putManagedPolicy('consumer', '/b/', 'grants', policy()))).code).toBe(
        'EntityAlreadyExists',
      );
    });

    it('validates names, paths and documents', async () => {
      expect((await iamError(account.putManagedPolicy('consumer', 'x', 'p', policy()))).code).toBe('InvalidInput');
      expect((await iamError(account.putManagedPolicy('consumer', '/', 'bad name', policy()))).code).toBe(
        'InvalidInput',
      );
      expect((await iamError(account.putManagedPolicy('consumer', '/', 'p', '{}'))).code).toBe(
        'MalformedPolicyDocument',
      );
      expect(
        (await iamError(account.putManagedPolicy('consumer', '/', 'p', policy().replace('bucket', 'b\u0100')))).code,
      ).toBe('MalformedPolicyDocument');
    });

    it('deleteManagedPolicy detaches and deletes; missing is success', async () => {
      const ref = await account.putManagedPolicy('consumer', '/', 'grants', policy());
      await account.deleteManagedPolicy('consumer', ref.arn);
      expect(await account.listAttachedPolicies('consumer')).toEqual([]);
      expect((await iamError(account.getManagedPolicyDocument(ref.arn))).code).toBe('NoSuchEntity');
      await expect(account.deleteManagedPolicy('consumer', ref.arn)).resolves.toBeUndefined();
      await expect(account.deleteManagedPolicy('ghost', ref.arn)).resolves.toBeUndefined();
      // The name is free again.
      await expect(account.putManagedPolicy('consumer', '/other/', 'grants', policy())).resolves.toBeDefined();
    });

    it('refuses to delete a policy still attached to another role, changing nothing', async () => {
      await account.createRole('other');
      const ref = await account.putManagedPolicy('consumer', '/', 'shared', policy());
      await account.attachExistingPolicy('other', ref.arn);
      const err = await iamError(account.deleteManagedPolicy('consumer', ref.arn));
      expect(err.message).toContain('other');
      expect(await account.listAttachedPolicies('consumer')).toEqual([ref]);
    });

    it('attaches AWS-managed policies with a given document but never deletes them', async () => {
      const arn = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
      expect((await iamError(account.attachExistingPolicy('consumer', arn))).code).toBe('InvalidInput');
      await account.attachExistingPolicy('consumer', arn, { document: policy('*') });
      expect(await account.listAttachedPolicies('consumer')).toEqual([{ name: 'ReadOnlyAccess', path: '/', arn }]);
      expect(await account.getManagedPolicyDocument(arn)).toBe(policy('*'));
      expect((await iamError(account.deleteManagedPolicy('consumer', arn))).code).toBe('InvalidInput');
      // AWS-managed names live in the `aws` namespace: a customer policy may share one.
      await expect(account.putManagedPolicy('consumer', '/', 'ReadOnlyAccess', policy())).resolves.toBeDefined();
    });

    it('attachExistingPolicy is NoSuchEntity for an unknown customer policy', async () => {
      const err = await iamError(account.attachExistingPolicy('consumer', 'arn:aws:iam::123456789012:policy/none'));
      expect(err.code).toBe('NoSuchEntity');
    });
  });
});

describe('FileIamAccount persistence', () => {
  it('keeps state across instances (a restart, or a second process)', async () => {
    const file = join(await newTempDir(), 'nested', 'iam.json');
    const first = new FileIamAccount({ file });
    await first.createRole('consumer', { tags: { a: 'b' } });
    await first.putInlinePolicy('consumer', 'p', policy());
    const ref = await first.putManagedPolicy('consumer', '/', 'm', policy('*'));

    const second = new FileIamAccount({ file });
    expect(await second.getRole('consumer')).toMatchObject({ tags: { a: 'b' } });
    expect(await second.listInlinePolicies('consumer')).toEqual([{ name: 'p', document: policy() }]);
    expect(await second.getManagedPolicyDocument(ref.arn)).toBe(policy('*'));

    // Each operation re-reads the file, so the first instance sees the second one's change.
    await second.deleteInlinePolicy('consumer', 'p');
    expect(await first.listInlinePolicies('consumer')).toEqual([]);
  });

  it('writes nothing when an operation fails', async () => {
    const file = join(await newTempDir(), 'iam.json');
    const account = new FileIamAccount({ file });
    await account.createRole('consumer');
    await account.putInlinePolicy('consumer', 'p', policyOfSize(IAM_LIMITS.inlineRoleCharacters - 150));
    const before = await readFile(file, 'utf8');
    const mtime = (await stat(file)).mtimeMs;

    expect((await iamError(account.putInlinePolicy('consumer', 'q', policyOfSize(200)))).code).toBe('LimitExceeded');
    await iamError(account.putInlinePolicy('ghost', 'q', policy()));
    await iamError(account.putInlinePolicy('consumer', 'q', '{"Version":"2012-10-17","Statement":[]}'));
    await iamError(
      account.putManagedPolicy('consumer', '/', 'm', policyOfSize(IAM_LIMITS.managedPolicyCharacters + 1)),
    );
    await iamError(account.createRole('consumer'));
    await account.deleteInlinePolicy('consumer', 'absent');

    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await stat(file)).mtimeMs).toBe(mtime);
  });

  it('does not lose concurrent updates from one process', async () => {
    const file = join(await newTempDir(), 'iam.json');
    const a = new FileIamAccount({ file });
    const b = new FileIamAccount({ file });
    await a.createRole('consumer');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).putInlinePolicy('consumer', `p${i}`, policy())),
    );
    expect(await a.listInlinePolicies('consumer')).toHaveLength(20);
  });

  it('refuses a state file of another account, and a damaged one, naming the file', async () => {
    const file = join(await newTempDir(), 'iam.json');
    await new FileIamAccount({ file, accountId: '111111111111' }).createRole('r');
    await expect(new FileIamAccount({ file }).listRoles()).rejects.toThrow(/iam\.json belongs to account 111111111111/);
    await writeFile(file, '{"format":1,"roles":');
    await expect(new FileIamAccount({ file }).listRoles()).rejects.toThrow(/iam\.json is not valid JSON/);
    await writeFile(file, '{"format":1,"accountId":"123456789012","roles":[]}');
    await expect(new FileIamAccount({ file }).listRoles()).rejects.toThrow(
      /iam\.json has unexpected content \(roles: .*policies: /,
    );
  });

  it('rejects an account id that is not 12 digits', () => {
    expect(() => new FileIamAccount({ accountId: '1234' })).toThrow(/12 digits/);
  });

  it('uses the given partition in ARNs', async () => {
    const account = new FileIamAccount({ partition: 'aws-cn', accountId: '210987654321' });
    expect((await account.createRole('r')).arn).toBe('arn:aws-cn:iam::210987654321:role/r');
  });
});
