/**
 * The hub's account logic without AWS: when a member session is started again, how a bucket finds
 * its owner, which resource-side grants are kept, and how operators write the settings.
 */
import { describe, expect, it } from 'vitest';
import type { STSClient } from '@aws-sdk/client-sts';
import { assumedRoleCredentials, REFRESH_BEFORE_EXPIRY_MS } from '../../src/accounts/assume-role.js';
import { settleAcrossAccounts } from '../../src/accounts/cross-account.js';
import type { AccountDirectory, MemberAccount } from '../../src/accounts/directory.js';
import { BucketOwners, BUCKET_LIST_TTL_MS, routedResourcePolicies } from '../../src/accounts/routing.js';
import { multiAccountSettingsFromEnv, multiAccountSettingsSchema } from '../../src/accounts/settings.js';
import { TargetError } from '../../src/interfaces/target-error.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { FileResourcePolicies } from '../../src/local/file-resource-policies.js';
import { s3Bucket } from '../../src/output-ports/s3-bucket.js';
import type { Grant } from '../../src/sync/resolve.js';
import { defaultGuardrails } from '../../src/sync/guardrails.js';
import { loadConfig } from '../../src/config.js';

const C = '111111111111';
const P = '222222222222';

/** An STS stand-in that counts AssumeRole calls and hands out sessions ending at `expiresAt()`. */
function fakeSts(expiresAt: () => number, fail?: () => Error | undefined) {
  const calls: Record<string, unknown>[] = [];
  const sts = {
    send: async (command: { input: Record<string, unknown> }) => {
      calls.push(command.input);
      const error = fail?.();
      if (error) throw error;
      return {
        Credentials: {
          AccessKeyId: `AKIA${calls.length}`,
          SecretAccessKey: 's',
          SessionToken: 't',
          Expiration: new Date(expiresAt()),
        },
      };
    },
  } as unknown as STSClient;
  return { sts, calls };
}

describe('assumedRoleCredentials', () => {
  it('shares one session until shortly before it expires, then starts another', async () => {
    let now = 1_000_000;
    const { sts, calls } = fakeSts(() => now + 3600_000);
    const provider = assumedRoleCredentials({
      sts,
      roleArn: `arn:aws:iam::${C}:role/dmm-aws-member`,
      externalId: async () => 'ext-123',
      sessionName: 'dmm-aws-123456789012',
      now: () => now,
    });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toBe(b);
    expect(calls).toEqual([
      {
        RoleArn: `arn:aws:iam::${C}:role/dmm-aws-member`,
        RoleSessionName: 'dmm-aws-123456789012',
        ExternalId: 'ext-123',
        DurationSeconds: 3600,
      },
    ]);
    now += 3600_000 - REFRESH_BEFORE_EXPIRY_MS - 1;
    expect(await provider()).toBe(a);
    now += 2;
    expect((await provider()).accessKeyId).toBe('AKIA2');
  });

  it('names the member role when STS refuses, never the external ID, and tries again next time', async () => {
    let refuse = true;
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' });
    const { sts } = fakeSts(
      () => Date.now() + 3600_000,
      () => (refuse ? denied : undefined),
    );
    const provider = assumedRoleCredentials({
      sts,
      roleArn: `arn:aws:iam::${C}:role/dmm-aws-member`,
      externalId: async () => 'secret-external-id',
      sessionName: 'dmm-aws-x',
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).code).toBe('AccessDenied');
    expect((error as Error).message).toContain(`arn:aws:iam::${C}:role/dmm-aws-member`);
    expect((error as Error).message).not.toContain('secret-external-id');
    refuse = false;
    expect((await provider()).accessKeyId).toBe('AKIA2');
  });
});

function member(account: string, buckets: string[], extra: Partial<MemberAccount> = {}): MemberAccount {
  return {
    accountId: account,
    iam: new FileIamAccount({ accountId: account }),
    guardrails: defaultGuardrails(account),
    listBuckets: async () => buckets,
    ...extra,
  };
}

function directory(members: MemberAccount[], pairs?: AccountDirectory['allowedPairs']): AccountDirectory {
  return {
    hubAccountId: '123456789012',
    members: new Map(members.map((m) => [m.accountId, m])),
    ...(pairs ? { allowedPairs: pairs } : {}),
  };
}

describe('BucketOwners', () => {
  it('finds a bucket in its member list, and lists again for an unknown bucket only after the TTL', async () => {
    let now = 0;
    let listings = 0;
    const pBuckets = ['orders'];
    const dir = directory([
      member(C, []),
      member(P, pBuckets, {
        listBuckets: async () => {
          listings++;
          return [...pBuckets];
        },
      }),
    ]);
    const owners = new BucketOwners(dir, () => now);
    expect(await owners.ownerOf('orders')).toBe(P);
    expect(await owners.ownerOf('new-bucket')).toBeUndefined();
    expect(listings).toBe(1);
    pBuckets.push('new-bucket');
    now = BUCKET_LIST_TTL_MS + 1;
    expect(await owners.ownerOf('new-bucket')).toBe(P);
    expect(listings).toBe(2);
  });

  it('refuses to write the policy of a bucket no member owns (permanent: the agreement fails)', async () => {
    const dir = directory([member(C, [], { resourcePolicies: new FileResourcePolicies() })]);
    const policies = routedResourcePolicies(dir, new BucketOwners(dir));
    const error = await policies
      .getPolicy({ service: 's3', arn: 'arn:aws:s3:::elsewhere', bucket: 'elsewhere' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).code).toBe('NoSuchEntity');
  });
});

function grantOf(roleAccount: string): Grant {
  const roleArn = `arn:aws:iam::${roleAccount}:role/analytics`;
  const resources = { location: { partition: 'aws', bucket: 'orders', prefix: '' } };
  return {
    agreementId: 'agr-1',
    role: { name: 'analytics', arn: roleArn, accountId: roleAccount },
    portType: 's3_bucket',
    outputPortId: 'p',
    providerDataProductId: 'orders',
    grants: s3Bucket.grants(resources, { roleArn, account: roleAccount }),
    summary: '',
    providerResources: s3Bucket.providerResources(resources),
  };
}

describe('settleAcrossAccounts', () => {
  const dir = directory([member(C, []), member(P, ['orders'])]);
  const hub = { directory: dir, owners: new BucketOwners(dir) };
  const targets = (settled: Awaited<ReturnType<typeof settleAcrossAccounts>>) =>
    'grant' in settled ? settled.grant.grants.map((g) => g.target) : settled.refusal;

  it('keeps the bucket policy grant for a consumer in another member account', async () => {
    expect(targets(await settleAcrossAccounts(grantOf(C), hub))).toEqual(['identity-policy', 'resource-policy']);
  });

  it('drops it within one account, and without a hub', async () => {
    expect(targets(await settleAcrossAccounts(grantOf(P), hub))).toEqual(['identity-policy']);
    expect(targets(await settleAcrossAccounts(grantOf(C), undefined))).toEqual(['identity-policy']);
  });

  it('refuses a bucket no member owns and a pair the allow-list does not name', async () => {
    const lonely = directory([member(C, [])]);
    expect(
      targets(await settleAcrossAccounts(grantOf(C), { directory: lonely, owners: new BucketOwners(lonely) })),
    ).toMatch(/in no member account/);
    const paired = directory([member(C, []), member(P, ['orders'])], [{ consumer: P, provider: C }]);
    expect(
      targets(await settleAcrossAccounts(grantOf(C), { directory: paired, owners: new BucketOwners(paired) })),
    ).toBe(`consumer account ${C} may not receive data from account ${P} (multiAccount.allowedAccountPairs)`);
  });
});

describe('multi-account settings', () => {
  it('reads the environment: ids, members with guardrails as JSON, and consumer:provider pairs', () => {
    expect(
      multiAccountSettingsSchema.parse(
        multiAccountSettingsFromEnv({
          DMM_MEMBER_ACCOUNTS: `${C}, ${P}`,
          DMM_MEMBER_ROLE_NAME: 'hub-access',
          DMM_ALLOWED_ACCOUNT_PAIRS: `${C}:${P}`,
        }),
      ),
    ).toEqual({
      members: [C, P],
      organizationalUnits: [],
      roleName: 'hub-access',
      rolePath: '/',
      allowedAccountPairs: [{ consumer: C, provider: P }],
    });
    const json = multiAccountSettingsFromEnv({
      DMM_MEMBER_ACCOUNTS: JSON.stringify([{ account: C, managedRolePath: '/consumers/' }, P]),
    });
    expect(multiAccountSettingsSchema.parse(json).members).toEqual([{ account: C, managedRolePath: '/consumers/' }, P]);
    expect(
      multiAccountSettingsSchema.safeParse(multiAccountSettingsFromEnv({ DMM_MEMBER_ACCOUNTS: '12345' })).success,
    ).toBe(false);
  });

  it('the CLI on AWS needs an external ID and never prints it; the local stand-in needs none', () => {
    const env = { DMM_MEMBER_ACCOUNTS: C, DMM_AWS_TARGET: 'aws' };
    expect(() => loadConfig({ env, cwd: '/tmp' })).toThrow(/multiAccount.externalId is not set/);
    // Locally the hub opens each member's state files: there is no member role to assume.
    expect(loadConfig({ env: { ...env, DMM_AWS_TARGET: 'local' }, cwd: '/tmp' }).multiAccount).toMatchObject({
      members: [C],
    });
    // It has no AWS Organizations: OUs there are refused by name, not silently read as no members.
    expect(() =>
      loadConfig({
        env: { ...env, DMM_AWS_TARGET: 'local', DMM_MEMBER_ORGANIZATIONAL_UNITS: 'ou-ab12-cdefgh34' },
        cwd: '/tmp',
      }),
    ).toThrow(/organizationalUnits needs the aws target/);
    let message = '';
    try {
      loadConfig({ env: { ...env, DMM_MEMBER_EXTERNAL_ID: 'has spaces in it' }, cwd: '/tmp' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/multiAccount.externalId/);
    expect(message).not.toContain('has spaces in it');
    expect(loadConfig({ env: { ...env, DMM_MEMBER_EXTERNAL_ID: 'ext-123' }, cwd: '/tmp' }).multiAccount).toMatchObject({
      members: [C],
      externalId: 'ext-123',
    });
  });
});
