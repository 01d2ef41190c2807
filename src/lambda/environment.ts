/**
 * The Lambda functions' environment contract (docs/adr/0003-serverless-shape.md), validated once
 * per cold start. A misconfigured function fails its first invocation with one error that names
 * every missing or bad variable, instead of failing later on the first call that needs one.
 */
import { z } from 'zod';
import { DEFAULT_INDEX_PREFIX } from '../aws/agreement-index.js';
import { DEFAULT_LEASE_PREFIX } from '../aws/s3-target-leases.js';
import {
  GUARDRAIL_ENVIRONMENT,
  guardrailSettingsFromEnv,
  guardrailSettingsSchema,
  type GuardrailSettings,
} from '../sync/guardrail-settings.js';
import { dmmBaseUrlSchema } from '../dmm/base-url.js';
import { managedRolePathSchema } from '../util/iam-path.js';
import {
  MULTI_ACCOUNT_ENVIRONMENT,
  multiAccountSettingsFromEnv,
  multiAccountSettingsSchema,
  namesMembers,
  type MultiAccountSettings,
} from '../accounts/settings.js';

export type FunctionName = 'poll-feed' | 'process-events' | 'reconcile';

export interface EnvironmentProblem {
  variable: string;
  problem: string;
}

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
  readonly variables: string[];

  constructor(
    readonly functionName: FunctionName,
    readonly problems: EnvironmentProblem[],
  ) {
    const list = problems.map((p) => `${p.variable} ${p.problem}`).join('; ');
    super(
      `The ${functionName} function is misconfigured: ${list}. See the environment contract in docs/adr/0003-serverless-shape.md.`,
    );
    this.variables = problems.map((p) => p.variable);
  }
}

/** "is not set" for an absent variable, `message` for a present but bad one. */
const notSetOr = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is not set' : message;

const requiredText = (message = 'must not be empty') => z.string({ error: notSetOr(message) });

const wholeNumber = (min: number, message: string) =>
  z
    .string({ error: notSetOr(message) })
    .regex(/^\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message));

const commonShape = {
  DMM_BASE_URL: requiredText('must be an https:// URL, e.g. https://api.entropy-data.com').pipe(dmmBaseUrlSchema),
  // Secrets Manager accepts a name as well, but the contract (and Terraform) pass the ARN; a
  // value that is no ARN is most likely the API key itself pasted into the wrong variable.
  DMM_API_KEY_SECRET_ARN: requiredText().regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
    'must be a Secrets Manager secret ARN',
  ),
  DMM_API_GENERATION: z
    .enum(['auto', 'access', 'datausageagreements'], { error: 'must be one of auto, access, datausageagreements' })
    .default('auto'),
  AWS_REGION: requiredText(),
  POWERTOOLS_SERVICE_NAME: z.string().default('dmm-aws'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('dmm-aws'),
  POWERTOOLS_LOG_LEVEL: z
    .string()
    .transform((level) => level.toUpperCase())
    .pipe(
      z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'], {
        error: 'must be one of DEBUG, INFO, WARN, ERROR (or TRACE, CRITICAL, SILENT)',
      }),
    )
    .default('INFO'),
};

/** The settings of the functions that write IAM (process-events, reconcile). */
const iamShape = {
  // No default: a Glue port naming no workgroup is refused rather than granted `primary`.
  DMM_ATHENA_WORKGROUP: z.string().optional(),
  DMM_ATHENA_RESULTS_LOCATION: z
    .string()
    .regex(/^s3:\/\/[^/]+\/.*$/, 'must look like s3://bucket/prefix/')
    .optional(),
  DMM_ATHENA_RESULTS_SHARED: z.enum(['true', 'false']).optional(),
  // Which data contract server a port without its own is granted from, when several fit.
  DMM_DATA_CONTRACT_SERVER: z.string().trim().min(1).optional(),
  DMM_DATA_CONTRACT_ENVIRONMENT: z.string().trim().min(1).optional(),
  // `lake-formation`: Glue tables are granted through Lake Formation (the Lake Formation target is wired).
  DMM_GLUE_TABLES_GOVERNED_BY: z.enum(['iam', 'lake-formation']).default('iam'),
  MANAGED_ROLE_PATH: managedRolePathSchema.default('/'),
  // The agreement index (src/aws/agreement-index.ts) lives in the state bucket: without it a
  // deleted agreement is found only by reading every managed role, longer than an event may take.
  STATE_BUCKET: requiredText(),
  AGREEMENT_INDEX_PREFIX: z
    .string()
    .regex(/^([^/].*\/)?$/, 'must be a key prefix ending in /, e.g. index/agreements/')
    .default(DEFAULT_INDEX_PREFIX),
  // Leases on grant targets (src/aws/s3-target-leases.ts), also in the state bucket: one writer
  // at a time per role or resource policy, however many invocations run.
  TARGET_LEASE_PREFIX: z
    .string()
    .regex(/^[^/].*\/$/, 'must be a key prefix ending in /, e.g. leases/')
    .default(DEFAULT_LEASE_PREFIX),
  // How long a lease this function takes is good for: longer than its timeout plus clock skew,
  // so a live invocation never loses one, and a crashed one blocks its targets no longer.
  TARGET_LEASE_SECONDS: z
    .string()
    .regex(/^[1-9]\d{0,5}$/, 'must be a whole number of seconds, 1 or more (the function timeout plus a margin)')
    .default('960'),
  // A hub over member accounts (src/accounts/settings.ts), validated as a whole in readEnvironment.
  DMM_MEMBER_ACCOUNTS: z.string().optional(),
  DMM_MEMBER_ROLE_NAME: z.string().optional(),
  DMM_MEMBER_ROLE_PATH: z.string().optional(),
  DMM_ALLOWED_ACCOUNT_PAIRS: z.string().optional(),
  DMM_MEMBER_ORGANIZATIONAL_UNITS: z.string().optional(),
  DMM_ORGANIZATIONS_ROLE_ARN: z.string().optional(),
  DMM_ATHENA_RESULTS_LOCATIONS: z.string().optional(),
  DMM_MEMBER_EXTERNAL_ID_SECRET_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN')
    .optional(),
};

type GuardrailVariable = keyof typeof GUARDRAIL_ENVIRONMENT;

/**
 * The guardrail variables (src/sync/guardrail-settings.ts) are read as text here, so that they
 * belong to the contract, and validated as a whole by guardrailSettingsSchema in readEnvironment.
 */
const guardrailShape = Object.fromEntries(
  Object.keys(GUARDRAIL_ENVIRONMENT).map((name) => [name, z.string().optional()]),
) as Record<GuardrailVariable, z.ZodOptional<z.ZodString>>;

/** The most events one process-events invocation converges together (MAX_BATCH_EVENTS). */
export const MAX_BATCH_EVENTS_LIMIT = 1000;

const schemas = {
  'poll-feed': z.object({
    ...commonShape,
    EVENT_QUEUE_URL: z
      .url({ protocol: /^https?$/, error: notSetOr('must be the SQS queue URL') })
      .refine((url) => url.endsWith('.fifo'), 'must be a FIFO queue URL (ending in .fifo)'),
    STATE_BUCKET: requiredText(),
    CHECKPOINT_KEY: z.string().default('checkpoint/last-event-id.json'),
    POLL_REPEAT_SECONDS: wholeNumber(0, 'must be a whole number of seconds, 0 or more').default(0),
  }),
  'process-events': z.object({
    ...commonShape,
    ...iamShape,
    ...guardrailShape,
    // No default: a value that differs from the queue's redrive policy would dead-letter events
    // without reporting them, or report failures that are still going to be retried.
    MAX_RECEIVE_COUNT: wholeNumber(1, "must be a whole number, 1 or more (the queue's redrive maxReceiveCount)"),
    // Unset: only the event source's own batch (at most 10 FIFO messages); Terraform sets 100.
    MAX_BATCH_EVENTS: wholeNumber(1, 'must be a whole number from 1 to 1000')
      .refine((n) => n <= MAX_BATCH_EVENTS_LIMIT, 'must be a whole number from 1 to 1000')
      .default(10),
  }),
  reconcile: z.object({ ...commonShape, ...iamShape, ...guardrailShape }),
};

export type PollFeedEnvironment = z.infer<(typeof schemas)['poll-feed']>;
export type ProcessEventsEnvironment = z.infer<(typeof schemas)['process-events']>;
export type ReconcileEnvironment = z.infer<(typeof schemas)['reconcile']>;
export type CommonEnvironment = z.infer<z.ZodObject<typeof commonShape>>;
export type IamEnvironment = CommonEnvironment &
  z.infer<z.ZodObject<typeof iamShape>> &
  z.infer<z.ZodObject<typeof guardrailShape>>;

interface EnvironmentOf {
  'poll-feed': PollFeedEnvironment;
  'process-events': ProcessEventsEnvironment;
  reconcile: ReconcileEnvironment;
}

/** Validates the environment of one function; throws an EnvironmentError naming every problem. */
export function readEnvironment<F extends FunctionName>(functionName: F, env: NodeJS.ProcessEnv): EnvironmentOf[F] {
  // Terraform writes an unset optional variable as "", which means "use the default" here.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schemas[functionName].safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        problem: issue.message,
      }));
  if (functionName !== 'poll-feed') problems.push(...guardrailProblems(present), ...multiAccountProblems(present));
  if (!parsed.success || problems.length > 0) throw new EnvironmentError(functionName, problems);
  return parsed.data as EnvironmentOf[F];
}

const VARIABLE_OF_SETTING = Object.fromEntries(
  Object.entries(GUARDRAIL_ENVIRONMENT).map(([variable, setting]) => [setting, variable]),
) as Record<string, GuardrailVariable>;

function parseGuardrails(env: Record<string, string | undefined>) {
  return guardrailSettingsSchema.safeParse(guardrailSettingsFromEnv(env));
}

/** guardrailSettingsSchema's complaints, named by the variable they come from. */
function guardrailProblems(env: Record<string, string | undefined>): EnvironmentProblem[] {
  const parsed = parseGuardrails(env);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const [setting, index] = issue.path;
    const variable = VARIABLE_OF_SETTING[String(setting)] ?? '(guardrails)';
    // A list variable's bad entry is quoted, so the operator finds it in a long list.
    const entries =
      typeof index === 'number'
        ? env[variable]
            ?.split(',')
            .map((entry) => entry.trim())
            .filter(Boolean)
        : undefined;
    const entry = entries && typeof index === 'number' ? `has an entry '${entries[index]}' that ` : '';
    // Zod's own messages ("Too small: expected number to be >=1") start in upper case.
    const message = /^[A-Z]/.test(issue.message) ? `is invalid: ${issue.message}` : issue.message;
    return { variable, problem: `${entry}${message}` };
  });
}

const VARIABLE_OF_MULTI_ACCOUNT_SETTING = Object.fromEntries(
  Object.entries(MULTI_ACCOUNT_ENVIRONMENT).map(([variable, setting]) => [setting, variable]),
) as Record<string, string>;

/** The member-account variables: all or nothing, and the external ID's secret with them. */
function multiAccountProblems(env: Record<string, string | undefined>): EnvironmentProblem[] {
  if (!namesMembers(env)) return [];
  const parsed = multiAccountSettingsSchema.safeParse(multiAccountSettingsFromEnv(env));
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: VARIABLE_OF_MULTI_ACCOUNT_SETTING[String(issue.path[0])] ?? 'DMM_MEMBER_ACCOUNTS',
        problem: /^[A-Z]/.test(issue.message) ? `is invalid: ${issue.message}` : issue.message,
      }));
  if (!env.DMM_MEMBER_EXTERNAL_ID_SECRET_ARN) {
    problems.push({
      variable: 'DMM_MEMBER_EXTERNAL_ID_SECRET_ARN',
      problem:
        'is not set, but DMM_MEMBER_ACCOUNTS or DMM_MEMBER_ORGANIZATIONAL_UNITS is: the member roles trust the hub only with the external ID',
    });
  }
  return problems;
}

/** The multi-account settings of a validated environment, or undefined for one account. */
export function multiAccountSettingsOf(env: IamEnvironment): MultiAccountSettings | undefined {
  if (!namesMembers(env)) return undefined;
  return multiAccountSettingsSchema.parse(multiAccountSettingsFromEnv(env));
}

/** The guardrail settings of a validated environment (readEnvironment has checked them). */
export function guardrailSettingsOf(env: IamEnvironment): GuardrailSettings {
  const parsed = parseGuardrails(env);
  if (!parsed.success) throw new Error(`guardrail settings were not validated: ${parsed.error.message}`);
  return parsed.data;
}

export interface FunctionIdentity {
  partition: string;
  region: string;
  accountId: string;
  functionName: string;
}

/**
 * The account this deployment manages is the one the function runs in, read from its own ARN
 * (`context.invokedFunctionArn`), so no variable can point it at the wrong account.
 */
export function functionIdentity(invokedFunctionArn: string): FunctionIdentity {
  const match = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::[^:]+)?$/.exec(invokedFunctionArn);
  if (!match)
    throw new Error(
      `The invoked function ARN '${invokedFunctionArn}' is not a Lambda function ARN; cannot tell which AWS account to manage.`,
    );
  const [, partition, region, accountId, functionName] = match as unknown as [string, string, string, string, string];
  return { partition, region, accountId, functionName };
}
