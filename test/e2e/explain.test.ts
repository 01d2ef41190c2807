import { describe, expect, it } from 'vitest';
import { explainAgreement, explainRole } from '../../src/sync/explain.js';
import { ROLE, ROLE_ARN, startOrdersWorld, policyChanges } from './harness.js';

describe('explain', () => {
  it('an agreement in sync, then out of sync after Data Mesh Manager changed, without changing anything', async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();

    const synced = await explainAgreement(world.ctx, 'agr-1');
    expect(synced.agreement).toEqual({
      status: 'approved',
      active: true,
      provider: 'orders / orders-s3',
      consumer: 'consumer',
    });
    expect(synced.outcome).toMatchObject({ decision: 'grant', effect: 'unchanged', changes: [] });
    expect(synced.holdings).toEqual([{ role: ROLE_ARN, policies: ['dmm-aws-pack-1'], statements: expect.any(Array) }]);
    expect(synced.inSync).toBe(true);

    world.sim.deactivate('agr-1');
    const writesBefore = world.writes.length;
    const stale = await explainAgreement(world.ctx, 'agr-1');
    expect(stale.outcome).toMatchObject({ decision: 'revoke', effect: 'revoked' });
    expect(policyChanges(stale.outcome.changes).map((c) => [c.action, c.policyName])).toEqual([
      ['delete', 'dmm-aws-pack-1'],
    ]);
    expect(stale.holdings).toHaveLength(1);
    expect(stale.inSync).toBe(false);
    expect(world.writes.length).toBe(writesBefore);
  });

  it('a role: every agreement on it, whether it is still explained, and how full the role is', async () => {
    const world = await startOrdersWorld('agr-1');
    await world.settle();
    world.sim.deactivate('agr-1');

    const role = await explainRole(world.ctx, ROLE);
    expect(role).toMatchObject({ role: ROLE_ARN, exists: true, managedPacks: { attached: 0, others: 0, limit: 10 } });
    expect(role.inlineCharacters.used).toBeGreaterThan(100);
    expect(role.agreements).toEqual([
      {
        agreementId: 'agr-1',
        policies: ['dmm-aws-pack-1'],
        statements: 1,
        decision: 'revoke',
        effect: 'revoked',
        reason: expect.stringContaining('is not active'),
      },
    ]);
    expect((await explainRole(world.ctx, 'no-such-role')).exists).toBe(false);
  });
});
