/**
 * A hub whose members are the accounts of an AWS Organizations OU, on moto with the real
 * Organizations, STS, IAM and S3 clients: the hub lists the OU (nested OUs included) through a
 * role in the management account, grants across the OU's accounts, notices an account moved out
 * once the listing's TTL is over, and never treats a failed listing as "no members".
 */
import { randomInt } from 'node:crypto';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationCommand,
  CreateOrganizationalUnitCommand,
  DeleteOrganizationalUnitCommand,
  ListRootsCommand,
  MoveAccountCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketTaggingCommand } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { assumedRoleCredentials } from '../../src/accounts/assume-role.js';
import { type AwsHub, awsHub } from '../../src/accounts/aws-hub.js';
import { OU_MEMBERS_MAX_STALE_MS, OU_MEMBERS_TTL_MS } from '../../src/accounts/organizations.js';
import { memberRoleArn } from '../../src/accounts/settings.js';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import {
  type AwsClientOptions,
  createIamClient,
  createOrganizationsClient,
  createS3Client,
} from '../../src/aws/clients.js';
import { AwsIamAccount } from '../../src/aws/iam-account.js';
import { isOutage } from '../../src/interfaces/outage.js';
import { type RunningSimulator, startSimulator } from '../../src/simulator/server.js';
import type { SyncContext } from '../../src/sync/context.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { type Change, reconcileAgreement, reconcileAll } from '../../src/sync/reconcile.js';
import { statementSid } from '../../src/targets/sid.js';
import { memoryLogger } from '../../src/util/log.js';
import { agreement, consumerProduct, dpsProduct, fastClient } from '../e2e/harness.js';
import { MOTO_ACCOUNT, REGION, motoOptions, motoS3, unique } from './moto.js';

const EXTERNAL_ID = 'dmm-aws-test-external-id';
const ROLE = { roleName: 'dmm-aws-member', rolePath: '/' };
const ORGANIZATIONS_ROLE = 'dmm-aws-organizations-reader';

/** moto keeps one organization per management account: a fresh one per test. */
const newAccount = () => String(randomInt(100_000_000_000, 999_999_999_999));

function assumed(roleArn: string): AwsClientOptions {
  return {
    ...motoOptions(),
    credentials: assumedRoleCredentials({
      sts: new STSClient(motoOptions()),
      roleArn,
      externalId: async () => EXTERNAL_ID,
      sessionName: 'test-setup',
    }),
  };
}

const memberOptions = (account: string) => assumed(memberRoleArn(ROLE, account));

interface Organization {
  org: OrganizationsClient;
  management: string;
  root: string;
  /** The configured OU, and one nested in it. */
  ou: string;
  nested: string;
  consumer: string;
  provider: string;
  /** An account of the organization outside the OU. */
  outsider: string;
  /** A closed (SUSPENDED) account in the OU. */
  closed: string;
}

async function organization(): Promise<Organization> {
  const management = newAccount();
  const org = createOrganizationsClient(assumed(`arn:aws:iam::${management}:role/${ORGANIZATIONS_ROLE}`));
  await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const root = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  const unit = async (parent: string, name: string) =>
    (await org.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name }))).OrganizationalUnit!.Id!;
  const account = async (name: string) =>
    (await org.send(new CreateAccountCommand({ AccountName: name, Email: `${unique(name)}@example.com` })))
      .CreateAccountStatus!.AccountId!;
  const ou = await unit(root, 'data-domains');
  const nested = await unit(ou, 'analytics');
  const consumer = await account('analytics');
  const provider = await account('sales');
  const outsider = await account('sandbox');
  const closed = await account('retired');
  // The consumer sits in the nested OU: it is a member because the listing follows nested OUs.
  await org.send(new MoveAccountCommand({ AccountId: consumer, SourceParentId: root, DestinationParentId: nested }));
  await org.send(new MoveAccountCommand({ AccountId: provider, SourceParentId: root, DestinationParentId: ou }));
  await org.send(new MoveAccountCommand({ AccountId: closed, SourceParentId: root, DestinationParentId: ou }));
  await org.send(new CloseAccountCommand({ AccountId: closed }));
  return { org, management, root, ou, nested, consumer, provider, outsider, closed };
}

const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

interface World {
  o: Organization;
  hub: AwsHub;
  ctx: SyncContext;
  log: ReturnType<typeof memoryLogger>;
  clock: { now: number };
  providerS3: ReturnType<typeof createS3Client>;
  roleArn: string;
  bucket: string;
}

async function world(
  o: Organization,
  units: string[] = [o.ou],
  externalId: () => Promise<string> = async () => EXTERNAL_ID,
): Promise<World> {
  const path = `/${unique('consumers')}/`;
  const role = unique('analytics');
  const roleArn = `arn:aws:iam::${o.consumer}:role${path}${role}`;
  await createIamClient(memberOptions(o.consumer)).send(
    new CreateRoleCommand({
      RoleName: role,
      Path: path,
      AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
    }),
  );
  const providerS3 = createS3Client(memberOptions(o.provider));
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
  const indexBucket = unique('hub-state');
  await motoS3().send(
    new CreateBucketCommand({ Bucket: indexBucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  const port = {
    id: 'orders-s3',
    name: 'orders-s3',
    type: 's3',
    custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::${bucket}` },
  };
  const sim = await startSimulator({
    port: 0,
    mesh: {
      dataProducts: [
        dpsProduct('orders', { ports: [port] }),
        consumerProduct('analytics', { 'aws-role-arn': roleArn }),
      ],
      agreements: [agreement('agr-ou', 'orders', 'orders-s3', { consumer: 'analytics' })],
    },
  });
  sims.push(sim);
  const clock = { now: Date.now() };
  const log = memoryLogger('debug');
  const guardrailSettings = { managedRolePath: path };
  const hub = awsHub({
    hubAccountId: MOTO_ACCOUNT,
    partition: 'aws',
    settings: {
      members: [],
      organizationalUnits: units,
      organizationsRoleArn: `arn:aws:iam::${o.management}:role/${ORGANIZATIONS_ROLE}`,
      ...ROLE,
    },
    guardrails: guardrailSettings,
    externalId,
    clientOptions: motoOptions(),
    readTags: true,
    log,
    now: () => clock.now,
  });
  // Wired as src/lambda/runtime.ts wires it: the members' array itself, which refresh keeps current.
  const ctx: SyncContext = {
    dmm: fastClient(sim.url, sim.apiKey),
    iam: new AwsIamAccount({ client: createIamClient(motoOptions()), accountId: MOTO_ACCOUNT, managedRolePath: path }),
    log,
    guardrails: guardrailsFrom(MOTO_ACCOUNT, { ...guardrailSettings, allowedResourceAccounts: hub.memberIds }),
    resolve: { accountId: MOTO_ACCOUNT, memberAccounts: hub.memberIds, partition: 'aws', defaultRegion: REGION },
    agreementIndex: new S3AgreementIndex({ client: motoS3(), bucket: indexBucket }),
    accounts: hub,
    resourcePolicies: hub.resourcePolicies,
    lakeFormation: hub.lakeFormation,
    ...(hub.resourceTags ? { resourceTags: hub.resourceTags } : {}),
  };
  sim.approve('agr-ou');
  return { o, hub, ctx, log, clock, providerS3, roleArn, bucket };
}

async function bucketSids(w: World): Promise<string[]> {
  try {
    const { Policy } = await w.providerS3.send(new GetBucketPolicyCommand({ Bucket: w.bucket }));
    return (JSON.parse(Policy!) as { Statement: { Sid?: string }[] }).Statement.map((s) => s.Sid ?? '');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucketPolicy') return [];
    throw error;
  }
}

const accountOf = (c: Change): string | undefined => ('account' in c ? c.account : undefined);

describe('members from an AWS Organizations OU, on moto', () => {
  it("the OU's ACTIVE accounts, nested OUs included, become members and are granted on both sides", async () => {
    const o = await organization();
    const w = await world(o);
    const granted = await reconcileAgreement(w.ctx, 'agr-ou');
    expect([granted.decision, granted.effect], granted.diagnostic).toEqual(['grant', 'granted']);
    expect(granted.changes.map((c) => [c.target, accountOf(c)])).toEqual([
      ['identity-policy', o.consumer],
      ['resource-policy', o.provider],
    ]);
    expect([...w.hub.memberIds].sort()).toEqual([o.consumer, o.provider].sort());
    // Not an account outside the OU, nor a closed one inside it.
    expect(w.hub.memberIds).not.toContain(o.outsider);
    expect(w.hub.memberIds).not.toContain(o.closed);
    expect(await bucketSids(w)).toEqual([statementSid('agr-ou', 1)]);
  });

  it('an account moved out of the OU stops being a member once the listing is older than its TTL', async () => {
    const o = await organization();
    const w = await world(o);
    expect((await reconcileAgreement(w.ctx, 'agr-ou')).decision).toBe('grant');
    await o.org.send(
      new MoveAccountCommand({ AccountId: o.consumer, SourceParentId: o.nested, DestinationParentId: o.root }),
    );

    // Within the TTL the listing is not asked again: still a member, nothing changes.
    w.clock.now += OU_MEMBERS_TTL_MS - 1_000;
    const cached = await reconcileAgreement(w.ctx, 'agr-ou');
    expect([cached.decision, cached.changes]).toEqual(['grant', []]);

    w.clock.now += 2_000;
    const refused = await reconcileAgreement(w.ctx, 'agr-ou');
    expect(refused.decision).toBe('failed');
    expect(refused.diagnostic).toContain(
      `is a role in account ${o.consumer}, but this tool manages roles in the member accounts ${o.provider}`,
    );
    expect(w.hub.memberIds).toEqual([o.provider]);
    // The provider, still a member, no longer lets the departed account's role in.
    expect(await bucketSids(w)).toEqual([]);

    // Moved back in: a member again at the next listing, and granted again.
    await o.org.send(
      new MoveAccountCommand({ AccountId: o.consumer, SourceParentId: o.root, DestinationParentId: o.ou }),
    );
    w.clock.now += OU_MEMBERS_TTL_MS;
    expect((await reconcileAgreement(w.ctx, 'agr-ou')).decision).toBe('grant');
    expect(await bucketSids(w)).toEqual([statementSid('agr-ou', 1)]);
  });

  it('an account in the OU whose member role cannot be assumed yet joins once it can, and blocks nobody meanwhile', async () => {
    const o = await organization();
    let roleDeployed = true;
    const w = await world(o, [o.ou], async () => {
      // The member session of a new account starts here; the others' sessions are cached.
      if (!roleDeployed) throw new Error('AccessDenied: not authorized to perform sts:AssumeRole');
      return EXTERNAL_ID;
    });
    expect((await reconcileAgreement(w.ctx, 'agr-ou')).decision).toBe('grant');
    const created = await o.org.send(
      new CreateAccountCommand({ AccountName: 'marketing', Email: `${unique('marketing')}@example.com` }),
    );
    const fresh = created.CreateAccountStatus!.AccountId!;
    await o.org.send(new MoveAccountCommand({ AccountId: fresh, SourceParentId: o.root, DestinationParentId: o.ou }));

    roleDeployed = false;
    w.clock.now += OU_MEMBERS_TTL_MS;
    const meanwhile = await reconcileAll(w.ctx);
    expect(meanwhile.outcomes.map((outcome) => [outcome.agreementId, outcome.decision])).toEqual([['agr-ou', 'grant']]);
    expect(w.hub.memberIds).not.toContain(fresh);
    expect(w.log.entries.find((e) => e.level === 'warn' && e.fields['account'] === fresh)?.message).toMatch(
      /not a member yet: its member role cannot be assumed/,
    );

    // Its StackSet instance has deployed the role: a member at the next try (once per TTL).
    roleDeployed = true;
    await reconcileAgreement(w.ctx, 'agr-ou');
    expect(w.hub.memberIds).not.toContain(fresh);
    w.clock.now += OU_MEMBERS_TTL_MS;
    await reconcileAgreement(w.ctx, 'agr-ou');
    expect([...w.hub.memberIds].sort()).toEqual([o.consumer, o.provider, fresh].sort());
  });

  it('a failed listing keeps the last known members (no revocation), and is an outage once they are too old', async () => {
    const o = await organization();
    const empty = (await o.org.send(new CreateOrganizationalUnitCommand({ ParentId: o.root, Name: 'retired' })))
      .OrganizationalUnit!.Id!;
    const w = await world(o, [o.ou, empty]);
    expect((await reconcileAgreement(w.ctx, 'agr-ou')).decision).toBe('grant');

    // One configured OU is gone: every listing fails from now on.
    await o.org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: empty }));
    w.clock.now += OU_MEMBERS_TTL_MS + 1_000;
    const kept = await reconcileAgreement(w.ctx, 'agr-ou');
    expect([kept.decision, kept.changes]).toEqual(['grant', []]);
    expect(await bucketSids(w)).toEqual([statementSid('agr-ou', 1)]);
    expect(
      w.log.entries.some((e) => e.level === 'warn' && /listing the member accounts .* failed/.test(e.message)),
    ).toBe(true);

    // After the longest a listing may stand in: the unit of work stops as an outage, nothing is decided.
    w.clock.now += OU_MEMBERS_MAX_STALE_MS;
    const outage = await reconcileAgreement(w.ctx, 'agr-ou').catch((error: unknown) => error);
    expect(isOutage(outage), String(outage)).toBe(true);
    expect(String(outage)).toContain(`organizational units ${o.ou}, ${empty}`);
    expect(await bucketSids(w)).toEqual([statementSid('agr-ou', 1)]);
  });

  it('without any good listing, the first unit of work is an outage, not a refusal', async () => {
    const o = await organization();
    // A management account without an organization: Organizations refuses every listing.
    const w = await world({ ...o, management: newAccount() });
    const outage = await reconcileAgreement(w.ctx, 'agr-ou').catch((error: unknown) => error);
    expect(isOutage(outage), String(outage)).toBe(true);
    expect(await bucketSids(w)).toEqual([]);
  });

  it("the hub's own account in the OU is a member only when listed in members", async () => {
    const o = await organization();
    const hubOf = (members: string[]) =>
      awsHub({
        hubAccountId: o.consumer,
        partition: 'aws',
        settings: {
          members,
          organizationalUnits: [o.ou],
          organizationsRoleArn: `arn:aws:iam::${o.management}:role/${ORGANIZATIONS_ROLE}`,
          ...ROLE,
        },
        guardrails: {},
        externalId: async () => EXTERNAL_ID,
        clientOptions: motoOptions(),
        readTags: false,
      });
    const implicit = hubOf([]);
    await implicit.refresh!();
    expect(implicit.memberIds).toEqual([o.provider]);
    const listed = hubOf([o.consumer]);
    await listed.refresh!();
    expect(listed.memberIds).toEqual([o.consumer, o.provider]);
  });
});
