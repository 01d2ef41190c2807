import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { CheckpointConflictError, S3Checkpoint } from '../../src/aws/s3-checkpoint.js';
import { REGION, motoS3, recordCommands, unique } from './moto.js';

async function bucket(client: S3Client): Promise<string> {
  const name = unique('state');
  await client.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  return name;
}

async function stored(client: S3Client, bucketName: string, key: string): Promise<unknown> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  return JSON.parse(await object.Body!.transformToString());
}

const KEY = 'checkpoint/last-event-id.json';
const at = (iso: string) => () => new Date(iso);

describe('S3Checkpoint on moto', () => {
  it('reads nothing at first, then what it wrote, with conditional writes all along', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const checkpoint = new S3Checkpoint({ client, bucket: name, key: KEY, now: at('2026-11-01T10:00:00Z') });
    const sent = recordCommands(client);

    expect(await checkpoint.read()).toBeUndefined();
    await checkpoint.write('evt-1');
    await checkpoint.write('evt-2');
    expect(await stored(client, name, KEY)).toEqual({ lastEventId: 'evt-2', updatedAt: '2026-11-01T10:00:00.000Z' });

    const [create, update] = sent.inputs('PutObjectCommand');
    expect(create).toMatchObject({ IfNoneMatch: '*' });
    expect(create!.IfMatch).toBeUndefined();
    expect(update!.IfMatch).toMatch(/^"[0-9a-f]+"$/);

    const fresh = new S3Checkpoint({ client, bucket: name, key: KEY });
    expect(await fresh.read()).toBe('evt-2');
    await fresh.write('evt-3');
    expect(await new S3Checkpoint({ client, bucket: name, key: KEY }).read()).toBe('evt-3');
  });

  it('two pollers on one key: the second writer gets CheckpointConflictError and the first one’s value stays', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const seed = new S3Checkpoint({ client, bucket: name, key: KEY });
    await seed.read();
    await seed.write('evt-10');

    const first = new S3Checkpoint({ client, bucket: name, key: KEY });
    const second = new S3Checkpoint({ client, bucket: name, key: KEY });
    expect(await first.read()).toBe('evt-10');
    expect(await second.read()).toBe('evt-10');
    await first.write('evt-20');
    const error = await second.write('evt-15').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointConflictError);
    expect((error as Error).message).toContain(`s3://${name}/${KEY}`);
    expect(await new S3Checkpoint({ client, bucket: name, key: KEY }).read()).toBe('evt-20');
    // The winner goes on writing.
    await first.write('evt-30');
    expect(await new S3Checkpoint({ client, bucket: name, key: KEY }).read()).toBe('evt-30');
  });

  it('two pollers both starting without a checkpoint: only one creates it', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const first = new S3Checkpoint({ client, bucket: name, key: KEY });
    const second = new S3Checkpoint({ client, bucket: name, key: KEY });
    expect(await first.read()).toBeUndefined();
    expect(await second.read()).toBeUndefined();
    await first.write('evt-1');
    await expect(second.write('evt-2')).rejects.toBeInstanceOf(CheckpointConflictError);
    expect(await new S3Checkpoint({ client, bucket: name, key: KEY }).read()).toBe('evt-1');
  });

  it('a write without a read never overwrites an existing checkpoint', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const existing = new S3Checkpoint({ client, bucket: name, key: KEY });
    await existing.read();
    await existing.write('evt-5');
    await expect(new S3Checkpoint({ client, bucket: name, key: KEY }).write('evt-1')).rejects.toBeInstanceOf(
      CheckpointConflictError,
    );
    expect(await new S3Checkpoint({ client, bucket: name, key: KEY }).read()).toBe('evt-5');
  });

  it('a damaged checkpoint is an error naming bucket and key, not a fresh start', async () => {
    const client = motoS3();
    const name = await bucket(client);
    await client.send(new PutObjectCommand({ Bucket: name, Key: KEY, Body: '{"lastEventId": ' }));
    await expect(new S3Checkpoint({ client, bucket: name, key: KEY }).read()).rejects.toThrow(
      `checkpoint s3://${name}/${KEY} is damaged`,
    );
    await client.send(new PutObjectCommand({ Bucket: name, Key: KEY, Body: '{"lastEventId": ""}' }));
    await expect(new S3Checkpoint({ client, bucket: name, key: KEY }).read()).rejects.toThrow(/is damaged/);
  });

  it('a missing bucket is an error naming it', async () => {
    const client = motoS3();
    const name = unique('no-such-bucket');
    await expect(new S3Checkpoint({ client, bucket: name, key: KEY }).read()).rejects.toThrow(
      `s3://${name}/${KEY}: NoSuchBucket`,
    );
  });

  it('refuses an empty event id', async () => {
    await expect(new S3Checkpoint({ client: motoS3(), bucket: 'b', key: KEY }).write('')).rejects.toThrow(
      /must not be empty/,
    );
  });
});
