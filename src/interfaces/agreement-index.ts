/**
 * Where each agreement's grants were last placed, remembered by the sync itself
 * (src/sync/agreement-index.ts explains why). An entry is a list of *holdings*: the ARN of a role
 * whose identity policies hold statements of the agreement, the ARN of a resource whose policy
 * does, or a Lake Formation holding (src/targets/lake-formation.ts) — the only record that a
 * Lake Formation permission was granted by this tool.
 */
export interface AgreementIndex {
  /** The holdings last recorded for the agreement; `undefined` when there is no entry. */
  holdingsOf(agreementId: string): Promise<string[] | undefined>;
  /**
   * Replace the agreement's entry. `[]` is kept: "seen, holds nothing", so a later deletion of
   * the agreement needs no role scan.
   */
  record(agreementId: string, holdings: string[]): Promise<void>;
  /** Drop the entry of an agreement that is gone and holds nothing. */
  forget(agreementId: string): Promise<void>;
  /** Every entry: for the full reconcile, and to find who else holds a shared Lake Formation permission. */
  list(): Promise<Map<string, string[]>>;
}
