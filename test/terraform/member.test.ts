/**
 * terraform/modules/member, the role a member account deploys for a hub, evaluated offline: its
 * trust (only the hub's roles, only with the external ID) and what it allows, statement by
 * statement, as IAM would decide it (the tests' evaluator, checked against @cloud-copilot/
 * iam-simulate where that can answer). The locals of locals.tf are evaluated by `terraform
 * console` for each set of variables, as for the hub's guardrails.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEMBER_S3_ACTIONS_USED } from '../../src/accounts/aws-hub.js';
import { ORGANIZATIONS_ACTIONS_USED } from '../../src/accounts/organizations.js';
import { IAM_ACTIONS_USED } from '../../src/aws/iam-account.js';
import { LAKE_FORMATION_ACTIONS_USED } from '../../src/aws/lake-formation.js';
import { RESOURCE_POLICY_ACTIONS_USED } from '../../src/aws/resource-policies.js';
import { RESOURCE_TAG_ACTIONS_USED } from '../../src/aws/resource-tags.js';
import { ALWAYS_PROTECTED_ROLES } from '../../src/sync/guardrails.js';
import {
  allowedActions,
  type Evaluated,
  evaluate,
  loadModule,
  MODULE_DIR,
  policyStatements,
  type Request,
  type Statement,
  type TfModule,
  terraformBinary,
  terraformLocals,
} from './module.js';

const MEMBER_DIR = join(MODULE_DIR, 'modules', 'member');
const ACCOUNT = '222233334444';
const HUB_ROLES = [
  'arn:aws:iam::111122223333:role/dmm-aws-process-events',
  'arn:aws:iam::111122223333:role/dmm-aws-reconcile',
];
const FIXTURES = {
  'data.aws_caller_identity.current.account_id': ACCOUNT,
  'data.aws_partition.current.partition': 'aws',
};
const REQUIRED = { hub_role_arns: HUB_ROLES, external_id: 'ext-0123456789abcdef' };

let mod: TfModule;
beforeAll(async () => {
  mod = await loadModule(MEMBER_DIR);
});

/** Every local of modules/member/locals.tf as `terraform console` evaluates it for these variables. */
function memberLocals(vars: Record<string, unknown>): Evaluated {
  const binary = terraformBinary();
  if (binary === '') throw new Error('terraform is not on PATH: install terraform >= 1.5');
  const dir = mkdtempSync(join(tmpdir(), 'dmm-aws-member-'));
  try {
    for (const name of ['variables.tf', 'locals.tf']) copyFileSync(join(MEMBER_DIR, name), join(dir, name));
    writeFileSync(join(dir, 'stubs.tf'), `locals {\n  account_id = "${ACCOUNT}"\n  partition = "aws"\n}\n`);
    writeFileSync(join(dir, 'test.tfvars.json'), JSON.stringify({ ...REQUIRED, ...vars }));
    const names = Object.keys(mod.locals).filter((name) => !['account_id', 'partition'].includes(name));
    const run = spawnSync(binary, ['console', '-var-file=test.tfvars.json'], {
      cwd: dir,
      // The variables the locals do not use are named too, so that their validation runs.
      input: `jsonencode({ ${names.map((n) => `${n} = local.${n}`).join(', ')} })\n`,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', NO_COLOR: '1' },
    });
    if (run.status !== 0 || /^│? *Error: /m.test(run.stderr))
      throw new Error(`terraform console failed: ${run.stderr}`);
    const printed = run.stdout.trim().split('\n').at(-1) ?? '';
    const values = JSON.parse(JSON.parse(printed) as string) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(values)
        .filter(([name]) => !name.endsWith('_'))
        .map(([name, value]) => [`local.${name}`, value]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statements(vars: Record<string, unknown> = {}): Statement[] {
  const evaluated = memberLocals(vars);
  const fixtures = Object.fromEntries(
    Object.entries(evaluated).filter(
      ([, v]) => typeof v === 'string' || (Array.isArray(v) && v.every((i) => typeof i === 'string')),
    ),
  ) as Record<string, string | string[]>;
  return policyStatements(mod, 'member', { ...FIXTURES, ...fixtures }, { ...REQUIRED, ...vars }, evaluated);
}

const role = (path: string, name: string) => `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
const decide = (s: Statement[], action: string, resource: string, context: Request['context'] = {}) =>
  evaluate(s, { action, resource, context });

describe('modules/member: trust', () => {
  it('trusts exactly the hub roles, and only with the external ID', () => {
    const trust = mod.data.get('aws_iam_policy_document.trust')!;
    const [statement] = trust.statement as Record<string, unknown>[];
    expect(trust.statement).toHaveLength(1);
    expect(statement).toMatchObject({ actions: ['sts:AssumeRole'], effect: 'Allow' });
    expect(statement!.principals).toEqual([{ type: 'AWS', identifiers: '${var.hub_role_arns}' }]);
    expect(statement!.condition).toEqual([
      { test: 'StringEquals', variable: 'sts:ExternalId', values: ['${var.external_id}'] },
    ]);
  });

  it('refuses hub_role_arns with wildcards or none, and an external ID STS would refuse', () => {
    const variables = (name: string) => mod.variables.get(name)!;
    expect(JSON.stringify(variables('hub_role_arns').validation)).toContain('length(var.hub_role_arns) > 0');
    // The ARN pattern of the validation, applied as Terraform's regex would: no wildcard principal.
    const condition = String((variables('hub_role_arns').validation as { condition: string }[])[0]!.condition);
    // HCL writes the regex's backslash doubled inside its string.
    const pattern = /regex\("(.*?)", arn\)/.exec(condition)?.[1]?.replaceAll('\\\\', '\\');
    expect(pattern).toBeDefined();
    const arnRule = new RegExp(pattern!);
    expect(HUB_ROLES.every((arn) => arnRule.test(arn))).toBe(true);
    expect(arnRule.test('arn:aws:iam::111122223333:role/*')).toBe(false);
    expect(arnRule.test('*')).toBe(false);
    // STS's own rule for an external ID (a sensitive variable: checked as written, not evaluated).
    expect(JSON.stringify(variables('external_id').validation)).toContain('{2,1224}');
  });
});

describe('modules/member: permissions', () => {
  it('allows exactly the actions the hub calls in a member (lake formation only when enabled)', () => {
    const expected = [
      ...IAM_ACTIONS_USED,
      ...RESOURCE_POLICY_ACTIONS_USED,
      ...RESOURCE_TAG_ACTIONS_USED,
      ...MEMBER_S3_ACTIONS_USED,
    ].sort();
    expect([...allowedActions(statements())].sort()).toEqual(expected);
    expect([...allowedActions(statements({ lake_formation: true }))].sort()).toEqual(
      [...expected, ...LAKE_FORMATION_ACTIONS_USED].sort(),
    );
  });

  it('writes identity policies only on roles under the managed path, never on protected roles or itself', async () => {
    const s = statements({ managed_role_path: '/data-consumers/' });
    expect(decide(s, 'iam:PutRolePolicy', role('/data-consumers/', 'analytics'))).toBe('Allowed');
    expect(decide(s, 'iam:PutRolePolicy', role('/', 'admin'))).toBe('ImplicitlyDenied');
    expect(decide(s, 'iam:GetRole', role('/', 'admin'))).toBe('ImplicitlyDenied');
    for (const name of ALWAYS_PROTECTED_ROLES) {
      const concrete = name.replace('*', 'X');
      expect(decide(statements(), 'iam:PutRolePolicy', role('/', concrete)), concrete).toBe('ExplicitlyDenied');
    }
    expect(decide(statements(), 'iam:PutRolePolicy', role('/', 'dmm-aws-member'))).toBe('ExplicitlyDenied');
    expect(
      decide(statements(), 'iam:AttachRolePolicy', role('/', 'analytics'), {
        'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    ).toBe('ImplicitlyDenied');
    // iam-simulate agrees on each of these role decisions.
    const cases: [string, string, Record<string, string>][] = [
      ['iam:PutRolePolicy', role('/data-consumers/', 'analytics'), {}],
      ['iam:PutRolePolicy', role('/', 'admin'), {}],
      ['iam:PutRolePolicy', role('/data-consumers/', 'OrganizationAccountAccessRole'), {}],
      [
        'iam:AttachRolePolicy',
        role('/data-consumers/', 'analytics'),
        { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
      ],
    ];
    for (const [action, resource, context] of cases) {
      const simulated = await runSimulation(
        {
          request: {
            action,
            principal: role('/', 'dmm-aws-member'),
            resource: { resource, accountId: ACCOUNT },
            contextVariables: context,
          },
          identityPolicies: [{ name: 'member', policy: toPolicy(s) }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        } as unknown as Simulation,
        {},
      );
      if (simulated.resultType === 'error') throw new Error(JSON.stringify(simulated.errors));
      expect(simulated.overallResult, `${action} on ${resource}`).toBe(decide(s, action, resource, context));
    }
  });

  it('with a required role tag, writes only on roles carrying it', () => {
    const s = statements({ required_role_tag: { key: 'dmm-aws:managed', value: 'true' } });
    const analytics = role('/', 'analytics');
    expect(decide(s, 'iam:PutRolePolicy', analytics, { 'aws:ResourceTag/dmm-aws:managed': 'true' })).toBe('Allowed');
    expect(decide(s, 'iam:PutRolePolicy', analytics, {})).toBe('ImplicitlyDenied');
  });

  it("writes bucket policies only of this account's buckets, and key policies only of tagged keys", () => {
    const s = statements({ provider_bucket_names: ['sales-*'] });
    const own = { 's3:ResourceAccount': ACCOUNT };
    expect(decide(s, 's3:PutBucketPolicy', 'arn:aws:s3:::sales-orders', own)).toBe('Allowed');
    expect(decide(s, 's3:PutBucketPolicy', 'arn:aws:s3:::hr-payroll', own)).toBe('ImplicitlyDenied');
    expect(decide(s, 's3:PutBucketPolicy', 'arn:aws:s3:::sales-orders', { 's3:ResourceAccount': '999999999999' })).toBe(
      'ImplicitlyDenied',
    );
    const key = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    expect(decide(s, 'kms:PutKeyPolicy', key, { 'aws:ResourceTag/dmm:data-product': 'orders' })).toBe('Allowed');
    expect(decide(s, 'kms:PutKeyPolicy', key, {})).toBe('ImplicitlyDenied');
    expect(decide(s, 'glue:PutResourcePolicy', `arn:aws:glue:eu-central-1:${ACCOUNT}:catalog`)).toBe('Allowed');
    expect(decide(s, 'glue:PutResourcePolicy', 'arn:aws:glue:eu-central-1:999999999999:catalog')).toBe(
      'ImplicitlyDenied',
    );
  });
});

/** The statements as an IAM policy document, for iam-simulate. */
function toPolicy(s: Statement[]) {
  return {
    Version: '2012-10-17',
    Statement: s.map((statement) => ({
      Effect: statement.effect,
      Action: statement.actions,
      Resource: statement.resources,
      ...(statement.conditions.length
        ? {
            Condition: Object.fromEntries(statement.conditions.map((c) => [c.test, { [c.variable]: c.values }])),
          }
        : {}),
    })),
  };
}

describe('the hub module with member accounts', () => {
  const HUB = '111122223333';
  const SECRET = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:dmm-aws/member-external-id-AbCdEf';

  async function hubStatements(vars: Record<string, unknown>): Promise<Statement[]> {
    const hub = await loadModule();
    const evaluated = terraformLocals(hub, vars, { account_id: HUB, partition: 'aws' });
    const fixtures = {
      'local.partition': 'aws',
      'local.account_id': HUB,
      'aws_iam_role.this["poll_feed"].arn': `arn:aws:iam::${HUB}:role/dmm-aws-poll-feed`,
      'aws_iam_role.this["process_events"].arn': `arn:aws:iam::${HUB}:role/dmm-aws-process-events`,
      'aws_iam_role.this["reconcile"].arn': `arn:aws:iam::${HUB}:role/dmm-aws-reconcile`,
    };
    return policyStatements(hub, 'iam_writer', fixtures, vars, evaluated);
  }

  it('the IAM writers may assume exactly the member roles (not in the hub itself) and read the external ID', async () => {
    const s = await hubStatements({
      member_account_ids: [HUB, ACCOUNT, '333344445555'],
      member_external_id_secret_arn: SECRET,
    });
    const assume = s.filter((statement) => statement.actions.includes('sts:AssumeRole'));
    expect(assume.map((statement) => [statement.effect, statement.resources])).toEqual([
      ['Allow', [`arn:aws:iam::${ACCOUNT}:role/dmm-aws-member`, 'arn:aws:iam::333344445555:role/dmm-aws-member']],
    ]);
    expect(decide(s, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`)).toBe(
      'ImplicitlyDenied',
    );
    expect(decide(s, 'secretsmanager:GetSecretValue', SECRET)).toBe('Allowed');
  });

  const OU = 'ou-ab12-cdef3456';
  const ORG_PATH = (ou: string) => ['o-a1b2c3d4e5/', 'o-a1b2c3d4e5/r-ab12/', `o-a1b2c3d4e5/r-ab12/${ou}/`];

  it('with OUs: the member role of any account under them (nested OUs included), and the OUs listed directly', async () => {
    const s = await hubStatements({ member_organizational_unit_ids: [OU], member_external_id_secret_arn: SECRET });
    const memberRole = 'arn:aws:iam::444455556666:role/dmm-aws-member';
    const nested = [...ORG_PATH(OU), `o-a1b2c3d4e5/r-ab12/${OU}/ou-ab12-77778888/`];
    expect(decide(s, 'sts:AssumeRole', memberRole, { 'aws:ResourceOrgPaths': ORG_PATH(OU) })).toBe('Allowed');
    expect(decide(s, 'sts:AssumeRole', memberRole, { 'aws:ResourceOrgPaths': nested })).toBe('Allowed');
    // An account elsewhere in the organization, outside it, or another role of an OU account: no.
    const elsewhere = ORG_PATH('ou-ab12-00001111');
    expect(decide(s, 'sts:AssumeRole', memberRole, { 'aws:ResourceOrgPaths': elsewhere })).toBe('ImplicitlyDenied');
    expect(decide(s, 'sts:AssumeRole', memberRole)).toBe('ImplicitlyDenied');
    const other = 'arn:aws:iam::444455556666:role/OrganizationAccountAccessRole';
    expect(decide(s, 'sts:AssumeRole', other, { 'aws:ResourceOrgPaths': ORG_PATH(OU) })).toBe('ImplicitlyDenied');
    const organizations = s.filter((statement) => statement.actions.some((a) => a.startsWith('organizations:')));
    expect(organizations.flatMap((statement) => statement.actions).sort()).toEqual(
      [...ORGANIZATIONS_ACTIONS_USED].sort(),
    );
    expect(decide(s, 'secretsmanager:GetSecretValue', SECRET)).toBe('Allowed');
  });

  it('with OUs and organizations_role_arn: that role is assumed for the listing, Organizations is not called directly', async () => {
    const role = 'arn:aws:iam::999988887777:role/dmm-aws-organizations-reader';
    const s = await hubStatements({
      member_organizational_unit_ids: [OU],
      organizations_role_arn: role,
      member_external_id_secret_arn: SECRET,
    });
    expect(decide(s, 'sts:AssumeRole', role)).toBe('Allowed');
    expect([...allowedActions(s)].filter((a) => a.startsWith('organizations:'))).toEqual([]);
  });

  it('refuses a malformed OU id, organizations role or query-result location', async () => {
    const hub = await loadModule();
    const invalid = (vars: Record<string, unknown>) => () =>
      terraformLocals(hub, { member_external_id_secret_arn: SECRET, ...vars }, { account_id: HUB, partition: 'aws' });
    expect(invalid({ member_organizational_unit_ids: ['r-ab12'] })).toThrow(/must be AWS Organizations OU ids/);
    expect(invalid({ organizations_role_arn: 'dmm-aws-organizations-reader' })).toThrow(
      /must be null or an IAM role ARN/,
    );
    expect(invalid({ athena_results_locations: { analytics: 's3://results/dmm/' } })).toThrow(
      /must map 12-digit account ids/,
    );
  });

  it('without member accounts, nothing to assume', async () => {
    const s = await hubStatements({});
    expect(allowedActions(s).has('sts:AssumeRole')).toBe(false);
  });
});
