/**
 * The local stand-in with several accounts: a hub over member accounts without AWS
 * (docs/multi-account.md, "Try it locally"). Each account keeps its own state files, keyed by its
 * id; the hub's own account keeps the files it always had, so a single-account state directory
 * is read exactly as before and gains accounts beside it:
 *
 * ```
 * .dmm-aws/aws-account.json                                 the hub's account (as before)
 * .dmm-aws/aws-account.resource-policies.json                 …its buckets, keys, Glue catalogs
 * .dmm-aws/aws-account.222222222222.json                    member 222222222222's roles
 * .dmm-aws/aws-account.222222222222.resource-policies.json  …its resources and their policies
 * .dmm-aws/aws-account.222222222222.lake-formation.json     …its Lake Formation permissions
 * .dmm-aws/aws-account.222222222222.resource-tags.yaml      …its resources' tags (ownership proof)
 * ```
 *
 * A member's adapters are plain file adapters of that account: where the AWS hub assumes the
 * member role, the local hub opens the member's files. Routing (which account a grant's resource
 * is in) is the AWS hub's own (src/accounts/hub.ts): a bucket belongs to the account whose
 * resource-policies file lists it, as ListBuckets decides it on AWS.
 */
import { existsSync } from 'node:fs';
import type { MemberAccount } from '../accounts/directory.js';
import { type Hub, hubOver, memberGuardrails } from '../accounts/hub.js';
import { memberOf, type MultiAccountSettings } from '../accounts/settings.js';
import type { GuardrailSettings } from '../sync/guardrail-settings.js';
import {
  type AccountFixture,
  type AwsAccountFixture,
  fixtureAccounts,
  type SeedResourcesResult,
  type SeedResult,
  seedIamAccount,
  seedResources,
  seedResourceTags,
} from './aws-account-fixture.js';
import { FileIamAccount } from './file-iam-account.js';
import { FileLakeFormation } from './file-lake-formation.js';
import { FileResourcePolicies } from './file-resource-policies.js';
import { FileResourceTags } from './file-resource-tags.js';

/** Where the stand-in keeps the hub's own account; every other account's files are named beside it. */
export interface LocalStandIn {
  /** The hub account's IAM state file (`aws.localStateFile`). */
  stateFile: string;
  /** The hub account's id. */
  hubAccountId: string;
  /** The hub account's resource tags file (`aws.localResourceTagsFile`); default beside the state file. */
  hubResourceTagsFile?: string;
  partition?: string;
}

export interface LocalAccountFiles {
  iam: string;
  resourcePolicies: string;
  lakeFormation: string;
  resourceTags: string;
}

/** The state files of `account`: the hub's are the stand-in's own, any other's carry its id. */
export function localAccountFiles(standIn: LocalStandIn, account: string): LocalAccountFiles {
  const base = standIn.stateFile.replace(/\.json$/, '');
  const own = account === standIn.hubAccountId;
  const stem = own ? base : `${base}.${account}`;
  return {
    iam: own ? standIn.stateFile : `${stem}.json`,
    resourcePolicies: `${stem}.resource-policies.json`,
    lakeFormation: `${stem}.lake-formation.json`,
    resourceTags: own && standIn.hubResourceTagsFile ? standIn.hubResourceTagsFile : `${stem}.resource-tags.yaml`,
  };
}

/** One account of the stand-in: its file adapters. */
export interface LocalAccount {
  accountId: string;
  files: LocalAccountFiles;
  iam: FileIamAccount;
  resourcePolicies: FileResourcePolicies;
  lakeFormation: FileLakeFormation;
}

export function openLocalAccount(standIn: LocalStandIn, accountId: string): LocalAccount {
  const files = localAccountFiles(standIn, accountId);
  return {
    accountId,
    files,
    iam: new FileIamAccount({ file: files.iam, accountId, partition: standIn.partition ?? 'aws' }),
    resourcePolicies: new FileResourcePolicies({ file: files.resourcePolicies }),
    lakeFormation: new FileLakeFormation({ file: files.lakeFormation }),
  };
}

/** The S3 buckets an account of the stand-in owns: the buckets its resource-policies file lists. */
export async function localBuckets(policies: FileResourcePolicies): Promise<string[]> {
  return (await policies.snapshot()).flatMap(({ resource }) => (resource.service === 's3' ? [resource.bucket] : []));
}

/** The accounts a hub's settings name: each member once, in the order listed. */
export function memberAccountIds(settings: Pick<MultiAccountSettings, 'members'>): string[] {
  return [...new Set(settings.members.map((m) => memberOf(m).account))];
}

export interface LocalHubOptions extends LocalStandIn {
  /** As parsed; organizational units are for the aws target only (config.ts refuses them here). */
  settings: Omit<MultiAccountSettings, 'organizationalUnits'>;
  /** The hub's guardrail settings; each member's own role settings are laid over them. */
  guardrails: GuardrailSettings;
  /** Read tags for ownership proof (only when that guardrail is on). */
  readTags: boolean;
}

/**
 * A hub over the stand-in's member accounts, routed like the AWS hub. Each member's resource tags
 * are read once, from its tags file (written by `local-aws seed`); a member without one has no
 * tagged resources, so ownership proof refuses its resources until they are seeded.
 */
export async function localHub(options: LocalHubOptions): Promise<Hub & { memberIds: string[] }> {
  const members = new Map<string, MemberAccount>();
  const memberIds = options.settings.members.map((m) => memberOf(m).account);
  for (const setting of options.settings.members) {
    const account = openLocalAccount(options, memberOf(setting).account);
    const tagsFile = account.files.resourceTags;
    members.set(account.accountId, {
      accountId: account.accountId,
      guardrails: memberGuardrails(setting, options.guardrails, memberIds),
      iam: account.iam,
      resourcePolicies: account.resourcePolicies,
      lakeFormation: account.lakeFormation,
      ...(options.readTags
        ? { resourceTags: existsSync(tagsFile) ? await FileResourceTags.fromFile(tagsFile) : new FileResourceTags() }
        : {}),
      listBuckets: () => localBuckets(account.resourcePolicies),
    });
  }
  return { ...hubOver(options.hubAccountId, members, options.settings, options.readTags), memberIds };
}

/** What `local-aws seed` did in one account. */
export interface AccountSeedResult {
  account: string;
  files: LocalAccountFiles;
  roles: SeedResult;
  resources: SeedResourcesResult;
  /** Whether the account's resource tags file was written. */
  tagsWritten: boolean;
}

/**
 * Seed the stand-in from a fixture: its top level into the hub's own account (as for one
 * account), each `accounts.<id>` into that member. Checked before anything is written: every
 * account must be a member (`members`; none without multiAccount), and a bucket name may be in one
 * account only (S3 bucket names are global, and the owner decides where its policy is written).
 */
export async function seedLocalStandIn(
  standIn: LocalStandIn,
  fixture: AwsAccountFixture,
  source: string,
  members?: readonly string[],
): Promise<AccountSeedResult[]> {
  const parts = fixtureAccounts(fixture, standIn.hubAccountId).filter(
    ([, part], i) => i > 0 || !fixture.accounts || !isEmpty(part),
  );
  for (const account of Object.keys(fixture.accounts ?? {})) {
    if (account === standIn.hubAccountId) continue;
    if (!members) {
      throw new Error(
        `${source}: accounts.${account}: the local stand-in holds several accounts only for a hub; configure multiAccount.members (docs/multi-account.md)`,
      );
    }
    if (!members.includes(account)) {
      throw new Error(
        `${source}: accounts.${account} is not a member account (multiAccount.members: ${members.join(', ')})`,
      );
    }
  }
  const accounts = new Map(
    [standIn.hubAccountId, ...(members ?? []), ...parts.map(([a]) => a)].map((a) => [a, openLocalAccount(standIn, a)]),
  );
  const owner = new Map<string, string>();
  for (const [account, local] of accounts)
    for (const bucket of await localBuckets(local.resourcePolicies)) owner.set(bucket, account);
  const named = new Map<string, string>();
  for (const [account, part] of parts) {
    for (const bucket of Object.keys(part.buckets ?? {})) {
      const other = named.get(bucket) ?? owner.get(bucket);
      if (other !== undefined && other !== account) {
        throw new Error(
          `${source}: bucket ${bucket} is named for account ${account}, but account ${other} has it (bucket names are global; nothing was seeded)`,
        );
      }
      named.set(bucket, account);
    }
  }
  const results: AccountSeedResult[] = [];
  for (const [account, part] of parts) {
    const local = accounts.get(account)!;
    const where = account === standIn.hubAccountId ? source : `${source}: accounts.${account}`;
    results.push({
      account,
      files: local.files,
      roles: await seedIamAccount(local.iam, part, where),
      resources: await seedResources(local.resourcePolicies, account, part, where, standIn.partition),
      tagsWritten: await seedResourceTags(local.files.resourceTags, part),
    });
  }
  return results;
}

function isEmpty(part: AccountFixture): boolean {
  return (
    part.roles.length === 0 &&
    part.resourceTags === undefined &&
    Object.keys(part.buckets ?? {}).length === 0 &&
    (part.glueCatalogs ?? []).length === 0
  );
}
