import type { DmmApi } from '../interfaces/dmm-api.js';
import type { Logger } from '../util/log.js';
import type { AgreementIndex } from './agreement-index.js';
import { defaultGuardrails, type Guardrails } from './guardrails.js';
import type { IamAccount } from '../interfaces/iam-account.js';
import type { PackLimits } from '../targets/identity-policy/packing.js';
import type { ResolveLookups, ResolveOptions } from './resolve.js';
import type { LakeFormationPermissions } from '../interfaces/lake-formation.js';
import type { ResourcePolicies } from '../interfaces/resource-policies.js';
import type { ResourceTagReader } from '../interfaces/resource-tags.js';
import type { HubAccounts } from '../accounts/cross-account.js';
import type { TargetLocks } from './target-locks.js';

/** Everything the converging core needs; the adapters behind it may be local or AWS. */
export interface SyncContext {
  dmm: DmmApi;
  iam: IamAccount;
  resolve: ResolveOptions;
  log: Logger;
  limits?: PackLimits;
  /** Operator limits on what metadata can make the tool do; default `defaultGuardrails(account)`. */
  guardrails?: Guardrails;
  /** Reads provider resources' tags for ownership proof (only used when that guardrail is on). */
  resourceTags?: ResourceTagReader;
  /**
   * Where each agreement's statements were last placed (src/sync/agreement-index.ts), so that a
   * deleted agreement's access is found without reading every role. Without it, such an agreement
   * is found by a scan of all managed roles.
   */
  agreementIndex?: AgreementIndex;
  /** Provider resources' policies (bucket, KMS key, Glue catalog): needed by grants on that target. */
  resourcePolicies?: ResourcePolicies;
  /** Lake Formation permissions: needed by grants on that target, together with the agreement index. */
  lakeFormation?: LakeFormationPermissions;
  /**
   * A hub's member accounts (docs/adr/0010-multi-account.md): identity grants go to the consumer
   * role's account, and `resourcePolicies`, `lakeFormation` and `resourceTags` route to the
   * resource's. Unset: the one account of `iam`.
   */
  accounts?: HubAccounts;
  /**
   * Leases that let one writer at a time read, plan and write each grant target, across
   * processes (docs/adr/0017-target-leases.md). Unset: this process is the only writer.
   */
  locks?: TargetLocks;
}

export function guardrailsOf(ctx: SyncContext): Guardrails {
  return ctx.guardrails ?? defaultGuardrails(ctx.iam.accountId);
}

/** The guardrails for roles in `account`: a member's own, else the context's. */
export function guardrailsForAccount(ctx: SyncContext, account: string): Guardrails {
  return ctx.accounts?.directory.members.get(account)?.guardrails ?? guardrailsOf(ctx);
}

/**
 * One context per account whose roles the identity target reads and writes: each member's IAM
 * and guardrails for a hub, else the context itself.
 */
export function identityContexts(ctx: SyncContext): SyncContext[] {
  if (!ctx.accounts) return [ctx];
  return [...ctx.accounts.directory.members.values()].map((m) => ({ ...ctx, iam: m.iam, guardrails: m.guardrails }));
}

/** How the core reads data products and teams (a cache over Data Mesh Manager). */
export interface ProductLookup extends ResolveLookups {
  /** Told the products a unit of work is about to read, so it can read them together. */
  prefetch?(ids: readonly string[]): Promise<void>;
}

/**
 * Data products, teams and data contracts are read once per unit of work: a full reconcile over 1,000
 * agreements touches the same few again and again.
 */
export function dataProductCache(dmm: DmmApi): ProductLookup {
  return {
    getDataProduct: cached((id) => dmm.getDataProduct(id)),
    getTeam: cached((id) => dmm.getTeam(id)),
    getDataContract: cached((id) => dmm.getDataContract(id)),
  };
}

/** One read per id and unit of work; a failed read is forgotten, so the next caller retries it. */
export function cached<T>(read: (id: string) => Promise<T>): (id: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (id) => {
    let hit = cache.get(id);
    if (!hit) {
      hit = read(id);
      cache.set(id, hit);
      hit.catch(() => cache.delete(id));
    }
    return hit;
  };
}
