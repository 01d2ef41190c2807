import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GUARDRAIL_ENVIRONMENT, guardrailSettingsFromEnv, guardrailSettingsSchema } from './sync/guardrail-settings.js';
import { dmmBaseUrlSchema, isLoopback } from './dmm/base-url.js';
import { managedRolePathSchema } from './util/iam-path.js';
import {
  MULTI_ACCOUNT_ENVIRONMENT,
  multiAccountSettingsFromEnv,
  multiAccountSettingsSchema,
} from './accounts/settings.js';

/**
 * Configuration, from (highest first) command-line flags, environment variables, a YAML config
 * file (`--config`, or `dmm-aws.yaml` in the working directory) and defaults. The defaults point
 * at the bundled local simulator and a local stand-in for an AWS account, so nothing is needed to
 * try the tool out.
 */
const configSchema = z.strictObject({
  dmm: z.strictObject({
    baseUrl: dmmBaseUrlSchema,
    apiKey: z.string().min(1).optional(),
    apiGeneration: z.enum(['auto', 'access', 'datausageagreements']),
    timeoutMs: z.coerce.number().int().positive(),
  }),
  aws: z.strictObject({
    target: z.enum(['local', 'aws']),
    localStateFile: z.string().min(1),
    /** For `aws`, taken from the credentials (STS) when not set. */
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    managedRolePath: managedRolePathSchema,
    /**
     * Local target: a YAML file with the tags of provider resources (ownership proof). Default
     * beside the state file (`aws-account.resource-tags.yaml`), written by `local-aws seed`.
     */
    localResourceTagsFile: z.string().min(1).optional(),
    /**
     * Local target: write back to a Data Mesh Manager that is not the bundled simulator. Off by
     * default: the stand-in account's roles are not the tenant's, so its failures are not true.
     */
    localWriteBack: z.union([z.boolean(), z.stringbool()]).default(false),
    /**
     * `aws` target: S3 bucket holding the agreement index (under `index/agreements/`), e.g. the
     * deployment's state bucket, shared with the Lambda functions. Unset: a file in stateDir.
     */
    indexBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-central-1'),
  }),
  glue: z.strictObject({
    /** For Glue ports that name no workgroup; unset: such ports are refused (no silent `primary`). */
    athenaWorkgroup: z.string().min(1).optional(),
    athenaQueryResultsLocation: z
      .string()
      .regex(/^s3:\/\/[^/]+\/.*$/, 'must look like s3://bucket/prefix/')
      .optional(),
    /** Grant the location itself instead of a folder per consumer role (consumers then share results). */
    athenaResultsShared: z.union([z.boolean(), z.stringbool()]).optional(),
    /**
     * Who governs Glue tables: `iam` (the grant reads the table's data) or `lake-formation` (Lake
     * Formation SELECT/DESCRIBE; docs/adr/0012-lake-formation-tables.md). Only the operator can
     * choose Lake Formation: a port can only step back to IAM (custom.aws-lake-formation: false).
     */
    tablesGovernedBy: z.enum(['iam', 'lake-formation']).optional(),
  }),
  /**
   * Which server of a data contract a port without its own server block is granted from, when
   * several fit (docs/port-types.md, "Ports described by a data contract").
   */
  dataContracts: z.strictObject({
    server: z.string().trim().min(1).optional(),
    environment: z.string().trim().min(1).optional(),
  }),
  guardrails: guardrailSettingsSchema.omit({ managedRolePath: true }),
  /** A hub over member accounts (docs/adr/0010-multi-account.md); unset: the one account of the credentials. */
  multiAccount: multiAccountSettingsSchema.optional(),
  stateDir: z.string().min(1),
  pollIntervalSeconds: z.coerce.number().positive(),
  /** Unset: each command's own default (`info`; `warn` for the read-only `explain`). */
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
});

export type Config = z.infer<typeof configSchema>;

export const DEFAULT_LOCAL_API_KEY = 'local-dev-key';

/**
 * `run`'s pause between feed reads once caught up. The vendor suggests about 10 s; at that pace an
 * activation waits 5 s on average and up to 10 s for its policy. One second keeps activation →
 * policy under 2 s (p95, `BENCH=latency npm run bench`) for one small request a second while
 * idle (docs/adr/0015-daemon-batches.md); set 10 for the vendor's pace.
 */
export const DEFAULT_POLL_INTERVAL_SECONDS = 1;

const DEFAULTS: Config = {
  dmm: { baseUrl: 'http://127.0.0.1:8080', apiGeneration: 'auto', timeoutMs: 10_000 },
  aws: {
    target: 'local',
    localStateFile: '.dmm-aws/aws-account.json',
    managedRolePath: '/',
    region: 'eu-central-1',
    localWriteBack: false,
  },
  glue: {},
  dataContracts: {},
  guardrails: {},
  stateDir: '.dmm-aws',
  pollIntervalSeconds: DEFAULT_POLL_INTERVAL_SECONDS,
};

/** Environment variables and the config path each one sets. */
const ENVIRONMENT: Record<string, string> = {
  DMM_BASE_URL: 'dmm.baseUrl',
  DMM_API_KEY: 'dmm.apiKey',
  DMM_API_GENERATION: 'dmm.apiGeneration',
  DMM_TIMEOUT_MS: 'dmm.timeoutMs',
  DMM_AWS_TARGET: 'aws.target',
  DMM_AWS_STATE_FILE: 'aws.localStateFile',
  DMM_AWS_ACCOUNT_ID: 'aws.accountId',
  DMM_MANAGED_ROLE_PATH: 'aws.managedRolePath',
  DMM_LOCAL_RESOURCE_TAGS: 'aws.localResourceTagsFile',
  DMM_LOCAL_WRITE_BACK: 'aws.localWriteBack',
  DMM_INDEX_BUCKET: 'aws.indexBucket',
  AWS_REGION: 'aws.region',
  DMM_ATHENA_WORKGROUP: 'glue.athenaWorkgroup',
  DMM_ATHENA_RESULTS_LOCATION: 'glue.athenaQueryResultsLocation',
  DMM_ATHENA_RESULTS_SHARED: 'glue.athenaResultsShared',
  DMM_DATA_CONTRACT_SERVER: 'dataContracts.server',
  DMM_DATA_CONTRACT_ENVIRONMENT: 'dataContracts.environment',
  DMM_GLUE_TABLES_GOVERNED_BY: 'glue.tablesGovernedBy',
  DMM_MEMBER_EXTERNAL_ID: 'multiAccount.externalId',
  DMM_STATE_DIR: 'stateDir',
  DMM_POLL_INTERVAL_SECONDS: 'pollIntervalSeconds',
  LOG_LEVEL: 'logLevel',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  /** Values from flags, keyed by config path (`dmm.baseUrl`); undefined entries are ignored. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
  cwd?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const cwd = sources.cwd ?? process.cwd();
  const env = sources.env ?? process.env;
  const merged: Record<string, unknown> = structuredClone(DEFAULTS);
  const file = sources.configFile ?? (existsSync(resolve(cwd, 'dmm-aws.yaml')) ? 'dmm-aws.yaml' : undefined);
  if (file) deepMerge(merged, readConfigFile(resolve(cwd, file)));
  for (const [key, value] of Object.entries(guardrailSettingsFromEnv(env))) setPath(merged, `guardrails.${key}`, value);
  for (const [key, value] of Object.entries(multiAccountSettingsFromEnv(env)))
    setPath(merged, `multiAccount.${key}`, value);
  for (const [name, path] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(merged, path, value);
  }
  if (!env.AWS_REGION && env.AWS_DEFAULT_REGION) setPath(merged, 'aws.region', env.AWS_DEFAULT_REGION);
  for (const [path, value] of Object.entries(sources.flags ?? {}))
    if (value !== undefined) setPath(merged, path, value);

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}${hint(i.path.join('.'))}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const config = parsed.data;
  // The local stand-in opens each member's files itself: no member role, so no external ID.
  if (config.multiAccount && config.aws.target === 'aws' && !config.multiAccount.externalId) {
    throw new ConfigError(
      'multiAccount.externalId is not set (env DMM_MEMBER_EXTERNAL_ID): the member roles trust the hub only with it',
    );
  }
  if (config.multiAccount && config.aws.target === 'local' && config.multiAccount.organizationalUnits.length > 0) {
    throw new ConfigError(
      'multiAccount.organizationalUnits needs the aws target (DMM_AWS_TARGET=aws): the local stand-in has no AWS Organizations; list its accounts in multiAccount.members',
    );
  }
  if (!config.dmm.apiKey) {
    if (!isLoopback(config.dmm.baseUrl)) {
      throw new ConfigError(
        `no Data Mesh Manager API key: set DMM_API_KEY (or dmm.apiKey in the config file) for ${config.dmm.baseUrl}`,
      );
    }
    config.dmm.apiKey = DEFAULT_LOCAL_API_KEY;
  }
  config.stateDir = resolve(cwd, config.stateDir);
  config.aws.localStateFile = resolve(cwd, config.aws.localStateFile);
  config.aws.localResourceTagsFile = config.aws.localResourceTagsFile
    ? resolve(cwd, config.aws.localResourceTagsFile)
    : localStandInFile(config, 'resource-tags.yaml');
  return config;
}

/** A file of the local stand-in account beside its state file: `aws-account.<name>`. */
export function localStandInFile(config: Config, name: string): string {
  return `${config.aws.localStateFile.replace(/\.json$/, '')}.${name}`;
}

function hint(path: string): string {
  const guardrail = Object.entries(GUARDRAIL_ENVIRONMENT).map(([name, key]) => [name, `guardrails.${key}`]);
  const multiAccount = Object.entries(MULTI_ACCOUNT_ENVIRONMENT).map(([name, key]) => [name, `multiAccount.${key}`]);
  const name = [...Object.entries(ENVIRONMENT), ...guardrail, ...multiAccount].find(
    ([, p]) => path === p || path.startsWith(`${p}.`),
  )?.[0];
  return name ? ` (env ${name})` : '';
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`config file ${path} must be a YAML mapping`);
  return value as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof target[key] === 'object' &&
      target[key] !== null
    ) {
      deepMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
}
