/**
 * A batch of feed events as one unit of work (docs/adr/0009-speed-and-api-economy.md). Events
 * are hints, so the agreements a batch names are converged together: one reconcile, which reads
 * each agreement once, each role once and writes each role at most once, however many events
 * name them. The echo of our own write-back is recognised and skipped, and data products are
 * kept across batches by a {@link ProductCatalog}.
 */
import { classifyEvent } from '../dmm/event-types.js';
import { isOutage } from '../interfaces/outage.js';
import type { FeedEvent } from '../model/events.js';
import type { SyncContext } from './context.js';
import { isAgreementDeletion, routeEvent } from './event-routing.js';
import { failureVerdict, type FailureVerdict, UnprocessableEventError } from './give-up.js';
import { affectedAgreements, processEvent, type EventResult } from './processor.js';
import { ProductCatalog } from './product-catalog.js';
import { reconcile, type AgreementOutcome } from './reconcile.js';

export type BatchItemResult = { ok: true; result: EventResult } | { ok: false; error: unknown };

/** What to do with one message of a processed batch (see {@link settleBatch}). */
export type Settlement =
  | { kind: 'done'; result: EventResult }
  /** An earlier message of its group failed: it was not handled on its own and goes back, unspent by its own fault. */
  | { kind: 'waiting' }
  | { kind: 'failed'; verdict: FailureVerdict; error: unknown };

/**
 * The batch's results as what becomes of each message, shared by the daemon's drain and the
 * process-events Lambda so both apply the same rules. Messages are in queue order; once a message
 * of a group failed (other than as unprocessable, which is dropped), the later messages of that
 * group wait behind it, so one agreement's events are never handled out of order.
 */
export function settleBatch(
  messages: readonly { groupId: string; receiveCount: number }[],
  results: readonly BatchItemResult[],
  maxReceives: number,
): Settlement[] {
  const stopped = new Set<string>();
  return messages.map(({ groupId, receiveCount }, i): Settlement => {
    if (stopped.has(groupId)) return { kind: 'waiting' };
    const result = results[i]!;
    if (result.ok) return { kind: 'done', result: result.result };
    const verdict = failureVerdict(result.error, receiveCount, maxReceives);
    if (verdict !== 'unprocessable') stopped.add(groupId);
    return { kind: 'failed', verdict, error: result.error };
  });
}

/** An echo not seen this long after our PUT is not coming: the event is handled like any other. */
const ECHO_WAIT_MS = 15 * 60_000;

/**
 * The PUTs of our write-back, each of which the feed answers with one agreement-updated event.
 * Skipping exactly one such event per PUT is safe: any change made by someone else comes with its
 * own event, and of the events that follow our PUT, the one left unskipped is handled by a
 * reconcile that reads the agreement as it is then.
 */
export class WriteBackEchoes {
  private readonly pending = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  expect(agreementId: string): void {
    this.pending.set(agreementId, [...this.live(agreementId), this.now()]);
  }

  /** Takes `count` expected echoes of the agreement, if that many are pending. */
  take(agreementId: string, count: number): boolean {
    const live = this.live(agreementId);
    if (live.length < count) return false;
    const left = live.slice(count);
    if (left.length > 0) this.pending.set(agreementId, left);
    else this.pending.delete(agreementId);
    return true;
  }

  private live(agreementId: string): number[] {
    const cutoff = this.now() - ECHO_WAIT_MS;
    return (this.pending.get(agreementId) ?? []).filter((at) => at >= cutoff);
  }
}

export interface BatchProcessorOptions {
  now?: () => number;
}

export class EventBatchProcessor {
  readonly echoes: WriteBackEchoes;
  readonly products: ProductCatalog;

  constructor(
    private readonly ctx: SyncContext,
    options: BatchProcessorOptions = {},
  ) {
    const now = options.now ?? Date.now;
    this.echoes = new WriteBackEchoes(now);
    this.products = new ProductCatalog(ctx.dmm, now);
  }

  /** One result per event, in order. */
  async process(events: readonly FeedEvent[]): Promise<BatchItemResult[]> {
    const { ctx } = this;
    const results: (BatchItemResult | undefined)[] = events.map(() => undefined);
    const routes = events.map((event) => routeEvent(event));
    // Which agreements each event asks for; filled below.
    const asks: (string[] | undefined)[] = events.map(() => undefined);

    // Product and port events first: their products are read again, whatever the catalog holds.
    for (const route of routes) if (route.kind === 'dataProduct') this.products.invalidate(route.dataProductId);

    const byAgreement = new Map<string, number[]>();
    for (const [i, route] of routes.entries()) {
      const event = events[i]!;
      if (route.kind === 'invalid') results[i] = { ok: false, error: new UnprocessableEventError(route.reason) };
      else if (route.kind === 'ignore') results[i] = { ok: true, result: { event, target: route, outcomes: [] } };
      else if (route.kind === 'agreement')
        byAgreement.set(route.agreementId, [...(byAgreement.get(route.agreementId) ?? []), i]);
    }
    for (const [agreementId, indexes] of byAgreement) {
      const updatesOnly = indexes.every((i) => /UpdatedEvent$/.test(classifyEvent(events[i]!.type).name));
      if (updatesOnly && this.echoes.take(agreementId, indexes.length)) {
        ctx.log.debug('echo of our write-back skipped', { agreementId, events: indexes.length });
        for (const i of indexes)
          results[i] = { ok: true, result: { event: events[i]!, target: routes[i]!, outcomes: [] } };
      } else for (const i of indexes) asks[i] = [agreementId];
    }
    // A contract event reads providers to find its agreements: through the catalog, so the
    // reconcile below reuses them.
    const finding = this.products.lookup();
    await Promise.all(
      routes.map(async (route, i) => {
        if (route.kind !== 'dataProduct' && route.kind !== 'team' && route.kind !== 'dataContract') return;
        try {
          asks[i] = await affectedAgreements(ctx, route, finding);
        } catch (error) {
          results[i] = { ok: false, error };
        }
      }),
    );

    const asking = [...asks.keys()].filter((i) => asks[i] !== undefined && results[i] === undefined);
    const ids = [...new Set(asking.flatMap((i) => asks[i]!))];
    if (ids.length > 0) {
      const newestEvent = Math.max(0, ...asking.map((i) => eventTime(events[i]!)));
      const deferred = new Map<string, unknown>();
      try {
        const { outcomes } = await reconcile(
          ctx,
          { agreementIds: ids },
          {
            products: this.products.lookup(newestEvent),
            onWrittenBack: (id) => this.echoes.expect(id),
            onDeferred: (id, error) => deferred.set(id, error),
            deletedIds: new Set(
              asking.flatMap((i) => {
                const route = routes[i]!;
                return route.kind === 'agreement' && isAgreementDeletion(events[i]!) ? [route.agreementId] : [];
              }),
            ),
          },
        );
        // Each agreement's outcome goes to the last event that asked for it, so it counts once.
        const owner = new Map<string, number>();
        for (const i of asking) for (const id of asks[i]!) owner.set(id, i);
        const outcomesOf = new Map<number, AgreementOutcome[]>();
        for (const outcome of outcomes) {
          const i = owner.get(outcome.agreementId);
          if (i !== undefined) outcomesOf.set(i, [...(outcomesOf.get(i) ?? []), outcome]);
        }
        for (const i of asking) {
          // An event fails with the first of its agreements that could not be handled now.
          const failed = asks[i]!.find((id) => deferred.has(id));
          results[i] =
            failed === undefined
              ? { ok: true, result: { event: events[i]!, target: routes[i]!, outcomes: outcomesOf.get(i) ?? [] } }
              : { ok: false, error: deferred.get(failed) };
        }
      } catch (error) {
        if (isOutage(error) || asking.length === 1) for (const i of asking) results[i] = { ok: false, error };
        else {
          // Which event's agreement failed is unknown: one at a time, so each event's error is its own.
          ctx.log.warn('batch reconcile failed; handling its events one at a time', { events: asking.length });
          for (const i of asking) {
            try {
              results[i] = { ok: true, result: await processEvent(ctx, events[i]!) };
            } catch (single) {
              results[i] = { ok: false, error: single };
            }
          }
        }
      }
    }
    return results.map((r) => r!);
  }
}

/** When the event happened (ms), or now when it does not say: copies older than that are read again. */
function eventTime(event: FeedEvent): number {
  const time = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  return Number.isNaN(time) ? Date.now() : time;
}
