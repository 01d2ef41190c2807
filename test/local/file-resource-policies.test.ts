import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RESOURCE_POLICY_LIMITS } from '../../src/interfaces/resource-policies.js';
import { FileResourcePolicies } from '../../src/local/file-resource-policies.js';
import type { PolicyResource } from '../../src/model/grants.js';
import { targetError, useTempDir } from './helpers.js';

const ACCOUNT = '123456789012';
const CONSUMER = `arn:aws:iam::${ACCOUNT}:role/dmm/consumer`;
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

const bucket: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::acme-orders', bucket: 'acme-orders' };
const key: PolicyResource = {
  service: 'kms',
  arn: `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${KEY_ID}`,
  region: 'eu-central-1',
  account: ACCOUNT,
  keyId: KEY_ID,
};
const catalog: PolicyResource = {
  service: 'glue',
  arn: `arn:aws:glue:eu-central-1:${ACCOUNT}:catalog`,
  region: 'eu-central-1',
  account: ACCOUNT,
};

/** A statement each service accepts on `resource`. */
function statement(resource: PolicyResource, sid = 'DmmRead'): Record<string, unknown> {
  const [action, target] = {
    s3: ['s3:GetObject', `${resource.arn}/*`],
    kms: ['kms:Decrypt', '*'],
    glue: ['glue:GetTable', `arn:aws:glue:eu-central-1:${ACCOUNT}:table/sales/orders`],
  }[resource.service];
  return { Sid: sid, Effect: 'Allow', Principal: { AWS: CONSUMER }, Action: action, Resource: target };
}

function doc(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** A valid policy of exactly `size` bytes, grown through its Sid. */
function docOfSize(resource: PolicyResource, size: number): string {
  const base = doc(statement(resource, ''));
  const sized = doc(statement(resource, 'x'.repeat(size - Buffer.byteLength(base))));
  expect(Buffer.byteLength(sized)).toBe(size);
  return sized;
}

const newTempDir = useTempDir();

const modes = [
  ['in memory', async () => new FileResourcePolicies()],
  ['file-backed', async () => new FileResourcePolicies({ file: join(await newTempDir(), 'resource-policies.json') })],
] as const;

describe.each(modes)('FileResourcePolicies %s', (_mode, create) => {
  let policies: FileResourcePolicies;
  beforeEach(async () => {
    policies = await create();
    await policies.addResource(bucket);
    await policies.addResource(key);
    await policies.addResource(catalog);
  });

  describe.each([bucket, key, catalog])('on $service', (resource) => {
    it('returns exactly the text last put, whitespace and key order included', async () => {
      const pretty = JSON.stringify({ Statement: [statement(resource)], Version: '2012-10-17' }, null, 4);
      await policies.putPolicy(resource, pretty);
      expect(await policies.getPolicy(resource)).toBe(pretty);
      const second = doc(statement(resource, 'Other'));
      await policies.putPolicy(resource, second);
      expect(await policies.getPolicy(resource)).toBe(second);
    });

    it('accepts a document of exactly the size limit, counting whitespace and UTF-8 bytes', async () => {
      const limit = RESOURCE_POLICY_LIMITS[resource.service];
      await policies.putPolicy(resource, docOfSize(resource, limit));
      // 'é' is one character but two bytes; the padding keeps the byte count at the limit.
      const accented = docOfSize(resource, limit - 1).replace('"Sid":"x', '"Sid":"é');
      expect(Buffer.byteLength(accented)).toBe(limit);
      await policies.putPolicy(resource, accented);
      expect(await policies.getPolicy(resource)).toBe(accented);
    });

    it('is LimitExceeded one byte over the limit, and keeps the previous policy', async () => {
      const limit = RESOURCE_POLICY_LIMITS[resource.service];
      const before = await policies.getPolicy(resource);
      const err = await targetError(policies.putPolicy(resource, docOfSize(resource, limit + 1)));
      expect(err.code).toBe('LimitExceeded');
      expect(err.message).toContain(`${limit + 1} bytes`);
      expect(err.message).toContain(`${limit}-byte`);
      // Whitespace counts: a compact document at the limit, indented, is over it.
      const indented = JSON.stringify(JSON.parse(docOfSize(resource, limit)), null, 1);
      expect((await targetError(policies.putPolicy(resource, indented))).code).toBe('LimitExceeded');
      expect(await policies.getPolicy(resource)).toBe(before);
    });

    it('refuses documents the service would not parse with MalformedPolicyDocument, changing nothing', async () => {
      const before = await policies.getPolicy(resource);
      const good = statement(resource);
      const without = (field: string): Record<string, unknown> =>
        Object.fromEntries(Object.entries(good).filter(([k]) => k !== field));
      // Each document, with what the message must name, so that every case fails for its own reason.
      const refused: [string, RegExp][] = [
        ['not json', /valid JSON/],
        ['[]', /JSON object/],
        [JSON.stringify({ Statement: [good] }), /Version/],
        [JSON.stringify({ Version: '2020-01-01', Statement: [good] }), /Version/],
        [JSON.stringify({ Version: '2012-10-17' }), /non-empty Statement/],
        [doc(), /non-empty Statement/],
        [doc('Allow'), /not an object/],
        [doc(without('Effect')), /Effect/],
        [doc({ ...good, Effect: 'Permit' }), /Effect/],
        [doc(without('Principal')), /must name a Principal/],
        [doc({ ...good, Principal: {} }), /Invalid principal/],
        [doc({ ...good, Principal: { Role: CONSUMER } }), /Invalid principal/],
        [doc(without('Action')), /field Action/],
        [doc({ ...good, Action: [] }), /Action must be/],
        [doc(without('Resource')), /field Resource/],
        [doc({ ...good, NotAction: good.Action }), /both Action and NotAction/],
        [doc({ ...good, Actions: good.Action }), /unknown field Actions/],
        [JSON.stringify({ Version: '2012-10-17', Statement: [good], Extra: 1 }), /unknown field Extra/i],
        [doc(good, { ...good, Effect: 'Deny' }), /SID\) must be unique; "DmmRead"/],
        [doc({ ...good, Action: 'iam:PassRole' }), /invalid action iam:PassRole/],
        [doc({ ...good, Condition: { StringEquals: 'x' } }), /Condition/],
        [doc({ ...good, Sid: 'Dmm\u2013Read' }), /U\+2013/],
      ];
      for (const [document, reason] of refused) {
        const err = await targetError(policies.putPolicy(resource, document));
        expect(err.code, document).toBe('MalformedPolicyDocument');
        expect(err.message, document).toMatch(reason);
      }
      expect(await policies.getPolicy(resource)).toBe(before);
    });

    it('accepts what the grammar allows besides the common form', async () => {
      const good = statement(resource);
      // A single statement object, a Deny with NotPrincipal, Sid-less statements, Conditions.
      await policies.putPolicy(resource, JSON.stringify({ Version: '2012-10-17', Statement: good }));
      const { Principal: _p, Sid: _s, ...rest } = good;
      const deny = {
        ...rest,
        Effect: 'Deny',
        NotPrincipal: { AWS: [CONSUMER] },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      };
      await policies.putPolicy(resource, doc(good, deny, { ...rest, Principal: '*' }));
      expect(JSON.parse((await policies.getPolicy(resource))!).Statement).toHaveLength(3);
    });
  });

  describe('S3 bucket policies', () => {
    it('start without a policy; deleting removes it, and deleting again is success', async () => {
      expect(await policies.getPolicy(bucket)).toBeUndefined();
      await policies.putPolicy(bucket, doc(statement(bucket)));
      await policies.deletePolicy(bucket);
      expect(await policies.getPolicy(bucket)).toBeUndefined();
      await expect(policies.deletePolicy(bucket)).resolves.toBeUndefined();
    });

    it('only name resources in the bucket', async () => {
      await policies.putPolicy(bucket, doc({ ...statement(bucket), Resource: [bucket.arn, `${bucket.arn}/data/*`] }));
      for (const resource of ['arn:aws:s3:::acme-orders-archive/*', 'arn:aws:s3:::other/*', '*']) {
        const err = await targetError(policies.putPolicy(bucket, doc({ ...statement(bucket), Resource: resource })));
        expect(err.code, resource).toBe('MalformedPolicyDocument');
      }
    });

    it('is NoSuchEntity, with S3 wording, for a bucket that does not exist', async () => {
      const missing: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::missing-bucket', bucket: 'missing-bucket' };
      for (const call of [
        policies.getPolicy(missing),
        policies.putPolicy(missing, doc(statement(missing))),
        policies.deletePolicy(missing),
      ]) {
        const err = await targetError(call);
        expect(err.code).toBe('NoSuchEntity');
        expect(err.message).toBe('NoSuchBucket: The specified bucket does not exist (missing-bucket).');
      }
    });
  });

  describe('KMS key policies', () => {
    it("gives a key added without a policy AWS's default key policy", async () => {
      const policy = JSON.parse((await policies.getPolicy(key))!);
      expect(policy).toEqual({
        Version: '2012-10-17',
        Id: 'key-default-1',
        Statement: [
          {
            Sid: 'Enable IAM User Permissions',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      });
    });

    it("builds the default policy in the key's own partition and account", async () => {
      const cnKey: PolicyResource = {
        ...key,
        arn: `arn:aws-cn:kms:cn-north-1:210987654321:key/${KEY_ID}`,
        region: 'cn-north-1',
        account: '210987654321',
      };
      await policies.addResource(cnKey);
      expect(JSON.parse((await policies.getPolicy(cnKey))!).Statement[0].Principal).toEqual({
        AWS: 'arn:aws-cn:iam::210987654321:root',
      });
    });

    it('refuses to delete a key policy with InvalidInput, keeping it', async () => {
      const policy = doc(statement(key));
      await policies.putPolicy(key, policy);
      const err = await targetError(policies.deletePolicy(key));
      expect(err.code).toBe('InvalidInput');
      expect(err.message).toContain(key.arn);
      expect(await policies.getPolicy(key)).toBe(policy);
    });

    it('is NoSuchEntity, with KMS wording, for a key that does not exist', async () => {
      const missing: PolicyResource = {
        ...key,
        arn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${KEY_ID}`,
        region: 'eu-west-1',
      };
      for (const call of [policies.getPolicy(missing), policies.putPolicy(missing, doc(statement(missing)))]) {
        const err = await targetError(call);
        expect(err.code).toBe('NoSuchEntity');
        expect(err.message).toBe(`NotFoundException: Key '${missing.arn}' does not exist.`);
      }
    });
  });

  describe('Glue Data Catalog policies', () => {
    it('start without a policy and name only resources of their own account and region', async () => {
      expect(await policies.getPolicy(catalog)).toBeUndefined();
      await policies.putPolicy(
        catalog,
        doc({ ...statement(catalog), Resource: [catalog.arn, `arn:aws:glue:eu-central-1:${ACCOUNT}:database/sales`] }),
      );
      for (const resource of [
        `arn:aws:glue:eu-west-1:${ACCOUNT}:catalog`,
        'arn:aws:glue:eu-central-1:210987654321:catalog',
        '*',
      ]) {
        const err = await targetError(policies.putPolicy(catalog, doc({ ...statement(catalog), Resource: resource })));
        expect(err.code, resource).toBe('MalformedPolicyDocument');
      }
      await policies.deletePolicy(catalog);
      expect(await policies.getPolicy(catalog)).toBeUndefined();
    });

    it('is NoSuchEntity for a catalog that was never added', async () => {
      const missing: PolicyResource = {
        ...catalog,
        arn: `arn:aws:glue:eu-west-1:${ACCOUNT}:catalog`,
        region: 'eu-west-1',
      };
      const err = await targetError(policies.deletePolicy(missing));
      expect(err.code).toBe('NoSuchEntity');
      expect(err.message).toContain('EntityNotFoundException');
    });
  });

  describe('resources', () => {
    it('adds a resource with a policy, refuses adding it twice, and removes it with its policy', async () => {
      const other: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::acme-returns', bucket: 'acme-returns' };
      const policy = doc(statement(other));
      await policies.addResource(other, policy);
      expect(await policies.getPolicy(other)).toBe(policy);
      expect((await targetError(policies.addResource(other))).code).toBe('EntityAlreadyExists');
      expect(await policies.getPolicy(other)).toBe(policy);

      await policies.removeResource(other.arn);
      expect((await targetError(policies.getPolicy(other))).code).toBe('NoSuchEntity');
      expect((await targetError(policies.removeResource(other.arn))).code).toBe('NoSuchEntity');
      await policies.addResource(other);
      expect(await policies.getPolicy(other)).toBeUndefined();
    });

    it('adds nothing when the initial policy is refused', async () => {
      const other: PolicyResource = { service: 's3', arn: 'arn:aws:s3:::acme-returns', bucket: 'acme-returns' };
      expect((await targetError(policies.addResource(other, '{}'))).code).toBe('MalformedPolicyDocument');
      expect((await targetError(policies.getPolicy(other))).code).toBe('NoSuchEntity');
    });

    it('refuses a resource whose ARN and address disagree, or that AWS could not have, with InvalidInput', async () => {
      const refused: PolicyResource[] = [
        { service: 's3', arn: 'arn:aws:s3:::acme-orders', bucket: 'acme-returns' },
        { service: 's3', arn: 'arn:aws:s3:::Bad_Bucket', bucket: 'Bad_Bucket' },
        { ...key, keyId: 'alias/orders', arn: `arn:aws:kms:eu-central-1:${ACCOUNT}:key/alias/orders` },
        { ...key, account: '123', arn: `arn:aws:kms:eu-central-1:123:key/${KEY_ID}` },
        { ...catalog, arn: `arn:aws:glue:eu-central-1:${ACCOUNT}:catalog/x` },
        { ...catalog, region: 'europe', arn: `arn:aws:glue:europe:${ACCOUNT}:catalog` },
      ];
      for (const resource of refused) {
        expect((await targetError(policies.addResource(resource))).code, resource.arn).toBe('InvalidInput');
        expect((await targetError(policies.getPolicy(resource))).code, resource.arn).toBe('InvalidInput');
      }
      expect((await policies.snapshot()).map((r) => r.resource.arn)).toEqual([catalog.arn, key.arn, bucket.arn]);
    });

    it('stores only the fields of a resource, whatever else the caller passes', async () => {
      const other = {
        service: 's3',
        arn: 'arn:aws:s3:::acme-returns',
        bucket: 'acme-returns',
        extra: 1,
      } as PolicyResource;
      await policies.addResource(other);
      // A file-backed store would refuse its own file on the next read if `extra` had been saved.
      expect((await policies.snapshot()).find((r) => r.resource.arn === other.arn)?.resource).toEqual({
        service: 's3',
        arn: other.arn,
        bucket: 'acme-returns',
      });
    });

    it('shows every resource and policy in a snapshot, by ARN, as a copy', async () => {
      const policy = doc(statement(bucket));
      await policies.putPolicy(bucket, policy);
      const snapshot = await policies.snapshot();
      expect(snapshot.map((r) => r.resource.arn)).toEqual([catalog.arn, key.arn, bucket.arn]);
      expect(snapshot[0]).toEqual({ resource: catalog, policy: undefined });
      expect(snapshot[2]).toEqual({ resource: bucket, policy });
      snapshot[2]!.policy = 'changed';
      expect(await policies.getPolicy(bucket)).toBe(policy);
    });
  });
});

describe('FileResourcePolicies state file', () => {
  it('is shared by two instances on the same file', async () => {
    const file = join(await newTempDir(), 'state', 'resource-policies.json');
    const writer = new FileResourcePolicies({ file });
    expect(writer.file).toBe(file);
    await writer.addResource(bucket);
    await writer.addResource(key);
    const policy = doc(statement(bucket));
    await writer.putPolicy(bucket, policy);

    const reader = new FileResourcePolicies({ file });
    expect(await reader.getPolicy(bucket)).toBe(policy);
    expect(await reader.snapshot()).toEqual(await writer.snapshot());
    await reader.deletePolicy(bucket);
    expect(await writer.getPolicy(bucket)).toBeUndefined();
    expect(JSON.parse(await readFile(file, 'utf8')).format).toBe(1);
  });

  it('leaves the file untouched when a call is refused', async () => {
    const file = join(await newTempDir(), 'resource-policies.json');
    const policies = new FileResourcePolicies({ file });
    await policies.addResource(key);
    const before = await readFile(file, 'utf8');
    await targetError(policies.putPolicy(key, 'not json'));
    await targetError(policies.deletePolicy(key));
    await targetError(policies.addResource(key));
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses a file it did not write, naming it', async () => {
    const file = join(await newTempDir(), 'resource-policies.json');
    await writeFile(file, JSON.stringify({ format: 2, resources: {} }));
    await expect(new FileResourcePolicies({ file }).getPolicy(bucket)).rejects.toThrow(file);
  });

  it('keeps state in memory per instance without a file', async () => {
    const first = new FileResourcePolicies();
    await first.addResource(bucket);
    expect(first.file).toBeUndefined();
    expect(await new FileResourcePolicies().snapshot()).toEqual([]);
  });
});
