/**
 * Shared pieces of the security suite: statement helpers, the exact legitimate grants used as
 * baselines, and an IAM policy evaluator over @cloud-copilot/iam-simulate.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { FileIamAccount } from '../../src/local/file-iam-account.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { ACCOUNT, grantsOn } from '../e2e/harness.js';

export const OTHER_ACCOUNT = '999999999999';

/** A statement without its ownership Sid, for comparing with what a port should grant. */
export function withoutSid(statement: PolicyStatement): PolicyStatement {
  const { Sid: _sid, ...rest } = statement as PolicyStatement & { Sid?: string };
  return rest as PolicyStatement;
}

export function listOf<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export const actionsOf = (s: PolicyStatement): string[] => listOf(s.Action as string | string[]);
export const resourcesOf = (s: PolicyStatement): string[] => listOf(s.Resource as string | string[] | undefined);

/** The whole-bucket grant of a legitimate s3_bucket port, as guarded (account condition). */
export function bucketGrant(bucket: string, accounts: string | string[] = ACCOUNT): PolicyStatement {
  return {
    Effect: 'Allow',
    Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    Condition: { StringEquals: { 's3:ResourceAccount': accounts } },
  };
}

/** Every statement on every role of the account, by role and agreement id (Sids stripped). */
export async function everyGrant(iam: FileIamAccount): Promise<Map<string, Map<string, PolicyStatement[]>>> {
  const out = new Map<string, Map<string, PolicyStatement[]>>();
  for (const role of await iam.listRoles()) {
    const byAgreement = new Map<string, PolicyStatement[]>();
    for (const [id, entry] of await grantsOn(iam, role.name)) byAgreement.set(id, entry.statements.map(withoutSid));
    out.set(role.name, byAgreement);
  }
  return out;
}

/** Every policy document on a role (inline and attached), as text: nothing may hide elsewhere. */
export async function allPolicyText(iam: FileIamAccount, roleName: string): Promise<string[]> {
  const inline = (await iam.listInlinePolicies(roleName)).map((p) => p.document);
  const attached = await Promise.all(
    (await iam.listAttachedPolicies(roleName)).map((p) => iam.getManagedPolicyDocument(p.arn)),
  );
  return [...inline, ...attached];
}

// ---- Policy evaluation --------------------------------------------------------------------------

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Request {
  action: string;
  resource: string;
  /** The account that owns the resource; default the managed account. */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  /** The resource's own policy, e.g. a KMS key policy (KMS needs one; without it nothing is allowed). */
  resourcePolicy?: unknown;
}

/** The default key policy: the account (and so its identity policies) may use the key. */
export const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'EnableIAMUserPermissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

/**
 * How IAM decides `request` for a principal holding exactly `statements` as its identity policy.
 * S3 requests get `s3:ResourceAccount` filled in from the owning account, as S3 does.
 */
export async function evaluate(
  statements: PolicyStatement[],
  request: Request,
  principal = `arn:aws:iam::${ACCOUNT}:role/analytics-consumer`,
): Promise<Decision> {
  return evaluatePolicies(
    [{ name: 'grants', policy: { Version: '2012-10-17', Statement: statements } }],
    request,
    principal,
  );
}

/** The same over whole policy documents, e.g. every policy a role carries. */
export async function evaluatePolicies(
  policies: { name: string; policy: unknown }[],
  request: Request,
  principal = `arn:aws:iam::${ACCOUNT}:role/analytics-consumer`,
): Promise<Decision> {
  const resourceAccount = request.resourceAccount ?? ACCOUNT;
  const context: Record<string, string | string[]> = { ...(request.context ?? {}) };
  if (request.action.startsWith('s3:') && !('s3:ResourceAccount' in context))
    context['s3:ResourceAccount'] = resourceAccount;
  const result = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: resourceAccount },
        contextVariables: context,
      },
      identityPolicies: policies as { name: string; policy: Record<string, unknown> }[],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy
        ? { resourcePolicy: request.resourcePolicy }
        : request.action.startsWith('kms:')
          ? { resourcePolicy: DEFAULT_KEY_POLICY }
          : {}),
    },
    {},
  );
  if (result.resultType === 'error')
    throw new Error(`simulation error for ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}
