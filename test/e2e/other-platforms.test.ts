import { describe, expect, it } from 'vitest';
import {
  agreement,
  consumerProduct,
  dpsProduct,
  eventsNamed,
  policyNames,
  provisioningOf,
  startWorld,
  view,
} from './harness.js';

/**
 * Data Mesh Manager serves every platform's agreements through one feed. Agreements on other
 * platforms' ports belong to their connectors: dmm-aws grants nothing and writes nothing on them.
 */
describe('agreements on other platforms', () => {
  it("a Snowflake port is neither granted nor reported on, and its connector's status survives", async () => {
    const snowflakePort = {
      id: 'orders-snowflake',
      name: 'orders-snowflake',
      type: 'snowflake',
      server: { account: 'acme', database: 'ORDERS', schema: 'PUBLIC' },
    };
    const world = await startWorld({
      mesh: {
        dataProducts: [dpsProduct('orders', { ports: [snowflakePort] }), consumerProduct()],
        agreements: [agreement('agr-sf', 'orders', 'orders-snowflake', { active: true })],
      },
    });
    world.sim.reportProvisioning('agr-sf', 'provisioning-succeeded', {
      platform: 'snowflake',
      executor: 'Snowflake Connector',
      reference: 'ROLE ORDERS_READER',
    });
    await world.settle();

    expect(await policyNames(world.iam)).toEqual({ inline: [], managed: [] });
    expect(view(world, 'agr-sf').tags).not.toContain('aws-integration');
    expect(eventsNamed(world, 'AccessUpdatedEvent', 'agr-sf')).toBe(0);
    expect((await provisioningOf(world, 'agr-sf')).body).toMatchObject({
      status: 'provisioned',
      executor: 'Snowflake Connector',
    });

    world.sim.deactivate('agr-sf');
    await world.settle();
    expect((await provisioningOf(world, 'agr-sf')).body).toMatchObject({
      status: 'provisioned',
      executor: 'Snowflake Connector',
    });
    expect(world.writes).toEqual([]);
    const decision = world.log.entries.find(
      (e) => e.message === 'decision: none' && e.fields['agreementId'] === 'agr-sf',
    );
    expect(String(decision?.fields['reason'])).toContain('is not an AWS port (type snowflake)');
  });
});
