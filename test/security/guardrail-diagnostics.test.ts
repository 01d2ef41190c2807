/**
 * A guardrail refusal names the setting that refused it and what to do, because only the reason
 * reaches the agreement (custom.aws-integration-error): the people reading it must know which
 * operator setting to ask about.
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
    world.ctx.guardrails = defaultGuardrails(ACCOUNT);
    world.ctx.resourceTags = new FileResourceTags({ buckets: { 'team-b-private': { 'dmm:data-product': 'team-b' } } });
    await world.sync();
    const error = view(world, 'agr-1').custom['aws-integration-error'];
    expect(error).toContain('guardrails.ownershipProof');
    expect(error).toContain('guardrails.ownershipAllowList');
  });
});
