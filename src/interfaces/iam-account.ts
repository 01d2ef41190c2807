import { TargetError, type TargetErrorCode } from './target-error.js';

/**
 * The slice of an AWS account this tool touches: roles and the policies on them. Implemented by
 * the file-backed local stand-in (src/local/) and, later, by the AWS SDK adapter (src/aws/).
 * Both enforce IAM's rules so that what works locally works on AWS.
 */
export interface RoleInfo {
  name: string;
  arn: string;
  path: string;
  tags: Record<string, string>;
}

export interface InlinePolicy {
  name: string;
  /** The policy document as JSON text (decoded; AWS returns it URL-encoded). */
  document: string;
}

export interface ManagedPolicyRef {
  name: string;
  arn: string;
  path: string;
}

export type IamErrorCode = Exclude<TargetErrorCode, 'ConcurrentModification'>;

/** A refusal by IAM; its code decides retry vs. report like every target's (see target-error.ts). */
export class IamError extends TargetError {
  constructor(
    override readonly code: IamErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'IamError';
  }
}

export interface IamAccount {
  /** The 12-digit account id of this account. */
  readonly accountId: string;
  /** AWS partition, e.g. `aws`. */
  readonly partition: string;
  getRole(name: string): Promise<RoleInfo | undefined>;
  listRoles(): Promise<RoleInfo[]>;
  /** Inline policies with their documents. Throws NoSuchEntity when the role does not exist. */
  listInlinePolicies(roleName: string): Promise<InlinePolicy[]>;
  /** Create or replace an inline policy; enforces IAM's name, document and size rules. */
  putInlinePolicy(roleName: string, policyName: string, document: string): Promise<void>;
  /** Delete an inline policy; a policy (or role) that does not exist is success. */
  deleteInlinePolicy(roleName: string, policyName: string): Promise<void>;
  /** Customer-managed and AWS-managed policies attached to the role. */
  listAttachedPolicies(roleName: string): Promise<ManagedPolicyRef[]>;
  /** The default version's document of a managed policy. */
  getManagedPolicyDocument(policyArn: string): Promise<string>;
  /**
   * Create a customer-managed policy `path`+`policyName` (or make `document` its new default
   * version, pruning the oldest non-default version when five exist) and attach it to the role.
   */
  putManagedPolicy(roleName: string, path: string, policyName: string, document: string): Promise<ManagedPolicyRef>;
  /** Detach the managed policy from the role and delete it with all its versions; missing is success. */
  deleteManagedPolicy(roleName: string, policyArn: string): Promise<void>;
}

/** IAM limits (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). */
export const IAM_LIMITS = {
  /** All inline policies of one role together, whitespace not counted. */
  inlineRoleCharacters: 10_240,
  /** One customer-managed policy, whitespace not counted. */
  managedPolicyCharacters: 6_144,
  /** Managed policies attached to one role (default quota). */
  attachedPoliciesPerRole: 10,
  policyNameMax: 128,
  roleNameMax: 64,
  managedPolicyVersions: 5,
} as const;

const WHITESPACE = /\s/g;
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/**
 * Characters IAM counts against its size limits: everything except whitespace, a character being
 * a code point (a surrogate pair counts once). Counted with two scans, not a test per character:
 * planning measures policies thousands of times.
 */
export function iamCharacterCount(document: string): number {
  // Whitespace is never part of a pair, so the two counts do not overlap.
  return document.length - (document.match(WHITESPACE)?.length ?? 0) - (document.match(SURROGATE_PAIR)?.length ?? 0);
}
