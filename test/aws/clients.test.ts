import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DEFAULT_MAX_ATTEMPTS, createIamClient, createS3Client, createSqsClient } from '../../src/aws/clients.js';
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
});
