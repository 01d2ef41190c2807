import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { REGION, motoS3, recordCommands, unique } from './moto.js';

const A = 'arn:aws:iam::123456789012:role/analytics';
const B = 'arn:aws:iam::123456789012:role/data-products/reporting';

async function bucket(client: S3Client): Promise<string> {
  const name = unique('index');
  await client.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  return name;
}

async function keys(client: S3Client, bucketName: string): Promise<string[]> {
  return ((await client.send(new ListObjectsV2Command({ Bucket: bucketName }))).Contents ?? [])
    .map((o) => o.Key!)
    .sort();
}

describe('S3AgreementIndex on moto', () => {
  it('no entry at first; then one small object per agreement under the prefix; [] is kept, forget deletes it', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const index = new S3AgreementIndex({ client, bucket: name });
    const sent = recordCommands(client);

    expect(await index.holdingsOf('agr-1')).toBeUndefined();
    await index.record('agr-1', [B, A, B]);
    await index.record('agr-2', [A]);
    expect(await index.holdingsOf('agr-1')).toEqual([A, B]);
    expect(await keys(client, name)).toEqual(['index/agreements/agr-1.json', 'index/agreements/agr-2.json']);
    const stored = await client.send(new GetObjectCommand({ Bucket: name, Key: 'index/agreements/agr-1.json' }));
    expect(JSON.parse(await stored.Body!.transformToString())).toEqual({ agreementId: 'agr-1', roleArns: [A, B] });
    expect(stored.ContentType).toBe('application/json');

    await index.record('agr-1', []);
    expect(await index.holdingsOf('agr-1')).toEqual([]);
    await index.forget('agr-1');
    expect(await index.holdingsOf('agr-1')).toBeUndefined();
    expect(await keys(client, name)).toEqual(['index/agreements/agr-2.json']);
    // Forgetting what is not there is no error: a deleted agreement's entry may already be gone.
    await index.forget('agr-never');
    expect(sent.names().filter((n) => n !== 'ListObjectsV2Command')).toEqual([
      'GetObjectCommand',
      'PutObjectCommand',
      'PutObjectCommand',
      'GetObjectCommand',
      'GetObjectCommand',
      'PutObjectCommand',
      'GetObjectCommand',
      'DeleteObjectCommand',
      'GetObjectCommand',
      'DeleteObjectCommand',
    ]);
  });

  it('encodes any agreement id into a plain key, and a custom prefix keeps entries apart', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const index = new S3AgreementIndex({ client, bucket: name, prefix: 'dmm/idx/' });
    const id = 'team a/agr ä?#1';
    await index.record(id, [A]);
    expect(index.keyOf(id)).toBe(`dmm/idx/${encodeURIComponent(id)}.json`);
    expect(await keys(client, name)).toEqual([`dmm/idx/${encodeURIComponent(id)}.json`]);
    expect(await index.holdingsOf(id)).toEqual([A]);
    expect(await new S3AgreementIndex({ client, bucket: name }).holdingsOf(id)).toBeUndefined();
  });

  it('a damaged entry, or one naming another agreement, is an error naming the object, never "no entry"', async () => {
    const client = motoS3();
    const name = await bucket(client);
    const index = new S3AgreementIndex({ client, bucket: name });
    await client.send(new PutObjectCommand({ Bucket: name, Key: index.keyOf('agr-1'), Body: '{"roleArns": ' }));
    await expect(index.holdingsOf('agr-1')).rejects.toThrow(
      `agreement index entry s3://${name}/index/agreements/agr-1.json is damaged`,
    );
    await client.send(
      new PutObjectCommand({
        Bucket: name,
        Key: index.keyOf('agr-2'),
        Body: JSON.stringify({ agreementId: 'agr-3', roleArns: [A] }),
      }),
    );
    await expect(index.holdingsOf('agr-2')).rejects.toThrow(/agr-2\.json is damaged/);
  });

  it('a bucket that does not exist is an error with the S3 code, for reads and writes', async () => {
    const index = new S3AgreementIndex({ client: motoS3(), bucket: unique('missing') });
    await expect(index.holdingsOf('agr-1')).rejects.toThrow(
      /cannot read agreement index entry s3:\/\/missing-\w+\/index\/agreements\/agr-1\.json: NoSuchBucket/,
    );
    await expect(index.record('agr-1', [A])).rejects.toThrow(/cannot write agreement index entry .*: NoSuchBucket/);
  });
});
