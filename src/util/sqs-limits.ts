/**
 * SQS FIFO's quotas and id rules, shared by the SQS adapter (src/aws/sqs-queue.ts), the local
 * stand-in (src/local/fifo-queue.ts) and the callers that size their batches by them.
 */
export const SQS_LIMITS = {
  /** Entries of one SendMessageBatch, and ReceiveMessage's MaxNumberOfMessages. */
  batchEntries: 10,
  /** One message, and one whole batch: SQS's classic quota (256 KiB; newer queues accept more, this is the safe bound). */
  payloadBytes: 262_144,
  /** Group and deduplication ids: 1–128 characters of alphanumerics and punctuation. */
  idMaxLength: 128,
  /** A deduplication id seen within this window (queue-wide) is dropped. */
  dedupWindowMs: 5 * 60_000,
  /** SQS's default visibility timeout. */
  visibilityTimeoutMs: 30_000,
  /** ChangeMessageVisibility's longest timeout: 12 hours. */
  maxVisibilitySeconds: 43_200,
} as const;

const SQS_ID = /^[\u0021-\u007E]+$/;

/** Whether SQS accepts `id` as a MessageGroupId or MessageDeduplicationId: 1–128 of `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~` and alphanumerics. */
export function isSqsId(id: string): boolean {
  return id.length >= 1 && id.length <= SQS_LIMITS.idMaxLength && SQS_ID.test(id);
}
