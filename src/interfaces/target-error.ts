/**
 * What the adapters of every grant target (IAM, resource policies, Lake Formation) throw when AWS
 * refuses a call, with a code the core uses to decide between "report the agreement as failed"
 * (permanent) and "keep the event for a retry" (everything else).
 */
export type TargetErrorCode =
  | 'NoSuchEntity'
  | 'LimitExceeded'
  | 'MalformedPolicyDocument'
  | 'InvalidInput'
  | 'EntityAlreadyExists'
  | 'ConcurrentModification'
  | 'Throttling'
  | 'AccessDenied';

export class TargetError extends Error {
  constructor(
    readonly code: TargetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TargetError';
  }
}

const PERMANENT: ReadonlySet<TargetErrorCode> = new Set([
  'NoSuchEntity',
  'LimitExceeded',
  'MalformedPolicyDocument',
  'InvalidInput',
]);

/** Refusals that retrying cannot fix: the agreement is reported as failed instead. */
export function isPermanentTargetError(error: unknown): error is TargetError {
  return error instanceof TargetError && PERMANENT.has(error.code);
}
