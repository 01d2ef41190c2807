/**
 * API key rotation: the key is read from Secrets Manager once per container; when the server
 * refuses it, the function re-reads the secret and retries once.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DmmApiError } from '../../src/dmm/errors.js';
import { createPollFeedHandler } from '../../src/lambda/poll-feed.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { RotatingDmmApi } from '../../src/lambda/rotating-dmm.js';
import type { DmmApi } from '../../src/interfaces/dmm-api.js';
import { memoryLogger } from '../../src/util/log.js';
import {
  agreement,
  consumerProduct,
  createBucket,
  createFifoQueue,
  lambdaContext,
  rotateSecret,
  providerBucket,
  s3Product,
  scheduledEvent,
  useLambdaHarness,
} from './helpers.js';

const { out, world } = useLambdaHarness();

describe('API key rotation', () => {
  it('re-reads the secret after a 403 and succeeds with the new key', async () => {
    const oldKey = `old-${randomUUID()}`;
    const newKey = `new-${randomUUID()}`;
    const bucket = await providerBucket('orders');
    const { dmm, secretArn, env } = await world({
      rolePrefix: 'lambda-rotation',
      mesh: (role) => ({
        dataProducts: [s3Product('orders', bucket), consumerProduct('consumer', role)],
        agreements: [agreement('agr-k', 'orders', 'consumer', true)],
      }),
      apiKey: oldKey,
    });
    const poll = createPollFeedHandler({
      ...env,
      EVENT_QUEUE_URL: (await createFifoQueue()).url,
      STATE_BUCKET: await createBucket(),
    });
    const context = () => lambdaContext({ functionName: 'dmm-aws-poll-feed' });

    expect(await poll(scheduledEvent('dmm-aws-poll-feed'), context())).toMatchObject({ outcome: 'caught-up' });

    // Rotation: the secret holds the new key, the server accepts only the new key.
    await rotateSecret(secretArn, JSON.stringify({ apiKey: newKey }));
    dmm.acceptedKey = newKey;
    dmm.sim.deactivate('agr-k');
    dmm.requests.length = 0;

    const summary = await poll(scheduledEvent('dmm-aws-poll-feed'), context());
    expect(summary).toMatchObject({ outcome: 'caught-up' });
    expect(summary.events).toBeGreaterThan(0);
    // The warm container still had the old key: one refusal, then the new key from the secret.
    expect(dmm.requests[0]).toMatchObject({ apiKey: oldKey, status: 403 });
    expect(dmm.requests.slice(1).every((r) => r.apiKey === newKey && r.status === 200)).toBe(true);
    expect(out.logs('warn').map((l) => l.message)).toContain(
      'Data Mesh Manager refused the API key; re-reading the secret and retrying once',
    );
    expect(out.text()).not.toContain(oldKey);
    expect(out.text()).not.toContain(newKey);
  });

  it('fails with the 403 when the key in the secret is refused as well', async () => {
    const { rolePath, dmm, env } = await world({
      rolePrefix: 'lambda-rotation',
      mesh: (role) => ({ dataProducts: [consumerProduct('consumer', role)] }),
      apiKey: `accepted-${randomUUID()}`,
      secret: () => `wrong-${randomUUID()}`,
    });
    const reconcile = createReconcileHandler({ ...env, MANAGED_ROLE_PATH: rolePath });
    await expect(reconcile(scheduledEvent('dmm-aws-reconcile'), lambdaContext())).rejects.toMatchObject({
      name: 'DmmApiError',
      status: 403,
    });
    // One retry with a fresh read, no more.
    expect(dmm.requests.map((r) => r.status)).toEqual([403, 403]);
    expect(out.logs('error').map((l) => l.message)).toContain('invocation failed');
  });

  it('rebuilds the client once when parallel calls are refused together', async () => {
    let reads = 0;
    const clientsFor: string[] = [];
    const api = new RotatingDmmApi({
      apiKey: { get: async () => `key-${++reads}`, invalidate: () => {} },
      log: memoryLogger(),
      connect: (key) => {
        clientsFor.push(key);
        return {
          getAgreement: async (id: string) => {
            if (key === 'key-1')
              throw new DmmApiError({
                status: 401,
                title: 'Unauthorized',
                url: `/api/access/${id}`,
                method: 'GET',
                attempts: 1,
              });
            return undefined;
          },
        } as unknown as DmmApi;
      },
    });
    await expect(Promise.all(['a', 'b', 'c'].map((id) => api.getAgreement(id)))).resolves.toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(clientsFor).toEqual(['key-1', 'key-2']);
  });
});
