import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { DEMO_ACCOUNTS, runMultiAccountDemo } from '../../src/cli/demo-multi-account.js';
import { statementSid } from '../../src/targets/sid.js';

describe('dmm-aws demo', () => {
  it('grants, replays without changes, revokes on deactivation and on deletion, and ends converged', async () => {
    let output = '';
    const result = await runDemo({ write: (text) => (output += text) });
    const outcomes = result.results.flatMap((r) => r.outcomes);
    const effectsOf = (id: string) => outcomes.filter((o) => o.agreementId === id).map((o) => o.effect);

    expect(outcomes.filter((o) => o.decision === 'failed')).toEqual([]);
    expect(effectsOf('agr-orders-s3')).toContain('granted');
    expect(effectsOf('agr-orders-s3')).toContain('revoked');
    expect(effectsOf('agr-transactions-glue')).toContain('granted');
    expect(effectsOf('agr-transactions-glue')).toContain('revoked');
    expect(effectsOf('agr-clickstream-s3')).toContain('granted');
    expect(effectsOf('agr-clickstream-s3')).not.toContain('revoked');

    const steps = Object.values(result.policiesAfterStep);
    expect(steps[0]).toEqual(['team-notebook-access']);
    expect(steps.at(-1)).toEqual(['dmm-aws-pack-1', 'team-notebook-access']);
    expect(result.finalPlanChanges).toBe(0);

    // The replay step (4) saw every old event again and changed nothing.
    const replay = output.slice(output.indexOf('── 4.'), output.indexOf('── 5.'));
    expect(replay).not.toContain('+ put');
    expect(replay).toContain('AccessActivatedEvent agr-orders-s3 → agr-orders-s3: grant (unchanged)');

    // The narration shows the policy written and what went back to Data Mesh Manager.
    expect(output).toContain('"arn:aws:glue:eu-central-1:123456789012:table/sales/transactions"');
    expect(output).toMatch(/reported back: tags \[demo, aws-integration, aws-integration-active\]/);
    expect(output).toContain('No changes: AWS matches Data Mesh Manager.');
    // The last step points at the access-review report.
    expect(output).toContain('npx dmm-aws report');
  });
});

describe('dmm-aws demo --multi-account', () => {
  it('grants across accounts on both sides, refuses a pair the hub does not allow, revokes both sides', async () => {
    let output = '';
    const result = await runMultiAccountDemo({ write: (text) => (output += text) });
    const { consumer, provider } = DEMO_ACCOUNTS;
    const outcomes = result.results.flatMap((r) => r.outcomes);
    const effectsOf = (id: string) => outcomes.filter((o) => o.agreementId === id).map((o) => o.effect);
    for (const id of ['agr-analytics-orders-s3', 'agr-analytics-orders-glue']) {
      expect(effectsOf(id)).toContain('granted');
      expect(effectsOf(id)).toContain('revoked');
    }
    const refused = outcomes.filter((o) => o.agreementId === 'agr-finance-orders-s3' && o.decision === 'failed');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.refusedBy === 'multiAccount' && o.changes.length === 0)).toBe(true);

    // The dry run names each side's account.
    expect(result.plannedChanges.map((c) => `${'role' in c ? c.role : c.resource} ${c.account}`).sort()).toEqual([
      `analytics-reader ${consumer}`,
      `arn:aws:glue:eu-central-1:${provider}:catalog ${provider}`,
      `arn:aws:s3:::sales-lake ${provider}`,
      `arn:aws:s3:::sales-orders ${provider}`,
    ]);

    // Both sides after the grant; nothing of ours on either side after the revocation.
    const steps = Object.values(result.sidesAfterStep);
    const granted = steps[1]!;
    expect(granted.consumer).toEqual(['dmm-aws-pack-1']);
    expect(granted.provider['arn:aws:s3:::sales-orders']).toEqual([
      'OwnerKeepsAccess',
      statementSid('agr-analytics-orders-s3', 1),
    ]);
    expect(granted.provider[`arn:aws:glue:eu-central-1:${provider}:catalog`]).toEqual([
      statementSid('agr-analytics-orders-glue', 1),
    ]);
    // The replay (step 5) changed nothing on either side.
    expect(steps[3]).toEqual(granted);
    expect(steps.at(-1)).toEqual({
      consumer: [],
      provider: {
        [`arn:aws:glue:eu-central-1:${provider}:catalog`]: [],
        'arn:aws:s3:::sales-lake': [],
        'arn:aws:s3:::sales-orders': ['OwnerKeepsAccess'],
      },
    });
    expect(result.finalPlanChanges).toBe(0);

    // The narration says which account and which side each write is on.
    expect(output).toContain(`put inline policy dmm-aws-pack-1 on role analytics-reader in account ${consumer}`);
    expect(output).toContain(`put bucket policy of arn:aws:s3:::sales-orders in account ${provider}`);
    expect(output).toContain(`"AWS": "arn:aws:iam::${consumer}:role/analytics-reader"`);
    expect(output).toContain(`consumer side, account ${consumer}`);
    expect(output).toContain(`provider side, account ${provider}`);
    expect(output).toContain(
      `consumer account ${DEMO_ACCOUNTS.otherConsumer} may not receive data from account ${provider}`,
    );
    expect(output).toContain('No changes: AWS matches Data Mesh Manager.');
  });
});
