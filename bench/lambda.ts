/**
 * The issue-11 scenario through the Lambda handlers: activations of S3 bucket agreements on
 * consumer roles, poll-feed → SQS FIFO (moto) → process-events → IAM (moto), against the
 * simulator. Reports the phases' wall times, Data Mesh Manager requests per activation, IAM
 * calls per role and batch, and the IAM writes of a replay of the same events.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createPollFeedHandler } from '../src/lambda/poll-feed.js';
import { createProcessEventsHandler } from '../src/lambda/process-events.js';
import { startSimulator, type Generation } from '../src/simulator/server.js';
import { countingDmm, type IamCall, type Moto } from './aws.js';
import { agreement, consumer, s3Provider } from './mesh.js';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';

export interface ScenarioOptions {
  activations: number;
  roles: number;
  /** Parallel process-events "containers" receiving from the same queue. */
  processors: number;
  generation?: Generation;
  /** Told how long each process-events invocation took (the handler alone, no SQS calls), and for which delivery. */
  onBatch?: (ms: number, delivery: Delivery) => void;
  /** process-events' MAX_BATCH_EVENTS; default 100, the Terraform default (10: only the event source's batch). */
  maxBatchEvents?: number;
  /** Replay the same events afterwards to count the writes of a replay; default true. */
  replay?: boolean;
}

export type Delivery = 'mesh' | 'activations' | 'echoes' | 'replay';

export interface ScenarioResult {
  pollMs: number;
  /** Wall time of delivering the activations' events until the queue is empty. */
  queueMs: number;
  /** CPU seconds spent in that phase by this process (handlers, simulator, proxies) and by moto. */
  queueCpu: { node: number; moto: number | undefined };
  /** AWS calls of that phase by `service action`: count and total answer time, most time first. */
  queueCalls: { key: string; count: number; ms: number }[];
  /** Batches process-events answered with failed records in that phase (retried). */
  failedRecords: number;
  /** Wall time of polling and delivering the echoes of our own write-back until the feed is quiet. */
  echoMs: number;
  dmmPerActivation: number;
  dmmBreakdown: Record<string, number>;
  iamReads: number;
  iamWrites: number;
  /** Per (batch, role written or read): the most reads and writes one role saw in one batch. */
  maxReadsPerRoleBatch: number;
  maxWritesPerRoleBatch: number;
  meanReadsPerRoleBatch: number;
  batches: number;
  replayWrites: number;
  replayMs: number;
  /** Roles holding what they should after the run (a correctness check of the bench itself). */
  grantedRoles: number;
}

/** Points the AWS SDK (the handlers' and ours) at moto. */
export function useMoto(moto: Moto): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.url,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
}

export async function lambdaScenario(moto: Moto, options: ScenarioOptions): Promise<ScenarioResult> {
  const run = randomUUID().slice(0, 8);
  const iam = new IAMClient({ region: REGION });
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  const sqs = new SQSClient({ region: REGION });
  const rolePath = `/bench-${run}/`;
  const roles = Array.from({ length: options.roles }, (_, i) => `bench-${run}-role-${i}`);
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  for (const name of roles)
    await iam.send(new CreateRoleCommand({ RoleName: name, Path: rolePath, AssumeRolePolicyDocument: trust }));
  // One provider product (and tagged bucket, for ownership proof) per activation.
  const providers = Array.from({ length: options.activations }, (_, i) => `r${run}-p${i}`);
  await inBatches(providers, 10, async (id) => {
    const bucket = `bench-${id}-data`;
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    await s3.send(
      new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: id }] } }),
    );
  });
  const stateBucket = `bench-${run}-state`;
  await s3.send(
    new CreateBucketCommand({ Bucket: stateBucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  const apiKey = `key-${run}`;
  const { ARN: secretArn } = await new SecretsManagerClient({ region: REGION }).send(
    new CreateSecretCommand({ Name: `bench-${run}-key`, SecretString: apiKey }),
  );
  const queue = await fifoQueue(sqs, `bench-${run}`);

  const sim = await startSimulator({
    port: 0,
    apiKey,
    ...(options.generation ? { generation: options.generation } : {}),
    mesh: {
      dataProducts: [
        ...roles.map((role, i) => consumer(`r${run}-c${i}`, role)),
        ...providers.map((id) => s3Provider(id)),
      ],
      agreements: providers.map((id, i) => agreement(`r${run}-a${i}`, id, `r${run}-c${i % options.roles}`, false)),
    },
  });
  const dmm = await countingDmm(sim.url);
  const common = {
    DMM_BASE_URL: dmm.url,
    DMM_API_KEY_SECRET_ARN: secretArn!,
    AWS_REGION: REGION,
    STATE_BUCKET: stateBucket,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const pollEnv = { ...common, EVENT_QUEUE_URL: queue.url };
  const processEnv = {
    ...common,
    MANAGED_ROLE_PATH: rolePath,
    MAX_RECEIVE_COUNT: '5',
    MAX_BATCH_EVENTS: String(options.maxBatchEvents ?? 100),
  };
  const poll = (handler = createPollFeedHandler(pollEnv)) => handler({} as never, context('dmm-aws-poll-feed'));
  const pollHandler = createPollFeedHandler(pollEnv);
  // Each processor is one warm container: its own handler, so its own caches and clients.
  let delivery: Delivery = 'mesh';
  const processors = Array.from({ length: options.processors }, () => {
    const handler = createProcessEventsHandler(processEnv);
    return async (event: SQSEvent, ctx: Context) => {
      const started = performance.now();
      const response = await handler(event, ctx);
      options.onBatch?.(performance.now() - started, delivery);
      return response;
    };
  });

  // The mesh's creation events, so the measured run starts from a quiet feed.
  await poll(pollHandler);
  await deliver(sqs, queue, processors, moto);
  const beforeActivation = sim.state.lastEventId!;

  for (let i = 0; i < options.activations; i++) sim.approve(`r${run}-a${i}`);
  dmm.reset();
  moto.iam.reset();
  let start = performance.now();
  await poll(pollHandler);
  const pollMs = performance.now() - start;
  start = performance.now();
  delivery = 'activations';
  const nodeCpu = process.cpuUsage();
  const motoCpu = moto.cpuSeconds();
  moto.calls.reset();
  const failures = { records: 0 };
  const first = await deliver(sqs, queue, processors, moto, failures);
  const queueMs = performance.now() - start;
  const nodeUsed = process.cpuUsage(nodeCpu);
  const queueCalls = [...moto.calls.reset()]
    .map(([key, { count, ms }]) => ({ key, count, ms }))
    .sort((a, b) => b.ms - a.ms);
  const motoAfter = moto.cpuSeconds();
  const queueCpu = {
    node: (nodeUsed.user + nodeUsed.system) / 1e6,
    moto: motoCpu === undefined || motoAfter === undefined ? undefined : motoAfter - motoCpu,
  };
  start = performance.now();
  const echoes = [];
  delivery = 'echoes';
  for (let pass = 0; pass < 5; pass++) {
    const polled = await poll(pollHandler);
    if (polled.events === 0) break;
    echoes.push(...(await deliver(sqs, queue, processors, moto)));
  }
  const echoMs = performance.now() - start;
  const requests = dmm.reset();
  const batchCalls = [...first, ...echoes];
  const calls = batchCalls.flat();
  const perRole = batchCalls.flatMap((batch) => {
    const byRole = new Map<string, IamCall[]>();
    for (const call of batch) if (call.role) byRole.set(call.role, [...(byRole.get(call.role) ?? []), call]);
    return [...byRole.values()].map((c) => ({
      reads: c.filter((x) => !x.write).length,
      writes: c.filter((x) => x.write).length,
    }));
  });

  // Replay: the same events again from the checkpoint before the activations, on a fresh queue
  // (SQS would drop them as duplicates on the same one).
  const { replayWrites, replayMs } =
    options.replay === false ? { replayWrites: Number.NaN, replayMs: Number.NaN } : await replay(beforeActivation);
  async function replay(beforeActivation: string) {
    const replayQueue = await fifoQueue(sqs, `bench-${run}-replay`);
    await s3.send(
      new PutObjectCommand({
        Bucket: stateBucket,
        Key: 'checkpoint/replay.json',
        Body: JSON.stringify({ lastEventId: beforeActivation, updatedAt: new Date().toISOString() }),
      }),
    );
    const replayPoll = createPollFeedHandler({
      ...pollEnv,
      EVENT_QUEUE_URL: replayQueue.url,
      CHECKPOINT_KEY: 'checkpoint/replay.json',
    });
    await poll(replayPoll);
    moto.iam.reset();
    start = performance.now();
    delivery = 'replay';
    await deliver(sqs, replayQueue, processors, moto);
    const replayMs = performance.now() - start;
    const replayWrites = moto.iam.reset().filter((c) => c.write).length;
    return { replayWrites, replayMs };
  }

  const granted = roles.filter((role) =>
    calls.some((c) => c.role === role && c.write && /^Put|^Attach/.test(c.action)),
  ).length;
  await dmm.close();
  await sim.close();
  const breakdown: Record<string, number> = {};
  for (const r of requests) breakdown[r] = (breakdown[r] ?? 0) + 1;
  const reads = perRole.map((r) => r.reads);
  return {
    pollMs,
    queueMs,
    queueCpu,
    queueCalls,
    failedRecords: failures.records,
    echoMs,
    dmmPerActivation: requests.length / options.activations,
    dmmBreakdown: breakdown,
    iamReads: calls.filter((c) => !c.write).length,
    iamWrites: calls.filter((c) => c.write).length,
    maxReadsPerRoleBatch: Math.max(0, ...reads),
    maxWritesPerRoleBatch: Math.max(0, ...perRole.map((r) => r.writes)),
    meanReadsPerRoleBatch: reads.reduce((a, b) => a + b, 0) / Math.max(1, reads.length),
    batches: batchCalls.length,
    replayWrites,
    replayMs,
    grantedRoles: granted,
  };
}

async function fifoQueue(sqs: SQSClient, name: string): Promise<{ name: string; url: string }> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}.fifo`, Attributes: { FifoQueue: 'true', VisibilityTimeout: '120' } }),
  );
  return { name: `${name}.fifo`, url: QueueUrl! };
}

type Processor = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * What the SQS event source mapping does, with one poller per processor: receive up to 10,
 * invoke, delete what succeeded, make the failures visible again. Returns each batch's IAM calls
 * (exact with one processor; with several, the calls made while that batch ran).
 */
async function deliver(
  sqs: SQSClient,
  queue: { name: string; url: string },
  processors: Processor[],
  moto: Moto,
  failures: { records: number } = { records: 0 },
): Promise<IamCall[][]> {
  const batches: IamCall[][] = [];
  await Promise.all(
    processors.map(async (processEvents) => {
      for (let empty = 0; empty < 2; ) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) {
          empty++;
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        empty = 0;
        const records: SQSRecord[] = Messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? '',
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
            SenderId: 'bench',
            ApproximateFirstReceiveTimestamp: '0',
            SequenceNumber: m.Attributes?.SequenceNumber ?? '0',
            MessageGroupId: m.Attributes?.MessageGroupId ?? '',
            MessageDeduplicationId: m.Attributes?.MessageDeduplicationId ?? '',
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.name}`,
          awsRegion: REGION,
        }));
        const before = moto.iam.calls.length;
        const response = await processEvents({ Records: records }, context('dmm-aws-process-events'));
        batches.push(moto.iam.calls.slice(before));
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        failures.records += failed.size;
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length > 0)
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.url,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        for (const r of records.filter((x) => failed.has(x.messageId)))
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queue.url,
              ReceiptHandle: r.receiptHandle,
              VisibilityTimeout: 0,
            }),
          );
      }
    }),
  );
  return batches;
}

function context(functionName: string): Context {
  const deadline = Date.now() + 300_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}
