/**
 * Where an agreement's grants are, remembered by the sync itself. When an agreement is deleted in
 * Data Mesh Manager nothing there says where its access was granted any more; without this index
 * the only way to find its statements is to read every managed role, which in an account with
 * hundreds of roles takes minutes (longer than the process-events function may run).
 *
 * For identity and resource policies the index is a cache: it is written after every applied
 * change and rebuilt by each full reconcile, and a lost or stale entry only costs a role scan (or,
 * until the next full reconcile sweeps it, a leftover statement of a deleted agreement). It is
 * never the reason to grant. For Lake Formation, which has no ownership marker, it is the record
 * of what this tool granted (src/targets/lake-formation.ts): losing it leaves those permissions
 * unmanaged, never revokes someone else's.
 */
import { errorMessage } from '../util/errors.js';
import type { AgreementIndex } from '../interfaces/agreement-index.js';
import type { Logger } from '../util/log.js';

export type { AgreementIndex };

/** The stored form of an entry: sorted, without duplicates, so equal sets compare equal. */
export function normalizeHoldings(holdings: readonly string[]): string[] {
  return [...new Set(holdings)].sort();
}

/** Whether recording `next` would change an entry that reads `previous`. */
export function entryChanges(previous: readonly string[] | undefined, next: readonly string[]): boolean {
  if (previous === undefined) return true;
  const before = normalizeHoldings(previous ?? []);
  const after = normalizeHoldings(next);
  return before.length !== after.length || before.some((arn, i) => arn !== after[i]);
}

/** In memory: tests, and a process that keeps no state between runs. */
export class MemoryAgreementIndex implements AgreementIndex {
  private readonly entries = new Map<string, string[]>();

  async holdingsOf(agreementId: string): Promise<string[] | undefined> {
    const entry = this.entries.get(agreementId);
    return entry ? [...entry] : undefined;
  }

  async record(agreementId: string, holdings: string[]): Promise<void> {
    this.entries.set(agreementId, normalizeHoldings(holdings));
  }

  async list(): Promise<Map<string, string[]>> {
    return new Map([...this.entries].map(([id, holdings]) => [id, [...holdings]]));
  }

  async forget(agreementId: string): Promise<void> {
    this.entries.delete(agreementId);
  }

  /** Every entry, for tests and inspection. */
  snapshot(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.entries].sort(([a], [b]) => a.localeCompare(b)).map(([id, arns]) => [id, [...arns]]),
    );
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
    return { entry: await index.holdingsOf(agreementId) };
  } catch (error) {
    log.warn('agreement index could not be read; finding the roles without it', {
      agreementId,
      error: errorMessage(error),
    });
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
  holdings: readonly string[],
  log: Logger,
  gone = false,
): Promise<void> {
  try {
    if (gone && holdings.length === 0) {
      // Deleted and holding nothing: nothing will ever ask about it again.
      if (before === 'unreadable' || before.entry !== undefined) await index.forget(agreementId);
      return;
    }
    if (before !== 'unreadable' && !entryChanges(before.entry, holdings)) return;
    await index.record(agreementId, normalizeHoldings(holdings));
  } catch (error) {
    log.warn('agreement index not updated; the next full reconcile repairs it', {
      agreementId,
      holdings: [...holdings],
      error: errorMessage(error),
    });
  }
}
