/** The environment contract of ADR 0003: defaults, and errors that name every bad variable. */
import { describe, expect, it } from 'vitest';
import { S3AgreementIndex } from '../../src/aws/agreement-index.js';
import { AwsResourceTagReader } from '../../src/aws/resource-tags.js';
import { EnvironmentError, functionIdentity, readEnvironment } from '../../src/lambda/environment.js';
import { handler as pollFeed } from '../../src/lambda/poll-feed.js';
import { createProcessEventsHandler } from '../../src/lambda/process-events.js';
import { createReconcileHandler } from '../../src/lambda/reconcile.js';
import { createRuntime, createSyncContext } from '../../src/lambda/runtime.js';
import { AwsLakeFormationPermissions } from '../../src/aws/lake-formation.js';
import { ALWAYS_PROTECTED_ROLES, defaultGuardrails } from '../../src/sync/guardrails.js';
import { lambdaContext, scheduledEvent } from './helpers.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:dmm-api-key-AbCdEf';
const common = {
  DMM_BASE_URL: 'https://api.entropy-data.com',
  DMM_API_KEY_SECRET_ARN: SECRET_ARN,
  AWS_REGION: 'eu-central-1',
};
/** What the functions that write IAM need besides: the state bucket holding the agreement index. */
const writer = { ...common, STATE_BUCKET: 'state' };

function problemsOf(run: () => unknown): Record<string, string> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return Object.fromEntries((error as EnvironmentError).problems.map((p) => [p.variable, p.problem]));
  }
  throw new Error('expected an EnvironmentError');
}

describe('environment', () => {
  it('fills in the defaults of the contract', () => {
    const env = readEnvironment('poll-feed', {
      ...common,
      EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/dmm-aws-events.fifo',
      STATE_BUCKET: 'state',
    });
    expect(env).toMatchObject({
      DMM_API_GENERATION: 'auto',
      CHECKPOINT_KEY: 'checkpoint/last-event-id.json',
      POLL_REPEAT_SECONDS: 0,
      POWERTOOLS_SERVICE_NAME: 'dmm-aws',
      POWERTOOLS_METRICS_NAMESPACE: 'dmm-aws',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const reconcile = readEnvironment('reconcile', { ...writer, DMM_ATHENA_RESULTS_LOCATION: '' });
    expect(reconcile).toMatchObject({ MANAGED_ROLE_PATH: '/', AGREEMENT_INDEX_PREFIX: 'index/agreements/' });
    // No implicit workgroup: a Glue port naming none is refused unless the operator sets one.
    expect(reconcile.DMM_ATHENA_WORKGROUP).toBeUndefined();
    // No data contract server filter unless the operator sets one (then it is read, trimmed).
    expect(reconcile.DMM_DATA_CONTRACT_SERVER).toBeUndefined();
    expect(reconcile.DMM_DATA_CONTRACT_ENVIRONMENT).toBeUndefined();
    expect(
      readEnvironment('reconcile', {
        ...writer,
        DMM_DATA_CONTRACT_SERVER: ' lake-eu ',
        DMM_DATA_CONTRACT_ENVIRONMENT: 'prod',
      }),
    ).toMatchObject({ DMM_DATA_CONTRACT_SERVER: 'lake-eu', DMM_DATA_CONTRACT_ENVIRONMENT: 'prod' });
    expect(
      readEnvironment('process-events', { ...writer, MAX_RECEIVE_COUNT: '5', POWERTOOLS_LOG_LEVEL: 'debug' }),
    ).toMatchObject({ MAX_RECEIVE_COUNT: 5, POWERTOOLS_LOG_LEVEL: 'DEBUG', MAX_BATCH_EVENTS: 10 });
    expect(
      readEnvironment('process-events', { ...writer, MAX_RECEIVE_COUNT: '5', MAX_BATCH_EVENTS: '100' }),
    ).toMatchObject({ MAX_BATCH_EVENTS: 100 });
    for (const bad of ['0', '1001', 'many'])
      expect(
        problemsOf(() =>
          readEnvironment('process-events', { ...writer, MAX_RECEIVE_COUNT: '5', MAX_BATCH_EVENTS: bad }),
        ),
        bad,
      ).toEqual({ MAX_BATCH_EVENTS: 'must be a whole number from 1 to 1000' });
  });

  it('names every missing variable at once', () => {
    const problems = problemsOf(() => readEnvironment('poll-feed', { POLL_REPEAT_SECONDS: '' }));
    expect(problems).toEqual({
      DMM_BASE_URL: 'is not set',
      DMM_API_KEY_SECRET_ARN: 'is not set',
      AWS_REGION: 'is not set',
      EVENT_QUEUE_URL: 'is not set',
      STATE_BUCKET: 'is not set',
    });
    expect(problemsOf(() => readEnvironment('process-events', common))).toEqual({
      STATE_BUCKET: 'is not set',
      MAX_RECEIVE_COUNT: 'is not set',
    });
    expect(problemsOf(() => readEnvironment('reconcile', common))).toEqual({ STATE_BUCKET: 'is not set' });
  });

  it('names every bad variable with what it must be', () => {
    const problems = problemsOf(() =>
      readEnvironment('process-events', {
        DMM_BASE_URL: 'api.entropy-data.com',
        DMM_API_KEY_SECRET_ARN: 'the-api-key-itself',
        DMM_API_GENERATION: 'v2',
        AWS_REGION: 'eu-central-1',
        MAX_RECEIVE_COUNT: '0',
        MANAGED_ROLE_PATH: 'data-products',
        DMM_ATHENA_RESULTS_LOCATION: 'bucket/prefix',
        POWERTOOLS_LOG_LEVEL: 'loud',
        STATE_BUCKET: 'state',
        AGREEMENT_INDEX_PREFIX: '/index',
      }),
    );
    expect(Object.keys(problems).sort()).toEqual([
      'AGREEMENT_INDEX_PREFIX',
      'DMM_API_GENERATION',
      'DMM_API_KEY_SECRET_ARN',
      'DMM_ATHENA_RESULTS_LOCATION',
      'DMM_BASE_URL',
      'MANAGED_ROLE_PATH',
      'MAX_RECEIVE_COUNT',
      'POWERTOOLS_LOG_LEVEL',
    ]);
    expect(problems.MAX_RECEIVE_COUNT).toMatch(/whole number, 1 or more/);
    expect(problems.MANAGED_ROLE_PATH).toMatch(/starts and ends with \//);
    expect(problems.AGREEMENT_INDEX_PREFIX).toMatch(/key prefix ending in \//);
    expect(
      problemsOf(() =>
        readEnvironment('poll-feed', {
          ...common,
          EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/standard',
          STATE_BUCKET: 's',
          POLL_REPEAT_SECONDS: '1.5',
        }),
      ),
    ).toEqual({
      EVENT_QUEUE_URL: 'must be a FIFO queue URL (ending in .fifo)',
      POLL_REPEAT_SECONDS: 'must be a whole number of seconds, 0 or more',
    });
  });

  it('fails the invocation with the error, naming the function and the variables', async () => {
    const processEvents = createProcessEventsHandler({ ...writer, MAX_RECEIVE_COUNT: 'five' });
    await expect(processEvents({ Records: [] }, lambdaContext())).rejects.toThrow(
      /^The process-events function is misconfigured: MAX_RECEIVE_COUNT must be a whole number, 1 or more .*docs\/adr\/0003/,
    );
    const reconcile = createReconcileHandler({});
    await expect(reconcile({}, lambdaContext())).rejects.toThrow(
      /DMM_BASE_URL is not set; DMM_API_KEY_SECRET_ARN is not set; AWS_REGION is not set/,
    );
  });

  it("reads the exported handler's environment from process.env", async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['DMM_BASE_URL', 'DMM_API_KEY_SECRET_ARN', 'EVENT_QUEUE_URL', 'STATE_BUCKET'])
        delete process.env[name];
      await expect(pollFeed(scheduledEvent('dmm-aws-poll-feed'), lambdaContext())).rejects.toMatchObject({
        name: 'EnvironmentError',
        variables: expect.arrayContaining([
          'DMM_BASE_URL',
          'DMM_API_KEY_SECRET_ARN',
          'EVENT_QUEUE_URL',
          'STATE_BUCKET',
        ]),
      });
    } finally {
      process.env = saved;
    }
  });

  it('takes the managed account from the function ARN', () => {
    expect(functionIdentity('arn:aws:lambda:eu-central-1:123456789012:function:dmm-aws-process-events')).toEqual({
      partition: 'aws',
      region: 'eu-central-1',
      accountId: '123456789012',
      functionName: 'dmm-aws-process-events',
    });
    expect(functionIdentity('arn:aws-cn:lambda:cn-north-1:210987654321:function:dmm-aws-reconcile:live')).toMatchObject(
      { partition: 'aws-cn', accountId: '210987654321' },
    );
    expect(() => functionIdentity('dmm-aws-reconcile')).toThrow(/not a Lambda function ARN/);
  });
});

describe('Glue governance (DMM_GLUE_TABLES_GOVERNED_BY)', () => {
  const identity = functionIdentity('arn:aws:lambda:eu-central-1:123456789012:function:dmm-aws-reconcile');

  it('unset or "iam": IAM grants, no Lake Formation adapter; "lake-formation": the adapter is wired', () => {
    for (const value of [undefined, 'iam']) {
      const env = readEnvironment('reconcile', { ...writer, ...(value ? { DMM_GLUE_TABLES_GOVERNED_BY: value } : {}) });
      const ctx = createSyncContext(createRuntime(env, []), env, identity);
      expect(ctx.resolve.glueTablesGovernedBy).toBe('iam');
      expect(ctx.lakeFormation).toBeUndefined();
    }
    const env = readEnvironment('process-events', {
      ...writer,
      MAX_RECEIVE_COUNT: '5',
      DMM_GLUE_TABLES_GOVERNED_BY: 'lake-formation',
    });
    const ctx = createSyncContext(createRuntime(env, []), env, identity);
    expect(ctx.resolve.glueTablesGovernedBy).toBe('lake-formation');
    expect(ctx.lakeFormation).toBeInstanceOf(AwsLakeFormationPermissions);
    expect(() => readEnvironment('reconcile', { ...writer, DMM_GLUE_TABLES_GOVERNED_BY: 'lf' })).toThrow(
      /DMM_GLUE_TABLES_GOVERNED_BY/,
    );
  });
});

describe('guardrail variables (process-events, reconcile)', () => {
  const identity = functionIdentity('arn:aws:lambda:eu-central-1:123456789012:function:dmm-aws-reconcile');

  it('unset (or "", as Terraform writes an unset variable): the code\'s defaults over MANAGED_ROLE_PATH, ownership proof on with the AWS tag reader', () => {
    const env = readEnvironment('reconcile', {
      ...writer,
      MANAGED_ROLE_PATH: '/data-products/',
      DMM_REQUIRED_ROLE_TAG: '',
      DMM_PROTECTED_ROLES: '',
    });
    const ctx = createSyncContext(createRuntime(env, []), env, identity);
    expect(ctx.guardrails).toEqual({ ...defaultGuardrails('123456789012'), managedRolePath: '/data-products/' });
    expect(ctx.guardrails?.ownership).toEqual({ mode: 'required', productTagKey: 'dmm:data-product', allowList: [] });
    expect(ctx.resourceTags).toBeInstanceOf(AwsResourceTagReader);
    expect(ctx.agreementIndex).toBeInstanceOf(S3AgreementIndex);
    expect(ctx.agreementIndex).toMatchObject({ bucket: 'state', prefix: 'index/agreements/' });
  });

  it("set: each reaches the SyncContext's guardrails, and ownership proof gets the AWS tag reader", () => {
    const env = readEnvironment('process-events', {
      ...writer,
      AGREEMENT_INDEX_PREFIX: 'dmm/index/',
      MAX_RECEIVE_COUNT: '5',
      DMM_REQUIRED_ROLE_TAG: 'dmm-aws:managed=true',
      DMM_PROTECTED_ROLES: 'dmm-aws-poll-feed, break-glass,platform-*',
      DMM_ALLOWED_RESOURCE_ACCOUNTS: '123456789012,444455556666',
      DMM_OWNERSHIP_TAG_KEY: 'dmm:product',
      DMM_OWNERSHIP_TEAM_TAG_KEY: 'dmm:team',
      DMM_OWNERSHIP_ALLOW_LIST: JSON.stringify([
        { dataProduct: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*'] },
        { team: 'sales', resources: ['arn:aws:glue:eu-central-1:123456789012:table/sales/*'] },
      ]),
      DMM_MAX_STATEMENTS_PER_AGREEMENT: '8',
      DMM_MAX_RESOURCES_PER_AGREEMENT: '20',
      DMM_MAX_CHARACTERS_PER_AGREEMENT: '3000',
    });
    const ctx = createSyncContext(createRuntime(env, []), env, identity);
    expect(ctx.guardrails).toEqual({
      managedRolePath: '/',
      requiredRoleTag: { key: 'dmm-aws:managed', value: 'true' },
      protectedRoles: [...ALWAYS_PROTECTED_ROLES, 'dmm-aws-poll-feed', 'break-glass', 'platform-*'],
      allowedResourceAccounts: ['123456789012', '444455556666'],
      ownership: {
        mode: 'required',
        productTagKey: 'dmm:product',
        teamTagKey: 'dmm:team',
        allowList: [
          { dataProduct: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*'] },
          { team: 'sales', resources: ['arn:aws:glue:eu-central-1:123456789012:table/sales/*'] },
        ],
      },
      maxStatementsPerAgreement: 8,
      maxResourcesPerAgreement: 20,
      maxCharactersPerAgreement: 3000,
    });
    expect(ctx.resourceTags).toBeInstanceOf(AwsResourceTagReader);
    expect(ctx.agreementIndex).toMatchObject({ bucket: 'state', prefix: 'dmm/index/' });
    const anyAccount = readEnvironment('reconcile', { ...writer, DMM_ALLOWED_RESOURCE_ACCOUNTS: '*' });
    expect(
      createSyncContext(createRuntime(anyAccount, []), anyAccount, identity).guardrails?.allowedResourceAccounts,
    ).toBe('any');
    // Off only when the operator says so; then no tags are read.
    const off = readEnvironment('reconcile', { ...writer, DMM_OWNERSHIP_PROOF: 'off' });
    const offCtx = createSyncContext(createRuntime(off, []), off, identity);
    expect(offCtx.guardrails?.ownership).toEqual({ mode: 'off' });
    expect(offCtx.resourceTags).toBeUndefined();
  });

  it('bad values are named by their variable, together with every other problem', () => {
    const problems = problemsOf(() =>
      readEnvironment('reconcile', {
        ...writer,
        MANAGED_ROLE_PATH: 'data-products',
        DMM_PROTECTED_ROLES: 'break-glass,not a role',
        DMM_ALLOWED_RESOURCE_ACCOUNTS: '1234',
        DMM_REQUIRED_ROLE_TAG: '=value',
        DMM_MAX_STATEMENTS_PER_AGREEMENT: '0',
        DMM_MAX_CHARACTERS_PER_AGREEMENT: 'many',
        DMM_OWNERSHIP_PROOF: 'maybe',
        DMM_OWNERSHIP_ALLOW_LIST: '[{"dataProduct": "orders", "resources": ["arn:aws:*:::x"]}]',
      }),
    );
    expect(Object.keys(problems).sort()).toEqual([
      'DMM_ALLOWED_RESOURCE_ACCOUNTS',
      'DMM_MAX_CHARACTERS_PER_AGREEMENT',
      'DMM_MAX_STATEMENTS_PER_AGREEMENT',
      'DMM_OWNERSHIP_ALLOW_LIST',
      'DMM_OWNERSHIP_PROOF',
      'DMM_PROTECTED_ROLES',
      'DMM_REQUIRED_ROLE_TAG',
      'MANAGED_ROLE_PATH',
    ]);
    expect(problems.DMM_PROTECTED_ROLES).toBe(
      "has an entry 'not a role' that must be a role name, optionally ending in *",
    );
    expect(problems.DMM_ALLOWED_RESOURCE_ACCOUNTS).toBe("has an entry '1234' that must be a 12-digit account id");
    expect(problems.DMM_REQUIRED_ROLE_TAG).toBe('must be key or key=value');
    expect(problems.DMM_MAX_STATEMENTS_PER_AGREEMENT).toMatch(/^is invalid: /);
  });

  it('poll-feed does not read them', () => {
    expect(() =>
      readEnvironment('poll-feed', {
        ...common,
        EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/dmm-aws-events.fifo',
        STATE_BUCKET: 'state',
        DMM_PROTECTED_ROLES: 'not a role',
      }),
    ).not.toThrow();
  });

  it("a misconfigured guardrail fails the invocation with the variable's name", async () => {
    const reconcile = createReconcileHandler({ ...writer, DMM_MAX_RESOURCES_PER_AGREEMENT: '5000' });
    await expect(reconcile({}, lambdaContext())).rejects.toThrow(
      /^The reconcile function is misconfigured: DMM_MAX_RESOURCES_PER_AGREEMENT is invalid: /,
    );
  });
});
