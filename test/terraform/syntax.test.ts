/**
 * The Terraform module is well-formed without providers: every file parses, it is formatted,
 * every variable is typed, described and used, and the example calls the module correctly.
 * (`terraform validate` needs the AWS provider, which cannot be downloaded here.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadModule,
  MODULE_DIR,
  parseFile,
  resourcesOfType,
  ROOT,
  tfFiles,
  wholeReference,
  type Body,
  type TfModule,
} from './module.js';

const EXAMPLE_DIR = join(MODULE_DIR, 'examples', 'basic');

/** The terraform binary on PATH, or '' where there is none (checked with `which`). */
function terraformBinary(): string {
  const which = spawnSync('which', ['terraform'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : '';
}

let mod: TfModule;
let example: TfModule;

beforeAll(async () => {
  mod = await loadModule(MODULE_DIR);
  example = await loadModule(EXAMPLE_DIR);
});

describe('terraform/ parses and is formatted', () => {
  const files = tfFiles(MODULE_DIR, true);

  it('has the module files by concern and the example', () => {
    const names = files.map((file) => relative(MODULE_DIR, file));
    for (const expected of [
      'versions.tf',
      'variables.tf',
      'main.tf',
      'lambda.tf',
      'queue.tf',
      'state.tf',
      'secret.tf',
      'iam.tf',
      'schedules.tf',
      'alarms.tf',
      'outputs.tf',
      'moved.tf',
      'examples/basic/main.tf',
      'examples/basic/outputs.tf',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))('%s parses with @cdktf/hcl2json', async (_, file) => {
    const parsed = await parseFile(file);
    expect(Object.keys(parsed.json).length).toBeGreaterThan(0);
  });

  it('a syntax error is reported by the parser (the check above can fail)', async () => {
    const { parse } = await import('@cdktf/hcl2json');
    await expect(parse('broken.tf', 'resource "a" "b" {\n  x =\n}\n')).rejects.toThrow(/Invalid expression/);
  });

  it('terraform fmt -check -recursive terraform passes (where a terraform binary exists)', () => {
    const binary = terraformBinary();
    if (binary === '') {
      // No terraform binary on this machine: this one check cannot run here; the rest of the
      // file checks the module without it.
      console.warn('terraform not found on PATH: terraform fmt -check not run');
      return;
    }
    const fmt = spawnSync(binary, ['fmt', '-check', '-recursive', '-diff', 'terraform'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(fmt.error).toBeUndefined();
    // -check lists the files that need formatting on stdout, and -diff shows how.
    expect(fmt.stdout).toBe('');
    expect(fmt.status).toBe(0);
  });

  it('requires terraform >= 1.5 and the AWS provider 5 or later', () => {
    const terraform = mod.files.flatMap((file) => (file.json.terraform ?? []) as Body[]);
    expect(terraform).toHaveLength(1);
    expect(terraform[0]?.required_version).toBe('>= 1.5');
    const aws = terraform[0]?.required_providers?.[0]?.aws as Body | undefined;
    expect(aws?.source).toBe('hashicorp/aws');
    expect(aws?.version).toMatch(/^>= 5(\.\d+)*$/);
  });
});

describe('variables', () => {
  it('every variable has a description and a type', () => {
    expect(mod.variables.size).toBeGreaterThan(20);
    for (const [name, variable] of mod.variables) {
      expect(typeof variable.description, `var.${name} description`).toBe('string');
      expect((variable.description as string).length, `var.${name} description`).toBeGreaterThan(10);
      expect(variable.type, `var.${name} type`).toBeDefined();
    }
  });

  it('the settings named in the brief exist with their defaults', () => {
    const defaults: Record<string, unknown> = {
      name_prefix: 'dmm-aws',
      dmm_base_url: 'https://api.entropy-data.com',
      dmm_api_generation: 'auto',
      managed_role_path: '/',
      poll_schedule_expression: 'rate(1 minute)',
      reconcile_schedule_expression: 'rate(1 hour)',
      poll_repeat_seconds: 5,
      ownership_proof: 'required',
      ownership_tag_key: 'dmm:data-product',
      ownership_allow_list: [],
      log_retention_days: 30,
      max_receive_count: 5,
      batch_size: 10,
      poll_feed_timeout_seconds: 75,
      process_events_timeout_seconds: 60,
      reconcile_timeout_seconds: 900,
      checkpoint_key: 'checkpoint/last-event-id.json',
      tags: {},
      alarm_actions: [],
      outage_alarm_periods: 3,
    };
    for (const [name, value] of Object.entries(defaults))
      expect(mod.variables.get(name)?.default, `var.${name}`).toEqual(value);
    for (const name of [
      'athena_workgroup',
      'athena_results_location',
      'data_contract_server',
      'data_contract_environment',
      'ownership_team_tag_key',
      'dmm_api_key',
      'dmm_api_key_secret_arn',
      'dist_dir',
    ]) {
      expect(mod.variables.has(name), `var.${name}`).toBe(true);
      expect(mod.variables.get(name)?.default, `var.${name} default`).toBeNull();
    }
    expect(mod.variables.get('dmm_api_key')?.sensitive).toBe(true);
  });

  it('values that end up in names, ARNs, policies or limits are validated', () => {
    for (const name of [
      'name_prefix',
      'dmm_base_url',
      'dmm_api_generation',
      'dmm_api_key_secret_arn',
      'managed_role_path',
      'athena_workgroup',
      'athena_results_location',
      'ownership_proof',
      'ownership_tag_key',
      'ownership_team_tag_key',
      'ownership_allow_list',
      'poll_schedule_expression',
      'reconcile_schedule_expression',
      'poll_repeat_seconds',
      'checkpoint_key',
      'batch_size',
      'max_receive_count',
      'log_retention_days',
      'process_events_timeout_seconds',
      'alarm_actions',
      'outage_alarm_periods',
    ]) {
      const validations = (mod.variables.get(name)?.validation ?? []) as Body[];
      expect(validations.length, `var.${name} validation`).toBeGreaterThan(0);
      for (const validation of validations) {
        expect(validation.condition, `var.${name} condition`).toMatch(new RegExp(`var\\.${name}\\b`));
        expect(String(validation.error_message).length, `var.${name} error_message`).toBeGreaterThan(10);
      }
    }
  });

  it("batch_size cannot exceed SQS FIFO's 10 and the redrive count is at least 1", () => {
    const condition = (name: string) =>
      String((mod.variables.get(name)?.validation as Body[] | undefined)?.[0]?.condition);
    expect(condition('batch_size')).toContain('var.batch_size <= 10');
    expect(condition('max_receive_count')).toContain('var.max_receive_count >= 1');
  });

  it('validations hold under terraform itself: defaults accepted, bad values refused (where a terraform binary exists)', () => {
    // hcl2json parses expressions but cannot evaluate them, and Terraform's regex engine (RE2)
    // differs from JavaScript's (e.g. repetition counts above 1000 never match). variables.tf and
    // the API key precondition need no provider, so `terraform plan` can evaluate them offline.
    const binary = terraformBinary();
    if (binary === '') {
      console.warn('terraform not found on PATH: variable validations not evaluated');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'dmm-aws-tf-variables-'));
    try {
      writeFileSync(join(dir, 'variables.tf'), readFileSync(join(MODULE_DIR, 'variables.tf')));
      const main = readFileSync(join(MODULE_DIR, 'main.tf'), 'utf8');
      const precondition = /^resource "terraform_data" "api_key_source" \{[\s\S]*?^\}$/m.exec(main)?.[0];
      expect(precondition).toBeDefined();
      writeFileSync(join(dir, 'main.tf'), precondition!);
      const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      const init = spawnSync(binary, ['init', '-input=false', '-backend=false', '-no-color'], {
        cwd: dir,
        encoding: 'utf8',
        env,
      });
      expect(init.status, init.stderr).toBe(0);
      const plan = (...vars: string[]) => {
        const result = spawnSync(
          binary,
          ['plan', '-input=false', '-lock=false', '-no-color', ...vars.flatMap((v) => ['-var', v])],
          { cwd: dir, encoding: 'utf8', env },
        );
        return result.status === 0
          ? 'accepted'
          : /Invalid value for variable|precondition failed/.test(result.stderr)
            ? 'refused'
            : `failed: ${result.stderr}`;
      };
      const key = 'dmm_api_key=k';
      const cases: [string[], 'accepted' | 'refused'][] = [
        [[key], 'accepted'],
        [['dmm_api_key_secret_arn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:dmm/key-AbCdEf'], 'accepted'],
        [[], 'refused'],
        [
          [key, 'dmm_api_key_secret_arn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:dmm/key-AbCdEf'],
          'refused',
        ],
        [['dmm_api_key_secret_arn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:dmm'], 'refused'],
        [['dmm_api_key='], 'refused'],
        [[key, 'managed_role_path=/data-products/'], 'accepted'],
        [[key, 'managed_role_path=/data*/'], 'refused'],
        [[key, 'managed_role_path=data-products/'], 'refused'],
        [[key, 'name_prefix=DMM'], 'refused'],
        [[key, 'name_prefix=abcdefghijklmnopqrstu'], 'refused'],
        [[key, 'athena_results_location=s3://results/consumers/'], 'accepted'],
        [[key, 'athena_results_location=s3://results/consumers'], 'refused'],
        [[key, 'athena_workgroup=analysts'], 'accepted'],
        [[key, 'athena_workgroup=a b'], 'refused'],
        [[key, 'ownership_proof=off'], 'accepted'],
        [[key, 'ownership_proof=false'], 'refused'],
        [[key, 'ownership_allow_list=[{team="sales", resources=["arn:aws:s3:::sales-*"]}]'], 'accepted'],
        [
          [key, 'ownership_allow_list=[{team="sales", data_product="orders", resources=["arn:aws:s3:::b"]}]'],
          'refused',
        ],
        [[key, 'ownership_allow_list=[{team="sales", resources=["arn:aws:*:::b"]}]'], 'refused'],
        [[key, 'dmm_base_url=https://dmm.example.com/api'], 'accepted'],
        [[key, 'dmm_base_url=https://dmm.example.com/'], 'refused'],
        [[key, 'dmm_api_generation=v3'], 'refused'],
        [[key, 'batch_size=11'], 'refused'],
        [[key, 'max_receive_count=0'], 'refused'],
        [[key, 'poll_repeat_seconds=1.5'], 'refused'],
        [[key, 'log_retention_days=31'], 'refused'],
        [[key, 'checkpoint_key=state/checkpoint.json'], 'accepted'],
        [[key, 'checkpoint_key=state/*'], 'refused'],
        [[key, 'poll_schedule_expression=rate(5 minutes)'], 'accepted'],
        [[key, 'poll_schedule_expression=every minute'], 'refused'],
        [[key, 'alarm_actions=["arn:aws:sns:eu-central-1:123456789012:ops"]'], 'accepted'],
        [[key, 'alarm_actions=["ops"]'], 'refused'],
        [[key, 'process_events_timeout_seconds=901'], 'refused'],
        [[key, 'outage_alarm_periods=12'], 'accepted'],
        [[key, 'outage_alarm_periods=0'], 'refused'],
        [[key, 'outage_alarm_periods=1.5'], 'refused'],
      ];
      for (const [vars, expected] of cases) expect(plan(...vars), vars.join(' ') || '(no variables)').toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('exactly one API key source is enforced by a precondition', () => {
    const preconditions = (mod.resources.get('terraform_data.api_key_source')?.lifecycle?.[0]?.precondition ??
      []) as Body[];
    expect(preconditions.map((p) => p.condition)).toContain(
      '${(var.dmm_api_key == null) != (var.dmm_api_key_secret_arn == null)}',
    );
  });

  it('every var.x used is declared, and every declared variable is used', () => {
    const source = (file: { path: string }) => readFileSync(join(ROOT, file.path), 'utf8');
    const all = mod.files.map(source).join('\n');
    const used = new Set([...all.matchAll(/\bvar\.(\w+)/g)].map((match) => match[1]!));
    for (const name of used) expect(mod.variables.has(name), `var.${name} is used but not declared`).toBe(true);
    // Validation blocks mention their own variable: a use counts only outside variables.tf.
    const outsideDeclarations = mod.files
      .filter((file) => !file.path.endsWith('variables.tf'))
      .map(source)
      .join('\n');
    for (const name of mod.variables.keys())
      expect(outsideDeclarations, `var.${name} is declared but never used`).toMatch(new RegExp(`\\bvar\\.${name}\\b`));
  });
});

describe('outputs', () => {
  it('names the functions, queues, bucket, secret, roles and log groups', () => {
    for (const name of [
      'function_names',
      'function_arns',
      'role_arns',
      'log_group_names',
      'event_queue_url',
      'dead_letter_queue_url',
      'dead_letter_queue_arn',
      'state_bucket',
      'api_key_secret_arn',
    ]) {
      expect(mod.outputs.has(name), `output ${name}`).toBe(true);
      expect(String(mod.outputs.get(name)?.description ?? '').length, `output ${name} description`).toBeGreaterThan(5);
    }
  });

  it('function_names, function_arns, role_arns and log_group_names cover all three functions', () => {
    const expected: Record<string, [string, string]> = {
      function_names: ['aws_lambda_function.this', 'function_name'],
      function_arns: ['aws_lambda_function.this', 'arn'],
      role_arns: ['aws_iam_role.this', 'arn'],
      log_group_names: ['aws_cloudwatch_log_group.this', 'name'],
    };
    for (const [name, [address, attribute]] of Object.entries(expected)) {
      // { for key, x in <resource> : key => x.<attribute> }: keyed like the resource's instances.
      const match = /^\$\{\{\s*for key, (\w+) in ([\w.]+)\s*:\s*key => (\w+)\.(\w+)\s*\}\}$/.exec(
        String(mod.outputs.get(name)?.value),
      );
      expect(match, `output ${name}`).not.toBeNull();
      const [, item, resourceAddress, itemAgain, attributeUsed] = match!;
      expect([resourceAddress, itemAgain, attributeUsed], `output ${name}`).toEqual([address, item, attribute]);
      const [type, resourceName] = address.split('.') as [string, string];
      const keys = resourcesOfType(mod, type)
        .map(([instance]) => /^(\w+)\["(\w+)"\]$/.exec(instance))
        .filter((m) => m?.[1] === resourceName)
        .map((m) => m![2]);
      expect(keys.sort(), `output ${name}`).toEqual(['poll_feed', 'process_events', 'reconcile']);
    }
  });
});

describe('state moves (moved.tf)', () => {
  // The addresses the per-function resources had before they were folded into for_each. Each must
  // move to the instance of the same function, or `terraform apply` would destroy and recreate it.
  const keys = ['poll_feed', 'process_events', 'reconcile'];
  const scheduled = ['poll_feed', 'reconcile'];
  const formerly: [string, string][] = [
    ...keys.flatMap((k): [string, string][] => [
      [`aws_cloudwatch_log_group.${k}`, `aws_cloudwatch_log_group.this["${k}"]`],
      [`aws_lambda_function.${k}`, `aws_lambda_function.this["${k}"]`],
      [`aws_iam_role.${k}`, `aws_iam_role.this["${k}"]`],
      [`aws_iam_role_policy.${k}_logs`, `aws_iam_role_policy.logs["${k}"]`],
      [`aws_iam_role_policy.${k}_api_key`, `aws_iam_role_policy.api_key["${k}"]`],
      [`aws_cloudwatch_metric_alarm.${k}_errors`, `aws_cloudwatch_metric_alarm.function_errors["${k}"]`],
    ]),
    ...['process_events', 'reconcile'].map((k): [string, string] => [
      `aws_iam_role_policy.${k}_iam`,
      `aws_iam_role_policy.iam_writer["${k}"]`,
    ]),
    ...scheduled.flatMap((k): [string, string][] => [
      [`aws_cloudwatch_event_rule.${k}`, `aws_cloudwatch_event_rule.schedule["${k}"]`],
      [`aws_cloudwatch_event_target.${k}`, `aws_cloudwatch_event_target.schedule["${k}"]`],
      [`aws_lambda_permission.${k}_schedule`, `aws_lambda_permission.schedule["${k}"]`],
      [`aws_lambda_function_event_invoke_config.${k}`, `aws_lambda_function_event_invoke_config.schedule["${k}"]`],
    ]),
  ];

  it('every former address moves to a declared instance, and no moved block is stale', () => {
    const moved = mod.files
      .flatMap((file) => (file.json.moved ?? []) as Body[])
      .map((block) => [wholeReference(block.from), wholeReference(block.to)]);
    expect(moved.map(([from, to]) => `${from} -> ${to}`).sort()).toEqual(
      formerly.map(([from, to]) => `${from} -> ${to}`).sort(),
    );
    for (const [from, to] of moved) {
      expect(mod.resources.has(from!), `${from} is declared again`).toBe(false);
      expect(mod.resources.has(to!), `${to} is declared`).toBe(true);
    }
  });
});

describe('examples/basic', () => {
  it('calls the module with source ../.. and only arguments the module declares', () => {
    const calls = [...example.modules.values()];
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.source).toBe('../..');
    const argumentsPassed = Object.keys(call).filter(
      (key) => !['source', 'version', 'providers', 'depends_on', 'count', 'for_each'].includes(key),
    );
    expect(argumentsPassed.length).toBeGreaterThan(3);
    for (const argument of argumentsPassed)
      expect(mod.variables.has(argument), `module argument ${argument}`).toBe(true);
  });

  it('passes every module variable without a default', () => {
    const call = [...example.modules.values()][0]!;
    const required = [...mod.variables.entries()]
      .filter(([, variable]) => !('default' in variable))
      .map(([name]) => name);
    for (const name of required) expect(call, `required variable ${name}`).toHaveProperty(name);
  });

  it('outputs only what the module outputs', () => {
    expect(example.outputs.size).toBeGreaterThan(0);
    for (const [name, output] of example.outputs) {
      const referenced = /^module\.\w+\.(\w+)$/.exec(wholeReference(output.value) ?? '')?.[1];
      expect(referenced, `example output ${name}`).toBeDefined();
      expect(mod.outputs.has(referenced!), `module output ${referenced}`).toBe(true);
    }
  });

  it('ships a terraform.tfvars.example that sets only variables the example declares', () => {
    const tfvars = readFileSync(join(EXAMPLE_DIR, 'terraform.tfvars.example'), 'utf8');
    const assigned = [...tfvars.matchAll(/^#?\s*(\w+)\s*=/gm)].map((match) => match[1]!);
    expect(assigned).toContain('dmm_api_key');
    for (const name of assigned) expect(example.variables.has(name), `tfvars sets ${name}`).toBe(true);
  });
});
