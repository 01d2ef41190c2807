/**
 * Members from AWS Organizations OUs and per-account Athena result locations, as configured
 * (environment, config file) and as resolved; the OU listing's cache with a controlled clock.
 * The listing against the real Organizations API: test/aws/organization-members-on-moto.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  OU_MEMBERS_MAX_STALE_MS,
  OU_MEMBERS_RETRY_MS,
  OU_MEMBERS_TTL_MS,
  OrganizationMembers,
} from '../../src/accounts/organizations.js';
import { multiAccountSettingsFromEnv, multiAccountSettingsSchema } from '../../src/accounts/settings.js';
import { loadConfig } from '../../src/config.js';
import { isOutage } from '../../src/interfaces/outage.js';
import {
  type EnvironmentError,
  functionIdentity,
  multiAccountSettingsOf,
  readEnvironment,
} from '../../src/lambda/environment.js';
import { createRuntime, createSyncContext } from '../../src/lambda/runtime.js';
import { readDataProduct } from '../../src/model/read-data-product.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { resolveAgreement } from '../../src/sync/resolve.js';

const HUB = '111111111111';
const C = '222222222222';
const OU = 'ou-ab12-cdef3456';
const CHILD = 'ou-ab12-99998888';

describe('settings: members from OUs, and query-result locations per consumer account', () => {
  it('reads the environment: OUs, the organizations role and the locations as JSON', () => {
    const settings = multiAccountSettingsSchema.parse(
      multiAccountSettingsFromEnv({
        DMM_MEMBER_ORGANIZATIONAL_UNITS: `${OU}, ${CHILD}`,
        DMM_ORGANIZATIONS_ROLE_ARN: `arn:aws:iam::${HUB}:role/dmm-aws-organizations-reader`,
        DMM_ATHENA_RESULTS_LOCATIONS: JSON.stringify({ [C]: 's3://analytics-athena-results/dmm/' }),
      }),
    );
    expect(settings).toMatchObject({
      members: [],
      organizationalUnits: [OU, CHILD],
      organizationsRoleArn: `arn:aws:iam::${HUB}:role/dmm-aws-organizations-reader`,
      athenaQueryResultsLocations: { [C]: 's3://analytics-athena-results/dmm/' },
    });
  });

  it('refuses malformed OU ids, locations and a hub without any member or OU, naming the setting', () => {
    const problems = (input: Record<string, unknown>) => {
      const parsed = multiAccountSettingsSchema.safeParse(input);
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ organizationalUnits: ['r-ab12'] })).toEqual([
      'organizationalUnits.0: must be an AWS Organizations OU id (ou-xxxx-xxxxxxxx)',
    ]);
    expect(problems({ members: [C], athenaQueryResultsLocations: { [C]: 'https://example.com/' } })).toEqual([
      `athenaQueryResultsLocations.${C}: must look like s3://bucket/prefix/`,
    ]);
    expect(problems({ members: [C], athenaQueryResultsLocations: { analytics: 's3://b/p/' } })).toEqual([
      'athenaQueryResultsLocations.analytics: must map 12-digit account ids to s3://bucket/prefix/ locations',
    ]);
    expect(problems({ members: [C], organizationsRoleArn: 'dmm-aws-organizations-reader' })).toEqual([
      'organizationsRoleArn: must be an IAM role ARN',
    ]);
    expect(problems({})).toEqual(['members: must list at least one member account or organizational unit']);
  });

  it('the Lambda functions are a hub with OUs alone, and then need the external ID secret', () => {
    const writer = {
      DMM_BASE_URL: 'https://api.entropy-data.com',
      DMM_API_KEY_SECRET_ARN: `arn:aws:secretsmanager:eu-central-1:${HUB}:secret:dmm-api-key-AbCdEf`,
      AWS_REGION: 'eu-central-1',
      STATE_BUCKET: 'state',
      DMM_MEMBER_ORGANIZATIONAL_UNITS: OU,
    };
    let problems: string[] = [];
    try {
      readEnvironment('reconcile', writer);
    } catch (error) {
      problems = (error as EnvironmentError).problems.map((p) => p.variable);
    }
    expect(problems).toEqual(['DMM_MEMBER_EXTERNAL_ID_SECRET_ARN']);
    const env = readEnvironment('reconcile', {
      ...writer,
      DMM_MEMBER_EXTERNAL_ID_SECRET_ARN: `arn:aws:secretsmanager:eu-central-1:${HUB}:secret:member-external-id-AbCdEf`,
    });
    expect(multiAccountSettingsOf(env)).toMatchObject({ members: [], organizationalUnits: [OU] });
    try {
      readEnvironment('reconcile', { ...writer, DMM_MEMBER_ORGANIZATIONAL_UNITS: 'ou-bad' });
    } catch (error) {
      problems = (error as EnvironmentError).problems.map((p) => `${p.variable} ${p.problem}`);
    }
    expect(problems).toContain('DMM_MEMBER_ORGANIZATIONAL_UNITS must be an AWS Organizations OU id (ou-xxxx-xxxxxxxx)');
  });

  it('the Lambda wiring hands the core the live member list and the per-account locations', async () => {
    const env = readEnvironment('reconcile', {
      DMM_BASE_URL: 'https://api.entropy-data.com',
      DMM_API_KEY_SECRET_ARN: `arn:aws:secretsmanager:eu-central-1:${HUB}:secret:dmm-api-key-AbCdEf`,
      AWS_REGION: 'eu-central-1',
      STATE_BUCKET: 'state',
      DMM_MEMBER_ACCOUNTS: C,
      DMM_MEMBER_ORGANIZATIONAL_UNITS: OU,
      DMM_MEMBER_EXTERNAL_ID_SECRET_ARN: `arn:aws:secretsmanager:eu-central-1:${HUB}:secret:member-external-id-AbCdEf`,
      DMM_ATHENA_RESULTS_LOCATIONS: JSON.stringify({ [C]: 's3://analytics-athena-results/dmm/' }),
    });
    const identity = functionIdentity(`arn:aws:lambda:eu-central-1:${HUB}:function:dmm-aws-reconcile`);
    const ctx = createSyncContext(createRuntime(env, []), env, identity);
    expect(ctx.resolve.athenaQueryResultsLocations).toEqual({ [C]: 's3://analytics-athena-results/dmm/' });
    expect(ctx.resolve.memberAccounts).toEqual([C]);
    // One array: what refresh adds to the members, the guardrails and resolve options see.
    expect(ctx.guardrails?.allowedResourceAccounts).toBe(ctx.resolve.memberAccounts);
    expect(ctx.accounts?.refresh).toBeTypeOf('function');
  });

  it('the CLI reads them from the config file section multiAccount', () => {
    const config = loadConfig({
      env: {
        DMM_AWS_TARGET: 'aws',
        DMM_MEMBER_ORGANIZATIONAL_UNITS: OU,
        DMM_MEMBER_EXTERNAL_ID: 'ext-123',
        DMM_ATHENA_RESULTS_LOCATIONS: JSON.stringify({ [C]: 's3://analytics-athena-results/' }),
      },
      cwd: '/tmp',
    });
    expect(config.multiAccount).toMatchObject({
      organizationalUnits: [OU],
      athenaQueryResultsLocations: { [C]: 's3://analytics-athena-results/' },
    });
  });
});

describe('the Athena query-result location of a consumer account', () => {
  const provider = readDataProduct({
    id: 'orders',
    info: { title: 'Orders', owner: 'sales' },
    outputPorts: [
      {
        id: 'orders-glue',
        name: 'Orders table',
        type: 'glue',
        server: { account: HUB, database: 'sales', table: 'orders', location: 's3://acme-lake/sales/orders/' },
      },
    ],
  });
  const consumerIn = (account: string) =>
    readDataProduct({
      id: 'analytics',
      info: { title: 'Analytics', owner: 'bi' },
      custom: { 'aws-role-arn': `arn:aws:iam::${account}:role/analytics-reader` },
    });
  const resultResources = async (account: string, shared = false): Promise<string[]> => {
    const products = new Map([
      ['orders', provider],
      ['analytics', consumerIn(account)],
    ]);
    const resolution = await resolveAgreement(
      {
        id: 'agr-1',
        status: 'approved',
        active: true,
        provider: { dataProductId: 'orders', outputPortId: 'orders-glue' },
        consumer: { dataProductId: 'analytics' },
        tags: [],
        custom: {},
        raw: {},
      },
      { getDataProduct: async (id: string) => products.get(id) },
      {
        accountId: HUB,
        memberAccounts: [HUB, C],
        defaultRegion: 'eu-central-1',
        defaultAthenaWorkgroup: 'primary',
        athenaQueryResultsLocation: 's3://hub-athena-results/consumers/',
        athenaQueryResultsLocations: { [C]: 's3://analytics-athena-results/dmm/' },
        ...(shared ? { athenaResultsShared: true } : {}),
      },
    );
    if (resolution.kind !== 'grant') throw new Error(JSON.stringify(resolution));
    const shared_ = resolution.grant.grants.flatMap((g) =>
      g.target === 'identity-policy' ? ((g as { shared?: PolicyStatement[] }).shared ?? []) : [],
    );
    return shared_
      .filter((s) => [s.Action].flat().includes('s3:PutObject'))
      .flatMap((s) => [s.Resource ?? []].flat() as string[]);
  };

  it("a role in a listed account writes to its account's location, in its own folder", async () => {
    expect(await resultResources(C)).toEqual([
      'arn:aws:s3:::analytics-athena-results',
      'arn:aws:s3:::analytics-athena-results/dmm/analytics-reader/*',
    ]);
  });

  it('a role in another account keeps glue.athenaQueryResultsLocation', async () => {
    expect(await resultResources(HUB)).toEqual([
      'arn:aws:s3:::hub-athena-results',
      'arn:aws:s3:::hub-athena-results/consumers/analytics-reader/*',
    ]);
  });

  it('athenaResultsShared grants the account location itself', async () => {
    expect(await resultResources(C, true)).toEqual([
      'arn:aws:s3:::analytics-athena-results',
      'arn:aws:s3:::analytics-athena-results/dmm/*',
    ]);
  });
});

describe('the OU listing cache', () => {
  function cache(outcomes: (string[] | Error)[]) {
    const clock = { now: 1_000_000 };
    let calls = 0;
    const members = new OrganizationMembers({
      organizationalUnits: [OU],
      now: () => clock.now,
      list: async () => {
        const next = outcomes[Math.min(calls++, outcomes.length - 1)]!;
        if (next instanceof Error) throw next;
        return next;
      },
    });
    return { members, clock, calls: () => calls };
  }

  it('lists once per TTL, and concurrent callers share one listing', async () => {
    const c = cache([[C], [C, HUB]]);
    expect(await Promise.all([c.members.current(), c.members.current()])).toEqual([[C], [C]]);
    c.clock.now += OU_MEMBERS_TTL_MS - 1;
    expect(await c.members.current()).toEqual([C]);
    expect(c.calls()).toBe(1);
    c.clock.now += 1;
    expect(await c.members.current()).toEqual([C, HUB]);
    expect(c.calls()).toBe(2);
  });

  it('after a failure, the last listing stands in, asked again only after a pause, until it is too old', async () => {
    const c = cache([[C], new Error('Throttling'), new Error('Throttling')]);
    await c.members.current();
    c.clock.now += OU_MEMBERS_TTL_MS;
    expect(await c.members.current()).toEqual([C]);
    expect(c.calls()).toBe(2);
    c.clock.now += OU_MEMBERS_RETRY_MS - 1;
    expect(await c.members.current()).toEqual([C]);
    expect(c.calls()).toBe(2);
    c.clock.now += 1;
    await c.members.current();
    expect(c.calls()).toBe(3);
    c.clock.now += OU_MEMBERS_MAX_STALE_MS;
    const error = await c.members.current().catch((e: unknown) => e);
    expect(isOutage(error)).toBe(true);
    expect(String(error)).toContain(
      `the member accounts of organizational unit ${OU} are unknown: listing them failed (Throttling)`,
    );
  });

  it('recovers at the first good listing after an outage', async () => {
    const c = cache([new Error('AccessDenied'), [C]]);
    expect(isOutage(await c.members.current().catch((e: unknown) => e))).toBe(true);
    // Not asked again at once: every event of an outage would call Organizations.
    expect(isOutage(await c.members.current().catch((e: unknown) => e))).toBe(true);
    expect(c.calls()).toBe(1);
    c.clock.now += OU_MEMBERS_RETRY_MS;
    expect(await c.members.current()).toEqual([C]);
  });
});
