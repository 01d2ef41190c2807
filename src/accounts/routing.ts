/**
 * The resource-side adapters of a hub: each call goes to the member account that owns the
 * resource. KMS keys, Glue catalogs and Lake Formation resources name their account; an S3 bucket
 * ARN names none, so a bucket's owner is found among the members' own bucket lists. The core
 * (src/sync/reconcile.ts) uses these like the single-account adapters, unchanged.
 */
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import type { ResourcePolicies } from '../interfaces/resource-policies.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import { TargetError } from '../interfaces/target-error.js';
import type { LakeFormationResource, PolicyResource } from '../model/grants.js';
import { describePolicyResource } from '../targets/resource-policy.js';
import type { ProviderResource } from '../output-ports/port-type.js';
import type { AccountDirectory, MemberAccount } from './directory.js';

/** How long a member's bucket list is trusted before a bucket missing from it is looked up again. */
export const BUCKET_LIST_TTL_MS = 60_000;

/**
 * Which member owns a bucket, from each member's ListBuckets (one call per member, cached). A
 * bucket in no member's list has no owner here: its policy cannot be written and its tags prove
 * nothing. Bucket names are global, so a name found in one member's list is that member's.
 */
export class BucketOwners {
  private owners: Map<string, string> | undefined;
  private readAt = 0;
  private reading: Promise<Map<string, string>> | undefined;

  constructor(
    private readonly directory: AccountDirectory,
    private readonly now: () => number = Date.now,
  ) {}

  async ownerOf(bucket: string): Promise<string | undefined> {
    const known = this.owners?.get(bucket);
    if (known !== undefined) return known;
    // A bucket created since the last listing: list again, but not more than once per TTL.
    if (this.owners === undefined || this.now() - this.readAt > BUCKET_LIST_TTL_MS) {
      this.reading ??= this.list().finally(() => {
        this.reading = undefined;
      });
      this.owners = await this.reading;
    }
    return this.owners.get(bucket);
  }

  /** The members changed: a bucket's owner is looked up again. */
  forget(): void {
    this.owners = undefined;
  }

  private async list(): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const member of this.directory.members.values()) {
      for (const bucket of (await member.listBuckets?.()) ?? []) owners.set(bucket, member.accountId);
    }
    this.readAt = this.now();
    return owners;
  }
}

/** The account a policy resource lives in, or undefined for a bucket no member owns. */
export async function policyResourceAccount(
  resource: PolicyResource,
  owners: BucketOwners,
): Promise<string | undefined> {
  return resource.service === 's3' ? owners.ownerOf(resource.bucket) : resource.account;
}

/** Resource policies written through the owning member's role. */
export function routedResourcePolicies(directory: AccountDirectory, owners: BucketOwners): ResourcePolicies {
  const adapter = async (resource: PolicyResource): Promise<ResourcePolicies> => {
    const account = await policyResourceAccount(resource, owners);
    const member = account === undefined ? undefined : directory.members.get(account);
    if (!member?.resourcePolicies) throw notManaged(describePolicyResource(resource), account);
    return member.resourcePolicies;
  };
  return {
    getPolicy: async (resource) => (await adapter(resource)).getPolicy(resource),
    putPolicy: async (resource, document) => (await adapter(resource)).putPolicy(resource, document),
    deletePolicy: async (resource) => (await adapter(resource)).deletePolicy(resource),
  };
}

/** Lake Formation permissions granted in the catalog's account. */
export function routedLakeFormation(directory: AccountDirectory): LakeFormationPermissions {
  const adapter = (resource: LakeFormationResource): LakeFormationPermissions => {
    const lf = directory.members.get(resource.catalogId)?.lakeFormation;
    if (!lf) throw notManaged(`Lake Formation catalog of account ${resource.catalogId}`, resource.catalogId);
    return lf;
  };
  return {
    listPermissions: (principal, resource) => adapter(resource).listPermissions(principal, resource),
    grant: (principal, resource, permissions) => adapter(resource).grant(principal, resource, permissions),
    revoke: (principal, resource, permissions) => adapter(resource).revoke(principal, resource, permissions),
  };
}

/** Tags read through the owning member's role; a resource no member owns proves nothing. */
export function routedResourceTags(directory: AccountDirectory, owners: BucketOwners): ResourceTagReader {
  return {
    async tagsOf(resource: ProviderResource) {
      const member = await ownerOfArn(resource.arn, directory, owners);
      return member?.resourceTags ? member.resourceTags.tagsOf(resource) : undefined;
    },
  };
}

/** The member that owns the resource an ARN names: its account field, or for S3 its bucket's owner. */
export async function ownerOfArn(
  arn: string,
  directory: AccountDirectory,
  owners: BucketOwners,
): Promise<MemberAccount | undefined> {
  const account = await accountOfArn(arn, owners);
  return account === undefined ? undefined : directory.members.get(account);
}

export async function accountOfArn(arn: string, owners: BucketOwners): Promise<string | undefined> {
  const s3 = /^arn:[^:]+:s3:::([^/]+)/.exec(arn);
  if (s3) return owners.ownerOf(s3[1]!);
  const account = arn.split(':')[4];
  return account === undefined || account === '' ? undefined : account;
}

/** Permanent: the resource is in no member account, and retrying will not put it there. */
function notManaged(what: string, account: string | undefined): TargetError {
  return new TargetError(
    'NoSuchEntity',
    account === undefined
      ? `the ${what} belongs to no member account of this hub (no member lists the bucket)`
      : `the ${what} is in account ${account}, which is not a member account of this hub (multiAccount.members)`,
  );
}
