/**
 * The converging core unchanged, with every AWS adapter on moto: the poller reads the simulator's
 * feed into an SQS FIFO queue from an S3 checkpoint, the processor converges each agreement onto
 * IAM, and the access appears and goes away again as an inline pack.
 */
import { CreateBucketCommand, PutBucketTaggingCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsResourceTagReader } from '../../src/aws/resource-tags.js';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { S3Checkpoint } from '../../src/aws/s3-checkpoint.js';
import { SqsFifoQueue } from '../../src/aws/sqs-queue.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { statementSid } from '../../src/targets/sid.js';
import { pollFeed } from '../../src/sync/poller.js';
import { drainQueue, type EventResult } from '../../src/sync/processor.js';
import { memoryLogger } from '../../src/util/log.js';
import { agreement, consumerProduct, dpsProduct, fastClient, s3BucketPort } from '../e2e/harness.js';
import { MOTO_ACCOUNT, REGION, motoIam, motoS3, motoSqs, unique } from './moto.js';

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

describe('the sync on moto', () => {
  it('an approved agreement becomes an inline pack on the role in IAM, and is removed when deactivated', async () => {
    const role = unique('consumer');
    const bucket = unique('orders');
    const iamClient = motoIam();
    await iamClient.send(
      new CreateRoleCommand({
        RoleName: role,
        Path: '/',
        AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    );
    const sqs = motoSqs();
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `${unique('events')}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const s3 = motoS3();
    const stateBucket = unique('state');
    await s3.send(
      new CreateBucketCommand({ Bucket: stateBucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );

    // The provider's bucket, tagged by its owner: ownership proof reads the tag from S3.
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: 'orders' }] },
      }),
    );

    const sim = await startSimulator({
      port: 0,
      mesh: {
        dataProducts: [
          dpsProduct('orders', { ports: [s3BucketPort('orders-s3', bucket)] }),
          consumerProduct('consumer', { 'aws-role-name': role }),
        ],
        agreements: [agreement('agr-moto', 'orders', 'orders-s3')],
      },
    });
    sims.push(sim);
    const log = memoryLogger('debug');
    const dmm = fastClient(sim.url, sim.apiKey);
    const iam = new AwsIamAccount({ client: iamClient, accountId: MOTO_ACCOUNT });
    const ctx: SyncContext = {
      dmm,
      iam,
      log,
      resolve: { accountId: MOTO_ACCOUNT, partition: 'aws', defaultRegion: REGION },
      resourceTags: new AwsResourceTagReader({ s3Client: s3 }),
    };
    const queue = new SqsFifoQueue({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0 });
    const checkpoint = new S3Checkpoint({ client: s3, bucket: stateBucket, key: 'checkpoint/last-event-id.json' });

    const sync = async (): Promise<EventResult[]> => {
      const results: EventResult[] = [];
      await pollFeed({ dmm, queue, checkpoint, log });
      await drainQueue(ctx, queue, { retryDelayMs: 1, onResult: (r) => void results.push(r) });
      return results;
    };
    const outcomes = (results: EventResult[]) =>
      results.flatMap((r) => r.outcomes.map((o) => [o.agreementId, o.decision, o.effect]));

    sim.approve('agr-moto');
    expect(outcomes(await sync())).toContainEqual(['agr-moto', 'grant', 'granted']);
    const inline = await iam.listInlinePolicies(role);
    expect(inline.map((p) => p.name)).toEqual(['dmm-aws-pack-1']);
    const document = JSON.parse(inline[0]!.document) as { Statement: { Sid: string; Resource: string[] }[] };
    expect(document.Statement.map((s) => s.Sid)).toEqual([statementSid('agr-moto', 1)]);
    expect(document.Statement[0]!.Resource).toEqual([`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]);
    expect(await queue.size()).toBe(0);

    sim.deactivate('agr-moto');
    expect(outcomes(await sync())).toContainEqual(['agr-moto', 'revoke', 'revoked']);
    expect(await iam.listInlinePolicies(role)).toEqual([]);
    expect(await iam.listAttachedPolicies(role)).toEqual([]);

    // Our own write-back emits events too; they converge to "no change", and then the
    // checkpoint stands at the feed's last event with nothing left in the queue.
    for (let round = 0; round < 5 && (await checkpoint.read()) !== sim.state.events.at(-1)!.id; round++) {
      expect(outcomes(await sync()).filter(([, decision]) => decision !== 'none')).toEqual([]);
    }
    expect(await checkpoint.read()).toBe(sim.state.events.at(-1)!.id);
    expect(await queue.size()).toBe(0);
    expect(await iam.listInlinePolicies(role)).toEqual([]);
  });
});
