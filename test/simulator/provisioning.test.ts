import { afterEach, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { agreementDoc, call, feed, names, start, type Doc } from './helpers.js';

describe('provisioning endpoints (2026-07)', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.close());

  async function activeAgreement(id = 'a1'): Promise<string | undefined> {
    sim.request(agreementDoc(id));
    sim.approve(id);
    return sim.state.lastEventId;
  }

  it('records every transition, emits its event and shows the record on the agreement', async () => {
    sim = await start();
    const checkpoint = await activeAgreement();
    const post = (transition: string, body?: unknown) =>
      call(sim, `/api/access/a1/provisioning/${transition}`, { method: 'POST', body });

    expect((await call(sim, '/api/access/a1/provisioning')).status).toBe(404);
    expect((await post('provisioning-started', { platform: 'aws', executor: 'dmm-aws' })).status).toBe(200);
    const failed = (await (
      await post('provisioning-failed', { diagnostics: 'AccessDenied: iam:PutRolePolicy' })
    ).json()) as Doc;
    expect(failed).toMatchObject({
      status: 'provisioning-failed',
      platform: 'aws',
      diagnostics: 'AccessDenied: iam:PutRolePolicy',
      failedAt: '2026-03-01T10:00:00.000Z',
    });
    const succeeded = (await (
      await post('provisioning-succeeded', { reference: 'arn:aws:iam::123456789012:role/r' })
    ).json()) as Doc;
    // Omitted fields keep their value; a success clears the failure's diagnostics.
    expect(succeeded).toMatchObject({
      status: 'provisioned',
      platform: 'aws',
      executor: 'dmm-aws',
      reference: 'arn:aws:iam::123456789012:role/r',
      diagnostics: null,
    });
    await post('deprovisioning-started');
    await post('deprovisioning-failed', { diagnostics: 'throttled' });
    await post('deprovisioning-succeeded');

    expect(names(await feed(sim, checkpoint))).toEqual([
      'AccessProvisioningStartedEvent',
      'AccessProvisioningFailedEvent',
      'AccessProvisionedEvent',
      'AccessDeprovisioningStartedEvent',
      'AccessDeprovisioningFailedEvent',
      'AccessDeprovisionedEvent',
    ]);
    const last = sim.state.events.at(-1)!;
    expect(last.data).toMatchObject({ id: 'a1', status: 'deprovisioned', platform: 'aws' });

    const agreement = (await (await call(sim, '/api/access/a1')).json()) as Doc;
    expect(agreement.provisioning).toMatchObject({
      status: 'deprovisioned',
      reference: 'arn:aws:iam::123456789012:role/r',
      deprovisionedAt: expect.any(String),
    });
    expect(await (await call(sim, '/api/access/a1/provisioning')).json()).toEqual(agreement.provisioning);
  });

  it('PUT replaces the record, emits only when the status changes, and needs a known status', async () => {
    sim = await start();
    await activeAgreement();
    const put = (body: unknown) => call(sim, '/api/access/a1/provisioning', { method: 'PUT', body });

    expect((await put({ platform: 'aws' })).status).toBe(400);
    expect((await put({ status: 'done' })).status).toBe(400);

    const before = sim.state.events.length;
    const first = (await (
      await put({ status: 'provisioned', reference: 'p1', provisionedAt: '2026-01-01T00:00:00Z' })
    ).json()) as Doc;
    expect(first).toMatchObject({
      status: 'provisioned',
      reference: 'p1',
      provisionedAt: '2026-01-01T00:00:00Z',
      platform: null,
    });
    expect(sim.state.events.length).toBe(before + 1);

    const corrected = (await (await put({ status: 'provisioned', note: 'granted by hand' })).json()) as Doc;
    expect(corrected).toMatchObject({ status: 'provisioned', note: 'granted by hand', reference: null });
    expect(sim.state.events.length).toBe(before + 1);
  });

  it('answers 404 for an unknown agreement or transition', async () => {
    sim = await start();
    await activeAgreement();
    expect((await call(sim, '/api/access/nope/provisioning/provisioning-started', { method: 'POST' })).status).toBe(
      404,
    );
    expect((await call(sim, '/api/access/a1/provisioning/provisioning-done', { method: 'POST' })).status).toBe(404);
  });

  it('answers 404 everywhere and never shows provisioning when switched off, like older servers', async () => {
    sim = await start({ provisioning: false });
    await activeAgreement();
    for (const [method, path] of [
      ['POST', '/api/access/a1/provisioning/provisioning-succeeded'],
      ['GET', '/api/access/a1/provisioning'],
      ['PUT', '/api/access/a1/provisioning'],
    ] as const) {
      const res = await call(sim, path, { method, body: method === 'GET' ? undefined : { status: 'provisioned' } });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(() => sim.reportProvisioning('a1', 'provisioning-succeeded')).toThrow(/disabled/);
    expect((await (await call(sim, '/api/access/a1')).json()) as Doc).not.toHaveProperty('provisioning');
  });
});
