import { createServer, type Socket } from 'node:net';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_TIMEOUTS,
  createIamClient,
  createKinesisClient,
  createS3Client,
  createSqsClient,
} from '../../src/aws/clients.js';
import { isOutage } from '../../src/interfaces/outage.js';
import { REGION, unique } from './moto.js';

/** Resolved client settings the tests look at (providers in the SDK's config). */
interface ResolvedConfig {
  maxAttempts: () => Promise<number>;
  retryStrategy: () => Promise<{ mode: string }>;
  endpoint?: () => Promise<{ hostname: string; port?: number; protocol: string }>;
  forcePathStyle?: boolean;
}
const configOf = (client: { config: unknown }) => client.config as ResolvedConfig;

describe('client factories', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('use adaptive retry and a bounded number of attempts, overridable', async () => {
    const iam = configOf(createIamClient({ region: REGION }));
    expect((await iam.retryStrategy()).mode).toBe('adaptive');
    expect(await iam.maxAttempts()).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(await configOf(createSqsClient({ region: REGION, maxAttempts: 2 })).maxAttempts()).toBe(2);
  });

  it('take an explicit endpoint; S3 then addresses buckets in the path', async () => {
    const s3 = configOf(createS3Client({ region: REGION, endpoint: 'http://127.0.0.1:4566' }, {}));
    expect(await s3.endpoint!()).toMatchObject({ hostname: '127.0.0.1', port: 4566, protocol: 'http:' });
    expect(s3.forcePathStyle).toBe(true);
    expect(configOf(createS3Client({ region: REGION }, {})).forcePathStyle).toBe(false);
    expect(
      configOf(createS3Client({ region: REGION }, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).forcePathStyle,
    ).toBe(true);
    expect(
      configOf(createS3Client({ region: REGION }, { AWS_ENDPOINT_URL_S3: 'http://minio:9000' })).forcePathStyle,
    ).toBe(true);
  });

  it('honour AWS_ENDPOINT_URL_<SERVICE> and the default credential chain from the environment', async () => {
    process.env.AWS_ENDPOINT_URL_SQS = inject('motoEndpoint');
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    process.env.AWS_REGION = REGION;
    const sqs = createSqsClient();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('env-endpoint') }));
    expect(QueueUrl).toContain(new URL(inject('motoEndpoint')).host);
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  });

  it('give up on a connection that never answers, as an outage, instead of waiting for ever', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const iam = createIamClient({
        region: REGION,
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
        timeouts: { connectMs: 1_000, requestMs: 300 },
      });
      const error = await iam.send(new GetRoleCommand({ RoleName: 'any' })).catch((e: unknown) => e);
      expect((error as Error).name).toBe('TimeoutError');
      expect(isOutage(error)).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('set those timeouts by default, on the HTTP/1.1 Kinesis client too', async () => {
    for (const client of [createIamClient({ region: REGION }), createKinesisClient({ region: REGION })]) {
      const handler = (
        client.config as unknown as { requestHandler: { configProvider: Promise<Record<string, unknown>> } }
      ).requestHandler;
      expect(await handler.configProvider).toMatchObject({
        connectionTimeout: DEFAULT_TIMEOUTS.connectMs,
        requestTimeout: DEFAULT_TIMEOUTS.requestMs,
        throwOnRequestTimeout: true,
      });
    }
  });
});
