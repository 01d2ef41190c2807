import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadAwsAccountFixture,
  parseAwsAccountFixture,
  seedIamAccount,
  seedIamAccountFromFile,
} from '../../src/local/aws-account-fixture.js';
import { FileIamAccount } from '../../src/local/file-iam-account.js';
import { IamError } from '../../src/interfaces/iam-account.js';
import { useTempDir } from './helpers.js';

const newTempDir = useTempDir();

const FIXTURE = `
roles:
  - name: analytics-consumer
    path: /dmm/
    tags: { dmm-aws/managed: "true" }
    inlinePolicies:
      existing-access:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: s3:ListAllMyBuckets, Resource: "*" }
      as-json: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}'
    attachedPolicies:
      - name: team-extras
        document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "athena:*", Resource: "*" }] }
      - arn: arn:aws:iam::aws:policy/ReadOnlyAccess
        document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:Get*", Resource: "*" }] }
  - name: ml-consumer
    attachedPolicies:
      - name: team-extras
        document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "athena:*", Resource: "*" }] }
`;

describe('AWS account fixture', () => {
  it('seeds roles with tags, inline policies and attached policies', async () => {
    const dir = await newTempDir();
    const file = join(dir, 'account.yaml');
    await writeFile(file, FIXTURE);
    const account = new FileIamAccount({ file: join(dir, 'iam.json') });

    expect(await seedIamAccountFromFile(account, file)).toEqual({
      created: ['analytics-consumer', 'ml-consumer'],
      skipped: [],
    });

    expect(await account.getRole('analytics-consumer')).toMatchObject({
      path: '/dmm/',
      tags: { 'dmm-aws/managed': 'true' },
    });
    const inline = await account.listInlinePolicies('analytics-consumer');
    expect(inline.map((p) => p.name)).toEqual(['as-json', 'existing-access']);
    expect(JSON.parse(inline[1]!.document)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }],
    });
    expect((await account.listAttachedPolicies('analytics-consumer')).map((p) => p.arn)).toEqual([
      'arn:aws:iam::123456789012:policy/team-extras',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
    ]);
    // Two roles sharing one customer-managed policy get the same policy.
    expect((await account.listAttachedPolicies('ml-consumer')).map((p) => p.arn)).toEqual([
      'arn:aws:iam::123456789012:policy/team-extras',
    ]);

    // Seeding again leaves existing roles alone.
    await account.deleteInlinePolicy('analytics-consumer', 'as-json');
    expect(await seedIamAccountFromFile(account, file)).toEqual({
      created: [],
      skipped: ['analytics-consumer', 'ml-consumer'],
    });
    expect(await account.listInlinePolicies('analytics-consumer')).toHaveLength(1);
  });

  it('names the file and field of a schema error', async () => {
    const file = join(await newTempDir(), 'bad.yaml');
    await writeFile(file, 'roles:\n  - name: ok\n  - path: /x/\n');
    await expect(loadAwsAccountFixture(file)).rejects.toThrow(`${file}: roles.1.name:`);
    expect(() => parseAwsAccountFixture('roles:\n  - name: r\n    tag: {}\n', 'f.yaml')).toThrow(
      /^f\.yaml: roles\.0: .*tag/,
    );
    expect(() => parseAwsAccountFixture('roles: [', 'f.yaml')).toThrow(/^f\.yaml: not valid YAML/);
    expect(() => parseAwsAccountFixture('roles:\n  - name: r\n    inlinePolicies: { p: 42 }\n', 'f.yaml')).toThrow(
      /^f\.yaml: roles\.0\.inlinePolicies\.p:/,
    );
  });

  it('treats an empty file as no roles', () => {
    expect(parseAwsAccountFixture('', 'empty.yaml')).toEqual({ roles: [] });
  });

  it('passes IAM refusals through with their code, naming the fixture and role', async () => {
    const fixture = parseAwsAccountFixture(
      'roles:\n  - name: r\n    inlinePolicies:\n      p: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject" }] }\n',
      'f.yaml',
    );
    const err = await seedIamAccount(new FileIamAccount(), fixture, 'f.yaml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IamError);
    expect((err as IamError).code).toBe('MalformedPolicyDocument');
    expect((err as IamError).message).toMatch(/^f\.yaml: roles\.0 \(r\): Policy statement must contain resources/);
  });

  it('refuses one customer-managed policy defined twice with different documents', async () => {
    const fixture = parseAwsAccountFixture(
      `roles:
  - name: a
    attachedPolicies: [{ name: shared, document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }] } }]
  - name: b
    attachedPolicies: [{ name: shared, document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:PutObject", Resource: "*" }] } }]
`,
      'f.yaml',
    );
    await expect(seedIamAccount(new FileIamAccount(), fixture, 'f.yaml')).rejects.toThrow(
      /roles\.1 \(b\): managed policy shared is defined again/,
    );
  });
});
