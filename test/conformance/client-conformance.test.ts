import { afterEach, describe, expect, it } from 'vitest';
import { DmmHttpClient } from '../../src/dmm/client.js';
import type { ProvisioningTransition } from '../../src/interfaces/dmm-api.js';
import { startSimulator, type Generation, type RunningSimulator } from '../../src/simulator/server.js';
import { writeBackBody } from '../../src/sync/write-back-body.js';
import { validatorFor } from './openapi-validator.js';
import { recordingFetch, type Recorder } from './recorder.js';
import { SPEC_2024_11, SPEC_2026_07 } from './reference.js';
import { API_KEY, conformanceMesh, expectConformance } from './scenarios.js';

/**
 * The real client against the simulator over loopback, every exchange recorded on the wire and
 * validated against the vendor document of the API generation the simulator plays.
 */

const generations: { generation: Generation; spec: string }[] = [
  { generation: 'access', spec: SPEC_2026_07 },
  { generation: 'datausageagreements', spec: SPEC_2024_11 },
];

const TRANSITIONS: [ProvisioningTransition, Record<string, string>][] = [
  ['provisioning-started', { platform: 'aws', executor: 'dmm-aws' }],
  ['provisioning-succeeded', { platform: 'aws', executor: 'dmm-aws', reference: 'arn:aws:iam::1:role/r' }],
  ['provisioning-failed', { platform: 'aws', executor: 'dmm-aws', diagnostics: 'AccessDenied' }],
  ['deprovisioning-started', { platform: 'aws', executor: 'dmm-aws' }],
  ['deprovisioning-succeeded', { platform: 'aws', executor: 'dmm-aws', reference: 'arn:aws:iam::1:role/r' }],
  ['deprovisioning-failed', { platform: 'aws', executor: 'dmm-aws', diagnostics: 'still attached' }],
];

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function client(recorder: Recorder, options: { apiKey?: string; generation?: Generation } = {}): DmmHttpClient {
  return new DmmHttpClient({
    baseUrl: sim!.url,
    apiKey: options.apiKey ?? API_KEY,
    apiGeneration: options.generation ?? 'auto',
    maxAttempts: 1,
    fetch: recorder.fetch,
  });
}

describe.each(generations)(
  'the client against the $generation simulator, checked with $spec',
  ({ generation, spec }) => {
    const validator = validatorFor(spec);
    const modern = generation === 'access';

    it('every read the sync makes conforms: lists, filters, documents, teams, the feed and 404s', async () => {
      sim = await startSimulator({
        apiKey: API_KEY,
        generation,
        mesh: conformanceMesh({ odps: modern, dataContract: modern }),
      });
      const recorder = recordingFetch();
      const dmm = client(recorder);

      // A 2024-11 server serves /api/access as well, so detection settles on it there too.
      expect(await dmm.apiGeneration()).toBe('access');
      expect((await dmm.listAgreements()).map((a) => a.id)).toEqual(['agr-requested', 'agr-active']);
      expect(await dmm.listAgreements({ providerDataProductId: 'orders' })).toHaveLength(2);
      expect(await dmm.listAgreements({ consumerDataProductId: 'nobody' })).toEqual([]);
      expect((await dmm.getAgreement('agr-active'))?.id).toBe('agr-active');
      expect(await dmm.getAgreement('missing')).toBeUndefined();
      expect((await dmm.listDataProducts()).length).toBe(modern ? 3 : 2);
      expect(await dmm.getDataProduct('missing')).toBeUndefined();
      expect((await dmm.getTeam('marketing'))?.id).toBe('marketing');
      expect(await dmm.getTeam('missing')).toBeUndefined();

      sim.approve('agr-requested');
      sim.putDataProduct({ ...(sim.state.dataProducts.get('orders') as object), outputPorts: [] });
      sim.putTeam({ id: 'marketing', name: 'Marketing EU', type: 'Team' });
      sim.cancel('agr-active');
      sim.deleteAgreement('agr-requested');
      const events = await dmm.pollEvents();
      expect(events.length).toBeGreaterThan(10);
      expect(await dmm.pollEvents(events.at(-1)!.id)).toEqual([]);

      expect(expectConformance(validator, recorder.exchanges)).toEqual([]);
    });

    it('the write-back PUT sends the document as received minus read-only members, and it conforms', async () => {
      sim = await startSimulator({
        apiKey: API_KEY,
        generation,
        mesh: conformanceMesh({ odps: false, dataContract: modern }),
      });
      const recorder = recordingFetch();
      const dmm = client(recorder);
      const received = await dmm.getAgreement('agr-active');
      const edits = {
        addTags: ['aws-integration'],
        removeTags: [],
        setCustom: { 'aws-policy-name': 'p' },
        deleteCustom: [],
      };
      const body = writeBackBody(received!.raw, edits);
      if (!body.ok) throw new Error(body.reason);
      await dmm.putAgreement('agr-active', body.body);

      expect(expectConformance(validator, recorder.exchanges)).toEqual([]);
      const put = recorder.exchanges.find((e) => e.method === 'PUT')!;
      expect(new URL(put.url).pathname).toBe('/api/access/agr-active');
      expect(sim.state.agreementView('agr-active')).toMatchObject({
        tags: ['from-ui', 'aws-integration'],
        custom: { 'owner-note': 'keep me', 'aws-policy-name': 'p' },
      });
    });

    it('the provisioning reports conform where the endpoints exist, and are a documented 404 probe where not', async () => {
      sim = await startSimulator({
        apiKey: API_KEY,
        generation,
        mesh: conformanceMesh({ odps: false, dataContract: false }),
      });
      const recorder = recordingFetch();
      const dmm = client(recorder);
      for (const [transition, report] of TRANSITIONS) {
        expect(await dmm.reportProvisioning('agr-active', transition, report)).toBe(
          modern ? 'reported' : 'unsupported',
        );
      }
      const undocumented = expectConformance(validator, recorder.exchanges);
      // The client probes once, learns the server has no provisioning endpoints and stops asking.
      expect(undocumented).toEqual(modern ? [] : ['POST /api/access/agr-active/provisioning/provisioning-started']);
    });

    it('errors are problem documents: wrong key, unknown id, wrong accept header, wrong method', async () => {
      sim = await startSimulator({
        apiKey: API_KEY,
        generation,
        mesh: conformanceMesh({ odps: false, dataContract: false }),
      });
      const recorder = recordingFetch();
      await expect(client(recorder, { apiKey: 'wrong-key' }).listAgreements()).rejects.toMatchObject({ status: 403 });
      const call = (path: string, init: RequestInit = {}) =>
        recorder.fetch(`${sim!.url}${path}`, {
          ...init,
          headers: { 'x-api-key': API_KEY, accept: 'application/json', ...init.headers },
        });
      expect((await call('/api/events', { headers: { accept: 'application/json' } })).status).toBe(406);
      expect((await call('/api/access/missing')).status).toBe(404);
      expect((await call('/api/access/missing', { method: 'DELETE' })).status).toBe(404);
      expect((await call('/api/access/missing/approve', { method: 'POST' })).status).toBe(404);
      expect((await call('/api/teams/missing')).status).toBe(404);
      expect((await call('/api/dataproducts/orders', { method: 'POST' })).status).toBe(405);
      const stored = sim.state.agreementView('agr-active')!;
      const { provisioning: _serverManaged, ...document } = stored;
      const changedPurpose = { ...document, info: { purpose: 'something else', startDate: '2025-01-01' } };
      const strictPut = await call('/api/access/agr-active', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(changedPurpose),
      });
      expect(strictPut.status, 'a strict PUT that changes more than tags and custom').toBe(400);
      expect(await strictPut.json()).toMatchObject({ violations: [{ field: 'info.purpose' }] });
      expect(
        (await call('/api/access/agr-active/approve', { method: 'POST' })).status,
        'approving an agreement that is not requested',
      ).toBe(422);
      expectConformance(validator, recorder.exchanges);
    });
  },
);

describe('the older client path against the 2024-11 simulator', () => {
  const validator = validatorFor(SPEC_2024_11);

  it('a client configured for datausageagreements reads and writes through /api/datausageagreements, conforming', async () => {
    sim = await startSimulator({
      apiKey: API_KEY,
      generation: 'datausageagreements',
      mesh: conformanceMesh({ odps: false, dataContract: false }),
    });
    const recorder = recordingFetch();
    const dmm = client(recorder, { generation: 'datausageagreements' });
    expect((await dmm.listAgreements()).map((a) => a.id)).toEqual(['agr-requested', 'agr-active']);
    const received = await dmm.getAgreement('agr-active');
    const body = writeBackBody(received!.raw, {
      addTags: ['aws-integration'],
      removeTags: [],
      setCustom: {},
      deleteCustom: [],
    });
    if (!body.ok) throw new Error(body.reason);
    await dmm.putAgreement('agr-active', body.body);
    expect(await dmm.reportProvisioning('agr-active', 'provisioning-succeeded', {})).toBe('unsupported');

    expectConformance(validator, recorder.exchanges);
    expect(new Set(recorder.exchanges.map((e) => new URL(e.url).pathname.split('/')[2]))).toEqual(
      new Set(['datausageagreements']),
    );
  });
});
