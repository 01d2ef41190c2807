/**
 * A YAML description of the roles a local account starts with (the consumer roles a demo grants
 * to, plus anything users attached by hand), and the code that creates them in a FileIamAccount.
 *
 * ```yaml
 * roles:
 *   - name: analytics-consumer
 *     path: /dmm/                       # optional, default /
 *     tags: { dmm-aws/managed: "true" } # optional
 *     inlinePolicies:                   # optional, name → document (a mapping or a JSON string)
 *       existing-access:
 *         Version: "2012-10-17"
 *         Statement: [{ Effect: Allow, Action: s3:ListAllMyBuckets, Resource: "*" }]
 *     attachedPolicies:                 # optional: managed policies a user attached
 *       - name: team-extras             #   customer-managed, created in this account
 *         path: /                       #   optional
 *         document: { ... }
 *       - arn: arn:aws:iam::aws:policy/ReadOnlyAccess   # AWS-managed
 *         document: { ... }             #   what getManagedPolicyDocument should return
 * resourceTags:                         # optional: tags of provider resources, for ownership
 *   buckets:                            #   proof (format: src/local/file-resource-tags.ts)
 *     acme-orders-data: { dmm:data-product: orders }
 * buckets:                              # optional: S3 buckets of this account, whose policies
 *   acme-orders-data: {}                #   dmm-aws may write across accounts; `policy:` the
 *   acme-sales-lake:                    #   owner's own bucket policy
 *     policy: { Version: "2012-10-17", Statement: [ ... ] }
 * glueCatalogs: [eu-central-1]          # optional: regions whose Glue Data Catalog policy it may write
 * accounts:                             # optional: more accounts of a multi-account hub, each
 *   "333333333333":                     #   with roles, resourceTags, buckets, glueCatalogs as above
 *     buckets: { sales-orders: {} }     #   (the top level is the hub's own account)
 * ```
 *
 * Seeding goes through the account's own API, so a fixture cannot contain anything IAM would refuse;
 * it is all-or-nothing (seedIamAccount).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { IamError } from '../interfaces/iam-account.js';
import { TargetError } from '../interfaces/target-error.js';
import type { PolicyResource } from '../model/grants.js';
import { checkBucketName, checkRegion, glueCatalogArn, s3BucketArn } from '../output-ports/arn.js';
import { withPlainFieldErrors } from '../output-ports/port-type.js';
import type { FileResourcePolicies } from './file-resource-policies.js';
import type { FileIamAccount } from './file-iam-account.js';
import { FileResourceTags, type ResourceTagsData } from './file-resource-tags.js';
import { withStateFileLock, writeFileAtomic } from './state-store.js';

/** Documents may be written as YAML mappings (readable) or as JSON text (exact). */
const documentSchema = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .transform((doc) => (typeof doc === 'string' ? doc : JSON.stringify(doc)));

const attachedPolicySchema = z.union([
  z.strictObject({ name: z.string(), path: z.string().optional(), document: documentSchema }),
  z.strictObject({ arn: z.string(), document: documentSchema }),
]);

const roleSchema = z.strictObject({
  name: z.string(),
  path: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  inlinePolicies: z.record(z.string(), documentSchema).optional(),
  attachedPolicies: z.array(attachedPolicySchema).optional(),
});

const bucketSchema = z
  .strictObject({ policy: documentSchema.optional() })
  .nullable()
  .transform((bucket) => bucket ?? {});

const accountSchema = z.strictObject({
  roles: z.array(roleSchema).default([]),
  resourceTags: z.record(z.string(), z.unknown()).optional(),
  buckets: z.record(z.string(), bucketSchema).optional(),
  glueCatalogs: z.array(z.string()).optional(),
});

const fixtureSchema = accountSchema.extend({
  accounts: z.record(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'), accountSchema).optional(),
});

/** One account's part of a fixture: the top level (the hub's own account) or an entry of `accounts`. */
export type AccountFixture = z.infer<typeof accountSchema>;
export type AwsAccountFixture = z.infer<typeof fixtureSchema>;
type RoleFixture = z.infer<typeof roleSchema>;

/** Parse fixture text; `source` (usually the file name) prefixes every error. */
export function parseAwsAccountFixture(text: string, source: string): AwsAccountFixture {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const parsed = fixtureSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source}: ${issues.join('; ')}`);
  }
  // Checked now, so a bad entry is named by the fixture, not found later by a refused grant.
  for (const [i, [id, account]] of fixtureAccounts(parsed.data, '').entries()) {
    const where = `${source}: ${i === 0 ? '' : `accounts.${id}.`}`;
    if (account.resourceTags) new FileResourceTags(account.resourceTags as ResourceTagsData, `${where}resourceTags`);
    for (const bucket of Object.keys(account.buckets ?? {}))
      withPlainFieldErrors(() => checkBucketName(`${where}buckets.${bucket}`, bucket));
    for (const region of account.glueCatalogs ?? [])
      withPlainFieldErrors(() => checkRegion(`${where}glueCatalogs`, region));
  }
  return parsed.data;
}

export async function loadAwsAccountFixture(file: string): Promise<AwsAccountFixture> {
  return parseAwsAccountFixture(await readFile(file, 'utf8'), file);
}

export interface SeedResult {
  created: string[];
  /** Roles that already existed and were left untouched, so re-seeding a demo account is harmless. */
  skipped: string[];
}

/**
 * Create the fixture's roles with their policies, all or nothing: the whole fixture is applied to
 * a draft of the account (IAM's rules checked on every call) and saved in one locked change, so a
 * refused role or policy leaves the account as it was and the fixed file seeds everything. IAM's
 * refusals keep their code, with the fixture and role named in the message. Concurrent seeds of
 * one account file each land whole, one after the other.
 */
export async function seedIamAccount(
  account: FileIamAccount,
  fixture: AccountFixture,
  source = 'fixture',
): Promise<SeedResult> {
  return account.batch(async (draft) => {
    const result: SeedResult = { created: [], skipped: [] };
    for (const [index, role] of fixture.roles.entries()) {
      try {
        if (await draft.getRole(role.name)) {
          result.skipped.push(role.name);
          continue;
        }
        await seedRole(draft, role);
        result.created.push(role.name);
      } catch (err) {
        if (err instanceof IamError) {
          throw new IamError(err.code, `${source}: roles.${index} (${role.name}): ${err.message} (nothing was seeded)`);
        }
        throw err;
      }
    }
    return result;
  });
}

async function seedRole(account: FileIamAccount, role: RoleFixture): Promise<void> {
  await account.createRole(role.name, { path: role.path, tags: role.tags });
  for (const [name, document] of Object.entries(role.inlinePolicies ?? {})) {
    await account.putInlinePolicy(role.name, name, document);
  }
  for (const policy of role.attachedPolicies ?? []) {
    if ('arn' in policy) {
      await account.attachExistingPolicy(role.name, policy.arn, { document: policy.document });
    } else {
      await account.attachExistingPolicy(
        role.name,
        await ensureManagedPolicy(account, policy.name, policy.path ?? '/', policy.document),
      );
    }
  }
}

/** Several fixture roles may share one customer-managed policy: create it once, reuse it after. */
async function ensureManagedPolicy(
  account: FileIamAccount,
  name: string,
  path: string,
  document: string,
): Promise<string> {
  const arn = `arn:${account.partition}:iam::${account.accountId}:policy${path}${name}`;
  let existing: string | undefined;
  try {
    existing = await account.getManagedPolicyDocument(arn);
  } catch (err) {
    if (!(err instanceof IamError && err.code === 'NoSuchEntity')) throw err;
  }
  if (existing === undefined) return (await account.createManagedPolicy(name, document, { path })).arn;
  if (existing !== document) {
    throw new IamError('EntityAlreadyExists', `managed policy ${name} is defined again with a different document`);
  }
  return arn;
}

export async function seedIamAccountFromFile(account: FileIamAccount, file: string): Promise<SeedResult> {
  return seedIamAccount(account, await loadAwsAccountFixture(file), file);
}

/** The fixture's provider resource tags, in the format FileResourceTags reads. */
export function resourceTagsOf(fixture: AccountFixture): ResourceTagsData {
  return (fixture.resourceTags ?? {}) as ResourceTagsData;
}

/**
 * Write the fixture's provider resource tags to the local stand-in's tags file (replacing it
 * atomically, under the state file lock), so ownership proof finds them. Returns whether the
 * fixture had any.
 */
export async function seedResourceTags(file: string, fixture: AccountFixture): Promise<boolean> {
  const tags = fixture.resourceTags;
  if (!tags) return false;
  await withStateFileLock(file, (lock) => writeFileAtomic(resolve(file), stringifyYaml(tags), lock));
  return true;
}

/** Each account part of a fixture: `[hubAccount, its top level]` first, then each `accounts.<id>`. */
export function fixtureAccounts(fixture: AwsAccountFixture, hubAccount: string): [string, AccountFixture][] {
  const { accounts, ...own } = fixture;
  return [[hubAccount, own], ...Object.entries(accounts ?? {})];
}

/** What seeding created in an account's resource-policies file, and what was already there. */
export interface SeedResourcesResult {
  created: string[];
  skipped: string[];
}

/**
 * Create the fixture's buckets (with the owner's own policy, if given) and Glue Data Catalogs in
 * one account's resource-policies file. Existing resources are left as they are, so re-seeding is
 * harmless; a policy the service would refuse names the fixture and bucket.
 */
export async function seedResources(
  policies: FileResourcePolicies,
  accountId: string,
  fixture: AccountFixture,
  source = 'fixture',
  partition = 'aws',
): Promise<SeedResourcesResult> {
  const existing = new Set((await policies.snapshot()).map((r) => r.resource.arn));
  const result: SeedResourcesResult = { created: [], skipped: [] };
  const add = async (resource: PolicyResource, policy: string | undefined, where: string) => {
    if (existing.has(resource.arn)) {
      result.skipped.push(resource.arn);
      return;
    }
    try {
      await policies.addResource(resource, policy);
    } catch (err) {
      if (err instanceof TargetError) throw new TargetError(err.code, `${source}: ${where}: ${err.message}`);
      throw err;
    }
    result.created.push(resource.arn);
  };
  for (const [bucket, { policy }] of Object.entries(fixture.buckets ?? {})) {
    const name = withPlainFieldErrors(() => checkBucketName(`${source}: buckets.${bucket}`, bucket));
    await add(
      { service: 's3', arn: s3BucketArn({ partition, bucket: name, prefix: '' }), bucket: name },
      policy,
      `buckets.${bucket}`,
    );
  }
  for (const region of fixture.glueCatalogs ?? []) {
    const checked = withPlainFieldErrors(() => checkRegion(`${source}: glueCatalogs`, region));
    await add(
      {
        service: 'glue',
        arn: glueCatalogArn({ partition, region: checked, account: accountId }),
        region: checked,
        account: accountId,
      },
      undefined,
      `glueCatalogs.${region}`,
    );
  }
  return result;
}
