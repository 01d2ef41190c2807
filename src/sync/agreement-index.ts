/**
 * Which roles hold an agreement's statements, remembered by the sync itself. When an agreement is
 * deleted in Data Mesh Manager nothing there says where its access was granted any more; without
 * this index the only way to find its statements is to read every managed role, which in an
 * account with hundreds of roles takes minutes (longer than the process-events function may run).
 *
 * The index is a cache: it is written after every applied change and rebuilt by each full
 * reconcile, and a lost or stale entry only costs a role scan (or, until the next full reconcile
 * sweeps it, a leftover statement of a deleted agreement). It is never the reason to grant.
 */
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface AgreementIndex {
  /** The role ARNs last recorded for the agreement; `undefined` when there is no entry. */
  rolesOf(agreementId: string): Promise<string[] | undefined>;
  /**
   * Replace the agreement's entry. `[]` is kept: "seen, holds nothing", so a later deletion of
   * the agreement needs no role scan.
   */
  record(agreementId: string, roleArns: string[]): Promise<void>;
  /** Drop the entry of an agreement that is gone and holds nothing. */
  forget(agreementId: string): Promise<void>;
}

/** The stored form of an entry: sorted, without duplicates, so equal sets compare equal. */
export function normalizeRoleArns(roleArns: readonly string[]): string[] {
  return [...new Set(roleArns)].sort();
}

/** Whether recording `next` would change an entry that reads `previous`. */
export function entryChanges(previous: readonly string[] | undefined, next: readonly string[]): boolean {
  if (previous === undefined) return true;
  const before = normalizeRoleArns(previous ?? []);
  const after = normalizeRoleArns(next);
  return before.length !== after.length || before.some((arn, i) => arn !== after[i]);
}

/** In memory: tests, and a process that keeps no state between runs. */
export class MemoryAgreementIndex implements AgreementIndex {
  private readonly entries = new Map<string, string[]>();

  async rolesOf(agreementId: string): Promise<string[] | undefined> {
    const entry = this.entries.get(agreementId);
    return entry ? [...entry] : undefined;
  }

  async record(agreementId: string, roleArns: string[]): Promise<void> {
    this.entries.set(agreementId, normalizeRoleArns(roleArns));
  }

  async forget(agreementId: string): Promise<void> {
    this.entries.delete(agreementId);
  }

  /** Every entry, for tests and inspection. */
  snapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => a.localeCompare(b)).map(([id, arns]) => [id, [...arns]]));
  }
}

/** What the index said about an agreement before a change: its entry, or that it could not be read. */
export type IndexReading = { entry: string[] | undefined } | 'unreadable';

/**
 * The index's entry for the agreement. A failure to read it is logged and treated as "nothing
 * known": the caller then finds the roles as it would without an index.
 */
export async function readIndexEntry(index: AgreementIndex, agreementId: string, log: Logger): Promise<IndexReading> {
  try {
    return { entry: await index.rolesOf(agreementId) };
  } catch (error) {
    log.warn('agreement index could not be read; finding the roles without it', { agreementId, error: errorMessage(error) });
    return 'unreadable';
  }
}

/**
 * Record where the agreement's statements are now, unless the index already says so: an
 * unchanged entry is not rewritten (the state bucket is versioned, and the full reconcile would
 * otherwise rewrite every entry every hour). A failed write is logged, never thrown: IAM is
 * already right, and the next full reconcile writes the entry again.
 */
export async function updateIndexEntry(
  index: AgreementIndex,
  agreementId: string,
  before: IndexReading,
  roleArns: readonly string[],
  log: Logger,
  gone = false,
): Promise<void> {
  try {
    if (gone && roleArns.length === 0) {
      // Deleted and holding nothing: nothing will ever ask about it again.
      if (before === 'unreadable' || before.entry !== undefined) await index.forget(agreementId);
      return;
    }
    if (before !== 'unreadable' && !entryChanges(before.entry, roleArns)) return;
    await index.record(agreementId, normalizeRoleArns(roleArns));
  } catch (error) {
    log.warn('agreement index not updated; the next full reconcile repairs it', { agreementId, roleArns: [...roleArns], error: errorMessage(error) });
  }
}
