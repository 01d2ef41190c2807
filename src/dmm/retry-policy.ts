/** When to retry a call to Data Mesh Manager and how long to wait before the next attempt. */

/** Rate limits are undocumented; 408, 429 and every 5xx are treated as passing trouble. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * "Full jitter" exponential backoff: a uniformly random delay up to base·2^(attempt-1),
 * capped. Random spreading keeps many pollers that failed together from retrying together.
 * `attempt` is the number of the attempt that just failed, starting at 1.
 */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns
 * undefined when absent or unreadable, so the caller falls back to backoff. A date in the
 * past means "now". The result is capped so a misconfigured server cannot park us for hours.
 */
export function retryAfterMs(header: string | null, nowMs: number, capMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    const date = Date.parse(value);
    if (!Number.isNaN(date)) ms = Math.max(0, date - nowMs);
  }
  return ms === undefined ? undefined : Math.min(ms, capMs);
}
