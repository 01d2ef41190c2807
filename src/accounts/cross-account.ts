/**
 * The step between "the port type's grants" and "the grants written" for a hub: each resource-side
 * grant a port type marks `acrossAccounts` is kept only when the resource is in another account
 * than the consumer role, and the pair of accounts must be allowed (docs/adr/0010-multi-account.md).
 * Without a hub (one account), such grants are dropped: the account's own identity grant is what
 * it always was.
 */
import type { TargetGrant } from '../model/grants.js';
import type { Grant } from '../sync/resolve.js';
import { describePolicyResource } from '../targets/resource-policy.js';
import { type AccountDirectory, pairRefusal } from './directory.js';
import { accountOfArn, type BucketOwners, policyResourceAccount } from './routing.js';

/** A hub's accounts as the core sees them. */
export interface HubAccounts {
  directory: AccountDirectory;
  owners: BucketOwners;
  /**
   * Brings the members up to date before a unit of work (members from AWS Organizations OUs,
   * src/accounts/organizations.ts); throws an outage when they cannot be known, so nothing is
   * decided on a member set that is wrong. Unset: the members are fixed.
   */
  refresh?(): Promise<void>;
}

export type Settled = { grant: Grant } | { refusal: string };

/**
 * The grant with its resource side decided: every provider resource in an allowed account, and a
 * resource-side grant kept exactly for each resource in another account than the consumer's.
 */
export async function settleAcrossAccounts(grant: Grant, hub: HubAccounts | undefined): Promise<Settled> {
  if (!hub) return { grant: { ...grant, grants: grant.grants.filter((g) => !isAcrossAccounts(g)) } };
  const consumer = grant.role.accountId;
  for (const resource of grant.providerResources) {
    const account = await accountOfArn(resource.arn, hub.owners);
    if (account === undefined) {
      return {
        refusal: `${resource.description ?? resource.arn} is in no member account of this hub (no member account lists the bucket), so neither its owner can allow role ${grant.role.arn} nor its tags be read`,
      };
    }
    const refused = pairRefusal(hub.directory, consumer, account);
    if (refused) return { refusal: refused };
  }
  const kept: TargetGrant[] = [];
  for (const g of grant.grants) {
    if (!isAcrossAccounts(g)) {
      kept.push(g);
      continue;
    }
    const account = await policyResourceAccount(g.resource, hub.owners);
    if (account === undefined) {
      return { refusal: `the ${describePolicyResource(g.resource)} is in no member account of this hub` };
    }
    if (account === consumer) continue;
    const refused = pairRefusal(hub.directory, consumer, account);
    if (refused) return { refusal: refused };
    kept.push(g);
  }
  return { grant: { ...grant, grants: kept } };
}

function isAcrossAccounts(g: TargetGrant): g is Extract<TargetGrant, { target: 'resource-policy' }> {
  return g.target === 'resource-policy' && g.acrossAccounts === true;
}
