/**
 * reconcile (EventBridge schedule, or invoked by hand): the full reconcile of `dmm-aws apply`;
 * `{"dryRun": true}` makes it `dmm-aws plan --json` and changes nothing.
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { planJson } from '../sync/plan-json.js';
import { reconcileAll } from '../sync/reconcile.js';
import { readEnvironment, type ReconcileEnvironment } from './environment.js';
import { createSyncHandler, type SyncPipeline } from './runtime.js';

/**
 * A scheduled event carries no `dryRun`; a hand-made payload must say exactly `true` or `false`,
 * so that `{"dryRun": "yes"}` is refused instead of being taken as an apply.
 */
const inputSchema = z.looseObject({ dryRun: z.boolean({ error: 'dryRun must be true or false' }).optional() });

export type ReconcileSummary =
  | ReturnType<typeof planJson>
  | {
      applied: true;
      summary: {
        changes: number;
        agreements: number;
        rolesExamined: number;
        granted: number;
        revoked: number;
        failed: number;
      };
      failures: { agreementId: string; reason: string }[];
    };

/** The handler over `env`, read on the first invocation (cold start). */
export function createReconcileHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: unknown, context: Context) => Promise<ReconcileSummary> {
  // No counters declared: the outcomes are counted only when applied, since a dry run is a
  // person looking, not a change to graph.
  return createSyncHandler(() => readEnvironment('reconcile', env), [], reconcile);
}

export const handler = createReconcileHandler();

async function reconcile(
  { runtime, ctx }: SyncPipeline<ReconcileEnvironment>,
  event: unknown,
): Promise<ReconcileSummary> {
  const input = inputSchema.safeParse(event ?? {});
  if (!input.success)
    throw new Error(`Invalid reconcile input: ${input.error.issues.map((i) => i.message).join('; ')}`);
  const dryRun = input.data.dryRun === true;
  const result = await reconcileAll(ctx, { dryRun });
  if (dryRun) {
    const plan = planJson(result, false);
    runtime.log.info('reconcile planned', { dryRun, ...plan.summary });
    return plan;
  }
  runtime.metrics.outcomes(result.outcomes);
  runtime.metrics.count('ReconcileChanges', result.changes.length);
  const failed = result.outcomes.filter((o) => o.decision === 'failed');
  const summary = {
    changes: result.changes.length,
    agreements: result.outcomes.length,
    rolesExamined: result.rolesExamined,
    granted: result.outcomes.filter((o) => o.effect === 'granted').length,
    revoked: result.outcomes.filter((o) => o.effect === 'revoked').length,
    failed: failed.length,
  };
  runtime.log.info('reconcile applied', { dryRun, ...summary });
  return { applied: true, summary, failures: failed.map((o) => ({ agreementId: o.agreementId, reason: o.reason })) };
}
