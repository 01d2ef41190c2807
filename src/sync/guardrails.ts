import { allStatements, type TargetGrant } from '../model/grants.js';
import type { PolicyStatement } from '../model/policy.js';
import type { RoleInfo } from '../interfaces/iam-account.js';
import { iamCharacterCount } from '../interfaces/iam-account.js';
import { DEFAULT_OWNERSHIP_TAG_KEY, type OwnershipProof } from './ownership-proof.js';
import type { Grant } from './resolve.js';

/**
 * Limits on what metadata can make this tool do, beyond the per-port validation in src/output-ports/.
 * Data Mesh Manager metadata is typed in by data product teams; these settings belong to the
 * operator. Defaults are safe: see docs/security.md.
 */
export interface Guardrails {
  /** Only roles under this IAM path are ever read or written. Default `/`. */
  managedRolePath: string;
  /** Only roles with this tag (and value, when given) may receive grants. Default: none required. */
  requiredRoleTag?: { key: string; value?: string };
  /** Role names never touched, granted or revoked; a trailing `*` matches a prefix. */
  protectedRoles: string[];
  /** Accounts whose resources may be granted; default: only the managed account. */
  allowedResourceAccounts: string[] | 'any';
  /** Ownership proof: every provider resource a grant opens is shown to belong to the provider. */
  ownership: OwnershipProof;
  /** Upper bounds for one agreement's statements (actions per port type are fixed by code). */
  maxStatementsPerAgreement: number;
  maxResourcesPerAgreement: number;
  maxCharactersPerAgreement: number;
}

/**
 * Roles no data product may ever be granted on: how AWS Organizations, IAM Identity Center,
 * Control Tower and CloudFormation StackSets administer accounts. Operators add their own.
 */
export const ALWAYS_PROTECTED_ROLES = [
  'OrganizationAccountAccessRole',
  'AWSReservedSSO_*',
  'AWSServiceRoleFor*',
  'AWSControlTower*',
  'aws-controltower-*',
  'AWSCloudFormationStackSetExecutionRole',
  'stacksets-exec-*',
];

export function defaultGuardrails(accountId: string): Guardrails {
  return {
    managedRolePath: '/',
    protectedRoles: [...ALWAYS_PROTECTED_ROLES],
    allowedResourceAccounts: [accountId],
    ownership: { mode: 'required', productTagKey: DEFAULT_OWNERSHIP_TAG_KEY, allowList: [] },
    maxStatementsPerAgreement: 16,
    maxResourcesPerAgreement: 32,
    maxCharactersPerAgreement: 4_096,
  };
}

/**
 * Why the tool may not write to this role, or undefined when it may. Without `tags` (a role known
 * only from its ARN) the tag rule is not checked.
 */
export function roleRefusal(
  role: Pick<RoleInfo, 'name' | 'path'> & { tags?: RoleInfo['tags'] },
  guardrails: Guardrails,
): string | undefined {
  const pattern = guardrails.protectedRoles.find((p) => matches(p, role.name));
  if (pattern)
    return `role ${role.name} is protected (guardrails.protectedRoles: ${pattern}): dmm-aws never changes it`;
  if (!role.path.startsWith(guardrails.managedRolePath)) {
    return `role ${role.name} has path ${role.path}, outside the managed path ${guardrails.managedRolePath} (guardrails.managedRolePath)`;
  }
  const tag = guardrails.requiredRoleTag;
  if (tag && role.tags) {
    const value = role.tags[tag.key];
    if (value === undefined)
      return `role ${role.name} lacks the tag ${tag.key} that marks roles dmm-aws may manage (guardrails.requiredRoleTag)`;
    if (tag.value !== undefined && value !== tag.value) {
      return `role ${role.name} has tag ${tag.key}=${value}, but dmm-aws manages only roles with ${tag.key}=${tag.value} (guardrails.requiredRoleTag)`;
    }
  }
  return undefined;
}

/** A role name given only by name (before it is read) is checked against the protected list early. */
export function isProtectedRoleName(name: string, guardrails: Guardrails): boolean {
  return guardrails.protectedRoles.some((p) => matches(p, name));
}

/** Why this grant is refused by the account and size guardrails, or undefined. */
export function grantRefusal(grant: Grant, guardrails: Guardrails): string | undefined {
  // Checked for every agreement of a full reconcile: each list is built once.
  const all = allStatements(grant.grants);
  const resourceArns = resourcesOf(all);
  if (guardrails.allowedResourceAccounts !== 'any') {
    const allowed = guardrails.allowedResourceAccounts;
    for (const arn of resourceArns) {
      const account = arn.split(':')[4];
      if (account && !allowed.includes(account)) {
        return `resource ${arn} is in account ${account}, which is not an allowed resource account (guardrails.allowedResourceAccounts: ${allowed.join(', ')})`;
      }
    }
  }
  if (all.length > guardrails.maxStatementsPerAgreement) {
    return `the grant needs ${all.length} statements, more than guardrails.maxStatementsPerAgreement (${guardrails.maxStatementsPerAgreement})`;
  }
  if (resourceArns.length > guardrails.maxResourcesPerAgreement) {
    return `the grant names ${resourceArns.length} resources, more than guardrails.maxResourcesPerAgreement (${guardrails.maxResourcesPerAgreement})`;
  }
  const characters = iamCharacterCount(JSON.stringify(all));
  if (characters > guardrails.maxCharactersPerAgreement) {
    return `the grant's statements take ${characters} characters, more than guardrails.maxCharactersPerAgreement (${guardrails.maxCharactersPerAgreement})`;
  }
  return undefined;
}

/**
 * Bucket ARNs carry no account, so the account guardrail for S3 is enforced by IAM itself: every
 * S3 statement only works on buckets owned by an allowed account (`s3:ResourceAccount`). A bucket
 * name that turns out to belong to someone else then grants nothing.
 */
export function constrainGrants(grants: TargetGrant[], guardrails: Guardrails): TargetGrant[] {
  return grants.map((g) =>
    g.target === 'identity-policy'
      ? {
          ...g,
          statements: constrainStatements(g.statements, guardrails),
          ...(g.shared ? { shared: constrainStatements(g.shared, guardrails) } : {}),
        }
      : g,
  );
}

export function constrainStatements(statements: PolicyStatement[], guardrails: Guardrails): PolicyStatement[] {
  if (guardrails.allowedResourceAccounts === 'any') return statements;
  const accounts = guardrails.allowedResourceAccounts;
  return statements.map((statement) => {
    if (!actionsOf(statement).every((a) => a.startsWith('s3:'))) return statement;
    const condition = { ...(statement.Condition ?? {}) };
    condition['StringEquals'] = {
      ...(condition['StringEquals'] ?? {}),
      's3:ResourceAccount': accounts.length === 1 ? accounts[0]! : [...accounts],
    };
    return { ...statement, Condition: condition };
  });
}

function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function resourcesOf(statements: PolicyStatement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
}

/** IAM role names are unique ignoring case, so protection ignores case too. */
function matches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.trim().toLowerCase();
  return p.endsWith('*') ? n.startsWith(p.slice(0, -1)) : n === p;
}
