import type { Agreement } from '../model/agreement.js';
import { UNKNOWN_ID } from '../model/agreement.js';
import type { AgreementFormatError } from '../model/read-agreement.js';
import type { FeedEvent } from '../model/events.js';
import { errorMessage } from '../util/errors.js';
import { SQS_LIMITS } from '../util/sqs-limits.js';
import { dataProductCache, type ProductLookup, type SyncContext } from './context.js';
import { isAgreementDeletion, routeEvent, type EventTarget } from './event-routing.js';
import { agreementsOfContract } from './contract-agreements.js';
import { giveUp, isPermanent, UnprocessableEventError } from './give-up.js';

export { UnprocessableEventError };
import { LeaseLostError, type EventQueue, type ReceivedMessage } from '../interfaces/event-queue.js';
import { isOutage } from '../interfaces/outage.js';
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
   * The queue's in-flight time (visibility timeout); default SQS's 30 s. While an event is being
   * processed its lease is renewed every third of it, so a slow event is never handed out again.
   */
  leaseMs?: number;
  /**
   * Wait for events held back for retry (default). A daemon that polls again anyway passes false
   * and picks them up on a later pass.
   */
  waitForRetries?: boolean;
}

export interface DrainStats {
  processed: number;
  retried: number;
  deadLettered: number;
  /** Set when the pass stopped at an outage (src/interfaces/outage.ts): its error. */
  outage?: unknown;
}

/**
 * Process queued events until the queue is empty. One event at a time: IAM is one shared
 * resource per account (see docs/adr/0002-policy-packing.md). A failing event is released for a
 * retry after a growing delay; meanwhile the FIFO queue holds back the later events of its
 * agreement only, and every other agreement goes on.
 */
export async function drainQueue(ctx: SyncContext, queue: EventQueue, options: DrainOptions = {}): Promise<DrainStats> {
  const maxReceives = options.maxReceives ?? 5;
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  const baseDelay = options.retryDelayMs ?? 1000;
  const leaseMs = options.leaseMs ?? SQS_LIMITS.visibilityTimeoutMs;
  const stats: DrainStats = { processed: 0, retried: 0, deadLettered: 0 };
  while (!options.shouldStop?.()) {
    const messages = await queue.receive(SQS_LIMITS.batchEntries);
    if (messages.length === 0) {
      if (options.waitForRetries === false || (await queue.size()) === 0) break;
      await sleep(Math.min(baseDelay, 1000));
      continue;
    }
    // The batch waits in flight while its events run one by one: all of it is renewed.
    const leases = new LeaseKeeper(ctx, queue, messages, leaseMs);
    try {
      await processBatch(messages, leases);
    } finally {
      await leases.stop();
    }
    if (stats.outage !== undefined) return stats;
  }
  return stats;

  async function processBatch(messages: ReceivedMessage[], leases: LeaseKeeper): Promise<void> {
    for (const [index, message] of messages.entries()) {
      try {
        const result = await processEvent(ctx, message.event);
        await leases.done(message);
        await queue.ack(message.receipt);
        stats.processed++;
        await options.onResult?.(result);
      } catch (error) {
        await leases.done(message);
        if (isOutage(error)) {
          // Not the event's fault: keep it (its receives are not spent towards the dead-letter
          // queue) and stop this pass, so the caller backs off instead of failing every event.
          await leases.stop();
          for (const kept of messages.slice(index)) await releaseUnlessLost(ctx, queue, kept, 0);
          ctx.log.warn('outage: events kept for later, pass stopped', {
            eventId: message.event.id,
            error: errorMessage(error),
          });
          stats.outage = error;
          return;
        }
        if (isPermanent(error) || message.receiveCount >= maxReceives) {
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
    }
  }
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
 * Renews the leases of a received batch every third of `leaseMs` until each message is done. A
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

  /** Stop renewing `message`; waits for a renewal under way, so it cannot land after an ack or release. */
  async done(message: ReceivedMessage): Promise<void> {
    this.pending.delete(message);
    await this.renewing;
  }

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
