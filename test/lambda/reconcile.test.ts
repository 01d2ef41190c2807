/**
 * The reconcile function: a dry run returns the plan (as `dmm-aws plan --json`) and changes
 * nothing; the scheduled run applies it.
 */
import { describe, expect, it } from 'vitest';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import {
  ACCOUNT,
  agreement,
  consumerProduct,
  indexEntry,
  inlinePolicies,
  lambdaContext,
  providerBucket,
  s3Product,
  scheduledEvent,
  statementsFor,
  useLambdaHarness,
} from './helpers.js';

const { out, world: lambdaWorld } = useLambdaHarness();

async function world(settings: Record<string, string> = {}) {
  const bucket = await providerBucket('orders');
  const { rolePath, role, dmm, env, stateBucket } = await lambdaWorld({
    rolePrefix: 'lambda-reconcile',
    mesh: (role) => ({
      dataProducts: [s3Product('orders', bucket), consumerProduct('consumer', role)],
      agreements: [agreement('agr-r', 'orders', 'consumer', true)],
    }),
    // The secret in its JSON form.
    secret: (apiKey) => JSON.stringify({ apiKey }),
  });
  const handler = createReconcileHandler({ ...env, MANAGED_ROLE_PATH: rolePath, ...settings });
  const roleArn = `arn:aws:iam::${ACCOUNT}:role${rolePath}${role}`;
  return {
    role,
    roleArn,
    bucket,
    dmm,
    stateBucket,
    handler,
    context: () => lambdaContext({ functionName: 'dmm-aws-reconcile' }),
  };
}

describe('reconcile', () => {
  it('plans on {"dryRun": true} and applies on its schedule', async () => {
    const w = await world();

    const plan = await w.handler({ dryRun: true }, w.context());
    expect(plan).toMatchObject({ applied: false, summary: { changes: 1, agreements: 1, rolesExamined: 1 } });
    expect(plan).toHaveProperty(
      ['changes', 0],
      expect.objectContaining({ action: 'put', policyType: 'inline', role: w.role, agreementIds: ['agr-r'] }),
    );
    expect(JSON.stringify(plan)).toContain(`arn:aws:s3:::${w.bucket}`);
    expect(await inlinePolicies(w.role)).toEqual(new Map());
    expect(out.metric('ReconcileChanges')).toBeUndefined();
    // A plan writes nothing, not even the index.
    expect(await indexEntry(w.stateBucket, 'agr-r')).toBeUndefined();

    const applied = await w.handler(scheduledEvent('dmm-aws-reconcile'), w.context());
    expect(applied).toEqual({
      applied: true,
      summary: { changes: 1, agreements: 1, rolesExamined: 1, granted: 1, revoked: 0, failed: 0 },
      failures: [],
    });
    expect(statementsFor(await inlinePolicies(w.role), 'agr-r').length).toBeGreaterThan(0);
    expect(out.metric('ReconcileChanges')).toBe(1);
    expect(out.metric('Grants')).toBe(1);
    expect(await indexEntry(w.stateBucket, 'agr-r')).toEqual({ agreementId: 'agr-r', roleArns: [w.roleArn] });

    // Converged: the next plan is empty.
    expect(await w.handler({ dryRun: true }, w.context())).toMatchObject({ summary: { changes: 0 } });
  });

  it('says at warn on every invocation that ownership proof is off, when the operator turned it off', async () => {
    const off = await world({ DMM_OWNERSHIP_PROOF: 'off' });
    await off.handler({ dryRun: true }, off.context());
    await off.handler({ dryRun: true }, off.context());
    const said = out.logs('warn').filter((l) => String(l.message).startsWith('ownership proof is OFF'));
    expect(said).toHaveLength(2);
    // With the default (proof on), nothing of the kind is said.
    const on = await world();
    const before = out.logs('warn').length;
    await on.handler({ dryRun: true }, on.context());
    expect(
      out
        .logs('warn')
        .slice(before)
        .filter((l) => String(l.message).startsWith('ownership proof')),
    ).toEqual([]);
  });

  it('refuses a dryRun that is not a boolean rather than applying', async () => {
    const w = await world();
    await expect(w.handler({ dryRun: 'yes' }, w.context())).rejects.toThrow('dryRun must be true or false');
    expect(await inlinePolicies(w.role)).toEqual(new Map());
  });
});
