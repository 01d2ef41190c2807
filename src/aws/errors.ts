/** Reading SDK v3 service errors without depending on each service's exception classes. */

/**
 * The service's error code. Modelled errors carry their shape name in `name`
 * (`NoSuchEntityException`) and the wire code in `Code` (`NoSuchEntity`); unmodelled ones
 * (`Throttling`, `AccessDenied`) only have `name`. The `Exception` suffix is dropped so that
 * both spellings compare equal.
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { Code, name } = error as { Code?: unknown; name?: unknown };
  const code = typeof Code === 'string' && Code !== '' ? Code : typeof name === 'string' ? name : undefined;
  return code?.replace(/Exception$/, '');
}

export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
