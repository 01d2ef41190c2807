import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../src/sync/resolve.js';
import {
  agreement,
  consumerProduct,
  expectFailed,
  grantsOn,
  odpsProduct,
  odpsS3Port,
  resourcesOf,
  startWorld,
} from './harness.js';

/** ODPS documents a real tenant holds: every apiVersion the schema allows, ports in several versions, repeated properties. */

const port = (name: string, version: string, location: string, extra: Record<string, unknown> = {}) => ({
  ...odpsS3Port(name, location),
  version,
  ...extra,
});

describe('ODPS variants', () => {
  it.each(['v0.9.0', 'v1.1.0'])('grants on an ODPS %s product', async (apiVersion) => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          { ...odpsProduct('clicks', { ports: [odpsS3Port('clicks-s3', 's3://acme-clicks/curated/')] }), apiVersion },
          consumerProduct(),
        ],
        agreements: [agreement('agr-1', 'clicks', 'clicks-s3', { active: true })],
      },
    });
    await world.settle();
    expect(resourcesOf((await grantsOn(world.iam)).get('agr-1')!.statements)).toContain(
      'arn:aws:s3:::acme-clicks/curated/*',
    );
  });

  it('a port listed in two versions grants the newest only; the agreement’s data contract picks an older one', async () => {
    const ports = [
      port('orders', '1.9.0', 's3://acme-orders/v1/', { contractId: 'orders-v1' }),
      port('orders', '1.10.0', 's3://acme-orders/v2/', { contractId: 'orders-v2' }),
    ];
    const pinned = agreement('agr-pinned', 'orders', 'orders', { active: true });
    const world = await startWorld({
      mesh: {
        dataProducts: [odpsProduct('orders', { ports }), consumerProduct()],
        agreements: [
          agreement('agr-latest', 'orders', 'orders', { active: true }),
          { ...pinned, provider: { ...(pinned.provider as object), dataContractId: 'orders-v1' } },
        ],
      },
    });
    await world.settle();
    const grants = await grantsOn(world.iam);
    const latest = resourcesOf(grants.get('agr-latest')!.statements);
    expect(latest).toContain('arn:aws:s3:::acme-orders/v2/*');
    expect(latest.join(' ')).not.toContain('/v1/');
    const older = resourcesOf(grants.get('agr-pinned')!.statements);
    expect(older).toContain('arn:aws:s3:::acme-orders/v1/*');
    expect(older.join(' ')).not.toContain('/v2/');
  });

  it('the same name and version twice is still ambiguous: failed, nothing granted', async () => {
    const world = await startWorld({
      mesh: {
        dataProducts: [
          odpsProduct('orders', {
            ports: [port('orders', '1.0.0', 's3://acme-orders/a/'), port('orders', '1.0.0', 's3://acme-orders/b/')],
          }),
          consumerProduct(),
        ],
        agreements: [agreement('agr-1', 'orders', 'orders', { active: true })],
      },
    });
    await world.settle();
    await expectFailed(world, 'agr-1', /same version, so the port to grant is ambiguous/);
  });

  it('a port property repeated with different values fails that port only, naming it; the product’s other ports still grant', async () => {
    const conflicting = {
      ...odpsS3Port('orders-eu', 's3://acme-orders/eu/'),
      customProperties: [
        { property: 'server', value: { type: 's3', location: 's3://acme-orders/eu/' } },
        { property: 'server', value: { type: 's3', location: 's3://acme-orders/' } },
      ],
    };
    const world = await startWorld({
      mesh: {
        dataProducts: [
          odpsProduct('orders', { ports: [conflicting, odpsS3Port('orders-us', 's3://acme-orders/us/')] }),
          consumerProduct(),
        ],
        agreements: [
          agreement('agr-eu', 'orders', 'orders-eu', { active: true }),
          agreement('agr-us', 'orders', 'orders-us', { active: true }),
        ],
      },
    });
    await world.settle();
    await expectFailed(
      world,
      'agr-eu',
      /customProperties\[1\]: "server" is given more than once with different values/,
    );
    expect([...(await grantsOn(world.iam)).keys()]).toEqual(['agr-us']);
  });

  it('orders versions numerically; a port without a version is the oldest', () => {
    expect(compareVersions(undefined, '0.1')).toBe(-1);
    expect(['1.10.0', 'v1.9.2', '2', '1.0'].sort((a, b) => compareVersions(a, b))).toEqual([
      '1.0',
      'v1.9.2',
      '1.10.0',
      '2',
    ]);
  });
});
