/**
 * Telling an outage from a decision about an agreement. An outage (Data Mesh Manager or AWS
 * unreachable, throttling, missing credentials, a local state file that cannot be read) says
 * nothing about the agreement: its events are kept and retried, never spent towards the
 * dead-letter queue or reported as the agreement's failure.
 */

/** Adapters throw (or extend) this for trouble in their own infrastructure. */
export class OutageError extends Error {
  override name = 'OutageError';
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** AWS SDK errors that mean "no usable credentials / endpoint", not "this request is wrong". */
const AWS_UNAVAILABLE = new Set([
  'CredentialsProviderError',
  'TimeoutError',
  'NetworkingError',
  'ExpiredToken',
  'ExpiredTokenException',
]);

/**
 * Whether `error` is an outage. Errors that carry an HTTP status (Data Mesh Manager's client, the
 * AWS SDK) count when the status is 429 or 5xx or no answer came; others by their type or code.
 */
export function isOutage(error: unknown): boolean {
  if (error instanceof OutageError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: unknown;
    code?: unknown;
    status?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  if (typeof e.name === 'string' && AWS_UNAVAILABLE.has(e.name)) return true;
  // No answer, rate limits, server errors, and a key the server no longer accepts.
  if (e.name === 'DmmApiError')
    return (
      e.status === undefined ||
      e.status === 401 ||
      e.status === 403 ||
      e.status === 429 ||
      (typeof e.status === 'number' && e.status >= 500)
    );
  if (e.name === 'DmmResponseFormatError') return true;
  // Grant target errors (IAM and the others): throttling is an outage; a refusal is a decision.
  if (e.name === 'TargetError' || e.name === 'IamError') return e.code === 'Throttling';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  return e.cause !== undefined && e.cause !== error && isOutage(e.cause);
}
