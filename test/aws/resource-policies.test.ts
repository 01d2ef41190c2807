import {
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  DeleteResourcePolicyCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createGlueClient, createKmsClient, createProviderBucketS3Client } from '../../src/aws/clients.js';
import { AwsResourcePolicies, RESOURCE_POLICY_ACTIONS_USED } from '../../src/aws/resource-policies.js';
import { RESOURCE_POLICY_LIMITS } from '../../src/interfaces/resource-policies.js';
import { TargetError } from '../../src/interfaces/target-error.js';
import type { PolicyResource } from '../../src/model/grants.js';
import { MOTO_ACCOUNT, REGION, motoOptions, motoS3, recordCommands, unique } from './moto.js';

const CONSUMER = `arn:aws:iam::${MOTO_ACCOUNT}:role/consumer`;

const motoKms = (region = REGION) => createKmsClient({ ...motoOptions(), region });
const motoGlue = (region = REGION) => createGlueClient({ ...motoOptions(), region });

/** A policy with one statement per Sid, each letting the consumer read `resource`. */
function policy(resource: string, ...sids: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: sids.map((Sid) => ({
      Sid,
      Effect: 'Allow',
      Principal: { AWS: CONSUMER },
      Action: 's3:GetObject',
      Resource: resource,
    })),
  });
}

/** A valid policy of exactly `bytes` bytes. */
function policyOfSize(resource: string, bytes: number): string {
  const base = Buffer.byteLength(policy(`${resource}/`, 'Big'));
  return policy(`${resource}/${'x'.repeat(bytes - base)}`, 'Big');
}

async function rejection(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

/** A client whose every call fails with `error`, for the answers moto cannot give. */
function failing<C extends S3Client | KMSClient | GlueClient>(client: C, error: Error): C {
  client.send = (async () => {
    throw error;
  }) as never;
  return client;
}
const awsError = (name: string, message = `${name} from AWS`) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

async function bucket(client: S3Client): Promise<PolicyResource & { service: 's3' }> {
  const name = unique('provider');
  await client.send(
    new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  return { service: 's3', arn: `arn:aws:s3:::${name}`, bucket: name };
}

async function key(client: KMSClient, region = REGION): Promise<PolicyResource & { service: 'kms' }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: unique('provider-key') }));
  return { service: 'kms', arn: KeyMetadata!.Arn!, region, account: MOTO_ACCOUNT, keyId: KeyMetadata!.KeyId! };
}

/**
 * The catalog policy is one per account and region and moto is shared by all test files: these
 * tests keep to regions no other file uses, and start each from a catalog without a policy.
 */
const CATALOG_REGION = 'ap-southeast-2';
const OTHER_CATALOG_REGION = 'sa-east-1';

async function emptyCatalog(region = CATALOG_REGION): Promise<PolicyResource & { service: 'glue' }> {
  await motoGlue(region)
    .send(new DeleteResourcePolicyCommand({}))
    .catch(() => undefined);
  return { service: 'glue', arn: `arn:aws:glue:${region}:${MOTO_ACCOUNT}:catalog`, region, account: MOTO_ACCOUNT };
}

describe('AwsResourcePolicies on moto: S3 bucket policies', () => {
  it('put, get, replace, delete; a bucket without a policy has none', async () => {
    const s3 = motoS3();
    const resource = await bucket(s3);
    const policies = new AwsResourcePolicies({ s3Client: s3 });
    expect(await policies.getPolicy(resource)).toBeUndefined();

    await policies.putPolicy(resource, policy(`${resource.arn}/*`, 'A'));
    expect(await policies.getPolicy(resource)).toBe(policy(`${resource.arn}/*`, 'A'));
    await policies.putPolicy(resource, policy(`${resource.arn}/*`, 'A', 'B'));
    expect(await policies.getPolicy(resource)).toBe(policy(`${resource.arn}/*`, 'A', 'B'));

    await policies.deletePolicy(resource);
    expect(await policies.getPolicy(resource)).toBeUndefined();
    await expect(policies.deletePolicy(resource)).resolves.toBeUndefined();
  });

  it("returns someone else's policy byte for byte", async () => {
    const s3 = motoS3();
    const resource = await bucket(s3);
    const theirs = JSON.stringify(JSON.parse(policy(`${resource.arn}/*`, 'Theirs', 'AlsoTheirs')), null, 4);
    await s3.send(new PutBucketPolicyCommand({ Bucket: resource.bucket, Policy: theirs }));
    expect(await new AwsResourcePolicies({ s3Client: s3 }).getPolicy(resource)).toBe(theirs);
  });

  it('a missing bucket is NoSuchEntity for get and put, and for delete', async () => {
    const policies = new AwsResourcePolicies({ s3Client: motoS3() });
    const missing: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::x', bucket: unique('no-such-bucket') };
    const error = await rejection(policies.getPolicy(missing));
    expect(error.code).toBe('NoSuchEntity');
    expect(error.message).toContain(missing.bucket);
    expect((await rejection(policies.putPolicy(missing, policy(`${missing.arn}/*`, 'A')))).code).toBe('NoSuchEntity');
    expect((await rejection(policies.deletePolicy(missing))).code).toBe('NoSuchEntity');
  });

  it('refuses a document over 20 KB without calling S3; exactly at the limit is sent', async () => {
    const s3 = motoS3();
    const resource = await bucket(s3);
    const policies = new AwsResourcePolicies({ s3Client: s3 });
    const sent = recordCommands(s3);
    const error = await rejection(
      policies.putPolicy(resource, policyOfSize(resource.arn, RESOURCE_POLICY_LIMITS.s3 + 1)),
    );
    expect(error.code).toBe('LimitExceeded');
    expect(error.message).toContain(resource.bucket);
    expect(error.message).toContain(String(RESOURCE_POLICY_LIMITS.s3 + 1));
    expect(error.message).toContain(String(RESOURCE_POLICY_LIMITS.s3));
    expect(sent.names()).toEqual([]);

    await policies.putPolicy(resource, policyOfSize(resource.arn, RESOURCE_POLICY_LIMITS.s3));
    expect(Buffer.byteLength((await s3.send(new GetBucketPolicyCommand({ Bucket: resource.bucket }))).Policy!)).toBe(
      RESOURCE_POLICY_LIMITS.s3,
    );
  });

  // moto stores any bucket policy as sent (malformed ones included) and never denies access, so
  // S3's own answers are simulated here.
  it.each([
    ['MalformedPolicy', 'MalformedPolicyDocument'],
    ['AccessDenied', 'AccessDenied'],
    ['MethodNotAllowed', 'AccessDenied'],
    ['SlowDown', 'Throttling'],
    ['NoSuchBucket', 'NoSuchEntity'],
  ])('S3 %s → %s', async (name, code) => {
    const policies = new AwsResourcePolicies({ s3Client: failing(motoS3(), awsError(name)) });
    const error = await rejection(
      policies.putPolicy({ service: 's3', arn: 'arn:aws:s3:::b', bucket: 'b' }, policy('arn:aws:s3:::b/*', 'A')),
    );
    expect(error.code).toBe(code);
    expect(error.message).toContain(`${name} from AWS`);
    expect(error.message).toContain('bucket b');
  });

  it('the S3 client follows buckets into other regions', () => {
    const client = createProviderBucketS3Client({ region: REGION, endpoint: 'http://127.0.0.1:1' }, {});
    expect(client.config.followRegionRedirects).toBe(true);
    expect(client.config.forcePathStyle).toBe(true);
  });
});

describe('AwsResourcePolicies on moto: KMS key policies', () => {
  it('put, get (byte for byte), replace; deleting is InvalidInput without calling KMS', async () => {
    const kms = motoKms();
    const resource = await key(kms);
    const policies = new AwsResourcePolicies({ kmsClient: kms });
    const keyPolicy = (...sids: string[]) =>
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Enable IAM User Permissions',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
            ...sids.map((Sid) => ({
              Sid,
              Effect: 'Allow',
              Principal: { AWS: CONSUMER },
              Action: 'kms:Decrypt',
              Resource: '*',
            })),
          ],
        },
        null,
        2,
      );

    await policies.putPolicy(resource, keyPolicy('A'));
    expect(await policies.getPolicy(resource)).toBe(keyPolicy('A'));
    const sent = recordCommands(kms);
    await policies.putPolicy(resource, keyPolicy('A', 'B'));
    expect(await policies.getPolicy(resource)).toBe(keyPolicy('A', 'B'));
    expect(sent.inputs('PutKeyPolicyCommand')).toEqual([
      { KeyId: resource.keyId, PolicyName: 'default', Policy: keyPolicy('A', 'B') },
    ]);
    expect(sent.inputs('GetKeyPolicyCommand')).toEqual([{ KeyId: resource.keyId, PolicyName: 'default' }]);

    const error = await rejection(policies.deletePolicy(resource));
    expect(error.code).toBe('InvalidInput');
    expect(error.message).toContain(resource.arn);
    expect(sent.names()).toEqual(['PutKeyPolicyCommand', 'GetKeyPolicyCommand']);
    expect(await policies.getPolicy(resource)).toBe(keyPolicy('A', 'B'));
  });

  it('a missing key is NoSuchEntity', async () => {
    const policies = new AwsResourcePolicies({ kmsClient: motoKms() });
    const keyId = '11111111-2222-3333-4444-555555555555';
    const missing: PolicyResource = {
      service: 'kms',
      arn: `arn:aws:kms:${REGION}:${MOTO_ACCOUNT}:key/${keyId}`,
      region: REGION,
      account: MOTO_ACCOUNT,
      keyId,
    };
    const error = await rejection(policies.getPolicy(missing));
    expect(error.code).toBe('NoSuchEntity');
    expect(error.message).toContain(missing.arn);
    expect((await rejection(policies.putPolicy(missing, policy('*', 'A')))).code).toBe('NoSuchEntity');
  });

  it('without an injected client, each key is addressed in its own region', async () => {
    const oregon = await key(motoKms('us-west-2'), 'us-west-2');
    const policies = new AwsResourcePolicies({ clientOptions: motoOptions() });
    await policies.putPolicy(oregon, policy('*', 'Oregon'));
    expect(await policies.getPolicy(oregon)).toBe(policy('*', 'Oregon'));
    // The same key named in another region is not there.
    expect((await rejection(policies.getPolicy({ ...oregon, region: REGION }))).code).toBe('NoSuchEntity');
  });

  it('refuses a document over 32 KB without calling KMS', async () => {
    const kms = motoKms();
    const resource = await key(kms);
    const sent = recordCommands(kms);
    const error = await rejection(
      new AwsResourcePolicies({ kmsClient: kms }).putPolicy(
        resource,
        policyOfSize('*', RESOURCE_POLICY_LIMITS.kms + 1),
      ),
    );
    expect(error.code).toBe('LimitExceeded');
    expect(error.message).toContain(resource.arn);
    expect(error.message).toContain(String(RESOURCE_POLICY_LIMITS.kms + 1));
    expect(sent.names()).toEqual([]);
  });

  // moto stores any key policy as sent: KMS's refusals are simulated.
  it.each([
    ['MalformedPolicyDocumentException', 'MalformedPolicyDocument'],
    ['LimitExceededException', 'LimitExceeded'],
    ['KMSInvalidStateException', 'InvalidInput'],
    ['AccessDeniedException', 'AccessDenied'],
    ['ThrottlingException', 'Throttling'],
  ])('KMS %s → %s', async (name, code) => {
    const policies = new AwsResourcePolicies({ kmsClient: failing(motoKms(), awsError(name)) });
    const resource: PolicyResource = {
      service: 'kms',
      arn: 'arn:aws:kms:eu-central-1:123456789012:key/k',
      region: REGION,
      account: MOTO_ACCOUNT,
      keyId: 'k',
    };
    expect((await rejection(policies.putPolicy(resource, policy('*', 'A')))).code).toBe(code);
  });
});

describe('AwsResourcePolicies on moto: Glue Data Catalog policies', () => {
  const catalogPolicy = (resource: PolicyResource, ...sids: string[]) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: sids.map((Sid) => ({
        Sid,
        Effect: 'Allow',
        Principal: { AWS: CONSUMER },
        Action: 'glue:GetTable',
        Resource: `${resource.arn.replace(/catalog$/, '')}table/db/*`,
      })),
    });

  it('put, get, replace, delete; a catalog without a policy has none', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const policies = new AwsResourcePolicies({ glueClient: glue });
    expect(await policies.getPolicy(resource)).toBeUndefined();

    await policies.putPolicy(resource, catalogPolicy(resource, 'A'));
    expect(await policies.getPolicy(resource)).toBe(catalogPolicy(resource, 'A'));
    await policies.putPolicy(resource, catalogPolicy(resource, 'A', 'B'));
    expect(await policies.getPolicy(resource)).toBe(catalogPolicy(resource, 'A', 'B'));

    await policies.deletePolicy(resource);
    expect(await policies.getPolicy(resource)).toBeUndefined();
    await expect(policies.deletePolicy(resource)).resolves.toBeUndefined();
    await expect(new AwsResourcePolicies({ glueClient: glue }).deletePolicy(resource)).resolves.toBeUndefined();
  });

  it("returns someone else's policy byte for byte", async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const theirs = JSON.stringify(JSON.parse(catalogPolicy(resource, 'Theirs')), null, 3);
    await glue.send(new PutResourcePolicyCommand({ PolicyInJson: theirs }));
    expect(await new AwsResourcePolicies({ glueClient: glue }).getPolicy(resource)).toBe(theirs);
  });

  it('writes on the hash of the policy it read, and sends EnableHybrid', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const policies = new AwsResourcePolicies({ glueClient: glue });
    const sent = recordCommands(glue);

    await policies.getPolicy(resource);
    await policies.putPolicy(resource, catalogPolicy(resource, 'A'));
    const { PolicyHash } = await glue.send(new GetResourcePolicyCommand({}));
    await policies.putPolicy(resource, catalogPolicy(resource, 'A', 'B'));
    await policies.deletePolicy(resource);

    expect(sent.inputs('PutResourcePolicyCommand')).toEqual([
      { PolicyInJson: catalogPolicy(resource, 'A'), EnableHybrid: 'TRUE', PolicyExistsCondition: 'NOT_EXIST' },
      {
        PolicyInJson: catalogPolicy(resource, 'A', 'B'),
        EnableHybrid: 'TRUE',
        PolicyExistsCondition: 'MUST_EXIST',
        PolicyHashCondition: PolicyHash,
      },
    ]);
    expect(sent.inputs('DeleteResourcePolicyCommand')).toEqual([{ PolicyHashCondition: expect.any(String) }]);
    expect(sent.inputs('DeleteResourcePolicyCommand')[0]!.PolicyHashCondition).not.toBe(PolicyHash);
  });

  it('a policy changed since it was read is ConcurrentModification, for put and delete; reading again resolves it', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const ours = new AwsResourcePolicies({ glueClient: glue });
    const theirs = new AwsResourcePolicies({ glueClient: glue });
    await theirs.putPolicy(resource, catalogPolicy(resource, 'Theirs1'));

    await ours.getPolicy(resource);
    await theirs.putPolicy(resource, catalogPolicy(resource, 'Theirs2'));
    const stale = await rejection(ours.putPolicy(resource, catalogPolicy(resource, 'Theirs1', 'Ours')));
    expect(stale.code).toBe('ConcurrentModification');
    expect(stale.message).toContain(`account ${MOTO_ACCOUNT} in ${CATALOG_REGION}`);
    // Retrying the same write without reading again is refused again: it would still overwrite Theirs2.
    expect((await rejection(ours.putPolicy(resource, catalogPolicy(resource, 'Theirs1', 'Ours')))).code).toBe(
      'ConcurrentModification',
    );
    expect((await rejection(ours.deletePolicy(resource))).code).toBe('ConcurrentModification');
    expect(await theirs.getPolicy(resource)).toBe(catalogPolicy(resource, 'Theirs2'));

    expect(await ours.getPolicy(resource)).toBe(catalogPolicy(resource, 'Theirs2'));
    await ours.putPolicy(resource, catalogPolicy(resource, 'Theirs2', 'Ours'));
    expect(await theirs.getPolicy(resource)).toBe(catalogPolicy(resource, 'Theirs2', 'Ours'));
  });

  it('a policy created or deleted since it was read is ConcurrentModification', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const ours = new AwsResourcePolicies({ glueClient: glue });

    // Read "no policy"; someone creates one; our create must not overwrite it.
    expect(await ours.getPolicy(resource)).toBeUndefined();
    await glue.send(new PutResourcePolicyCommand({ PolicyInJson: catalogPolicy(resource, 'Theirs') }));
    expect((await rejection(ours.putPolicy(resource, catalogPolicy(resource, 'Ours')))).code).toBe(
      'ConcurrentModification',
    );

    // Read their policy; they delete it; our update must not bring it back.
    expect(await ours.getPolicy(resource)).toBe(catalogPolicy(resource, 'Theirs'));
    await glue.send(new DeleteResourcePolicyCommand({}));
    expect((await rejection(ours.putPolicy(resource, catalogPolicy(resource, 'Theirs', 'Ours')))).code).toBe(
      'ConcurrentModification',
    );
    expect(await ours.getPolicy(resource)).toBeUndefined();

    // Deleting a policy someone else already deleted is success: it is gone either way.
    await ours.putPolicy(resource, catalogPolicy(resource, 'Ours'));
    await glue.send(new DeleteResourcePolicyCommand({}));
    await expect(ours.deletePolicy(resource)).resolves.toBeUndefined();
  });

  it('without an earlier read the write is unconditional', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    await glue.send(new PutResourcePolicyCommand({ PolicyInJson: catalogPolicy(resource, 'Theirs') }));
    const sent = recordCommands(glue);
    await new AwsResourcePolicies({ glueClient: glue }).putPolicy(resource, catalogPolicy(resource, 'Ours'));
    expect(sent.inputs('PutResourcePolicyCommand')).toEqual([
      { PolicyInJson: catalogPolicy(resource, 'Ours'), EnableHybrid: 'TRUE' },
    ]);
  });

  it('without an injected client, each catalog is addressed in its own region, with its own hash', async () => {
    const sydney = await emptyCatalog(CATALOG_REGION);
    const saoPaulo = await emptyCatalog(OTHER_CATALOG_REGION);
    const policies = new AwsResourcePolicies({ clientOptions: motoOptions() });
    await policies.getPolicy(sydney);
    await policies.getPolicy(saoPaulo);
    await policies.putPolicy(sydney, catalogPolicy(sydney, 'Sydney'));
    await policies.putPolicy(saoPaulo, catalogPolicy(saoPaulo, 'SaoPaulo'));
    expect(await policies.getPolicy(sydney)).toBe(catalogPolicy(sydney, 'Sydney'));
    expect(await policies.getPolicy(saoPaulo)).toBe(catalogPolicy(saoPaulo, 'SaoPaulo'));
    await policies.deletePolicy(saoPaulo);
    expect(await policies.getPolicy(sydney)).toBe(catalogPolicy(sydney, 'Sydney'));
  });

  it('refuses a document over 10 KB without calling Glue', async () => {
    const resource = await emptyCatalog();
    const glue = motoGlue(CATALOG_REGION);
    const sent = recordCommands(glue);
    const error = await rejection(
      new AwsResourcePolicies({ glueClient: glue }).putPolicy(
        resource,
        policyOfSize('*', RESOURCE_POLICY_LIMITS.glue + 1),
      ),
    );
    expect(error.code).toBe('LimitExceeded');
    expect(error.message).toContain(resource.arn);
    expect(error.message).toContain(String(RESOURCE_POLICY_LIMITS.glue));
    expect(sent.names()).toEqual([]);
  });

  // moto accepts any document and has every catalog; AWS's refusals are simulated.
  it.each([
    ['InvalidInputException', 'MalformedPolicyDocument'],
    ['ConditionCheckFailureException', 'ConcurrentModification'],
    ['AccessDeniedException', 'AccessDenied'],
    ['ThrottlingException', 'Throttling'],
    ['EntityNotFoundException', 'NoSuchEntity'],
  ])('Glue PutResourcePolicy %s → %s', async (name, code) => {
    const policies = new AwsResourcePolicies({ glueClient: failing(motoGlue(), awsError(name)) });
    const resource: PolicyResource = {
      service: 'glue',
      arn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:catalog`,
      region: REGION,
      account: MOTO_ACCOUNT,
    };
    expect((await rejection(policies.putPolicy(resource, policy('*', 'A')))).code).toBe(code);
  });

  it("Glue's EntityNotFound for the policy is no policy to get and nothing to delete", async () => {
    const policies = new AwsResourcePolicies({
      glueClient: failing(motoGlue(), awsError('EntityNotFoundException', 'Policy not found')),
    });
    const resource: PolicyResource = {
      service: 'glue',
      arn: `arn:aws:glue:${REGION}:${MOTO_ACCOUNT}:catalog`,
      region: REGION,
      account: MOTO_ACCOUNT,
    };
    expect(await policies.getPolicy(resource)).toBeUndefined();
    await expect(policies.deletePolicy(resource)).resolves.toBeUndefined();
  });
});

describe('AwsResourcePolicies error mapping', () => {
  it('leaves errors without a known code as they are, to be retried', async () => {
    const failure = awsError('InternalServiceException');
    const glue: PolicyResource = {
      service: 'glue',
      arn: 'arn:aws:glue:eu-central-1:123456789012:catalog',
      region: REGION,
      account: MOTO_ACCOUNT,
    };
    await expect(new AwsResourcePolicies({ glueClient: failing(motoGlue(), failure) }).getPolicy(glue)).rejects.toBe(
      failure,
    );
    const network = new TypeError('fetch failed');
    await expect(
      new AwsResourcePolicies({ s3Client: failing(motoS3(), network) }).getPolicy({
        service: 's3',
        arn: 'arn:aws:s3:::b',
        bucket: 'b',
      }),
    ).rejects.toBe(network);
  });

  it('RESOURCE_POLICY_ACTIONS_USED is the union of the per-service lists', () => {
    expect([...RESOURCE_POLICY_ACTIONS_USED].sort()).toEqual([
      'glue:DeleteResourcePolicy',
      'glue:GetResourcePolicy',
      'glue:PutResourcePolicy',
      'kms:GetKeyPolicy',
      'kms:PutKeyPolicy',
      's3:DeleteBucketPolicy',
      's3:GetBucketPolicy',
      's3:PutBucketPolicy',
    ]);
  });
});
