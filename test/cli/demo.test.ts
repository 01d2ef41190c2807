import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';

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
