/**
 * The local stand-in with several accounts: where each account's state lives (the hub's own files
 * unchanged, so a single-account state directory keeps working), what seeding checks before it
 * writes anything, and how the local hub finds a bucket's owner.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAwsAccountFixture } from '../../src/local/aws-account-fixture.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import {
  localAccountFiles,
  localHub,
  openLocalAccount,
  seedLocalStandIn,
  type LocalStandIn,
} from '../../src/local/local-accounts.js';
import { useTempDir } from './helpers.js';

const HUB = '111111111111';
const C = '222222222222';
const P = '333333333333';
const newTempDir = useTempDir();

async function standIn(): Promise<LocalStandIn> {
  return { stateFile: join(await newTempDir(), 'aws-account.json'), hubAccountId: HUB };
}

const fixture = (yaml: string) => parseAwsAccountFixture(yaml, 'fixture.yaml');

describe('the local stand-in with several accounts', () => {
  it("keeps the hub's account in the files it always had, and each member's beside them", async () => {
    const s = await standIn();
    const dir = s.stateFile.slice(0, -'/aws-account.json'.length);
    expect(localAccountFiles(s, HUB)).toEqual({
      iam: s.stateFile,
      resourcePolicies: join(dir, 'aws-account.resource-policies.json'),
      lakeFormation: join(dir, 'aws-account.lake-formation.json'),
      resourceTags: join(dir, 'aws-account.resource-tags.yaml'),
    });
    expect(localAccountFiles({ ...s, hubResourceTagsFile: '/elsewhere/tags.yaml' }, HUB).resourceTags).toBe(
      '/elsewhere/tags.yaml',
    );
    expect(localAccountFiles(s, C)).toEqual({
      iam: join(dir, `aws-account.${C}.json`),
      resourcePolicies: join(dir, `aws-account.${C}.resource-policies.json`),
      lakeFormation: join(dir, `aws-account.${C}.lake-formation.json`),
      resourceTags: join(dir, `aws-account.${C}.resource-tags.yaml`),
    });
  });

  it('reads an existing single-account state file as the hub account of a hub that lists it', async () => {
    const s = await standIn();
    // Written by a single-account installation before several accounts existed.
    await new FileIamAccount({ file: s.stateFile, accountId: HUB }).createRole('existing');
    const before = await readFile(s.stateFile, 'utf8');
    await seedLocalStandIn(s, fixture(`accounts: { "${C}": { roles: [{ name: reader }] } }`), 'fixture.yaml', [HUB, C]);
    const hub = await localHub({ ...s, settings: settings([HUB, C]), guardrails: {}, readTags: false });
    expect((await hub.directory.members.get(HUB)!.iam.listRoles()).map((r) => r.name)).toEqual(['existing']);
    expect((await hub.directory.members.get(C)!.iam.listRoles()).map((r) => r.arn)).toEqual([
      `arn:aws:iam::${C}:role/reader`,
    ]);
    expect(await readFile(s.stateFile, 'utf8')).toBe(before);
  });

  it('seeds a fixture without accounts into the hub account, as for one account', async () => {
    const s = await standIn();
    const [only, ...rest] = await seedLocalStandIn(
      s,
      fixture('roles: [{ name: reader }]\nbuckets: { own-bucket: {} }'),
      'fixture.yaml',
    );
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      account: HUB,
      roles: { created: ['reader'], skipped: [] },
      resources: { created: ['arn:aws:s3:::own-bucket'], skipped: [] },
    });
    expect((await new FileIamAccount({ file: s.stateFile, accountId: HUB }).listRoles()).map((r) => r.name)).toEqual([
      'reader',
    ]);
    // Seeding again is harmless: everything is there already.
    const [again] = await seedLocalStandIn(s, fixture('roles: [{ name: reader }]\nbuckets: { own-bucket: {} }'), 'f');
    expect(again).toMatchObject({
      roles: { created: [] },
      resources: { created: [], skipped: ['arn:aws:s3:::own-bucket'] },
    });
  });

  it('refuses accounts that are not members, and a bucket in two accounts, before writing anything', async () => {
    const s = await standIn();
    const other = `accounts: { "${C}": { roles: [{ name: reader }] } }`;
    await expect(seedLocalStandIn(s, fixture(other), 'fixture.yaml')).rejects.toThrow(
      `fixture.yaml: accounts.${C}: the local stand-in holds several accounts only for a hub`,
    );
    await expect(seedLocalStandIn(s, fixture(other), 'fixture.yaml', [P])).rejects.toThrow(
      `fixture.yaml: accounts.${C} is not a member account (multiAccount.members: ${P})`,
    );
    const twice = `accounts: { "${C}": { buckets: { shared: {} } }, "${P}": { roles: [{ name: r }], buckets: { shared: {} } } }`;
    await expect(seedLocalStandIn(s, fixture(twice), 'fixture.yaml', [C, P])).rejects.toThrow(
      /bucket shared is named for account 333333333333, but account 222222222222 has it \(bucket names are global; nothing was seeded\)/,
    );
    expect(await openLocalAccount(s, P).iam.listRoles()).toEqual([]);
    // Already in another account's files: refused too.
    await seedLocalStandIn(s, fixture(`accounts: { "${C}": { buckets: { shared: {} } } }`), 'a.yaml', [C, P]);
    await expect(
      seedLocalStandIn(s, fixture(`accounts: { "${P}": { buckets: { shared: {} } } }`), 'b.yaml', [C, P]),
    ).rejects.toThrow(/account 222222222222 has it/);
  });

  it("finds a bucket's owner in the members' resource-policies files, and refuses a bucket no member has", async () => {
    const s = await standIn();
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Owner',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${P}:root` },
          Action: 's3:*',
          Resource: 'arn:aws:s3:::orders',
        },
      ],
    });
    await seedLocalStandIn(
      s,
      fixture(`accounts: { "${P}": { buckets: { orders: { policy: ${JSON.stringify(policy)} } } } }`),
      'fixture.yaml',
      [C, P],
    );
    const hub = await localHub({ ...s, settings: settings([C, P]), guardrails: {}, readTags: false });
    expect(await hub.owners.ownerOf('orders')).toBe(P);
    expect(await hub.owners.ownerOf('nobodys')).toBeUndefined();
    const bucket = { service: 's3', arn: 'arn:aws:s3:::orders', bucket: 'orders' } as const;
    expect(await hub.resourcePolicies.getPolicy(bucket)).toBe(policy);
    await expect(
      hub.resourcePolicies.getPolicy({ service: 's3', arn: 'arn:aws:s3:::nobodys', bucket: 'nobodys' }),
    ).rejects.toThrow(/belongs to no member account/);
  });
});

function settings(members: string[]) {
  return { members, roleName: 'dmm-aws-member', rolePath: '/' };
}

describe('a fixture with accounts', () => {
  it('names a bad member entry by its account, before anything is seeded', () => {
    expect(() => fixture(`accounts: { "${P}": { buckets: { Bad_Bucket: {} } } }`)).toThrow(
      `fixture.yaml: accounts.${P}.buckets.Bad_Bucket`,
    );
    expect(() => fixture(`accounts: { "${P}": { glueCatalogs: [moon-1] } }`)).toThrow(
      `fixture.yaml: accounts.${P}.glueCatalogs`,
    );
    expect(() => fixture(`accounts: { "${P}": { resourceTags: { buckets: { x: 1 } } } }`)).toThrow(
      `fixture.yaml: accounts.${P}.resourceTags`,
    );
    expect(() => fixture('accounts: { "12345": {} }')).toThrow('fixture.yaml: accounts.12345: Invalid key');
  });
});
