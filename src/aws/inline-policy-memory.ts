/**
 * What this process last saw of each role's inline policies: per policy, its size and canonical
 * form. The adapter checks the role's inline budget and skips identical writes before each
 * PutRolePolicy; the reconcile has read the role's policies just before it writes, so answering
 * from that read saves a ListRolePolicies and a GetRolePolicy per policy on every write.
 *
 * Stale knowledge can only make the budget check pass where AWS then refuses (AWS enforces the
 * budget itself; the check is for emulators that do not), and a write is skipped only when the
 * document equals what was just read, so an entry is kept briefly and forgotten on any failure.
 */
import { createHash } from 'node:crypto';
import { iamCharacterCount, type InlinePolicy } from '../interfaces/iam-account.js';

export interface KnownPolicy {
  characters: number;
  /** sha256 of the canonical document, or undefined when it is not JSON. */
  digest: string | undefined;
}

/** Long enough for a reconcile to read a role and write it, short enough that hand edits are seen. */
export const INLINE_MEMORY_TTL_MS = 60_000;

export class InlinePolicyMemory {
  private readonly roles = new Map<string, { at: number; policies: Map<string, KnownPolicy> }>();

  constructor(
    private readonly canonical: (document: string) => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** After a complete read of the role's inline policies. */
  remember(roleName: string, policies: readonly InlinePolicy[]): void {
    const known = new Map(policies.map((p) => [p.name, this.describe(p.document)] as const));
    this.roles.set(roleName, { at: this.now(), policies: known });
  }

  /** The role's inline policies as last read (and written since), or undefined when not known now. */
  recall(roleName: string): Map<string, KnownPolicy> | undefined {
    const entry = this.roles.get(roleName);
    if (!entry) return undefined;
    if (this.now() - entry.at > INLINE_MEMORY_TTL_MS) {
      this.roles.delete(roleName);
      return undefined;
    }
    return entry.policies;
  }

  written(roleName: string, policyName: string, document: string): void {
    this.recall(roleName)?.set(policyName, this.describe(document));
  }

  deleted(roleName: string, policyName: string): void {
    this.recall(roleName)?.delete(policyName);
  }

  forget(roleName: string): void {
    this.roles.delete(roleName);
  }

  describe(document: string): KnownPolicy {
    const canonical = this.canonical(document);
    return {
      characters: iamCharacterCount(document),
      digest: canonical === undefined ? undefined : createHash('sha256').update(canonical).digest('hex'),
    };
  }
}
