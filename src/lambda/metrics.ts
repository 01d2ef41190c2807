import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { AgreementOutcome } from '../sync/reconcile.js';

/** The CloudWatch metrics of the functions (namespace `POWERTOOLS_METRICS_NAMESPACE`). */
export const METRIC = {
  /** poll-feed: events read from the Data Mesh Manager feed. */
  EventsRead: 'EventsRead',
  /** poll-feed: events SQS accepted. */
  EventsQueued: 'EventsQueued',
  /** Agreements whose access was granted (newly placed on a role). */
  Grants: 'Grants',
  /** Agreements whose access was removed. */
  Revokes: 'Revokes',
  /** Agreements that could not be converged, plus events whose processing failed (to be retried). */
  Failures: 'Failures',
  /**
   * process-events: events that met an outage (Data Mesh Manager or AWS unreachable, throttling,
   * no credentials): retried by SQS, never counted as Failures or reported as the agreement's.
   */
  Outages: 'Outages',
  /** process-events: events given up on (acknowledged as unprocessable, or on their last receive). */
  DeadLettered: 'DeadLettered',
  /** poll-feed: now minus the time of the newest event read (0 when caught up with nothing new). */
  FeedLagSeconds: 'FeedLagSeconds',
  /** reconcile: IAM writes a full reconcile made. */
  ReconcileChanges: 'ReconcileChanges',
} as const;

export type CountMetric = Exclude<keyof typeof METRIC, 'FeedLagSeconds'>;

/**
 * Counters summed over one invocation and emitted once (Powertools EMF) when it ends. A function
 * emits each of its counters even when zero, so graphs and alarms see "nothing happened" rather
 * than missing data.
 */
export class SyncMetrics {
  private readonly counts = new Map<CountMetric, number>();
  private lagSeconds: number | undefined;

  /** `counters`: the function's own, emitted every invocation. */
  constructor(
    readonly powertools: Metrics,
    private readonly counters: readonly CountMetric[],
  ) {}

  count(name: CountMetric, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  feedLag(seconds: number): void {
    this.lagSeconds = Math.max(0, Math.round(seconds));
  }

  /** Grants, Revokes and Failures from what the core decided. */
  outcomes(outcomes: AgreementOutcome[]): void {
    this.count('Grants', outcomes.filter((o) => o.effect === 'granted').length);
    this.count('Revokes', outcomes.filter((o) => o.effect === 'revoked').length);
    this.count('Failures', outcomes.filter((o) => o.decision === 'failed').length);
  }

  publish(): void {
    for (const name of this.counters) if (!this.counts.has(name)) this.counts.set(name, 0);
    for (const [name, value] of this.counts) this.powertools.addMetric(METRIC[name], MetricUnit.Count, value);
    if (this.lagSeconds !== undefined)
      this.powertools.addMetric(METRIC.FeedLagSeconds, MetricUnit.Seconds, this.lagSeconds);
    this.counts.clear();
    this.lagSeconds = undefined;
    this.powertools.publishStoredMetrics();
  }
}
