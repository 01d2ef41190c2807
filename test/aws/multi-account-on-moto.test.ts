/**
 * A hub over two member accounts on moto, through the real SDK clients and real STS: the hub
 * assumes each member's role (moto gives the assumed credentials the role's account, so IAM, S3
 * and KMS calls land in that member), writes the identity grant on the consumer role in account C
 * and the bucket and key policy statements in account P, and revokes both exactly. A grant within
 * one account writes only the identity side, and a refusal on P's side reports the agreement
 * failed until P has room again.
 */
import { randomInt } from 'node:crypto';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { assumedRoleCredentials } from '../../src/accounts/assume-role.js';
import { awsHub } from '../../src/accounts/aws-hub.js';
import { memberRoleArn, sessionNameOf } from '../../src/accounts/settings.js';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { createIamClient, createKmsClient, createS3Client, type AwsClientOptions } from '../../src/aws/clients.js';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { planJson } from '../../src/sync/plan-json.js';
import { type Change, reconcileAgreement, reconcileAll } from '../../src/sync/reconcile.js';
import { statementSid } from '../../src/targets/sid.js';
import { memoryLogger } from '../../src/util/log.js';
import { agreement, consumerProduct, dpsProduct, fastClient } from '../e2e/harness.js';
import { MOTO_ACCOUNT, REGION, motoOptions, motoS3, unique } from './moto.js';

const EXTERNAL_ID = 'dmm-aws-test-external-id';
const ROLE = { roleName: 'dmm-aws-member', rolePath: '/' };

/** A fresh account id per test, so parallel test files never share a member's roles. */
const newAccount = () => String(randomInt(100_000_000_000, 999_999_999_999));

/** The SDK options of a member account, through the same STS AssumeRole the hub makes. */
function memberOptions(account: string): AwsClientOptions {
  return {
    ...motoOptions(),
    credentials: assumedRoleCredentials({
      sts: new STSClient(motoOptions()),
      roleArn: memberRoleArn(ROLE, account),
      externalId: async () => EXTERNAL_ID,
      sessionName: 'test-setup',
    }),
  };
}

/** The member account a change is in, as the core names it. */
const accountOf = (c: Change): string | undefined => ('account' in c ? c.account : undefined);

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

interface World {
  ctx: SyncContext;
  sim: RunningSimulator;
  consumerIam: AwsIamAccount;
  providerS3: ReturnType<typeof createS3Client>;
  roleArn: string;
  bucket: string;
  keyArn: string;
  owner: Record<string, unknown>;
  consumer: string;
  provider: string;
}

async function world(options: { pairs?: { consumer: string; provider: string }[] } = {}): Promise<World> {
  const consumer = newAccount();
  const provider = newAccount();
  const path = `/${unique('consumers')}/`;
  const role = unique('analytics');
  const roleArn = `arn:aws:iam::${consumer}:role${path}${role}`;
  await createIamClient(memberOptions(consumer)).send(
    new CreateRoleCommand({
      RoleName: role,
      Path: path,
      AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
    }),
  );
  const providerS3 = createS3Client(memberOptions(provider));
  const bucket = unique('orders');
  await providerS3.send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  await providerS3.send(
    new PutBucketTaggingCommand({
      Bucket: bucket,
      Tagging: { TagSet: [{ Key: 'dmm:data-product', Value: 'orders' }] },
    }),
  );
  const owner = {
    Sid: 'OwnerKeepsAccess',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${provider}:root` },
    Action: 's3:*',
    Resource: `arn:aws:s3:::${bucket}`,
  };
  await providerS3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [owner] }),
    }),
  );
  const key = await createKmsClient(memberOptions(provider)).send(
    new CreateKeyCommand({ Tags: [{ TagKey: 'dmm:data-product', TagValue: 'orders' }] }),
  );
  const keyArn = key.KeyMetadata!.Arn!;
  // The agreement index lives in the hub's own account.
  const indexBucket = unique('hub-state');
  await motoS3().send(
    new CreateBucketCommand({ Bucket: indexBucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );

  const port = {
    id: 'orders-s3',
    name: 'orders-s3',
    type: 's3',
    custom: {
      'output-port-type': 's3_bucket',
      'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}`,
      'aws-kms-key-arn': keyArn,
    },
  };
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        dpsProduct('orders', { ports: [port] }),
        consumerProduct('analytics', { 'aws-role-arn': roleArn }),
      ],
      agreements: [agreement('agr-x', 'orders', 'orders-s3', { consumer: 'analytics' })],
    },
  });
  sims.push(sim);
  const guardrailSettings = { managedRolePath: path };
  const hub = awsHub({
    hubAccountId: MOTO_ACCOUNT,
    partition: 'aws',
    settings: {
      members: [consumer, provider],
      ...ROLE,
      ...(options.pairs ? { allowedAccountPairs: options.pairs } : {}),
    },
    guardrails: guardrailSettings,
    externalId: async () => EXTERNAL_ID,
    clientOptions: motoOptions(),
    readTags: true,
  });
  const ctx: SyncContext = {
    dmm: fastClient(sim.url, sim.apiKey),
    iam: new AwsIamAccount({ client: createIamClient(motoOptions()), accountId: MOTO_ACCOUNT, managedRolePath: path }),
    log: memoryLogger('debug'),
    guardrails: guardrailsFrom(MOTO_ACCOUNT, { ...guardrailSettings, allowedResourceAccounts: [consumer, provider] }),
    resolve: { accountId: MOTO_ACCOUNT, memberAccounts: [consumer, provider], partition: 'aws', defaultRegion: REGION },
    agreementIndex: new S3AgreementIndex({ client: motoS3(), bucket: indexBucket }),
    accounts: { directory: hub.directory, owners: hub.owners },
    resourcePolicies: hub.resourcePolicies,
    lakeFormation: hub.lakeFormation,
    ...(hub.resourceTags ? { resourceTags: hub.resourceTags } : {}),
  };
  const consumerIam = new AwsIamAccount({
    client: createIamClient(memberOptions(consumer)),
    accountId: consumer,
    managedRolePath: path,
  });
  return { ctx, sim, consumerIam, providerS3, roleArn, bucket, keyArn, owner, consumer, provider };
}

async function bucketStatements(w: World): Promise<{ Sid?: string; Principal?: unknown }[]> {
  const { Policy } = await w.providerS3.send(new GetBucketPolicyCommand({ Bucket: w.bucket }));
  return (JSON.parse(Policy!) as { Statement: { Sid?: string }[] }).Statement;
}

async function keyStatements(w: World): Promise<{ Sid?: string; Principal?: unknown }[]> {
  const { Policy } = await createKmsClient(memberOptions(w.provider)).send(
    new GetKeyPolicyCommand({ KeyId: w.keyArn, PolicyName: 'default' }),
  );
  return (JSON.parse(Policy!) as { Statement: { Sid?: string }[] }).Statement;
}

describe('a hub over member accounts on moto', () => {
  it('assumes the member role with the external ID and a session name naming the hub', async () => {
    const account = newAccount();
    const credentials = assumedRoleCredentials({
      sts: new STSClient(motoOptions()),
      roleArn: memberRoleArn(ROLE, account),
      externalId: async () => EXTERNAL_ID,
      sessionName: sessionNameOf(MOTO_ACCOUNT),
    });
    const identity = await new STSClient({ ...motoOptions(), credentials }).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(account);
    expect(identity.Arn).toBe(`arn:aws:sts::${account}:assumed-role/dmm-aws-member/dmm-aws-${MOTO_ACCOUNT}`);
    // Cached: the same session until shortly before it expires.
    expect(await credentials()).toBe(await credentials());
  });

  it('grants a consumer role in C a bucket and key in P on both sides, and revokes both exactly', async () => {
    const w = await world();
    w.sim.approve('agr-x');
    const granted = await reconcileAgreement(w.ctx, 'agr-x');
    expect([granted.decision, granted.effect], granted.diagnostic).toEqual(['grant', 'granted']);
    expect(granted.changes.map((c) => [c.target, c.action, accountOf(c)])).toEqual([
      ['identity-policy', 'put', w.consumer],
      ['resource-policy', 'put', w.provider],
      ['resource-policy', 'put', w.provider],
    ]);
    // The identity side is on the role in C (moto keeps each account's IAM apart).
    const role = w.roleArn.split('/').pop()!;
    expect((await w.consumerIam.listInlinePolicies(role)).map((p) => p.name)).toEqual(['dmm-aws-pack-1']);
    // The resource side names the consumer role, after the owner's statement.
    const bucketSide = await bucketStatements(w);
    expect(bucketSide[0]).toEqual(w.owner);
    expect(bucketSide.slice(1)).toEqual([
      {
        Sid: statementSid('agr-x', 1),
        Effect: 'Allow',
        Principal: { AWS: w.roleArn },
        Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject'],
        Resource: [`arn:aws:s3:::${w.bucket}`, `arn:aws:s3:::${w.bucket}/*`],
      },
    ]);
    const keySide = (await keyStatements(w)).filter((s) => s.Sid === statementSid('agr-x', 1));
    expect(keySide).toEqual([
      {
        Sid: statementSid('agr-x', 1),
        Effect: 'Allow',
        Principal: { AWS: w.roleArn },
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
      },
    ]);

    // Converged: a replay and a full plan change nothing, and the plan names each side's account.
    expect((await reconcileAgreement(w.ctx, 'agr-x')).changes).toEqual([]);
    const plan = await reconcileAll(w.ctx, { dryRun: true });
    expect(plan.changes).toEqual([]);
    expect(planJson(plan, false).agreements.find((a) => a.agreementId === 'agr-x')).toMatchObject({
      heldOnRoleArns: [w.roleArn],
      heldOnResources: expect.arrayContaining([`arn:aws:s3:::${w.bucket}`, w.keyArn]),
    });

    w.sim.deactivate('agr-x');
    const revoked = await reconcileAgreement(w.ctx, 'agr-x');
    expect([revoked.decision, revoked.effect]).toEqual(['revoke', 'revoked']);
    expect(await w.consumerIam.listInlinePolicies(role)).toEqual([]);
    expect(await bucketStatements(w)).toEqual([w.owner]);
    expect((await keyStatements(w)).some((s) => s.Sid?.startsWith('Dmm'))).toBe(false);
  });

  it('writes only the identity side when the bucket is in the consumer account', async () => {
    const w = await world();
    // The same port, but the consumer role is in P, the bucket's own account.
    const roleName = unique('local-reader');
    const path = w.roleArn.split(':role')[1]!.split('/').slice(0, -1).join('/');
    const localRole = `arn:aws:iam::${w.provider}:role${path}/${roleName}`;
    await createIamClient(memberOptions(w.provider)).send(
      new CreateRoleCommand({
        RoleName: roleName,
        Path: `${path}/`,
        AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    );
    w.sim.putDataProduct(consumerProduct('analytics', { 'aws-role-arn': localRole }));
    w.sim.approve('agr-x');
    const granted = await reconcileAgreement(w.ctx, 'agr-x');
    expect([granted.decision, granted.effect], granted.diagnostic).toEqual(['grant', 'granted']);
    expect(granted.changes.map((c) => [c.target, accountOf(c)])).toEqual([['identity-policy', w.provider]]);
    expect(await bucketStatements(w)).toEqual([w.owner]);
  });

  it("reports the agreement failed when P's side cannot be written, and grants it once P has room", async () => {
    const w = await world();
    // The owner's own statements leave no room for ours within S3's 20 KB bucket policy limit.
    const filler = Array.from({ length: 60 }, (_, i) => ({
      ...w.owner,
      Sid: `Owner${i}`,
      Resource: `arn:aws:s3:::${w.bucket}/owner-only-area-${'x'.repeat(200)}-${i}/*`,
    }));
    const full = { Version: '2012-10-17', Statement: [w.owner, ...filler] };
    await w.providerS3.send(new PutBucketPolicyCommand({ Bucket: w.bucket, Policy: JSON.stringify(full) }));
    w.sim.approve('agr-x');
    const failed = await reconcileAgreement(w.ctx, 'agr-x');
    expect(failed.decision).toBe('failed');
    expect(failed.diagnostic).toMatch(/bucket policy of arn:aws:s3:::.* has no room/);
    expect(failed.report).toBeDefined();
    expect((await bucketStatements(w)).some((s) => s.Sid?.startsWith('Dmm'))).toBe(false);

    // The owner makes room; the next attempt converges both sides.
    await w.providerS3.send(
      new PutBucketPolicyCommand({
        Bucket: w.bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [w.owner] }),
      }),
    );
    const retried = await reconcileAgreement(w.ctx, 'agr-x');
    expect(retried.decision, retried.diagnostic).toBe('grant');
    expect((await bucketStatements(w)).map((s) => s.Sid)).toEqual(['OwnerKeepsAccess', statementSid('agr-x', 1)]);
  });

  it('refuses a pair of accounts the allow-list does not name, and writes nothing', async () => {
    const w = await world({ pairs: [{ consumer: '999999999999', provider: '888888888888' }] });
    w.sim.approve('agr-x');
    const refused = await reconcileAgreement(w.ctx, 'agr-x');
    expect(refused.decision).toBe('failed');
    expect(refused.refusedBy).toBe('multiAccount');
    expect(refused.diagnostic).toContain(
      `consumer account ${w.consumer} may not receive data from account ${w.provider}`,
    );
    expect(refused.changes).toEqual([]);
    expect(await bucketStatements(w)).toEqual([w.owner]);
  });
});
