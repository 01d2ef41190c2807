/**
 * The Terraform module against the code it deploys: the functions are the ones scripts/build.ts
 * builds, their environment is exactly the contract src/lambda/environment.ts validates, and the
 * queue, event source, state bucket, schedules and alarms are shaped as ADR 0003 says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../scripts/build.js';
import { EnvironmentError, readEnvironment, type FunctionName } from '../../src/lambda/environment.js';
import {
  ALL_GUARDRAIL_VARIABLES,
  environmentOf,
  terraformExpression,
  loadModule,
  render,
  resource,
  resourcesOfType,
  ROOT,
  terraformLocals,
  wholeReference,
  type Body,
  type TfModule,
} from './module.js';

let mod: TfModule;
/** local.guardrail_environment with default variables, as terraform evaluates it. */
let guardrailEnvironment: Record<string, string>;
/** The same with every guardrail variable set, so that none of them is "" (unset). */
let fullGuardrailEnvironment: Record<string, string>;

beforeAll(async () => {
  mod = await loadModule();
  const stubs = { account_id: '111122223333', partition: 'aws' };
  guardrailEnvironment = terraformLocals(mod, {}, stubs)['local.guardrail_environment'] as Record<string, string>;
  fullGuardrailEnvironment = terraformLocals(mod, { ...ALL_GUARDRAIL_VARIABLES, ...HUB_VARIABLES }, stubs)[
    'local.guardrail_environment'
  ] as Record<string, string>;
});

/** The module's lambda resource of each built function, found by the zip it uploads. */
function lambdaFor(name: FunctionName): [string, Body] {
  const matches = resourcesOfType(mod, 'aws_lambda_function').filter(([, body]) => zipOf(body) === `${name}.zip`);
  expect(matches, `functions uploading ${name}.zip`).toHaveLength(1);
  return matches[0]!;
}

/** The function key of an instance address: this["poll_feed"] → poll_feed. */
function functionKey(address: string): string {
  const key = /^\w+\["(\w+)"\]$/.exec(address)?.[1];
  if (key === undefined) throw new Error(`${address} is not an instance of a for_each resource`);
  return key;
}

function zipOf(lambda: Body): string | undefined {
  return /^\$\{local\.dist_dir\}\/([\w-]+\.zip)$/.exec(String(lambda.filename))?.[1];
}

/** A hub over two member accounts (terraform/guardrails.tf), so that its variables are set too. */
const HUB_VARIABLES = {
  member_account_ids: ['111122223333', '444455556666'],
  member_external_id_secret_arn:
    'arn:aws:secretsmanager:eu-central-1:111122223333:secret:dmm-aws/member-external-id-AbCdEf',
  allowed_account_pairs: [{ consumer: '444455556666', provider: '111122223333' }],
  member_organizational_unit_ids: ['ou-ab12-cdef3456'],
  organizations_role_arn: 'arn:aws:iam::999988887777:role/dmm-aws-organizations-reader',
  athena_results_locations: { '444455556666': 's3://analytics-athena-results/dmm/' },
};

/** Values for the references in the environment maps, as a deployment would have them. */
const ENVIRONMENT_FIXTURES = {
  'local.api_key_secret_arn':
    'arn:aws:secretsmanager:eu-central-1:111122223333:secret:dmm-aws/dmm-api-key-20260101-AbCdEf',
  'aws_sqs_queue.events.url': 'https://sqs.eu-central-1.amazonaws.com/111122223333/dmm-aws-events.fifo',
  'aws_s3_bucket.state.bucket': 'dmm-aws-state-111122223333-eu-central-1',
  'local.function_names.poll_feed': 'dmm-aws-poll-feed',
  'local.function_names.process_events': 'dmm-aws-process-events',
  'local.function_names.reconcile': 'dmm-aws-reconcile',
  'tostring(var.poll_repeat_seconds)': '5',
  'tostring(var.max_receive_count)': '5',
  'tostring(var.process_events_max_batch_events)': '100',
  'tostring(var.process_events_timeout_seconds + 60)': '120',
  'tostring(var.reconcile_timeout_seconds + 60)': '960',
  // Set here to a real location and workgroup (the defaults are null → ""), so that their format is
  // checked too; the unset case is evaluated by terraform below.
  'var.athena_results_location != null ? var.athena_results_location : ""': 's3://athena-results/consumers/',
  'var.athena_workgroup != null ? var.athena_workgroup : ""': 'analysts',
  'var.data_contract_server != null ? var.data_contract_server : ""': 'orders-prod-s3',
  'var.data_contract_environment != null ? var.data_contract_environment : ""': 'prod',
};

/**
 * The environment a deployment with default variables gives the function; the guardrail
 * variables as terraform evaluates local.guardrail_environment (by default with defaults too).
 */
function deployedEnvironment(name: FunctionName, guardrails = guardrailEnvironment): Record<string, string> {
  const [, lambda] = lambdaFor(name);
  return Object.fromEntries(
    Object.entries(environmentOf(mod, lambda)).map(([key, value]): [string, string] => {
      const evaluated = guardrails[key];
      if (evaluated !== undefined) return [key, evaluated];
      const rendered = render(mod, value, ENVIRONMENT_FIXTURES);
      if (Array.isArray(rendered)) throw new Error(`${key} renders to a list`);
      return [key, rendered];
    }),
  );
}

/** What Lambda itself puts in every function's environment. */
const RUNTIME_ENVIRONMENT = { AWS_REGION: 'eu-central-1' };

const NAMES = Object.keys(FUNCTIONS) as FunctionName[];

describe('the functions are the ones the build produces', () => {
  it('scripts/build.ts builds poll-feed, process-events and reconcile from src/lambda/', () => {
    expect(NAMES.sort()).toEqual(['poll-feed', 'process-events', 'reconcile']);
    for (const [name, entry] of Object.entries(FUNCTIONS)) {
      expect(entry).toBe(`src/lambda/${name}.ts`);
      expect(existsSync(join(ROOT, entry)), entry).toBe(true);
    }
  });

  it('the build zips index.mjs, which handler index.handler loads', () => {
    const build = readFileSync(join(ROOT, 'scripts/build.ts'), 'utf8');
    expect(build).toMatch(/join\(folder, 'index\.mjs'\)/);
    expect(build).toMatch(/`\$\{name\}\.zip`/);
  });

  it('there are exactly three functions, one per built zip', () => {
    expect(resourcesOfType(mod, 'aws_lambda_function')).toHaveLength(3);
    for (const name of NAMES) lambdaFor(name);
  });

  it.each(NAMES)('%s: handler index.handler, nodejs22.x on arm64, code hash of the same zip', async (name) => {
    const [, lambda] = lambdaFor(name);
    expect(lambda.handler).toBe('index.handler');
    expect(lambda.runtime).toBe('nodejs22.x');
    expect(lambda.architectures).toEqual(['arm64']);
    expect(lambda.source_code_hash).toBe(`\${filebase64sha256("\${local.dist_dir}/${name}.zip")}`);
    const handlerModule = (await import(`../../src/lambda/${name}.ts`)) as { handler?: unknown };
    expect(typeof handlerModule.handler).toBe('function');
  });

  it("dist_dir defaults to the repository's dist/", () => {
    expect(mod.locals.dist_dir).toBe('${coalesce(var.dist_dir, "${path.module}/../dist")}');
  });

  it('memory and timeout come from variables with the documented defaults', () => {
    const expectations: Record<FunctionName, [string, number]> = {
      'poll-feed': ['poll_feed', 75],
      'process-events': ['process_events', 60],
      reconcile: ['reconcile', 900],
    };
    for (const [name, [prefix, timeout]] of Object.entries(expectations) as [FunctionName, [string, number]][]) {
      const [, lambda] = lambdaFor(name);
      expect(lambda.timeout).toBe(`\${var.${prefix}_timeout_seconds}`);
      expect(lambda.memory_size).toBe(`\${var.${prefix}_memory_mb}`);
      expect(mod.variables.get(`${prefix}_timeout_seconds`)?.default).toBe(timeout);
    }
  });

  it('process-events has the reserved concurrency of its variable (1 unless raised); the others are not limited', () => {
    expect(lambdaFor('process-events')[1].reserved_concurrent_executions).toBe('${var.process_events_concurrency}');
    expect(lambdaFor('poll-feed')[1]).not.toHaveProperty('reserved_concurrent_executions');
    expect(lambdaFor('reconcile')[1]).not.toHaveProperty('reserved_concurrent_executions');
  });

  it('each function logs to a log group the module creates with the retention variable', () => {
    expect(resourcesOfType(mod, 'aws_cloudwatch_log_group')).toHaveLength(NAMES.length);
    for (const name of NAMES) {
      // The function and its group are instances of the same key, e.g. this["poll_feed"].
      const [address, lambda] = lambdaFor(name);
      const key = functionKey(address);
      const group = resource(mod, `aws_cloudwatch_log_group.${address}`);
      expect(group.name).toBe(`\${local.log_group_names["${key}"]}`);
      expect(resource(mod, `aws_lambda_function.${address}`).function_name).toBe(`\${local.function_names["${key}"]}`);
      expect(group.retention_in_days).toBe('${var.log_retention_days}');
      // depends_on cannot name one instance: the function waits for all groups, its own among them.
      expect(lambda.depends_on).toContain(`\${aws_cloudwatch_log_group.${address.replace(/\[.*\]$/, '')}}`);
    }
    expect(mod.locals.log_group_names).toBe(
      '${{ for key, name in local.function_names : key => "/aws/lambda/${name}" }}',
    );
    expect(mod.locals.function_names).toEqual({
      poll_feed: '${var.name_prefix}-poll-feed',
      process_events: '${var.name_prefix}-process-events',
      reconcile: '${var.name_prefix}-reconcile',
    });
  });
});

describe('the environment is exactly the contract of src/lambda/environment.ts', () => {
  it.each(NAMES)("%s: the deployed environment passes the function's own validation", (name) => {
    expect(() => readEnvironment(name, { ...RUNTIME_ENVIRONMENT, ...deployedEnvironment(name) })).not.toThrow();
    expect(() =>
      readEnvironment(name, { ...RUNTIME_ENVIRONMENT, ...deployedEnvironment(name, fullGuardrailEnvironment) }),
    ).not.toThrow();
  });

  it.each(NAMES)('%s: every variable the module sets is one the function reads, and it sets all of them', (name) => {
    // With every guardrail variable set: an unset one is "", which the function does not read.
    const deployed = deployedEnvironment(name, fullGuardrailEnvironment);
    // readEnvironment returns the variables its schema knows, with defaults filled in; unknown
    // variables are dropped. So its keys are what the function reads.
    const read = Object.keys(readEnvironment(name, { ...RUNTIME_ENVIRONMENT, ...deployed })).filter(
      (key) => !(key in RUNTIME_ENVIRONMENT),
    );
    expect(Object.keys(deployed).sort()).toEqual(read.sort());
  });

  it.each(NAMES)("%s: without the module's variables the function refuses to start, naming what is missing", (name) => {
    const deployed = deployedEnvironment(name);
    let required: string[] = [];
    try {
      readEnvironment(name, RUNTIME_ENVIRONMENT);
    } catch (error) {
      expect(error).toBeInstanceOf(EnvironmentError);
      required = (error as EnvironmentError).variables;
    }
    expect(required.length).toBeGreaterThan(0);
    for (const variable of required) expect(deployed, `${name} needs ${variable}`).toHaveProperty(variable);
  });

  it("Lambda's reserved variables are left to Lambda", () => {
    for (const name of NAMES)
      for (const key of Object.keys(deployedEnvironment(name))) expect(key).not.toMatch(/^(AWS_|LAMBDA_|_HANDLER$)/);
  });

  it("MAX_RECEIVE_COUNT is the queue's redrive maxReceiveCount (the same variable)", () => {
    const [, lambda] = lambdaFor('process-events');
    expect(environmentOf(mod, lambda).MAX_RECEIVE_COUNT).toBe('${tostring(var.max_receive_count)}');
    expect(resource(mod, 'aws_sqs_queue.events').redrive_policy).toMatch(
      /maxReceiveCount\s*=\s*var\.max_receive_count\b/,
    );
  });

  it("process-events and reconcile keep the agreement index and the target leases in the module's state bucket", () => {
    for (const name of ['process-events', 'reconcile'] as const) {
      const env = environmentOf(mod, lambdaFor(name)[1]);
      expect(env.STATE_BUCKET, name).toBe('${aws_s3_bucket.state.bucket}');
      expect(env.AGREEMENT_INDEX_PREFIX, name).toBe('${local.agreement_index_prefix}');
      expect(env.TARGET_LEASE_PREFIX, name).toBe('${local.target_lease_prefix}');
    }
  });

  it("a function's leases outlive its timeout, so a live invocation never loses one", () => {
    for (const [name, timeout] of [
      ['process-events', 'process_events_timeout_seconds'],
      ['reconcile', 'reconcile_timeout_seconds'],
    ] as const) {
      const env = environmentOf(mod, lambdaFor(name)[1]);
      expect(env.TARGET_LEASE_SECONDS, name).toBe(`\${tostring(var.${timeout} + 60)}`);
    }
  });

  it('process-events runs with the configured reserved concurrency, 1 unless raised, and refuses nonsense', () => {
    expect(mod.variables.get('process_events_concurrency')?.default).toBe(1);
    const expression = 'var.process_events_concurrency';
    const stubs = { account_id: '111122223333', partition: 'aws' };
    for (const good of [1, 4, 100])
      expect(terraformExpression(mod, expression, { process_events_concurrency: good }, stubs)).toBe(good);
    for (const bad of [0, 2.5, 101])
      expect(
        () => terraformExpression(mod, expression, { process_events_concurrency: bad }, stubs),
        String(bad),
      ).toThrow(/process_events_concurrency must be a whole number from 1 to 100/);
  });

  it('data contract server selection: unset variables are "" (no filter); set, their values reach the functions', () => {
    const stubs = { account_id: '111122223333', partition: 'aws' };
    for (const name of ['process-events', 'reconcile'] as const) {
      const env = environmentOf(mod, lambdaFor(name)[1]);
      for (const [variable, key, value] of [
        ['data_contract_server', 'DMM_DATA_CONTRACT_SERVER', 'orders-prod-s3'],
        ['data_contract_environment', 'DMM_DATA_CONTRACT_ENVIRONMENT', 'prod'],
      ] as const) {
        const expression = String(env[key]);
        expect(terraformExpression(mod, expression, {}, stubs), `${name} ${key}`).toBe('');
        expect(terraformExpression(mod, expression, { [variable]: value }, stubs), `${name} ${key}`).toBe(value);
        for (const bad of ['', ' prod'])
          expect(() => terraformExpression(mod, expression, { [variable]: bad }, stubs), `${variable}=${bad}`).toThrow(
            new RegExp(`${variable} must be null`),
          );
        expect(mod.variables.get(variable)?.default).toBeNull();
      }
    }
    // "" is "not set" for the function; set, the value is read.
    const unset = readEnvironment('reconcile', {
      ...RUNTIME_ENVIRONMENT,
      ...deployedEnvironment('reconcile'),
      DMM_DATA_CONTRACT_SERVER: '',
    });
    expect(unset.DMM_DATA_CONTRACT_SERVER).toBeUndefined();
    expect(
      readEnvironment('reconcile', { ...RUNTIME_ENVIRONMENT, ...deployedEnvironment('reconcile') })
        .DMM_DATA_CONTRACT_ENVIRONMENT,
    ).toBe('prod');
  });

  it('no default Athena workgroup: athena_workgroup unset is DMM_ATHENA_WORKGROUP "" (a Glue port naming none is refused); set, its value', () => {
    const stubs = { account_id: '111122223333', partition: 'aws' };
    for (const name of ['process-events', 'reconcile'] as const) {
      const expression = String(environmentOf(mod, lambdaFor(name)[1]).DMM_ATHENA_WORKGROUP);
      expect(terraformExpression(mod, expression, {}, stubs), name).toBe('');
      expect(terraformExpression(mod, expression, { athena_workgroup: 'analysts' }, stubs), name).toBe('analysts');
      for (const bad of ['', 'team*', 'a b'])
        expect(() => terraformExpression(mod, expression, { athena_workgroup: bad }, stubs), bad).toThrow(
          /athena_workgroup must be null or 1-128 characters/,
        );
    }
    expect(mod.variables.get('athena_workgroup')?.default).toBeNull();
    // "" is "not set" for the function: no workgroup comes from the environment.
    const env = readEnvironment('reconcile', {
      ...RUNTIME_ENVIRONMENT,
      ...deployedEnvironment('reconcile'),
      DMM_ATHENA_WORKGROUP: '',
    }) as Record<string, unknown>;
    expect(env.DMM_ATHENA_WORKGROUP).toBeUndefined();
  });

  it("poll-feed's queue and checkpoint are the module's queue and bucket", () => {
    const env = environmentOf(mod, lambdaFor('poll-feed')[1]);
    expect(env.EVENT_QUEUE_URL).toBe('${aws_sqs_queue.events.url}');
    expect(env.STATE_BUCKET).toBe('${aws_s3_bucket.state.bucket}');
    expect(env.CHECKPOINT_KEY).toBe('${var.checkpoint_key}');
  });
});

describe('queue and event source', () => {
  it('the event queue is FIFO without content-based deduplication, encrypted, with a FIFO dead-letter queue', () => {
    const events = resource(mod, 'aws_sqs_queue.events');
    const dlq = resource(mod, 'aws_sqs_queue.dead_letter');
    for (const queue of [events, dlq]) {
      expect(queue.fifo_queue).toBe(true);
      expect(queue.content_based_deduplication).toBe(false);
      expect(queue.sqs_managed_sse_enabled).toBe(true);
      expect(String(queue.name)).toMatch(/\.fifo$/);
    }
    expect(events.redrive_policy).toMatch(/deadLetterTargetArn\s*=\s*aws_sqs_queue\.dead_letter\.arn/);
  });

  it("the visibility timeout is six times process-events' timeout", () => {
    expect(resource(mod, 'aws_sqs_queue.events').visibility_timeout_seconds).toBe(
      '${6 * var.process_events_timeout_seconds}',
    );
    expect(lambdaFor('process-events')[1].timeout).toBe('${var.process_events_timeout_seconds}');
  });

  it('only the event queue may use the dead-letter queue', () => {
    const allow = resource(mod, 'aws_sqs_queue_redrive_allow_policy.dead_letter');
    expect(allow.queue_url).toBe('${aws_sqs_queue.dead_letter.id}');
    expect(allow.redrive_allow_policy).toMatch(/redrivePermission\s*=\s*"byQueue"/);
    expect(allow.redrive_allow_policy).toMatch(/sourceQueueArns\s*=\s*\[aws_sqs_queue\.events\.arn\]/);
  });

  it('process-events is fed by the queue with partial batch responses and the batch size variable', () => {
    const mappings = resourcesOfType(mod, 'aws_lambda_event_source_mapping');
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.event_source_arn).toBe('${aws_sqs_queue.events.arn}');
    expect(mapping.function_name).toBe(`\${aws_lambda_function.${lambdaFor('process-events')[0]}.arn}`);
    expect(mapping.function_response_types).toEqual(['ReportBatchItemFailures']);
    expect(mapping.batch_size).toBe('${var.batch_size}');
    expect(mapping.depends_on).toContain('${aws_iam_role_policy.process_events_queue}');
  });
});

describe('state bucket', () => {
  it('is versioned, encrypted, private, owner-enforced and TLS-only', () => {
    expect(resource(mod, 'aws_s3_bucket_versioning.state').versioning_configuration?.[0]?.status).toBe('Enabled');
    const sse = resource(mod, 'aws_s3_bucket_server_side_encryption_configuration.state');
    expect(['AES256', 'aws:kms']).toContain(sse.rule?.[0]?.apply_server_side_encryption_by_default?.[0]?.sse_algorithm);
    const block = resource(mod, 'aws_s3_bucket_public_access_block.state');
    for (const setting of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'])
      expect(block[setting], setting).toBe(true);
    expect(resource(mod, 'aws_s3_bucket_ownership_controls.state').rule?.[0]?.object_ownership).toBe(
      'BucketOwnerEnforced',
    );
    for (const address of [
      'aws_s3_bucket_versioning.state',
      'aws_s3_bucket_server_side_encryption_configuration.state',
      'aws_s3_bucket_public_access_block.state',
      'aws_s3_bucket_ownership_controls.state',
      'aws_s3_bucket_policy.state',
    ]) {
      expect(resource(mod, address).bucket, address).toBe('${aws_s3_bucket.state.id}');
    }
    expect(resource(mod, 'aws_s3_bucket_policy.state').policy).toBe(
      '${data.aws_iam_policy_document.state_bucket.json}',
    );
    const [tls] = (resource(mod, 'data.aws_iam_policy_document.state_bucket').statement ?? []) as Body[];
    expect(tls?.effect).toBe('Deny');
    expect(tls?.condition).toEqual([{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);
    expect(tls?.resources).toEqual(['${aws_s3_bucket.state.arn}', '${aws_s3_bucket.state.arn}/*']);
  });
});

describe('secret', () => {
  it('is created from dmm_api_key only when no existing secret ARN is given', () => {
    const secret = resource(mod, 'aws_secretsmanager_secret.api_key');
    const version = resource(mod, 'aws_secretsmanager_secret_version.api_key');
    expect(secret.count).toBe('${var.dmm_api_key_secret_arn == null ? 1 : 0}');
    expect(version.count).toBe(secret.count);
    expect(version.secret_string).toBe('${var.dmm_api_key}');
    expect(mod.locals.api_key_secret_arn).toBe(
      '${var.dmm_api_key_secret_arn != null ? var.dmm_api_key_secret_arn : one(aws_secretsmanager_secret.api_key[*].arn)}',
    );
  });
});

describe('schedules', () => {
  const scheduled: [FunctionName, string][] = [
    ['poll-feed', 'poll_schedule_expression'],
    ['reconcile', 'reconcile_schedule_expression'],
  ];

  it.each(scheduled)(
    '%s runs on an EventBridge schedule from var.%s, with a permission for that rule only',
    (name, variable) => {
      const [address] = lambdaFor(name);
      const rules = resourcesOfType(mod, 'aws_cloudwatch_event_rule').filter(
        ([, rule]) => rule.schedule_expression === `\${var.${variable}}`,
      );
      expect(rules).toHaveLength(1);
      const [ruleName, rule] = rules[0]!;
      expect(rule.state).toBe('${var.schedules_enabled ? "ENABLED" : "DISABLED"}');
      const targets = resourcesOfType(mod, 'aws_cloudwatch_event_target').filter(
        ([, target]) => target.rule === `\${aws_cloudwatch_event_rule.${ruleName}.name}`,
      );
      expect(targets.map(([, target]) => target.arn)).toEqual([`\${aws_lambda_function.${address}.arn}`]);
      const permissions = resourcesOfType(mod, 'aws_lambda_permission').filter(
        ([, permission]) => wholeReference(permission.function_name) === `aws_lambda_function.${address}.function_name`,
      );
      expect(permissions).toHaveLength(1);
      const [, permission] = permissions[0]!;
      expect(permission.action).toBe('lambda:InvokeFunction');
      expect(permission.principal).toBe('events.amazonaws.com');
      expect(permission.source_arn).toBe(`\${aws_cloudwatch_event_rule.${ruleName}.arn}`);
    },
  );

  it('the scheduled reconcile applies explicitly; process-events has no schedule', () => {
    const [, target] = resourcesOfType(mod, 'aws_cloudwatch_event_target').find(
      ([, t]) => t.arn === `\${aws_lambda_function.${lambdaFor('reconcile')[0]}.arn}`,
    )!;
    expect(target.input).toBe('${jsonencode({ dryRun = false })}');
    expect(
      resourcesOfType(mod, 'aws_lambda_permission').every(
        ([, p]) => !String(p.function_name).includes('process_events'),
      ),
    ).toBe(true);
  });
});

describe('alarms', () => {
  const alarms = () => resourcesOfType(mod, 'aws_cloudwatch_metric_alarm').map(([, alarm]) => alarm);

  it('fires when the dead-letter queue holds any message', () => {
    const dlq = alarms().filter((alarm) => alarm.metric_name === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({
      namespace: 'AWS/SQS',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      dimensions: { QueueName: '${aws_sqs_queue.dead_letter.name}' },
    });
  });

  it.each(NAMES)('fires on %s Errors', (name) => {
    const [address] = lambdaFor(name);
    const errors = alarms().filter(
      (alarm) =>
        alarm.metric_name === 'Errors' &&
        alarm.dimensions?.FunctionName === `\${aws_lambda_function.${address}.function_name}`,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      namespace: 'AWS/Lambda',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
      statistic: 'Sum',
    });
  });

  it("fires on process-events' Outages sustained for var.outage_alarm_periods, on the metric the function emits", () => {
    const outages = alarms().filter((alarm) => alarm.metric_name === 'Outages');
    expect(outages).toHaveLength(1);
    expect(outages[0]).toMatchObject({
      namespace: '${var.metrics_namespace}',
      statistic: 'Sum',
      period: 300,
      evaluation_periods: '${var.outage_alarm_periods}',
      datapoints_to_alarm: '${var.outage_alarm_periods}',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
    });
    // Powertools publishes under the namespace and a `service` dimension from the environment.
    const env = environmentOf(mod, lambdaFor('process-events')[1]);
    expect(outages[0]!.dimensions).toEqual({ service: env.POWERTOOLS_SERVICE_NAME });
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('${var.metrics_namespace}');
    expect(String(outages[0]!.alarm_description)).toMatch(/docs\/operations\.md, ."?Outages/);
  });

  it('every alarm notifies var.alarm_actions', () => {
    expect(alarms().length).toBeGreaterThanOrEqual(5);
    for (const alarm of alarms()) {
      expect(alarm.alarm_actions, alarm.alarm_name).toBe('${var.alarm_actions}');
      expect(String(alarm.alarm_description).length).toBeGreaterThan(20);
    }
  });
});
