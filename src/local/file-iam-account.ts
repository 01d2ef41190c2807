/**
 * A stand-in for an AWS account's IAM, for the demo, the CLI daemon and tests. It keeps roles and
 * customer-managed policies in one JSON file (or in memory) and enforces IAM's rules and quotas
 * exactly where this tool can run into them, so that what works here works on AWS.
 *
 * Several processes may use one file (see state-store.ts): every call is one locked
 * read-modify-write, and `batch` makes several calls one such change (seeding a fixture).
 *
 * Deliberate differences from AWS:
 * - changes are atomic: putManagedPolicy either creates, versions and attaches, or does nothing
 *   (AWS can leave a created but unattached policy when the attach fails), and so is a `batch`;
 * - deleteRole removes the role's policies first, like the console (the API would refuse);
 * - role lookups are case-sensitive (AWS's are not; role names are unique ignoring case in both).
 */
import { z } from 'zod';
import {
  IAM_LIMITS,
  IamError,
  iamCharacterCount,
  type IamAccount,
  type InlinePolicy,
  type ManagedPolicyRef,
  type RoleInfo,
} from '../interfaces/iam-account.js';
import {
  validatePath,
  validatePolicyDocumentCharacters,
  validatePolicyGrammar,
  validatePolicyName,
  validateRoleName,
  validateTags,
} from '../model/iam-rules.js';
import { DraftStore, JsonFileStore, MemoryStore, type StateStore } from './state-store.js';

export const DEFAULT_ACCOUNT_ID = '123456789012';

const roleSchema = z.object({
  path: z.string(),
  tags: z.record(z.string(), z.string()),
  /** Inline policy name → document. */
  inlinePolicies: z.record(z.string(), z.string()),
  attachedPolicyArns: z.array(z.string()),
});

const policySchema = z.object({
  name: z.string(),
  path: z.string(),
  /** AWS-managed policies can be attached (to simulate a user's choice) but not changed or deleted. */
  awsManaged: z.boolean(),
  defaultVersionId: z.string(),
  /** IAM never reuses version ids, so the counter outlives pruned versions. */
  nextVersion: z.number().int().positive(),
  /** Oldest first. */
  versions: z.array(z.object({ versionId: z.string(), document: z.string() })).min(1),
});

const stateSchema = z.object({
  format: z.literal(1),
  accountId: z.string(),
  roles: z.record(z.string(), roleSchema),
  /** Keyed by policy ARN. */
  policies: z.record(z.string(), policySchema),
});

type RoleRecord = z.infer<typeof roleSchema>;
type PolicyRecord = z.infer<typeof policySchema>;
export type IamState = z.infer<typeof stateSchema>;

export interface FileIamAccountOptions {
  /** JSON state file; omitted = in memory, gone with the process. */
  file?: string;
  /** 12 digits; default 123456789012. A state file written for another account is refused. */
  accountId?: string;
  /** Default `aws`. */
  partition?: string;
}

export interface CreateRoleOptions {
  /** Default `/`. */
  path?: string;
  tags?: Record<string, string>;
}

export interface AttachExistingPolicyOptions {
  /**
   * For an AWS-managed policy (`arn:<partition>:iam::aws:policy/...`) seen for the first time:
   * its document, so that getManagedPolicyDocument can answer as AWS would.
   */
  document?: string;
}

export class FileIamAccount implements IamAccount {
  readonly accountId: string;
  readonly partition: string;
  private store: StateStore<IamState>;

  constructor(options: FileIamAccountOptions = {}) {
    this.accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    this.partition = options.partition ?? 'aws';
    if (!/^\d{12}$/.test(this.accountId)) throw new Error(`accountId must be 12 digits, got '${this.accountId}'`);
    const empty = (): IamState => ({ format: 1, accountId: this.accountId, roles: {}, policies: {} });
    this.store = options.file ? new JsonFileStore(options.file, stateSchema, empty) : new MemoryStore(empty());
  }

  /**
   * Run `work` against a draft of this account as one change: IAM's rules apply to every call as
   * usual, and the draft is saved only if `work` completes, so a refused call leaves no trace of
   * the calls before it. A refused call fails the whole batch, even when `work` catches it (the
   * draft is changed in place, not copied per call, so seeding 10,000 roles stays linear). The
   * account's file stays locked meanwhile; `work` must use the draft it is given, never this
   * account (that would wait for the lock it holds).
   */
  batch<R>(work: (draft: FileIamAccount) => Promise<R>): Promise<R> {
    return this.update(async (state) => {
      const draft = new FileIamAccount({ accountId: this.accountId, partition: this.partition });
      const store = new DraftStore(state);
      draft.store = store;
      const result = await work(draft);
      store.assertIntact();
      return result;
    });
  }

  /** Path of the state file, or undefined in memory mode. */
  get file(): string | undefined {
    return this.store instanceof JsonFileStore ? this.store.path : undefined;
  }

  async getRole(name: string): Promise<RoleInfo | undefined> {
    validateRoleName(name);
    return this.view((state) => {
      const role = own(state.roles, name);
      return role && this.roleInfo(name, role);
    });
  }

  async listRoles(): Promise<RoleInfo[]> {
    return this.view((state) => sortedKeys(state.roles).map((name) => this.roleInfo(name, state.roles[name]!)));
  }

  async listInlinePolicies(roleName: string): Promise<InlinePolicy[]> {
    validateRoleName(roleName);
    return this.view((state) => {
      const role = requireRole(state, roleName);
      return sortedKeys(role.inlinePolicies).map((name) => ({ name, document: own(role.inlinePolicies, name)! }));
    });
  }

  async putInlinePolicy(roleName: string, policyName: string, document: string): Promise<void> {
    validateRoleName(roleName);
    validatePolicyName(policyName);
    validatePolicyDocumentCharacters(document);
    await this.update((state) => {
      const role = requireRole(state, roleName);
      validatePolicyGrammar(document);
      // The quota covers all inline policies together; the one being replaced no longer counts.
      const others = Object.entries(role.inlinePolicies).filter(([name]) => name !== policyName);
      const total = others.reduce((sum, [, doc]) => sum + iamCharacterCount(doc), iamCharacterCount(document));
      if (total > IAM_LIMITS.inlineRoleCharacters) {
        throw new IamError(
          'LimitExceeded',
          `Maximum policy size of ${IAM_LIMITS.inlineRoleCharacters} bytes exceeded for role ${roleName}: ` +
            `its inline policies would total ${total} characters (whitespace not counted).`,
        );
      }
      setOwn(role.inlinePolicies, policyName, document);
    });
  }

  async deleteInlinePolicy(roleName: string, policyName: string): Promise<void> {
    validateRoleName(roleName);
    validatePolicyName(policyName);
    await this.update((state) => {
      const role = own(state.roles, roleName);
      if (role) delete role.inlinePolicies[policyName];
    });
  }

  async listAttachedPolicies(roleName: string): Promise<ManagedPolicyRef[]> {
    validateRoleName(roleName);
    return this.view((state) => {
      const role = requireRole(state, roleName);
      return role.attachedPolicyArns.map((arn) => policyRef(arn, requirePolicy(state, arn)));
    });
  }

  async getManagedPolicyDocument(policyArn: string): Promise<string> {
    return this.view((state) => defaultVersion(requirePolicy(state, policyArn)).document);
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
    return this.update((state) => {
      const role = requireRole(state, roleName);
      const arn = this.upsertManagedPolicy(state, path, policyName, document);
      attach(role, arn);
      return policyRef(arn, own(state.policies, arn)!);
    });
  }

  async deleteManagedPolicy(roleName: string, policyArn: string): Promise<void> {
    validateRoleName(roleName);
    await this.update((state) => {
      const role = own(state.roles, roleName);
      if (role) role.attachedPolicyArns = role.attachedPolicyArns.filter((arn) => arn !== policyArn);
      const policy = own(state.policies, policyArn);
      if (!policy) return;
      if (policy.awsManaged) {
        throw new IamError('InvalidInput', `Policy ${policyArn} is AWS-managed and cannot be deleted.`);
      }
      const stillAttached = Object.keys(state.roles).filter((name) =>
        state.roles[name]!.attachedPolicyArns.includes(policyArn),
      );
      if (stillAttached.length > 0) {
        // AWS answers DeleteConflict, which the shared error codes do not have.
        throw new IamError(
          'InvalidInput',
          `DeleteConflict: Cannot delete policy ${policyArn}, it is still attached to role(s) ${stillAttached.join(', ')}.`,
        );
      }
      delete state.policies[policyArn];
    });
  }

  // ---- Administration, for the demo and tests (IAM has these too) -------------------------------

  async createRole(name: string, options: CreateRoleOptions = {}): Promise<RoleInfo> {
    const path = options.path ?? '/';
    const tags = options.tags ?? {};
    validateRoleName(name);
    validatePath(path);
    validateTags(tags);
    return this.update((state) => {
      const names = roleNames(state);
      const clash = names.get(name.toLowerCase());
      if (clash !== undefined) throw new IamError('EntityAlreadyExists', `Role with name ${clash} already exists.`);
      const role: RoleRecord = { path, tags: { ...tags }, inlinePolicies: {}, attachedPolicyArns: [] };
      setOwn(state.roles, name, role);
      names.set(name.toLowerCase(), name);
      return this.roleInfo(name, role);
    });
  }

  /** Delete a role with its inline policies, detaching its managed policies (which remain). */
  async deleteRole(name: string): Promise<void> {
    validateRoleName(name);
    await this.update((state) => {
      requireRole(state, name);
      roleNames(state).delete(name.toLowerCase());
      delete state.roles[name];
    });
  }

  /** Create a customer-managed policy without attaching it (as a user would, before attaching it). */
  async createManagedPolicy(
    policyName: string,
    document: string,
    options: { path?: string } = {},
  ): Promise<ManagedPolicyRef> {
    const path = options.path ?? '/';
    validatePath(path);
    validatePolicyName(policyName);
    validatePolicyDocumentCharacters(document);
    return this.update((state) => {
      const arn = this.policyArn(path, policyName);
      if (own(state.policies, arn))
        throw new IamError(
          'EntityAlreadyExists',
          `A policy called ${policyName} already exists. Duplicate names are not allowed.`,
        );
      this.upsertManagedPolicy(state, path, policyName, document);
      return policyRef(arn, own(state.policies, arn)!);
    });
  }

  /** Attach an existing policy to a role, as a user would in the console; already attached is success. */
  async attachExistingPolicy(
    roleName: string,
    policyArn: string,
    options: AttachExistingPolicyOptions = {},
  ): Promise<void> {
    validateRoleName(roleName);
    if (options.document !== undefined) validatePolicyDocumentCharacters(options.document);
    await this.update((state) => {
      const role = requireRole(state, roleName);
      if (!own(state.policies, policyArn)) {
        const awsManaged = new RegExp(`^arn:${this.partition}:iam::aws:policy(/(?:.*/)?)([\\w+=,.@-]+)$`).exec(
          policyArn,
        );
        if (!awsManaged) throw noSuchPolicy(policyArn);
        if (options.document === undefined) {
          throw new IamError(
            'InvalidInput',
            `Pass the document of AWS-managed policy ${policyArn} when attaching it for the first time.`,
          );
        }
        validatePolicyGrammar(options.document);
        setOwn(state.policies, policyArn, {
          name: awsManaged[2]!,
          path: awsManaged[1]!,
          awsManaged: true,
          defaultVersionId: 'v1',
          nextVersion: 2,
          versions: [{ versionId: 'v1', document: options.document }],
        });
      }
      attach(role, policyArn);
    });
  }

  // ---- Internals ----------------------------------------------------------------------------------

  private policyArn(path: string, name: string): string {
    return `arn:${this.partition}:iam::${this.accountId}:policy${path}${name}`;
  }

  private roleInfo(name: string, role: RoleRecord): RoleInfo {
    return {
      name,
      arn: `arn:${this.partition}:iam::${this.accountId}:role${role.path}${name}`,
      path: role.path,
      tags: { ...role.tags },
    };
  }

  /** Create the policy, or give it a new default version; returns its ARN. */
  private upsertManagedPolicy(state: IamState, path: string, name: string, document: string): string {
    validatePolicyGrammar(document);
    const size = iamCharacterCount(document);
    if (size > IAM_LIMITS.managedPolicyCharacters) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for PolicySize: ${IAM_LIMITS.managedPolicyCharacters} (policy ${name} has ${size} characters, whitespace not counted).`,
      );
    }
    const arn = this.policyArn(path, name);
    const existing = own(state.policies, arn);
    if (!existing) {
      // Managed policy names are unique in the account regardless of path and case.
      const clash = Object.values(state.policies).find(
        (p) => !p.awsManaged && p.name.toLowerCase() === name.toLowerCase(),
      );
      if (clash)
        throw new IamError(
          'EntityAlreadyExists',
          `A policy called ${clash.name} already exists. Duplicate names are not allowed.`,
        );
      setOwn(state.policies, arn, {
        name,
        path,
        awsManaged: false,
        defaultVersionId: 'v1',
        nextVersion: 2,
        versions: [{ versionId: 'v1', document }],
      });
      return arn;
    }
    if (existing.awsManaged) throw new IamError('InvalidInput', `Policy ${arn} is AWS-managed and cannot be changed.`);
    if (existing.versions.length >= IAM_LIMITS.managedPolicyVersions) {
      const oldest = existing.versions.findIndex((v) => v.versionId !== existing.defaultVersionId);
      existing.versions.splice(oldest, 1);
    }
    const versionId = `v${existing.nextVersion}`;
    existing.nextVersion += 1;
    existing.versions.push({ versionId, document });
    existing.defaultVersionId = versionId;
    return arn;
  }

  private async read(): Promise<IamState> {
    return this.checkAccount(await this.store.read());
  }

  private view<R>(pick: (state: IamState) => R): Promise<R> {
    return this.store.view((state) => pick(this.checkAccount(state)));
  }

  private update<R>(change: (state: IamState) => R | Promise<R>): Promise<R> {
    return this.store.update((state) => change(this.checkAccount(state)));
  }

  private checkAccount(state: IamState): IamState {
    if (state.accountId !== this.accountId) {
      throw new Error(`${this.file ?? 'IAM state'} belongs to account ${state.accountId}, not ${this.accountId}`);
    }
    return state;
  }
}

function attach(role: RoleRecord, arn: string): void {
  if (role.attachedPolicyArns.includes(arn)) return;
  if (role.attachedPolicyArns.length >= IAM_LIMITS.attachedPoliciesPerRole) {
    throw new IamError(
      'LimitExceeded',
      `Cannot exceed quota for PoliciesPerRole: ${IAM_LIMITS.attachedPoliciesPerRole}`,
    );
  }
  role.attachedPolicyArns.push(arn);
}

/**
 * Role names by their lower case, per roles record (role names are unique ignoring case): built
 * once per state, then kept up to date by createRole and deleteRole, so a batch seeding 10,000
 * roles does not compare every new name with every existing one.
 */
const namesIgnoringCase = new WeakMap<IamState['roles'], Map<string, string>>();

function roleNames(state: IamState): Map<string, string> {
  let names = namesIgnoringCase.get(state.roles);
  if (!names) {
    names = new Map(Object.keys(state.roles).map((name) => [name.toLowerCase(), name]));
    namesIgnoringCase.set(state.roles, names);
  }
  return names;
}

function requireRole(state: IamState, name: string): RoleRecord {
  const role = own(state.roles, name);
  if (!role) throw new IamError('NoSuchEntity', `The role with name ${name} cannot be found.`);
  return role;
}

function requirePolicy(state: IamState, arn: string): PolicyRecord {
  const policy = own(state.policies, arn);
  if (!policy) throw noSuchPolicy(arn);
  return policy;
}

function noSuchPolicy(arn: string): IamError {
  return new IamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
}

function defaultVersion(policy: PolicyRecord): { versionId: string; document: string } {
  const version = policy.versions.find((v) => v.versionId === policy.defaultVersionId);
  if (!version)
    throw new Error(
      `policy ${policy.name} has no default version ${policy.defaultVersionId}; the state file is damaged`,
    );
  return version;
}

function policyRef(arn: string, policy: PolicyRecord): ManagedPolicyRef {
  return { name: policy.name, arn, path: policy.path };
}

function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort();
}

/** Role names such as `constructor` are valid: never let a lookup fall through to Object.prototype. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
