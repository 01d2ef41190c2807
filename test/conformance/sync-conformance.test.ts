import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Generation } from '../../src/simulator/server.js';
import { agreement, consumerProduct, grantsOn, ordersProduct, startWorld } from '../e2e/harness.js';
import { validatorFor } from './openapi-validator.js';
import { recordingFetch } from './recorder.js';
import { SPEC_2024_11, SPEC_2026_07 } from './reference.js';
import { expectConformance } from './scenarios.js';

/**
 * The whole sync (poll, reconcile, write-back, provisioning reports) against the simulator, every
 * request it makes and every answer it gets validated against the vendor document. The client
 * takes the global fetch when it is built, so recording it sees exactly what goes over the wire.
 */

afterEach(() => {
  vi.unstubAllGlobals();
});

const cases: { generation: Generation; client: Generation | 'auto'; spec: string }[] = [
  { generation: 'access', client: 'auto', spec: SPEC_2026_07 },
  { generation: 'datausageagreements', client: 'auto', spec: SPEC_2024_11 },
  { generation: 'datausageagreements', client: 'datausageagreements', spec: SPEC_2024_11 },
];

describe.each(cases)(
  'the sync ($client) against the $generation simulator, checked with $spec',
  ({ generation, client, spec }) => {
    it('grant, write-back, revoke and a deleted provider: every exchange conforms', async () => {
      const recorder = recordingFetch();
      vi.stubGlobal('fetch', recorder.fetch);
      const world = await startWorld({
        generation,
        apiGeneration: client,
        mesh: {
          dataProducts: [ordersProduct(), consumerProduct()],
          agreements: [
            agreement('agr-1', 'orders', 'orders-s3'),
            agreement('agr-2', 'orders', 'orders-s3', { active: true, tags: ['from-ui'], custom: { note: 'keep' } }),
          ],
        },
      });

      await world.settle();
      world.sim.approve('agr-1');
      await world.settle();
      expect([...(await grantsOn(world.iam)).keys()].sort()).toEqual(['agr-1', 'agr-2']);
      world.sim.deactivate('agr-2');
      await world.settle();
      // The provider goes while agr-1 is active: the server then reads "unknown" for its ids.
      world.sim.deleteDataProduct('orders', { force: true });
      await world.settle();
      expect([...(await grantsOn(world.iam)).keys()]).toEqual([]);

      const undocumented = expectConformance(validatorFor(spec), recorder.exchanges);
      const sent = (method: string, pattern: RegExp) =>
        recorder.exchanges.filter((e) => e.method === method && pattern.test(new URL(e.url).pathname)).length;
      // Not vacuous: the sync wrote back and, where the API has it, reported provisioning.
      const agreements = client === 'auto' ? 'access' : 'datausageagreements';
      expect(sent('PUT', new RegExp(`^/api/${agreements}/agr-[12]$`))).toBeGreaterThan(0);
      expect(sent('GET', /^\/api\/events$/)).toBeGreaterThan(0);
      if (generation === 'access') {
        expect(undocumented).toEqual([]);
        expect(sent('POST', /\/provisioning\/deprovisioning-succeeded$/)).toBeGreaterThan(0);
      } else if (client === 'auto') {
        // One probe for the provisioning endpoints the 2024-11 API does not have, then none.
        expect(undocumented).toHaveLength(1);
        expect(undocumented[0]).toMatch(/^POST \/api\/access\/agr-[12]\/provisioning\//);
      } else {
        // Configured for the old API, the client knows there is nothing to probe.
        expect(undocumented).toEqual([]);
        expect(sent('GET', /^\/api\/access/)).toBe(0);
      }
    });
  },
);
