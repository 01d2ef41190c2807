/**
 * AWS SDK v3 clients for the adapters. Region, credentials and endpoints come from the standard
 * AWS configuration (environment, shared config, the default credential chain, and
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`, which the SDK reads itself); an explicit
 * `endpoint` is for tests against moto.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { IAMClient } from '@aws-sdk/client-iam';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KMSClient } from '@aws-sdk/client-kms';
import { LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Credentials as the SDK takes them; `expiration` tells the SDK when to ask a provider again. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface AwsClientOptions {
  /** Default: the SDK's own resolution (`AWS_REGION`, shared config). */
  region?: string;
  /** e.g. moto's URL. Default: the SDK's own resolution, including `AWS_ENDPOINT_URL[_<SERVICE>]`. */
  endpoint?: string;
  /**
   * Default: the SDK's default credential provider chain. A provider (a member account's assumed
   * role, src/accounts/assume-role.ts) is asked by every client before each call and caches itself.
   */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  /** Attempts per call including the first; default {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
  /** Default {@link DEFAULT_TIMEOUTS}. */
  timeouts?: AwsTimeouts;
}

export interface AwsTimeouts {
  /** Opening the connection (TCP and TLS). */
  connectMs: number;
  /** The whole request and answer. */
  requestMs: number;
}

/**
 * The SDK waits for ever by default: one hung connection would hold a batch (and its leases)
 * until the Lambda timeout. A call that times out throws TimeoutError, which the SDK retries and
 * the sync treats as an outage (src/interfaces/outage.ts). No call this tool makes is big: an
 * S3 listing page or a Glue table is answered in well under a second.
 */
export const DEFAULT_TIMEOUTS: AwsTimeouts = { connectMs: 5_000, requestMs: 20_000 };

/**
 * IAM publishes no request rate and throttles per account; adaptive retry slows the client down
 * when it sees throttling instead of retrying at full speed. Six attempts ride out a burst of
 * throttling (backoff grows to ~20 s) without hiding an outage from the caller for minutes.
 */
export const DEFAULT_MAX_ATTEMPTS = 6;

function handlerOptions(options: AwsClientOptions) {
  const { connectMs, requestMs } = options.timeouts ?? DEFAULT_TIMEOUTS;
  return { connectionTimeout: connectMs, requestTimeout: requestMs, throwOnRequestTimeout: true };
}

function baseConfig(options: AwsClientOptions) {
  return {
    requestHandler: handlerOptions(options),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  };
}

export function createIamClient(options: AwsClientOptions = {}): IAMClient {
  return new IAMClient(baseConfig(options));
}

export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient(baseConfig(options));
}

export function createSecretsManagerClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(baseConfig(options));
}

export function createGlueClient(options: AwsClientOptions = {}): GlueClient {
  return new GlueClient(baseConfig(options));
}

/** Organizations has one global endpoint per partition; the SDK picks it whatever the region. */
export function createOrganizationsClient(options: AwsClientOptions = {}): OrganizationsClient {
  return new OrganizationsClient(baseConfig(options));
}

export function createKmsClient(options: AwsClientOptions = {}): KMSClient {
  return new KMSClient(baseConfig(options));
}

/**
 * Over HTTP/1.1: the Kinesis client defaults to HTTP/2 for SubscribeToShard's event stream, which
 * this tool never calls; its tag reads work over HTTP/1.1 everywhere, emulators included.
 */
export function createKinesisClient(options: AwsClientOptions = {}): KinesisClient {
  return new KinesisClient({ ...baseConfig(options), requestHandler: new NodeHttpHandler(handlerOptions(options)) });
}

export function createDynamoDbClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(baseConfig(options));
}

export function createKafkaClient(options: AwsClientOptions = {}): KafkaClient {
  return new KafkaClient(baseConfig(options));
}

export function createLakeFormationClient(options: AwsClientOptions = {}): LakeFormationClient {
  return new LakeFormationClient(baseConfig(options));
}

/**
 * A custom endpoint (moto, LocalStack, MinIO) rarely resolves `<bucket>.<host>` names, so
 * address buckets in the path whenever the endpoint is not AWS's own.
 */
function forcePathStyle(options: AwsClientOptions, env: NodeJS.ProcessEnv): boolean {
  const customEndpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return customEndpoint !== undefined && customEndpoint !== '';
}

export function createS3Client(options: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ ...baseConfig(options), forcePathStyle: forcePathStyle(options, env) });
}

/**
 * An S3 client for provider buckets (their tags in src/aws/resource-tags.ts, their policies in
 * src/aws/resource-policies.ts). Provider buckets live in any region and S3 serves a bucket's tags
 * and policy only in its own: without following the region redirect, a call on a bucket elsewhere
 * fails with PermanentRedirect, which would be retried forever instead of read.
 */
export function createProviderBucketS3Client(
  options: AwsClientOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): S3Client {
  return new S3Client({
    ...baseConfig(options),
    forcePathStyle: forcePathStyle(options, env),
    followRegionRedirects: true,
  });
}
