import { describe, expect, it } from 'vitest';
import type { Generation } from '../../src/simulator/server.js';
import {
  OWN_ACCOUNT,
  ROLE_ARN,
  agreement,
  consumerProduct,
  dpsProduct,
  eventsNamed,
  grantsOn,
  odpsProduct,
  odpsS3Port,
  policyNames,
  provisioningOf,
  s3BucketPort,
  startWorld,
  view,
} from './harness.js';

/** Both API generations and both data product formats, from request to grant to revoke. */

const cases: { generation: Generation; format: 'dps' | 'odps' }[] = [
  { generation: 'access', format: 'dps' },
  { generation: 'access', format: 'odps' },
  { generation: 'datausageagreements', format: 'dps' },
  { generation: 'datausageagreements', format: 'odps' },
];

describe.each(cases)('$generation API with a $format provider', ({ generation, format }) => {
  it('grants on activation and revokes on deactivation', async () => {
    const provider =
      format === 'dps'
        ? dpsProduct('orders', { ports: [s3BucketPort('orders-s3', 'acme-orders')] })
        : odpsProduct('orders', { ports: [odpsS3Port('orders-s3', 's3://acme-orders/')] });
    const world = await startWorld({
      generation,
      mesh: { dataProducts: [provider, consumerProduct()], agreements: [agreement('agr-1', 'orders', 'orders-s3')] },
    });

    const first = await world.sync();
    expect(first.stats).toEqual({ processed: first.polled.events, retried: 0, deadLettered: 0 });
    expect((await grantsOn(world.iam)).size).toBe(0);
    expect(world.writes).toEqual([]);
    // A requested agreement that never held access is left untouched, not even tagged.
    expect(view(world, 'agr-1').tags).toEqual([]);

    world.sim.approve('agr-1');
    await world.sync();
    const granted = await grantsOn(world.iam);
    expect([...granted.keys()]).toEqual(['agr-1']);
    expect(granted.get('agr-1')!.policies).toEqual(['dmm-aws-pack-1']);
    expect(granted.get('agr-1')!.statements).toEqual([
      {
        Sid: expect.stringMatching(/^DmmH[0-9a-f]+S1$/),
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
        Resource: ['arn:aws:s3:::acme-orders', 'arn:aws:s3:::acme-orders/*'],
        Condition: OWN_ACCOUNT,
      },
    ]);
    expect(await policyNames(world.iam)).toEqual({ inline: ['dmm-aws-pack-1'], managed: [] });
    const active = view(world, 'agr-1');
    expect(active.tags.sort()).toEqual(['aws-integration', 'aws-integration-active']);
    expect(active.custom).toEqual({ 'aws-policy-name': 'dmm-aws-pack-1', 'aws-granted-role-arn': ROLE_ARN });

    const family = generation === 'access' ? 'Access' : 'DataUsageAgreement';
    if (generation === 'access') {
      const record = await provisioningOf(world, 'agr-1');
      expect(record.status).toBe(200);
      expect(record.body).toMatchObject({
        status: 'provisioned',
        platform: 'aws',
        executor: 'dmm-aws',
        reference: `${ROLE_ARN} (policies: dmm-aws-pack-1)`,
        diagnostics: null,
      });
      expect(eventsNamed(world, 'AccessProvisionedEvent', 'agr-1')).toBe(1);
    } else {
      // No provisioning endpoints on the old generation: tags and fields only, no record, no event.
      expect((await provisioningOf(world, 'agr-1')).status).toBe(404);
      expect(world.sim.state.agreements.get('agr-1')!.provisioning).toBeUndefined();
      expect(world.sim.state.events.some((e) => /Provision/.test(e.type))).toBe(false);
    }
    expect(eventsNamed(world, `${family}UpdatedEvent`, 'agr-1')).toBe(1);

    world.sim.deactivate('agr-1');
    await world.sync();
    expect((await grantsOn(world.iam)).size).toBe(0);
    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    const inactive = view(world, 'agr-1');
    expect(inactive.tags.sort()).toEqual(['aws-integration', 'aws-integration-inactive']);
    expect(inactive.custom).toEqual({});
    if (generation === 'access') {
      expect((await provisioningOf(world, 'agr-1')).body).toMatchObject({
        status: 'deprovisioned',
        reference: `${ROLE_ARN} (policies: dmm-aws-pack-1)`,
      });
    }
  });
});
