/**
 * The accounts a hub manages (docs/adr/0010-multi-account.md): per member account, the adapters
 * that act in it (IAM, resource policies, Lake Formation, resource tags) and its role guardrails.
 * The core writes an identity grant through the consumer account's IamAccount and a resource-side
 * grant through the routing adapters (src/accounts/routing.ts), which pick the account a
 * resource's ARN (or, for S3, its bucket's owner) names.
 */
import type { IamAccount } from '../interfaces/iam-account.js';
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import type { ResourcePolicies } from '../interfaces/resource-policies.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import type { Guardrails } from '../sync/guardrails.js';

/** One managed account and everything that acts in it. */
export interface MemberAccount {
  accountId: string;
  iam: IamAccount;
  /** The hub's guardrails with this member's role settings (managed path, required tag, protected roles). */
  guardrails: Guardrails;
  resourcePolicies?: ResourcePolicies;
  lakeFormation?: LakeFormationPermissions;
  resourceTags?: ResourceTagReader;
  /** The names of the S3 buckets this account owns: how a bucket ARN (which names no account) finds its owner. */
  listBuckets?(): Promise<string[]>;
}

/** An ordered pair "consumer account may receive data from provider account". */
export interface AccountPair {
  consumer: string;
  provider: string;
}

export interface AccountDirectory {
  /** The account the hub runs in: it names the hub's sessions, not a managed account unless listed. */
  hubAccountId: string;
  members: ReadonlyMap<string, MemberAccount>;
  /** Unset: any member may receive data from any member. */
  allowedPairs?: readonly AccountPair[];
}

/** Why a consumer in `consumer` may not receive data from a resource in `provider`, or undefined. */
export function pairRefusal(directory: AccountDirectory, consumer: string, provider: string): string | undefined {
  if (consumer === provider) return undefined;
  if (!directory.members.has(provider)) {
    return `account ${provider} is not a member account of this hub (multiAccount.members), so its resources cannot be granted`;
  }
  const pairs = directory.allowedPairs;
  if (pairs && !pairs.some((p) => p.consumer === consumer && p.provider === provider)) {
    return `consumer account ${consumer} may not receive data from account ${provider} (multiAccount.allowedAccountPairs)`;
  }
  return undefined;
}
