import type { Agreement } from '../model/agreement.js';
import { UNKNOWN_ID } from '../model/agreement.js';
import type { AgreementFormatError } from '../model/read-agreement.js';
import type { FeedEvent } from '../model/events.js';
import { errorMessage } from '../util/errors.js';
import { SQS_LIMITS } from '../util/sqs-limits.js';
import { dataProductCache, type ProductLookup, type SyncContext } from './context.js';
import { isAgreementDeletion, routeEvent, type EventTarget } from './event-routing.js';
import { agreementsOfContract } from './contract-agreements.js';
import { giveUp, UnprocessableEventError } from './give-up.js';
import { EventBatchProcessor, settleBatch, type BatchItemResult, type Settlement } from './batch.js';

export { UnprocessableEventError };
import { LeaseLostError, type EventQueue, type ReceivedMessage } from '../interfaces/event-queue.js';
import { reconcileAgreement, type AgreementOutcome } from './reconcile.js';

export interface EventResult {
  event: FeedEvent;
  target: EventTarget;
  outcomes: AgreementOutcome[];
}

/** Run the converging core for everything one event may have changed. */
export async function processEvent(ctx: SyncContext, event: FeedEvent): Promise<EventResult> {
  const target = routeEvent(event);
  const log = ctx.log.child({ eventId: event.id, eventType: event.type });
  switch (target.kind) {
    case 'ignore':
      log.debug('skipped event', { reason: target.reason });
      return { event, target, outcomes: [] };
    case 'invalid':
      throw new UnprocessableEventError(target.reason);
    case 'agreement': {
      const options = isAgreementDeletion(event) ? { deletedIds: new Set([target.agreementId]) } : {};
      return { event, target, outcomes: [await reconcileAgreement({ ...ctx, log }, target.agreementId, options)] };
    }
    case 'dataProduct':
    case 'team':
    case 'dataContract': {
      // One product cache for finding the agreements and reconciling them: a contract event reads
      // every provider to find its agreements, and the reconciles need the same ones again.
      const products = dataProductCache(ctx.dmm);
      const affected = await affectedAgreements({ ...ctx, log }, target, products);
      // An unreadable agreement among them is reconciled by id too: that reports it failed and
      // leaves its grants alone, while the other agreements go on.
      return { event, target, outcomes: await reconcileEach({ ...ctx, log }, affected, products) };
    }
  }
}

/** The agreements a data product, output port, team or data contract event may have changed. */
export async function affectedAgreements(
  ctx: SyncContext,
  target: Extract<EventTarget, { kind: 'dataProduct' | 'team' | 'dataContract' }>,
  products: ProductLookup = dataProductCache(ctx.dmm),
): Promise<string[]> {
  if (target.kind === 'dataContract') {
    const affected = await agreementsOfContract(ctx, target.dataContractId, products);
    ctx.log.info('data contract changed: reconciling the agreements that use it', {
      dataContractId: target.dataContractId,
      agreements: affected.length,
    });
    return affected;
  }
  if (target.kind === 'dataProduct') {
    const affected = await agreementsOfProduct(ctx, target.dataProductId, target.outputPortId);
    ctx.log.info(
      `${target.outputPortId === undefined ? 'data product' : 'output port'} changed: reconciling its agreements`,
      {
        dataProductId: target.dataProductId,
        ...(target.outputPortId === undefined ? {} : { outputPortId: target.outputPortId }),
        agreements: affected.length,
      },
    );
    return affected;
  }
  // Team events are rare and the list API filters by data product only: read all, keep the team's.
  const unreadable = (error: AgreementFormatError) =>
    ctx.log.warn('an agreement that cannot be read was left out', { error: error.message });
  const requested = (await ctx.dmm.listAgreements({}, unreadable)).filter(
    (a) => a.consumer.teamId === target.teamId && !a.consumer.dataProductId,
  );
  ctx.log.info('team changed: reconciling the agreements it requested as consumer', {
    teamId: target.teamId,
    agreements: requested.length,
  });
  return requested.map((a) => a.id);
}

/** The agreements one event touched, one after another, sharing the data products they read. */
async function reconcileEach(
  ctx: SyncContext,
  agreementIds: readonly string[],
  products = dataProductCache(ctx.dmm),
): Promise<AgreementOutcome[]> {
  const outcomes: AgreementOutcome[] = [];
  for (const agreementId of agreementIds) outcomes.push(await reconcileAgreement(ctx, agreementId, { products }));
  return outcomes;
}

/**
 * The agreements a product change can affect: those it provides or consumes, and, because a
 * deleted provider shows as "unknown" on its agreements, those whose provider is unknown. A port
 * change can only affect agreements on that port (or on a port that now reads "unknown").
 */
async function agreementsOfProduct(ctx: SyncContext, dataProductId: string, outputPortId?: string): Promise<string[]> {
  const unreadable = new Set<string>();
  const onUnreadable = (error: AgreementFormatError) => {
    if (error.agreementId !== undefined) unreadable.add(error.agreementId);
    else ctx.log.error('an agreement without a readable id cannot be read; skipped', { error: error.message });
  };
  const [asProvider, asConsumer, orphaned] = await Promise.all([
    ctx.dmm.listAgreements({ providerDataProductId: dataProductId }, onUnreadable),
    outputPortId === undefined ? ctx.dmm.listAgreements({ consumerDataProductId: dataProductId }, onUnreadable) : [],
    ctx.dmm.listAgreements({ providerDataProductId: UNKNOWN_ID }, onUnreadable),
  ]);
  const onPort = (a: Agreement) =>
    outputPortId === undefined || a.provider.outputPortId === outputPortId || a.provider.outputPortId === UNKNOWN_ID;
  const ids = [...asProvider.filter(onPort), ...asConsumer, ...orphaned].map((a) => a.id);
  return [...new Set([...ids, ...unreadable])];
}

export interface DrainOptions {
  /** Deliveries after which a failing event is given up on: reported, dead-lettered, removed. */
  maxReceives?: number;
  onResult?: (result: EventResult) => void | Promise<void>;
  onDeadLetter?: (message: ReceivedMessage, error: unknown) => void | Promise<void>;
  shouldStop?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  /** Delay before the first retry of a failed event; doubles with every attempt, up to 30 s. */
  retryDelayMs?: number;
  /**
   * The queue's in-flight time (visibility timeout); default SQS's 30 s. While a batch is being
   * processed its leases are renewed every third of it, so a slow batch is never handed out again.
   */
  leaseMs?: number;
  /**
   * Wait for events held back for retry (default). A daemon that polls again anyway passes false
   * and picks them up on a later pass.
   */
  waitForRetries?: boolean;
  /**
   * The batch processor. A long-running caller passes one for its whole life, so data products
   * and the expected echoes of its write-back are kept from pass to pass; default: one per drain.
   */
  processor?: EventBatchProcessor;
  /** Most events converged together; default {@link DRAIN_BATCH}. */
  batchSize?: number;
}

/**
 * Events per unit of work in the daemon. The queue hands out at most one event per agreement (the
 * head of its group), so a batch is at most one reconcile over this many agreements; bigger than
 * SQS's 10 because one reconcile over many agreements reads their products and roles once and
 * runs its reads side by side, so a slow request holds up one lane rather than the queue.
 */
export const DRAIN_BATCH = 50;

export interface DrainStats {
  processed: number;
  retried: number;
  deadLettered: number;
  /** Set when the pass stopped at an outage (src/interfaces/outage.ts): its error. */
  outage?: unknown;
}

/**
 * Process queued events until the queue is empty, a batch at a time as one unit of work
 * (src/sync/batch.ts, the same as the process-events Lambda). A failing event is released for a
 * retry after a growing delay; meanwhile the FIFO queue holds back the later events of its
 * agreement only, and every other agreement goes on. An outage keeps its events queued, unspent,
 * and ends the pass once the batch is settled, so the caller backs off.
 */
export async function drainQueue(ctx: SyncContext, queue: EventQueue, options: DrainOptions = {}): Promise<DrainStats> {
  const maxReceives = options.maxReceives ?? 5;
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const baseDelay = options.retryDelayMs ?? 1000;
  const leaseMs = options.leaseMs ?? SQS_LIMITS.visibilityTimeoutMs;
  const processor = options.processor ?? new EventBatchProcessor(ctx);
  const batchSize = Math.max(1, options.batchSize ?? DRAIN_BATCH);
  const stats: DrainStats = { processed: 0, retried: 0, deadLettered: 0 };
  while (!options.shouldStop?.()) {
    const messages = await receiveBatch(queue, batchSize);
    if (messages.length === 0) {
      if (options.waitForRetries === false || (await queue.size()) === 0) break;
      await sleep(Math.min(baseDelay, 1000));
      continue;
    }
    // The batch stays in flight while it is processed: all of it is renewed.
    const leases = new LeaseKeeper(ctx, queue, messages, leaseMs);
    let results: BatchItemResult[];
    const started = performance.now();
    try {
      results = await processor.process(messages.map((m) => m.event));
      ctx.log.debug('batch converged', { events: messages.length, ms: Math.round(performance.now() - started) });
    } finally {
      await leases.stop();
    }
    const outage = await settle(messages, settleBatch(messages, results, maxReceives));
    if (outage !== undefined) {
      stats.outage = outage.error;
      ctx.log.warn('outage: events kept for later, pass stopped', {
        eventId: outage.eventId,
        error: errorMessage(outage.error),
      });
      return stats;
    }
  }
  return stats;

  /** Acks, releases or gives up on each message; returns the first outage met. */
  async function settle(messages: ReceivedMessage[], settlements: Settlement[]) {
    let outage: { eventId: string; error: unknown } | undefined;
    for (const [i, settlement] of settlements.entries()) {
      const message = messages[i]!;
      if (settlement.kind === 'done') {
        await queue.ack(message.receipt);
        stats.processed++;
        await options.onResult?.(settlement.result);
        continue;
      }
      if (settlement.kind === 'waiting') {
        await releaseUnlessLost(ctx, queue, message, 0);
        continue;
      }
      const { verdict, error } = settlement;
      if (verdict === 'outage') {
        // Not the event's fault: keep it, with no delay of its own; the caller's backoff paces the retry.
        outage ??= { eventId: message.event.id, error };
        await releaseUnlessLost(ctx, queue, message, 0);
      } else if (verdict === 'unprocessable' || verdict === 'exhausted') {
        await giveUp(ctx, message.event, message.receiveCount, error);
        await options.onDeadLetter?.(message, error);
        await queue.ack(message.receipt);
        stats.deadLettered++;
      } else {
        const delayMs = Math.min(baseDelay * 2 ** (message.receiveCount - 1), 30_000);
        ctx.log.warn('event failed; kept for retry', {
          eventId: message.event.id,
          attempt: message.receiveCount,
          retryInMs: delayMs,
          error: errorMessage(error),
        });
        await releaseUnlessLost(ctx, queue, message, delayMs);
        stats.retried++;
      }
    }
    return outage;
  }
}

/**
 * Up to `max` messages, in receives of at most SQS's batch size. Each receive skips the groups
 * already in flight, so the batch still holds one message per agreement, each its group's head.
 */
async function receiveBatch(queue: EventQueue, max: number): Promise<ReceivedMessage[]> {
  const messages: ReceivedMessage[] = [];
  while (messages.length < max) {
    const want = Math.min(SQS_LIMITS.batchEntries, max - messages.length);
    const got = await queue.receive(want);
    messages.push(...got);
    // Fewer than asked for: nothing more is waiting (and a long-polling queue is not asked again).
    if (got.length < want) break;
  }
  return messages;
}

/**
 * Give a failed message back for a retry. When its in-flight time ran out while it was processed,
 * the queue has made it visible again already: that is the retry, not a failure of the pass.
 */
async function releaseUnlessLost(ctx: SyncContext, queue: EventQueue, message: ReceivedMessage, delayMs: number) {
  try {
    await queue.release(message.receipt, delayMs);
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    ctx.log.warn('event took longer than its in-flight time; it is delivered again', {
      eventId: message.event.id,
      error: error.message,
    });
  }
}

/**
 * Renews the leases of a received batch every third of `leaseMs` until the batch is done. A
 * lease already lost (the queue handed the message out again) is not renewed further: its work
 * goes on and its ack becomes a no-op. A renewal that fails otherwise (the queue unreachable) is
 * tried again at the next beat.
 */
class LeaseKeeper {
  private readonly pending: Set<ReceivedMessage>;
  private readonly timer: NodeJS.Timeout;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: SyncContext,
    private readonly queue: EventQueue,
    messages: ReceivedMessage[],
    private readonly leaseMs: number,
  ) {
    this.pending = new Set(messages);
    this.timer = setInterval(
      () => {
        this.renewing = this.renewing.then(() => this.renewAll());
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
  }

  /** Stop renewing; waits for a renewal under way, so it cannot land after an ack or release. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.pending.clear();
    await this.renewing;
  }

  private async renewAll(): Promise<void> {
    for (const message of [...this.pending]) {
      if (!this.pending.has(message)) continue;
      try {
        await this.queue.extendLease(message.receipt, this.leaseMs);
      } catch (error) {
        if (error instanceof LeaseLostError) this.pending.delete(message);
        this.ctx.log.warn('could not extend the in-flight time of a waiting or slow event', {
          eventId: message.event.id,
          error: errorMessage(error),
        });
      }
    }
  }
}
