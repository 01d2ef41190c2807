/**
 * The grant model (docs/adr/0005-grant-targets.md): what an agreement needs is a list of grants,
 * each on a *grant target*, a place where access is written. An output port type says which grants
 * an agreement needs; each target kind (src/targets/) reads what this tool owns there, plans the
 * difference and applies it.
 */
import type { PolicyStatement } from './policy.js';

/** Statements on the consumer role's identity policies (the packs of ADR 0002). */
export interface IdentityPolicyGrant {
  target: 'identity-policy';
  /** Without `Sid`: the target adds ownership Sids. */
  statements: PolicyStatement[];
  /**
   * Statements that are word for word the same for every agreement that needs them on one role
   * (a workgroup, the role's query-result folder): the target stores them once per role and
   * removes them with the last agreement that needs them (docs/adr/0011-shared-statements.md).
   */
  shared?: PolicyStatement[];
}

/**
 * A provider resource whose own policy this tool can add statements to. `arn` is the resource's
 * ARN as it appears in the policy (and the target's identity); the rest addresses the API call.
 */
export type PolicyResource =
  /** The S3 bucket policy (20 KB). */
  | { service: 's3'; arn: string; bucket: string }
  /** The KMS key policy (32 KB); a key always has one, so it is never deleted. */
  | { service: 'kms'; arn: string; region: string; account: string; keyId: string }
  /** The Glue Data Catalog resource policy of one account and region (10 KB). */
  | { service: 'glue'; arn: string; region: string; account: string };

/** Statements on a provider resource's policy, naming the consumer role as `Principal`. */
export interface ResourcePolicyGrant {
  target: 'resource-policy';
  resource: PolicyResource;
  /** Without `Sid`, with `Principal`: the target adds ownership Sids. */
  statements: PolicyStatement[];
  /**
   * Needed only when the resource is in another account than the consumer role (IAM then asks
   * both sides): a hub writes it in the resource's member account, and drops it for a resource
   * in the consumer's own account, whose identity grant is enough (src/accounts/cross-account.ts).
   */
  acrossAccounts?: true;
}

/** A Data Catalog resource Lake Formation grants on. `catalogId` is the owning account. */
export type LakeFormationResource =
  | { kind: 'database'; catalogId: string; region: string; database: string }
  | { kind: 'table'; catalogId: string; region: string; database: string; table: string };

/** Lake Formation permissions for the consumer role (the principal) on one resource. */
export interface LakeFormationGrant {
  target: 'lake-formation';
  resource: LakeFormationResource;
  /** Lake Formation permission names, e.g. `SELECT`, `DESCRIBE`; never with grant option. */
  permissions: string[];
}

export type TargetGrant = IdentityPolicyGrant | ResourcePolicyGrant | LakeFormationGrant;
export type TargetKindName = TargetGrant['target'];

/** The agreement's own identity-policy statements among `grants` (every grant names the consumer role's at most once). */
export function identityStatements(grants: readonly TargetGrant[]): PolicyStatement[] {
  return grants.flatMap((g) => (g.target === 'identity-policy' ? g.statements : []));
}

/** The identity-policy statements among `grants` that are stored once per role. */
export function sharedIdentityStatements(grants: readonly TargetGrant[]): PolicyStatement[] {
  return grants.flatMap((g) => (g.target === 'identity-policy' ? (g.shared ?? []) : []));
}

/** Every policy statement among `grants`, identity and resource policies alike (for the size guardrails). */
export function allStatements(grants: readonly TargetGrant[]): PolicyStatement[] {
  return grants.flatMap((g) =>
    g.target === 'lake-formation'
      ? []
      : g.target === 'identity-policy'
        ? [...g.statements, ...(g.shared ?? [])]
        : g.statements,
  );
}

/** How a Lake Formation resource is named for people and in the agreement index. */
export function lakeFormationResourceName(r: LakeFormationResource): string {
  const where = `${r.catalogId}/${r.region}`;
  return r.kind === 'table' ? `table ${r.database}.${r.table} (${where})` : `database ${r.database} (${where})`;
}
