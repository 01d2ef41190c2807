/**
 * The IamAccount interface on a real AWS account, through the AWS SDK v3.
 *
 * It enforces the rules AWS applies but emulators skip (the role's inline budget, policy names,
 * document characters), writes nothing when the stored document already says the same thing, and
 * maps AWS's errors to IamError codes so the core decides retry vs. report the same way as
 * against the local stand-in. Calls are sequential on purpose: IAM throttles per account.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  type IAMClient,
  type Policy,
  type PolicyVersion,
  type Role,
} from '@aws-sdk/client-iam';
import {
  validatePath,
  validatePolicyDocumentCharacters,
  validatePolicyName,
  validateRoleName,
} from '../model/iam-rules.js';
import {
  IAM_LIMITS,
  IamError,
  iamCharacterCount,
  type IamAccount,
  type IamErrorCode,
  type InlinePolicy,
  type ManagedPolicyRef,
  type RoleInfo,
} from '../interfaces/iam-account.js';
import { canonicalJson } from '../util/canonical-json.js';
import { parseJson } from '../util/parse-json.js';
import { createIamClient } from './clients.js';
import { awsErrorCode, messageOf } from './errors.js';
import { InlinePolicyMemory, type KnownPolicy } from './inline-policy-memory.js';

/**
 * Every IAM action this adapter calls: the tool's IAM policy in terraform/ must grant exactly
 * these (a test compares both, and another one compares this list with the commands imported above).
 */
export const IAM_ACTIONS_USED = [
  'iam:AttachRolePolicy',
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:DeleteRolePolicy',
  'iam:DetachRolePolicy',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:GetRole',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListPolicyVersions',
  'iam:ListRolePolicies',
  'iam:ListRoles',
  'iam:PutRolePolicy',
] as const;

export interface AwsIamAccountOptions {
  /** Default: createIamClient() from the standard AWS configuration. */
  client?: IAMClient;
  /** The managed account (12 digits): builds policy ARNs without an extra STS call. */
  accountId: string;
  /** Default `aws`. */
  partition?: string;
  /**
   * IAM path prefix of the roles this tool may manage (MANAGED_ROLE_PATH), beginning and ending
   * with `/`; default `/` (all roles). Roles outside it are invisible: listRoles skips them and
   * getRole answers undefined, so no metadata can steer a write onto, say, an admin role.
   */
  managedRolePath?: string;
}

/** IAM error codes (with `Exception` dropped) and the shared code each one means. */
const ERROR_CODES = new Map<string, IamErrorCode>([
  ['NoSuchEntity', 'NoSuchEntity'],
  ['LimitExceeded', 'LimitExceeded'],
  ['MalformedPolicyDocument', 'MalformedPolicyDocument'],
  ['InvalidInput', 'InvalidInput'],
  // Parameter-format violations; the local stand-in reports them as InvalidInput too.
  ['ValidationError', 'InvalidInput'],
  // Deleting a policy still attached elsewhere, or changing an AWS-managed one: retrying won't help.
  ['DeleteConflict', 'InvalidInput'],
  ['UnmodifiableEntity', 'InvalidInput'],
  ['PolicyNotAttachable', 'InvalidInput'],
  ['EntityAlreadyExists', 'EntityAlreadyExists'],
  ['Throttling', 'Throttling'],
  ['TooManyRequests', 'Throttling'],
  ['RequestLimitExceeded', 'Throttling'],
  ['AccessDenied', 'AccessDenied'],
]);

/** The IamError for an SDK error with a known IAM code; any other error is returned unchanged. */
export function toIamError(error: unknown): unknown {
  if (error instanceof IamError) return error;
  const awsCode = awsErrorCode(error);
  const code = awsCode === undefined ? undefined : ERROR_CODES.get(awsCode);
  if (code === undefined) return error;
  const prefix = awsCode === code ? '' : `${awsCode}: `;
  const mapped = new IamError(code, `${prefix}${messageOf(error)}`);
  mapped.cause = error;
  return mapped;
}

function rethrow(error: unknown): never {
  throw toIamError(error);
}

function isNoSuchEntity(error: unknown): boolean {
  return error instanceof IamError && error.code === 'NoSuchEntity';
}

/**
 * AWS returns policy documents URL-encoded (RFC 3986). moto encodes inline policies but returns
 * managed policy versions as plain JSON, and a plain document may contain `%` (decoding it would
 * throw or corrupt it). A JSON policy always starts with `{`, an encoded one with `%7B`.
 */
export function decodePolicyDocument(text: string): string {
  return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
}

/** Whether two policy documents say the same: whitespace and key order do not count, invalid JSON never matches. */
export function samePolicyDocument(a: string, b: string): boolean {
  const canonical = canonicalDocument(a);
  return canonical !== undefined && canonical === canonicalDocument(b);
}

function canonicalDocument(document: string): string | undefined {
  const value = parseJson(document);
  return value === undefined ? undefined : canonicalJson(value);
}

/** IAM's list calls page with Marker/IsTruncated; collect every page. */
async function allPages<O extends { IsTruncated?: boolean | undefined; Marker?: string | undefined }, T>(
  call: (marker: string | undefined) => Promise<O>,
  items: (page: O) => T[] | undefined,
): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const page = await call(marker);
    all.push(...(items(page) ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return all;
}

export class AwsIamAccount implements IamAccount {
  readonly accountId: string;
  readonly partition: string;
  readonly managedRolePath: string;
  private readonly client: IAMClient;
  /** The inline policies each role had when last read: spares a re-read before each write. */
  private readonly inlineMemory = new InlinePolicyMemory(canonicalDocument);

  constructor(options: AwsIamAccountOptions) {
    if (!/^\d{12}$/.test(options.accountId)) throw new Error(`accountId must be 12 digits, got '${options.accountId}'`);
    this.accountId = options.accountId;
    this.partition = options.partition ?? 'aws';
    this.managedRolePath = options.managedRolePath ?? '/';
    validatePath(this.managedRolePath);
    this.client = options.client ?? createIamClient();
  }

  async getRole(name: string): Promise<RoleInfo | undefined> {
    validateRoleName(name);
    let role: Role | undefined;
    try {
      role = (await this.client.send(new GetRoleCommand({ RoleName: name })).catch(rethrow)).Role;
    } catch (error) {
      if (isNoSuchEntity(error)) return undefined;
      // The deployed policy allows GetRole only under the managed path, so a role outside it
      // (an admin role named in metadata) answers AccessDenied: not ours to manage, not a retry.
      if (error instanceof IamError && error.code === 'AccessDenied') return undefined;
      throw error;
    }
    if (!role) throw new Error(`GetRole ${name} answered without a role`);
    const info = roleInfo(role);
    return info.path.startsWith(this.managedRolePath) ? info : undefined;
  }

  /** Tags are as ListRoles returns them: AWS leaves them out there (getRole has them). */
  async listRoles(): Promise<RoleInfo[]> {
    const roles = await allPages(
      (Marker) => this.client.send(new ListRolesCommand({ PathPrefix: this.managedRolePath, Marker })).catch(rethrow),
      (page) => page.Roles,
    );
    return roles.map(roleInfo).filter((role) => role.path.startsWith(this.managedRolePath));
  }

  async listInlinePolicies(roleName: string): Promise<InlinePolicy[]> {
    validateRoleName(roleName);
    const names = await allPages(
      (Marker) => this.client.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker })).catch(rethrow),
      (page) => page.PolicyNames,
    );
    const policies: InlinePolicy[] = [];
    for (const name of names) {
      try {
        const { PolicyDocument } = await this.client
          .send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }))
          .catch(rethrow);
        policies.push({ name, document: decodePolicyDocument(PolicyDocument ?? '') });
      } catch (error) {
        // Deleted between the list and the read: it is gone, which is what the caller should see.
        if (!isNoSuchEntity(error)) throw error;
      }
    }
    this.inlineMemory.remember(roleName, policies);
    return policies;
  }

  async putInlinePolicy(roleName: string, policyName: string, document: string): Promise<void> {
    validateRoleName(roleName);
    validatePolicyName(policyName);
    validatePolicyDocumentCharacters(document);
    const current = this.inlineMemory.recall(roleName) ?? (await this.readInlineKnowledge(roleName));
    const wanted = this.inlineMemory.describe(document);
    const existing = current.get(policyName);
    if (existing?.digest !== undefined && existing.digest === wanted.digest) return;
    // AWS enforces the budget across all inline policies of the role (emulators do not): check
    // it here so that the error, and what is written, are the same everywhere.
    let total = wanted.characters;
    for (const [name, known] of current) if (name !== policyName) total += known.characters;
    if (total > IAM_LIMITS.inlineRoleCharacters) {
      throw new IamError(
        'LimitExceeded',
        `Maximum policy size of ${IAM_LIMITS.inlineRoleCharacters} bytes exceeded for role ${roleName}: ` +
          `with ${policyName} its inline policies would total ${total} characters (whitespace not counted), ` +
          `over the limit of ${IAM_LIMITS.inlineRoleCharacters}.`,
      );
    }
    try {
      await this.client
        .send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }))
        .catch(rethrow);
    } catch (error) {
      this.inlineMemory.forget(roleName);
      throw error;
    }
    this.inlineMemory.written(roleName, policyName, document);
  }

  async deleteInlinePolicy(roleName: string, policyName: string): Promise<void> {
    validateRoleName(roleName);
    validatePolicyName(policyName);
    try {
      await this.ignoringNoSuchEntity(() =>
        this.client.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
      );
    } catch (error) {
      this.inlineMemory.forget(roleName);
      throw error;
    }
    this.inlineMemory.deleted(roleName, policyName);
  }

  /** A fresh read, for a write that was not preceded by one. */
  private async readInlineKnowledge(roleName: string): Promise<Map<string, KnownPolicy>> {
    await this.listInlinePolicies(roleName);
    return this.inlineMemory.recall(roleName) ?? new Map();
  }

  async listAttachedPolicies(roleName: string): Promise<ManagedPolicyRef[]> {
    validateRoleName(roleName);
    const attached = await allPages(
      (Marker) => this.client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker })).catch(rethrow),
      (page) => page.AttachedPolicies,
    );
    return attached.map(({ PolicyName, PolicyArn }) => {
      if (!PolicyName || !PolicyArn)
        throw new Error(`ListAttachedRolePolicies ${roleName} answered an entry without name or ARN`);
      return { name: PolicyName, arn: PolicyArn, path: policyPathFromArn(PolicyArn, PolicyName) };
    });
  }

  async getManagedPolicyDocument(policyArn: string): Promise<string> {
    const policy = await this.getPolicy(policyArn);
    return this.versionDocument(policyArn, defaultVersionOf(policy));
  }

  async putManagedPolicy(
    roleName: string,
    path: string,
    policyName: string,
    document: string,
  ): Promise<ManagedPolicyRef> {
    validateRoleName(roleName);
    validatePath(path);
    validatePolicyName(policyName);
    validatePolicyDocumentCharacters(document);
    const size = iamCharacterCount(document);
    if (size > IAM_LIMITS.managedPolicyCharacters) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for PolicySize: ${IAM_LIMITS.managedPolicyCharacters} (policy ${policyName} has ${size} characters, whitespace not counted).`,
      );
    }
    const arn = this.policyArn(path, policyName);
    const existing = await this.findPolicy(arn);
    if (existing) await this.updatePolicy(arn, existing, document);
    else await this.createPolicy(arn, path, policyName, document);
    await this.attach(roleName, arn);
    return { name: policyName, arn, path };
  }

  async deleteManagedPolicy(roleName: string, policyArn: string): Promise<void> {
    validateRoleName(roleName);
    await this.ignoringNoSuchEntity(() =>
      this.client.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
    );
    let versions: PolicyVersion[];
    try {
      versions = await this.listPolicyVersions(policyArn);
    } catch (error) {
      if (isNoSuchEntity(error)) return;
      throw error;
    }
    // AWS refuses DeletePolicy while non-default versions exist (moto does not).
    for (const version of versions.filter((v) => !v.IsDefaultVersion)) {
      await this.ignoringNoSuchEntity(() =>
        this.client.send(new DeletePolicyVersionCommand({ PolicyArn: policyArn, VersionId: version.VersionId })),
      );
    }
    await this.ignoringNoSuchEntity(() => this.client.send(new DeletePolicyCommand({ PolicyArn: policyArn })));
  }

  // ---- Internals ----------------------------------------------------------------------------------

  private policyArn(path: string, name: string): string {
    return `arn:${this.partition}:iam::${this.accountId}:policy${path}${name}`;
  }

  private async ignoringNoSuchEntity(call: () => Promise<unknown>): Promise<void> {
    try {
      await call().catch(rethrow);
    } catch (error) {
      if (!isNoSuchEntity(error)) throw error;
    }
  }

  private async getPolicy(arn: string): Promise<Policy> {
    const { Policy: policy } = await this.client.send(new GetPolicyCommand({ PolicyArn: arn })).catch(rethrow);
    if (!policy) throw new Error(`GetPolicy ${arn} answered without a policy`);
    return policy;
  }

  private async findPolicy(arn: string): Promise<Policy | undefined> {
    try {
      return await this.getPolicy(arn);
    } catch (error) {
      if (isNoSuchEntity(error)) return undefined;
      throw error;
    }
  }

  private async versionDocument(arn: string, versionId: string): Promise<string> {
    const { PolicyVersion: version } = await this.client
      .send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }))
      .catch(rethrow);
    if (version?.Document === undefined)
      throw new Error(`GetPolicyVersion ${arn} ${versionId} answered without a document`);
    return decodePolicyDocument(version.Document);
  }

  private listPolicyVersions(arn: string): Promise<PolicyVersion[]> {
    return allPages(
      (Marker) => this.client.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker })).catch(rethrow),
      (page) => page.Versions,
    );
  }

  private async createPolicy(arn: string, path: string, name: string, document: string): Promise<void> {
    try {
      await this.client
        .send(new CreatePolicyCommand({ PolicyName: name, Path: path, PolicyDocument: document }))
        .catch(rethrow);
    } catch (error) {
      if (!(error instanceof IamError && error.code === 'EntityAlreadyExists')) throw error;
      // Created meanwhile (another writer, or IAM's eventual consistency hid it from GetPolicy):
      // update it. If it is not at our ARN, the name is taken at another path: names are unique
      // in the account regardless of path.
      const existing = await this.findPolicy(arn);
      if (!existing) {
        throw new IamError(
          'EntityAlreadyExists',
          `A managed policy named ${name} already exists outside path ${path}; policy names are unique in the account.`,
        );
      }
      await this.updatePolicy(arn, existing, document);
    }
  }

  /** Make `document` the default version, unless it already is. */
  private async updatePolicy(arn: string, policy: Policy, document: string): Promise<void> {
    const current = await this.versionDocument(arn, defaultVersionOf(policy));
    if (samePolicyDocument(current, document)) return;
    const versions = await this.listPolicyVersions(arn);
    if (versions.length >= IAM_LIMITS.managedPolicyVersions) {
      const oldest = oldestNonDefault(versions);
      if (oldest)
        await this.client.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: oldest })).catch(rethrow);
    }
    await this.client
      .send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: document, SetAsDefault: true }))
      .catch(rethrow);
  }

  /** AttachRolePolicy is idempotent, but an unneeded call is still a write (and a CloudTrail entry). */
  private async attach(roleName: string, arn: string): Promise<void> {
    const attached = await this.listAttachedPolicies(roleName);
    if (attached.some((policy) => policy.arn === arn)) return;
    await this.client.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })).catch(rethrow);
  }
}

function roleInfo(role: Role): RoleInfo {
  if (!role.RoleName || !role.Arn) throw new Error('IAM answered a role without name or ARN');
  const tags: Record<string, string> = {};
  for (const { Key, Value } of role.Tags ?? []) {
    // defineProperty: a tag key `__proto__` must stay a tag, not change the object's prototype.
    if (Key !== undefined)
      Object.defineProperty(tags, Key, { value: Value ?? '', enumerable: true, writable: true, configurable: true });
  }
  return { name: role.RoleName, arn: role.Arn, path: role.Path ?? '/', tags };
}

/** `arn:aws:iam::123456789012:policy/dmm-aws/name` → `/dmm-aws/`. */
export function policyPathFromArn(arn: string, name: string): string {
  const resource = arn.split(':').slice(5).join(':');
  if (!resource.startsWith('policy/') || !resource.endsWith(`/${name}`)) return '/';
  return resource.slice('policy'.length, resource.length - name.length);
}

function defaultVersionOf(policy: Policy): string {
  if (!policy.DefaultVersionId) throw new Error(`policy ${policy.Arn ?? policy.PolicyName} has no default version`);
  return policy.DefaultVersionId;
}

/** Version ids are `v<n>`, counting up and never reused: the lowest number is the oldest. */
function oldestNonDefault(versions: PolicyVersion[]): string | undefined {
  const number = (v: PolicyVersion) => Number(/^v(\d+)$/.exec(v.VersionId ?? '')?.[1] ?? Number.MAX_SAFE_INTEGER);
  const candidates = versions.filter((v) => !v.IsDefaultVersion && v.VersionId);
  candidates.sort((a, b) => number(a) - number(b) || (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0));
  return candidates[0]?.VersionId;
}
