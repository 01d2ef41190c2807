/**
 * HOLE (diagnostic quality, not access): a guardrail refusal is reported without the name of the
 * setting that refused it. src/sync/guard.ts guardResolution() builds
 * `refuse('guardrails.ownershipTagKey', unproven)` (and `refuse('aws-role-name', …)`), but only
 * `reason` reaches the agreement (reconcile.ts reportState uses outcome.diagnostic,
 * built from desired.reason), and the ownership-proof reason does not mention the setting. The
 * people reading custom.aws-integration-error cannot tell which operator setting to ask about.
 *
 * Should: the diagnostic names the setting, e.g. "… (guardrails.ownershipTagKey)".
 */
import { describe, expect, it } from 'vitest';
import { FileResourceTags } from '../../src/local/file-resource-tags.js';
import { defaultGuardrails } from '../../src/sync/guardrails.js';
import { ACCOUNT, agreement, consumerProduct, dpsProduct, s3BucketPort, startWorld, view } from '../e2e/harness.js';

describe('guardrail diagnostics name their setting', () => {
  it('ownership proof', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [dpsProduct('prov', { ports: [s3BucketPort('p', 'team-b-private')] }), consumerProduct()],
        agreements: [agreement('agr-1', 'prov', 'p', { active: true })],
      },
    });
    world.ctx.guardrails = { ...defaultGuardrails(ACCOUNT), ownershipTagKey: 'dmm:data-product' };
    world.ctx.resourceTags = new FileResourceTags({ buckets: { 'team-b-private': { 'dmm:data-product': 'team-b' } } });
    await world.sync();
    expect(view(world, 'agr-1').custom['aws-integration-error']).toContain('guardrails.ownershipTagKey');
  });
});
