/**
 * Test harness for the Lambda handlers: real AWS SDK clients against moto (the SDK finds it
 * through AWS_ENDPOINT_URL, exactly as the handlers' own clients do), the Data Mesh Manager
 * simulator behind a small proxy whose accepted API key and failures a test controls, and the
 * event and context shapes Lambda passes. Every resource gets a unique name: moto is shared by
 * test files running in parallel and is never reset.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { startSimulator, type MeshData, type RunningSimulator } from '../../src/simulator/server.js';
import { agreementIdFromSid } from '../../src/targets/sid.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-central-1';

/** Points the AWS SDK (ours and the handlers') at moto. Call at the top of a test file. */
export function useMoto(): string {
  const endpoint = inject('motoEndpoint');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  delete process.env.AWS_PROFILE;
  return endpoint;
}

export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export const aws = {
  iam: () => new IAMClient({ region: REGION }),
  sqs: () => new SQSClient({ region: REGION }),
  s3: () => new S3Client({ region: REGION, forcePathStyle: true }),
  secrets: () => new SecretsManagerClient({ region: REGION }),
};

// ---- AWS resources ------------------------------------------------------------------------------

/** A consumer role under its own IAM path, so a full reconcile sees only this test's roles. */
export async function createRole(path: string, name = unique('consumer')): Promise<string> {
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  await aws
    .iam()
    .send(new CreateRoleCommand({ RoleName: name, Path: path, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  return name;
}

/** The role's inline policies with their documents (decoded). */
export async function inlinePolicies(
  roleName: string,
): Promise<Map<string, { Statement: { Sid?: string; Resource?: string | string[] }[] }>> {
  const iam = aws.iam();
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
  const policies = new Map();
  for (const name of names) {
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    policies.set(name, JSON.parse(decodeURIComponent(PolicyDocument ?? '{}')));
  }
  return policies;
}

export async function createFifoQueue(attributes: Record<string, string> = {}): Promise<{ name: string; url: string }> {
  const name = `${unique('events')}.fifo`;
  const { QueueUrl } = await aws
    .sqs()
    .send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ...attributes } }));
  return { name, url: QueueUrl! };
}

export async function queueArn(queue: { url: string }): Promise<string> {
  const { Attributes } = await aws
    .sqs()
    .send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/** Sends each body to its group, in order, as poll-feed would (one deduplication id per message). */
export async function sendEvents(queue: { url: string }, messages: { body: string; groupId: string }[]): Promise<void> {
  for (const { body, groupId } of messages)
    await aws.sqs().send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: body,
        MessageGroupId: groupId,
        MessageDeduplicationId: randomUUID(),
      }),
    );
}

/** One receive of up to 10 messages, as records the event source mapping would pass. */
export async function receiveRecords(queue: { name: string; url: string }): Promise<SQSRecord[]> {
  const { Messages = [] } = await aws.sqs().send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages.map((m) => recordFrom(m, queue.name));
}

export async function deleteRecord(queue: { url: string }, record: SQSRecord): Promise<void> {
  await aws.sqs().send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle }));
}

/** Messages waiting in the queue, and those received but not yet deleted (in flight). */
export async function queueCounts(queue: { url: string }): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await aws.sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

export async function createBucket(): Promise<string> {
  const bucket = unique('dmm-aws-state');
  await aws
    .s3()
    .send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  return bucket;
}

/**
 * A provider's data bucket in moto, tagged `dmm:data-product = <productId>` as its owner would:
 * ownership proof (on by default) reads that tag before anything is granted.
 */
export async function providerBucket(productId: string): Promise<string> {
  const bucket = unique(`acme-${productId}`);
  const s3 = aws.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await s3.send(
    new PutBucketTaggingCommand({
      Bucket: bucket,
      Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: productId }] },
    }),
  );
  return bucket;
}

export async function createSecret(value: string): Promise<string> {
  const { ARN } = await aws
    .secrets()
    .send(new CreateSecretCommand({ Name: unique('dmm-api-key'), SecretString: value }));
  return ARN!;
}

export async function rotateSecret(arn: string, value: string): Promise<void> {
  await aws.secrets().send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }));
}

/** The agreement index entry the functions wrote to the state bucket, or undefined when there is none. */
export async function indexEntry(bucket: string, agreementId: string): Promise<unknown> {
  try {
    const object = await aws
      .s3()
      .send(new GetObjectCommand({ Bucket: bucket, Key: `index/agreements/${encodeURIComponent(agreementId)}.json` }));
    return JSON.parse(await object.Body!.transformToString());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

// ---- Lambda shapes ------------------------------------------------------------------------------

export function lambdaContext(options: { remainingMs?: number; functionName?: string } = {}): Context {
  const functionName = options.functionName ?? 'dmm-aws-process-events';
  const deadline = Date.now() + (options.remainingMs ?? 120_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/11/27/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function scheduledEvent(rule: string): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: REGION,
    resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`],
    detail: {},
  };
}

/** An SQS FIFO record as the event source mapping delivers it. */
export function sqsRecord(options: {
  body: string;
  groupId: string;
  receiveCount?: number;
  queueName?: string;
  messageId?: string;
}): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: randomUUID(),
    body: options.body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: 'AROAEXAMPLE:dmm-aws-poll-feed',
      ApproximateFirstReceiveTimestamp: now,
      SequenceNumber: '18849496460467696128',
      MessageGroupId: options.groupId,
      MessageDeduplicationId: randomUUID(),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${options.queueName ?? 'dmm-aws-events.fifo'}`,
    awsRegion: REGION,
  };
}

function recordFrom(message: Message, queueName: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    ...sqsRecord({
      body: message.Body ?? '',
      groupId: a.MessageGroupId ?? '',
      receiveCount: Number(a.ApproximateReceiveCount ?? 1),
      queueName,
      messageId: message.MessageId!,
    }),
    receiptHandle: message.ReceiptHandle!,
    md5OfBody: message.MD5OfBody ?? '',
  };
}

/**
 * What the SQS event source mapping does: receive batches of up to 10, invoke the handler, delete
 * the records it did not report as failed and make the failed ones visible again. Runs until the
 * queue is empty or `maxBatches` were delivered. Returns each batch's records and response.
 */
export async function deliverQueue(
  queue: { name: string; url: string },
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse>,
  maxBatches = 10,
): Promise<{ records: SQSRecord[]; response: SQSBatchResponse }[]> {
  const sqs = aws.sqs();
  const batches: { records: SQSRecord[]; response: SQSBatchResponse }[] = [];
  while (batches.length < maxBatches) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const records = Messages.map((m) => recordFrom(m, queue.name));
    const response = await invoke({ Records: records });
    batches.push({ records, response });
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const record of records) {
      if (failed.has(record.messageId))
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queue.url,
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      else await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle }));
    }
  }
  return batches;
}

// ---- Output capture -----------------------------------------------------------------------------

export interface Captured {
  /** Every JSON line written (Powertools logs and EMF metrics). */
  lines(): Record<string, unknown>[];
  logs(level?: string): Record<string, unknown>[];
  /** The value of a metric summed over the EMF documents written. */
  metric(name: string): number | undefined;
  text(): string;
}

/** Captures stdout and stderr during each test of the file: Powertools writes logs and metrics there. */
export function captureOutput(): Captured {
  let chunks: string[] = [];
  const originals: [NodeJS.WriteStream, typeof process.stdout.write][] = [];
  beforeEach(() => {
    chunks = [];
    for (const stream of [process.stdout, process.stderr]) {
      originals.push([stream, stream.write]);
      stream.write = ((chunk: string | Uint8Array) => {
        chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      }) as typeof stream.write;
    }
  });
  afterEach(() => {
    for (const [stream, write] of originals.splice(0)) stream.write = write;
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    lines,
    logs: (level) => lines().filter((l) => !('_aws' in l) && (level === undefined || l.level === level.toUpperCase())),
    metric: (name) => {
      const values = lines()
        .filter((l) => '_aws' in l && name in l)
        .map((l) => l[name] as number);
      return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
    },
    text: () => chunks.join(''),
  };
}

// ---- Data Mesh Manager: the simulator behind a controllable proxy --------------------------------

export interface InterceptedRequest {
  method: string;
  path: string;
  apiKey: string | undefined;
}

export interface DmmServer {
  sim: RunningSimulator;
  /** The URL the handlers use (the proxy). */
  url: string;
  /** The key the server accepts now; change it to rotate. */
  acceptedKey: string;
  /** Return a response to answer a request in the simulator's place, or undefined to pass it on. */
  intercept:
    | ((request: InterceptedRequest) => Promise<{ status: number; headers?: Record<string, string> } | undefined>)
    | undefined;
  requests: (InterceptedRequest & { status: number })[];
  close(): Promise<void>;
}

/**
 * The simulator checks one fixed key; a real server's key can be rotated. The proxy in front
 * checks the key a test sets and forwards with the simulator's own, so "the server's key
 * changed" is one assignment.
 */
export async function startDmm(mesh: MeshData, acceptedKey: string): Promise<DmmServer> {
  const sim = await startSimulator({ port: 0, mesh });
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      const presented =
        (req.headers['x-api-key'] as string | undefined) ?? req.headers.authorization?.replace(/^Bearer /, '');
      const request = { method: req.method ?? 'GET', path, apiKey: presented };
      const answer = (status: number, headers: Record<string, string>, text: string) => {
        dmm.requests.push({ ...request, status });
        res.writeHead(status, headers).end(text);
      };
      if (presented !== dmm.acceptedKey) {
        answer(
          403,
          { 'content-type': 'application/problem+json' },
          JSON.stringify({ type: 'about:blank', title: 'Forbidden', status: 403, detail: 'API key not accepted' }),
        );
        return;
      }
      const intercepted = await dmm.intercept?.(request);
      if (intercepted) {
        answer(
          intercepted.status,
          { 'content-type': 'application/problem+json', ...intercepted.headers },
          JSON.stringify({ title: 'Intercepted', status: intercepted.status }),
        );
        return;
      }
      const upstream = await fetch(`${sim.url}${path}`, {
        method: request.method,
        headers: {
          'x-api-key': sim.apiKey,
          accept: req.headers.accept ?? '*/*',
          ...(body.length ? { 'content-type': 'application/json' } : {}),
        },
        ...(body.length ? { body: body.toString('utf8') } : {}),
      });
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (key !== 'content-length' && key !== 'transfer-encoding' && key !== 'connection')
          headers[key] = key === 'link' ? value.split(sim.url).join(dmm.url) : value;
      });
      answer(upstream.status, headers, await upstream.text());
    })().catch((error: unknown) => res.writeHead(502).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dmm: DmmServer = {
    sim,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    acceptedKey,
    intercept: undefined,
    requests: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sim.close();
    },
  };
  return dmm;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---- One test file's harness and world ---------------------------------------------------------

/**
 * The environment every function reads to reach Data Mesh Manager, and the state bucket (the
 * checkpoint of poll-feed, the agreement index of the functions that write IAM).
 */
export interface FunctionEnvironment {
  DMM_BASE_URL: string;
  DMM_API_KEY_SECRET_ARN: string;
  AWS_REGION: string;
  STATE_BUCKET: string;
}

export interface LambdaWorld {
  /** The key the server accepts at the start. */
  apiKey: string;
  /** The consumer role's own IAM path (MANAGED_ROLE_PATH of the functions that write IAM). */
  rolePath: string;
  role: string;
  dmm: DmmServer;
  secretArn: string;
  /** The world's own state bucket (STATE_BUCKET in `env`). */
  stateBucket: string;
  env: FunctionEnvironment;
}

export interface WorldOptions {
  /** Names the role's path, e.g. `lambda-reconcile`. */
  rolePrefix: string;
  /** The mesh the server starts with, around the consumer role. */
  mesh: (role: string) => MeshData;
  /** Default: a fresh `key-<uuid>`. */
  apiKey?: string;
  /** What the secret holds; default: the bare key. */
  secret?: (apiKey: string) => string;
}

export interface LambdaHarness {
  out: Captured;
  /** {@link startDmm}, closed after the test. */
  startDmm(mesh: MeshData, acceptedKey: string): Promise<DmmServer>;
  /** A consumer role under its own path, the server around it and the secret holding its key. */
  world(options: WorldOptions): Promise<LambdaWorld>;
}

/**
 * What every handler test file sets up: moto for the SDK, output capture, and the Data Mesh
 * Manager servers of each test closed after it. Call at the top of a test file.
 */
export function useLambdaHarness(): LambdaHarness {
  beforeAll(() => {
    useMoto();
  });
  const out = captureOutput();
  const servers: DmmServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (mesh: MeshData, acceptedKey: string) => {
    const dmm = await startDmm(mesh, acceptedKey);
    servers.push(dmm);
    return dmm;
  };
  return {
    out,
    startDmm: start,
    world: async ({ rolePrefix, mesh, apiKey = `key-${randomUUID()}`, secret = (key) => key }) => {
      const rolePath = `/${unique(rolePrefix)}/`;
      const role = await createRole(rolePath);
      const dmm = await start(mesh(role), apiKey);
      const secretArn = await createSecret(secret(apiKey));
      const stateBucket = await createBucket();
      return {
        apiKey,
        rolePath,
        role,
        dmm,
        secretArn,
        stateBucket,
        env: {
          DMM_BASE_URL: dmm.url,
          DMM_API_KEY_SECRET_ARN: secretArn,
          AWS_REGION: REGION,
          STATE_BUCKET: stateBucket,
        },
      };
    },
  };
}

// ---- Meshes and events --------------------------------------------------------------------------

type Doc = Record<string, unknown>;

export function s3Product(id: string, bucket: string): Doc {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'team-a' },
    outputPorts: [
      {
        id: `${id}-s3`,
        name: `${id} (S3)`,
        custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}` },
      },
    ],
  };
}

export function consumerProduct(id: string, roleName: string): Doc {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'team-b' },
    outputPorts: [],
    custom: { 'aws-role-name': roleName },
  };
}

/** An agreement from `consumer` to the S3 port of `provider`; requested unless `active`. */
export function agreement(id: string, provider: string, consumer: string, active = false): Doc {
  return {
    id,
    info: {
      purpose: `lambda test ${id}`,
      startDate: '2020-01-01',
      ...(active ? { status: 'approved', active: true } : {}),
    },
    provider: { teamId: 'team-a', dataProductId: provider, outputPortId: `${provider}-s3` },
    consumer: { teamId: 'team-b', dataProductId: consumer },
    tags: [],
    custom: {},
  };
}

/** A feed event as the simulator (and Data Mesh Manager) writes it. */
export function feedEvent(name: string, subject: string, data: Doc = { id: subject }): Doc {
  return {
    specversion: '1.0',
    id: randomUUID(),
    type: `com.datamesh-manager.events.${name}`,
    source: 'urn:test',
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

/** One agreement's statements among a role's inline policies (recognised by their Sid). */
export function statementsFor(policies: Awaited<ReturnType<typeof inlinePolicies>>, agreementId: string) {
  return [...policies.values()].flatMap((p) => p.Statement).filter((s) => agreementIdFromSid(s.Sid) === agreementId);
}
