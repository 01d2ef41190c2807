/**
 * Giving up on an event, shared by the CLI daemon (`drainQueue`) and the process-events Lambda,
 * so an agreement's owner sees the same diagnostic from both.
 */
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

/** Tell Data Mesh Manager (where the event names an agreement) and the log why we gave up. */
export async function giveUp(ctx: SyncContext, event: FeedEvent, attempts: number, error: unknown): Promise<void> {
  const diagnostic = `dmm-aws gave up on event ${event.id} (${event.type}) after ${attempts} attempt(s): ${errorMessage(error)}`;
  ctx.log.error('event dead-lettered', { eventId: event.id, eventType: event.type, error: errorMessage(error) });
  const target = routeEvent(event);
  if (target.kind !== 'agreement') return;
  try {
    const agreement = await ctx.dmm.getAgreement(target.agreementId);
    if (agreement) await reportBack(ctx.dmm, agreement, { kind: 'failed', diagnostic }, ctx.log);
  } catch (reportError) {
    ctx.log.error('could not report the failure to Data Mesh Manager', {
      agreementId: target.agreementId,
      error: errorMessage(reportError),
    });
  }
}
