/**
 * What every function builds once per cold start from its environment: Powertools logging and
 * metrics, the Data Mesh Manager client (API key from Secrets Manager, rotation-proof) and, for
 * the functions that write IAM, the converging core's SyncContext over the AWS IAM adapter.
 * Everything built here is reused by the warm invocations of the same container.
 */
import { OWNERSHIP_PROOF_OFF } from '../sync/ownership-proof.js';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { S3AgreementIndex } from '../aws/agreement-index.js';
import { S3TargetLeases } from '../aws/s3-target-leases.js';
import { TargetLocks } from '../sync/target-locks.js';
import { SecretApiKey } from '../aws/api-key.js';
import { createIamClient, createS3Client, createSecretsManagerClient } from '../aws/clients.js';
import { AwsIamAccount } from '../aws/iam-account.js';
import { AwsLakeFormationPermissions } from '../aws/lake-formation.js';
import { AwsResourceTagReader } from '../aws/resource-tags.js';
import type { DmmApi } from '../interfaces/dmm-api.js';
import { DmmHttpClient } from '../dmm/client.js';
import type { SyncContext } from '../sync/context.js';
import { guardrailsFrom } from '../sync/guardrail-settings.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsHub } from '../accounts/aws-hub.js';
import {
  functionIdentity,
  guardrailSettingsOf,
  multiAccountSettingsOf,
  type CommonEnvironment,
  type FunctionIdentity,
  type IamEnvironment,
} from './environment.js';
import { powertoolsLogger } from './logging.js';
import { SyncMetrics, type CountMetric } from './metrics.js';
import { RotatingDmmApi } from './rotating-dmm.js';
import { hedgeDelayMs } from '../dmm/http.js';

export const LAMBDA_HTTP_RETRIES = { maxAttempts: 3, maxRetryDelayMs: 5_000, maxRetryAfterMs: 15_000 } as const;

export interface Runtime {
  log: Logger;
  powertools: PowertoolsLogger;
  metrics: SyncMetrics;
  dmm: DmmApi;
}

export function createRuntime(env: CommonEnvironment, counters: readonly CountMetric[]): Runtime {
  const powertools = new PowertoolsLogger({
    serviceName: env.POWERTOOLS_SERVICE_NAME,
    logLevel: env.POWERTOOLS_LOG_LEVEL,
  });
  const log = powertoolsLogger(powertools);
  const metrics = new SyncMetrics(
    new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME }),
    counters,
  );
  const apiKey = new SecretApiKey({
    client: createSecretsManagerClient({ region: env.AWS_REGION }),
    secretId: env.DMM_API_KEY_SECRET_ARN,
  });
  const dmm = new RotatingDmmApi({
    apiKey,
    log,
    connect: (key) =>
      new DmmHttpClient({
        baseUrl: env.DMM_BASE_URL,
        apiKey: key,
        apiGeneration: env.DMM_API_GENERATION,
        // Lambda retries by itself (the next scheduled run, SQS redelivery), so the client gives
        // up sooner than the CLI's rather than sleeping out the time budget on one request.
        ...LAMBDA_HTTP_RETRIES,
        hedgeAfterMs: hedgeDelayMs(),
        onRetry: (info) => log.warn('retrying Data Mesh Manager request', { ...info }),
        onUnreadableEvent: (error) => log.error('feed event without a readable id left out', { error: error.message }),
      }),
  });
  return { log, powertools, metrics, dmm };
}

/**
 * The converging core over the account the function runs in, limited by the operator's
 * guardrails (the DMM_* guardrail variables, with MANAGED_ROLE_PATH as their managed path), with
 * the agreement index in the state bucket.
 */
export function createSyncContext(runtime: Runtime, env: IamEnvironment, identity: FunctionIdentity): SyncContext {
  const guardrailSettings = { ...guardrailSettingsOf(env), managedRolePath: env.MANAGED_ROLE_PATH };
  const multiAccount = multiAccountSettingsOf(env);
  const hub = multiAccount
    ? awsHub({
        hubAccountId: identity.accountId,
        partition: identity.partition,
        settings: multiAccount,
        guardrails: guardrailSettings,
        externalId: secretText(env.AWS_REGION, env.DMM_MEMBER_EXTERNAL_ID_SECRET_ARN ?? ''),
        clientOptions: { region: env.AWS_REGION },
        readTags: guardrailSettings.ownershipProof !== 'off',
        log: runtime.log,
      })
    : undefined;
  const multiAccountLocations = multiAccount?.athenaQueryResultsLocations;
  const guardrails = guardrailsFrom(identity.accountId, {
    ...guardrailSettings,
    ...(hub && !guardrailSettings.allowedResourceAccounts ? { allowedResourceAccounts: hub.memberIds } : {}),
  });
  const s3 = createS3Client({ region: env.AWS_REGION });
  const iam = new AwsIamAccount({
    client: createIamClient({ region: env.AWS_REGION }),
    accountId: identity.accountId,
    partition: identity.partition,
    managedRolePath: env.MANAGED_ROLE_PATH,
  });
  return {
    dmm: runtime.dmm,
    iam,
    log: runtime.log,
    resolve: {
      accountId: identity.accountId,
      ...(hub ? { memberAccounts: hub.memberIds } : {}),
      ...(multiAccountLocations ? { athenaQueryResultsLocations: multiAccountLocations } : {}),
      partition: identity.partition,
      defaultRegion: env.AWS_REGION,
      ...(env.DMM_ATHENA_WORKGROUP ? { defaultAthenaWorkgroup: env.DMM_ATHENA_WORKGROUP } : {}),
      ...(env.DMM_ATHENA_RESULTS_LOCATION ? { athenaQueryResultsLocation: env.DMM_ATHENA_RESULTS_LOCATION } : {}),
      ...(env.DMM_ATHENA_RESULTS_SHARED === 'true' ? { athenaResultsShared: true } : {}),
      dataContracts: {
        ...(env.DMM_DATA_CONTRACT_SERVER ? { server: env.DMM_DATA_CONTRACT_SERVER } : {}),
        ...(env.DMM_DATA_CONTRACT_ENVIRONMENT ? { environment: env.DMM_DATA_CONTRACT_ENVIRONMENT } : {}),
      },
      glueTablesGovernedBy: env.DMM_GLUE_TABLES_GOVERNED_BY,
    },
    // Lake Formation grants need their IAM rights, which Terraform gives only when Glue tables are
    // governed by Lake Formation (glue_tables_governed_by); otherwise no grant asks for them.
    ...(env.DMM_GLUE_TABLES_GOVERNED_BY === 'lake-formation'
      ? { lakeFormation: new AwsLakeFormationPermissions({ clientOptions: { region: env.AWS_REGION } }) }
      : {}),
    guardrails,
    agreementIndex: new S3AgreementIndex({ client: s3, bucket: env.STATE_BUCKET, prefix: env.AGREEMENT_INDEX_PREFIX }),
    // Invocations of process-events and reconcile may run side by side: each role or resource
    // policy is read, planned and written under its lease (docs/adr/0017-target-leases.md).
    locks: new TargetLocks(
      new S3TargetLeases({ client: s3, bucket: env.STATE_BUCKET, prefix: env.TARGET_LEASE_PREFIX }),
      {
        ttlMs: Number(env.TARGET_LEASE_SECONDS) * 1000,
        log: runtime.log,
      },
    ),
    // Provider resources' tags are read only for ownership proof, and with its rights only then
    // granted (terraform/guardrails.tf); a hub reads them through each member's role.
    ...(guardrails.ownership.mode === 'required'
      ? { resourceTags: hub?.resourceTags ?? new AwsResourceTagReader({ region: env.AWS_REGION }) }
      : {}),
    ...(hub
      ? {
          accounts: hub,
          resourcePolicies: hub.resourcePolicies,
          lakeFormation: hub.lakeFormation,
        }
      : {}),
  };
}

/** A plain-text secret (the member roles' external ID), read when a member session starts; never logged. */
function secretText(region: string, secretId: string): () => Promise<string> {
  const client = createSecretsManagerClient({ region });
  return async () => {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const text = SecretString?.trim();
    if (!text) throw new Error(`secret ${secretId} (the member roles' external ID) has no text value`);
    return text;
  };
}

/** What a function that writes IAM builds once per container and reuses while warm. */
export interface SyncPipeline<E extends IamEnvironment> {
  runtime: Runtime;
  env: E;
  ctx: SyncContext;
}

/**
 * The handler of a function that writes IAM: on the first invocation (cold start) it reads its
 * environment and builds the runtime and the SyncContext over the account in the invoked ARN;
 * every invocation then runs `handle` as one {@link invocation}.
 */
export function createSyncHandler<E extends IamEnvironment, I, O>(
  readEnv: () => E,
  counters: readonly CountMetric[],
  handle: (pipeline: SyncPipeline<E>, event: I, context: Context) => Promise<O>,
): (event: I, context: Context) => Promise<O> {
  let pipeline: SyncPipeline<E> | undefined;
  return async (event, context) => {
    pipeline ??= syncColdStart(readEnv(), counters, context);
    const ready = pipeline;
    return invocation(ready.runtime, context, () => {
      if (ready.ctx.guardrails?.ownership.mode === 'off') ready.runtime.log.warn(OWNERSHIP_PROOF_OFF);
      return handle(ready, event, context);
    });
  };
}

function syncColdStart<E extends IamEnvironment>(
  env: E,
  counters: readonly CountMetric[],
  context: Context,
): SyncPipeline<E> {
  const runtime = createRuntime(env, counters);
  return { runtime, env, ctx: createSyncContext(runtime, env, functionIdentity(context.invokedFunctionArn)) };
}

/**
 * One invocation: log lines carry the request id, a failure is logged as one JSON line before
 * Lambda records it, and the invocation's metrics are published whatever happens.
 */
export async function invocation<T>(runtime: Runtime, context: Context, work: () => Promise<T>): Promise<T> {
  runtime.powertools.addContext(context);
  try {
    return await work();
  } catch (error) {
    runtime.log.error('invocation failed', {
      error: errorMessage(error),
      errorName: error instanceof Error ? error.name : typeof error,
    });
    throw error;
  } finally {
    runtime.metrics.publish();
  }
}

/** Time left before Lambda stops the invocation, minus room to finish cleanly. */
export function timeLeftMs(context: Context, safetyMarginMs: number): number {
  return context.getRemainingTimeInMillis() - safetyMarginMs;
}
