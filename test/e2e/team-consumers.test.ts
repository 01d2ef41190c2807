/**
 * A team as the consumer (`consumer: {teamId}`, allowed by the API): the team names its IAM role
 * in its custom fields, as data products do. A user consumer is refused with a stable reason.
 */
import { describe, expect, it } from 'vitest';
import { reconcileAll } from '../../src/sync/reconcile.js';
import { ROLE, agreement, bucketReadStatement, grantsOn, ordersProduct, startWorld, view } from './harness.js';

const teamAgreement = (id: string, consumer: Record<string, string>) => {
  const doc = agreement(id, 'orders', 'orders-s3', { active: true });
  return { ...doc, consumer };
};

describe('team consumers', () => {
  it('grants the role a team names in its custom fields, and revokes it when the agreement ends', async () => {
    const world = await startWorld({
      mesh: {
        teams: [
          { id: 'analysts', name: 'Analysts', type: 'Team', custom: { 'aws-role-name': ROLE } },
          { id: 'no-role', name: 'No role', type: 'Team' },
        ],
        dataProducts: [ordersProduct()],
        agreements: [
          teamAgreement('agr-team', { teamId: 'analysts' }),
          teamAgreement('agr-no-role', { teamId: 'no-role' }),
          teamAgreement('agr-user', { userId: 'alice@example.com' }),
        ],
      },
    });
    await world.settle();
    expect((await grantsOn(world.iam)).get('agr-team')?.statements).toEqual([bucketReadStatement('agr-team')]);
    expect(view(world, 'agr-team').tags).toContain('aws-integration-active');

    const result = await reconcileAll(world.ctx, { dryRun: true });
    const reasons = Object.fromEntries(result.outcomes.map((o) => [o.agreementId, o.reason]));
    expect(reasons['agr-no-role']).toBe(
      'Agreement agr-no-role: consumer team no-role: custom.aws-role-name is not set, so there is no IAM role to grant access to (set aws-role-name or aws-role-arn).',
    );
    expect(reasons['agr-user']).toMatch(/the consumer is user alice@example\.com, not a data product or a team/);
    expect(result.changes).toEqual([]);

    // The team names another role: its TeamUpdatedEvent moves the grant there.
    await world.iam.createRole('analysts-v2');
    world.sim.putTeam({ id: 'analysts', name: 'Analysts', type: 'Team', custom: { 'aws-role-name': 'analysts-v2' } });
    await world.settle();
    expect((await grantsOn(world.iam, 'analysts-v2')).get('agr-team')?.statements).toEqual([
      bucketReadStatement('agr-team'),
    ]);
    expect((await grantsOn(world.iam, ROLE)).has('agr-team')).toBe(false);

    world.sim.deactivate('agr-team');
    await world.settle();
    expect((await grantsOn(world.iam, 'analysts-v2')).has('agr-team')).toBe(false);
  });
});
