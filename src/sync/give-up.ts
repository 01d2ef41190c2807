/**
 * Giving up on an event, shared by the CLI daemon (`drainQueue`) and the process-events Lambda,
 * so an agreement's owner sees the same diagnostic from both.
 */
import { isOutage } from '../interfaces/outage.js';
import type { FeedEvent } from '../model/events.js';
import { AgreementFormatError } from '../model/read-agreement.js';
import { DataProductFormatError } from '../model/read-data-product.js';
import type { SyncContext } from './context.js';
import { routeEvent } from './event-routing.js';

import { reportBack } from './report.js';
import { errorMessage } from '../util/errors.js';

/** An event that no retry can make processable (e.g. it names no resource). */
export class UnprocessableEventError extends Error {
  override name = 'UnprocessableEventError';
}

/**
 * Documents that cannot be read will not read better on retry: give up at once and report, so
 * the agreement's owner sees why instead of waiting out every attempt.
 */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof UnprocessableEventError ||
    error instanceof AgreementFormatError ||
    error instanceof DataProductFormatError
  );
}

/**
 * What becomes of an event that failed, the same for the daemon and the process-events Lambda:
 * - `unprocessable`: no retry can help; given up on at once (reported when it is the agreement's own documents);
 * - `outage`: not the event's fault; kept, never spent towards the dead-letter queue;
 * - `exhausted`: failed on its last allowed receive; given up on;
 * - `retry`: delivered again later.
 */
export type FailureVerdict = 'unprocessable' | 'outage' | 'exhausted' | 'retry';

export function failureVerdict(error: unknown, receiveCount: number, maxReceives: number): FailureVerdict {
  if (isPermanent(error)) return 'unprocessable';
  if (isOutage(error)) return 'outage';
  return receiveCount >= maxReceives ? 'exhausted' : 'retry';
}

/**
 * Log why we gave up on an event and, only when the cause is the agreement's own documents,
 * tell Data Mesh Manager. An outage (Data Mesh Manager or AWS unreachable, throttling, missing
 * credentials, unreadable local state) is not the agreement's failure: reporting it would mark a
 * healthy agreement failed, and each report's own event would fail again. Those events are
 * dead-lettered with a log line only; the next full reconcile converges their agreements. The
 * diagnostic names no event or attempt count, so a repeated report is identical and not rewritten.
 */
export async function giveUp(ctx: SyncContext, event: FeedEvent, attempts: number, error: unknown): Promise<void> {
  const reportable = isPermanent(error);
  ctx.log.error('event dead-lettered', {
    eventId: event.id,
    eventType: event.type,
    attempts,
    error: errorMessage(error),
    reportedToDataMeshManager: reportable,
    ...(reportable
      ? {}
      : {
          why: 'not a decision about the agreement (outage or repeated transient error); the next full reconcile converges it',
        }),
  });
  const target = routeEvent(event);
  if (!reportable || target.kind !== 'agreement') return;
  const diagnostic = `dmm-aws cannot process this agreement: ${errorMessage(error)}`;
  try {
    const agreement = await ctx.dmm.getAgreement(target.agreementId);
    if (agreement) {
      const state = { kind: 'failed' as const, diagnostic, ...(agreement.active ? {} : { deprovisioning: true }) };
      await reportBack(ctx.dmm, agreement, state, ctx.log);
    }
  } catch (reportError) {
    ctx.log.error('could not report the failure to Data Mesh Manager', {
      agreementId: target.agreementId,
      error: errorMessage(reportError),
    });
  }
}
