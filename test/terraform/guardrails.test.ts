/**
 * The guardrails in the Terraform module (terraform/guardrails.tf, iam.tf): the functions get them
 * as the environment src/sync/guardrail-settings.ts reads, and the IAM policy of the functions
 * that write IAM holds them a second time. Policies are rendered for several sets of variables
 * (terraform console evaluates guardrails.tf) and evaluated by the tests' own evaluator and by
 * @cloud-copilot/iam-simulate; both must agree. Widening a statement, dropping a condition or a
 * Deny makes these tests fail.
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_TAG_ACTIONS_USED } from '../../src/aws/resource-tags.js';
import { guardrailSettingsOf, readEnvironment } from '../../src/lambda/environment.js';
import { defaultGuardrails, ALWAYS_PROTECTED_ROLES, roleRefusal } from '../../src/sync/guardrails.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import {
  ALL_GUARDRAIL_VARIABLES,
  allowedActions,
  evaluate,
  instanceAddress,
  loadModule,
  policyStatements,
  rolePolicies,
  terraformLocals,
  type Decision,
  type Evaluated,
  type Rendered,
  type Request,
  type Statement,
  type TfModule,
} from './module.js';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '999988887777';
const STUBS = { account_id: ACCOUNT, partition: 'aws' };
const role = (pathAndName: string) => `arn:aws:iam::${ACCOUNT}:role${pathAndName}`;
const OWN_ROLES = [role('/dmm-aws-poll-feed'), role('/dmm-aws-process-events'), role('/dmm-aws-reconcile')];
const PACK = `arn:aws:iam::${ACCOUNT}:policy/dmm-aws/dmm-aws-analyst-1`;
const ROLE_WRITES = ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy'];
const ROLE_READS = ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies'];
const WRITERS = ['process_events', 'reconcile'] as const;
const TAG_KEY = 'dmm-aws:managed';

const FIXTURES: Record<string, Rendered> = {
  'local.partition': 'aws',
  'local.account_id': ACCOUNT,
  'aws_sqs_queue.events.arn': `arn:aws:sqs:eu-central-1:${ACCOUNT}:dmm-aws-events.fifo`,
  'aws_s3_bucket.state.arn': 'arn:aws:s3:::dmm-aws-state-111122223333-eu-central-1',
  'local.api_key_secret_arn': `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:dmm-aws/dmm-api-key-AbCdEf`,
  'aws_iam_role.this["poll_feed"].arn': OWN_ROLES[0]!,
  'aws_iam_role.this["process_events"].arn': OWN_ROLES[1]!,
  'aws_iam_role.this["reconcile"].arn': OWN_ROLES[2]!,
  'aws_cloudwatch_log_group.this["poll_feed"].arn': `arn:aws:logs:eu-central-1:${ACCOUNT}:log-group:/aws/lambda/dmm-aws-poll-feed`,
  'aws_cloudwatch_log_group.this["process_events"].arn': `arn:aws:logs:eu-central-1:${ACCOUNT}:log-group:/aws/lambda/dmm-aws-process-events`,
  'aws_cloudwatch_log_group.this["reconcile"].arn': `arn:aws:logs:eu-central-1:${ACCOUNT}:log-group:/aws/lambda/dmm-aws-reconcile`,
};

let mod: TfModule;
const evaluations = new Map<string, Evaluated>();

beforeAll(async () => {
  mod = await loadModule();
});

/** terraform/guardrails.tf for these variables (cached: each is one `terraform console`). */
function locals(vars: Record<string, unknown>): Evaluated {
  const key = JSON.stringify(vars);
  let evaluated = evaluations.get(key);
  if (!evaluated) {
    evaluated = terraformLocals(mod, vars, STUBS);
    evaluations.set(key, evaluated);
  }
  return evaluated;
}

/** Every statement of a module role's inline policies for these variables. */
function statementsOf(
  fn: 'poll_feed' | 'process_events' | 'reconcile',
  vars: Record<string, unknown> = {},
): Statement[] {
  const documents = rolePolicies(mod).get(instanceAddress('this', fn));
  if (!documents) throw new Error(`no aws_iam_role.this["${fn}"]`);
  return documents.flatMap((name) => policyStatements(mod, name, FIXTURES, vars, locals(vars)));
}

function request(action: string, roleArn: string, tags: Record<string, string> = {}, policyArn = PACK): Request {
  const context: Record<string, string> = Object.fromEntries(
    Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]),
  );
  if (/(Attach|Detach)RolePolicy$/.test(action)) context['iam:PolicyARN'] = policyArn;
  return { action, resource: roleArn, context };
}

/** The statements as the policy document Terraform would render. */
function policyDocument(statements: Statement[]) {
  return {
    Version: '2012-10-17',
    Statement: statements.map((s) => {
      const condition: Record<string, Record<string, string[]>> = {};
      for (const c of s.conditions) condition[c.test] = { ...condition[c.test], [c.variable]: c.values };
      return {
        ...(s.sid ? { Sid: s.sid } : {}),
        Effect: s.effect,
        Action: s.actions,
        Resource: s.resources,
        ...(s.conditions.length ? { Condition: condition } : {}),
      };
    }),
  };
}

/**
 * Requests @cloud-copilot/iam-simulate 0.1.173 cannot answer: it finds no resource type for
 * glue:GetTags ("no.resource.types"), and does not match `role/*` (nor any pattern) against the
 * service paths of AWS-managed roles such as /aws-reserved/sso.amazonaws.com/eu-central-1/. IAM
 * matches "*" across "/" there as anywhere; the tests' evaluator alone decides these.
 */
const simulatorCannotAnswer = (req: Request) =>
  req.action === 'glue:GetTags' || /\.amazonaws\.com\//.test(req.resource);

/** The decision of the tests' evaluator, checked against iam-simulate's where it can answer. */
async function decide(statements: Statement[], req: Request): Promise<Decision> {
  const ours = evaluate(statements, req);
  if (simulatorCannotAnswer(req)) return ours;
  const simulation = {
    identityPolicies: [{ name: 'iam-writer', policy: policyDocument(statements) }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: req.action,
      principal: OWN_ROLES[1]!,
      // Simulated as a same-account request, so that the identity policy alone decides: across
      // accounts the other account's resource policy has its say too, and that is not ours.
      resource: { resource: req.resource, accountId: ACCOUNT },
      contextVariables: req.context ?? {},
    },
  } as unknown as Simulation;
  const simulated = await runSimulation(simulation, {});
  if (simulated.resultType === 'error')
    throw new Error(`iam-simulate refused ${req.action} on ${req.resource}: ${JSON.stringify(simulated.errors)}`);
  expect(
    simulated.overallResult,
    `iam-simulate vs the test evaluator: ${req.action} on ${req.resource} ${JSON.stringify(req.context)}`,
  ).toBe(ours);
  return ours;
}

/** A role name for each always-protected pattern, as the code matches it (trailing * = prefix). */
const protectedExamples = ALWAYS_PROTECTED_ROLES.map((pattern) =>
  pattern.endsWith('*') ? `${pattern.slice(0, -1)}Example` : pattern,
);

describe('the always-protected roles', () => {
  it('the Terraform list equals ALWAYS_PROTECTED_ROLES of src/sync/guardrails.ts', () => {
    expect(mod.locals.always_protected_roles).toEqual([...ALWAYS_PROTECTED_ROLES]);
    expect(locals({})['local.always_protected_roles']).toEqual([...ALWAYS_PROTECTED_ROLES]);
  });
});

describe("The Terraform module's default configuration cannot modify a role outside its scope", () => {
  it.each(WRITERS)(
    '%s: role writes allowed on a normal role, denied on its own roles and the always-protected ones at any path',
    async (fn) => {
      const statements = statementsOf(fn);
      for (const action of ROLE_WRITES) {
        expect(await decide(statements, request(action, role('/consumer-orders'))), action).toBe('Allowed');
        expect(await decide(statements, request(action, role('/data-products/consumer-orders'))), action).toBe(
          'Allowed',
        );
        for (const own of OWN_ROLES)
          expect(await decide(statements, request(action, own)), `${action} on ${own}`).toBe('ExplicitlyDenied');
        for (const arn of [
          role('/OrganizationAccountAccessRole'),
          role('/aws-reserved/sso.amazonaws.com/eu-central-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef'),
          role('/AWSReservedSSO_x'),
          role('/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport'),
          role('/aws-service-role/controltower.amazonaws.com/AWSControlTowerExecution'),
          role('/aws-controltower-AdministratorExecutionRole'),
          role('/AWSCloudFormationStackSetExecutionRole'),
          role('/stacksets-exec-0123456789abcdef'),
        ]) {
          expect(await decide(statements, request(action, arn)), `${action} on ${arn}`).toBe('ExplicitlyDenied');
        }
      }
    },
  );

  it.each(WRITERS)(
    '%s: IAM denies exactly the roles the code refuses as protected, at the root and under a path',
    async (fn) => {
      const statements = statementsOf(fn);
      const guardrails = guardrailsFrom(ACCOUNT, {
        managedRolePath: '/',
        protectedRoles: ['dmm-aws-poll-feed', 'dmm-aws-process-events', 'dmm-aws-reconcile'],
      });
      // (The module's own roles are covered above: role names are unique in an account whatever
      // the path, so their exact ARNs are all there is to deny.)
      const names = [
        ...protectedExamples,
        'OrganizationAccountAccessRole2',
        'MyOrganizationAccountAccessRole',
        'AWSReservedSSOx',
        'awsreservedsso_x',
        'consumer-orders',
      ];
      expect(roleRefusal({ name: 'awsreservedsso_x', path: '/', tags: {} }, guardrails)).toBeDefined();
      for (const path of ['/', '/data-products/']) {
        for (const name of names) {
          // IAM matches ARNs case-sensitively; the code also refuses case variants (AWS role names
          // are unique ignoring case), so it refuses a superset of what IAM denies.
          const exact = guardrails.protectedRoles.some((p) =>
            p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p,
          );
          const refused = roleRefusal({ name, path, tags: {} }, guardrails) !== undefined;
          const decision = await decide(statements, request('iam:PutRolePolicy', role(`${path}${name}`)));
          expect(decision, `${path}${name}`).toBe(exact ? 'ExplicitlyDenied' : 'Allowed');
          if (exact) expect(refused, `${path}${name}`).toBe(true);
          if (!refused) expect(decision, `${path}${name}`).toBe('Allowed');
        }
      }
    },
  );

  it.each(WRITERS)(
    '%s: with managed_role_path narrowed, a role under another path is out of reach (reads too)',
    async (fn) => {
      const vars = { managed_role_path: '/data-products/' };
      const statements = statementsOf(fn, vars);
      for (const action of [...ROLE_WRITES, ...ROLE_READS]) {
        expect(await decide(statements, request(action, role('/data-products/consumer-orders'))), action).toBe(
          'Allowed',
        );
        expect(await decide(statements, request(action, role('/consumer-orders'))), action).toBe('ImplicitlyDenied');
        expect(await decide(statements, request(action, role('/data-products-other/consumer-orders'))), action).toBe(
          'ImplicitlyDenied',
        );
      }
      expect(await decide(statements, request('iam:PutRolePolicy', role('/data-products/AWSReservedSSO_x')))).toBe(
        'ExplicitlyDenied',
      );
    },
  );

  it.each(WRITERS)('%s: attaches and detaches only the /dmm-aws/ packs', async (fn) => {
    const statements = statementsOf(fn);
    for (const action of ['iam:AttachRolePolicy', 'iam:DetachRolePolicy']) {
      expect(await decide(statements, request(action, role('/consumer-orders'), {}, PACK))).toBe('Allowed');
      for (const other of [
        'arn:aws:iam::aws:policy/AdministratorAccess',
        `arn:aws:iam::${ACCOUNT}:policy/team-admin`,
        `arn:aws:iam::${ACCOUNT}:policy/dmm-aws-other/x`,
      ]) {
        expect(
          await decide(statements, request(action, role('/consumer-orders'), {}, other)),
          `${action} ${other}`,
        ).toBe('ImplicitlyDenied');
      }
    }
  });

  it.each(WRITERS)('%s: no tag reads and no tag condition by default', (fn) => {
    const statements = statementsOf(fn);
    const actions = allowedActions(statements);
    for (const action of RESOURCE_TAG_ACTIONS_USED) expect(actions.has(action), action).toBe(false);
    for (const statement of statements)
      expect(
        statement.conditions.filter((c) => c.variable.startsWith('aws:ResourceTag/')),
        statement.origin,
      ).toEqual([]);
  });
});

describe('required_role_tag', () => {
  it.each(WRITERS)(
    '%s with key and value: role writes only on roles carrying exactly that tag; reads on every managed role',
    async (fn) => {
      const statements = statementsOf(fn, { required_role_tag: { key: TAG_KEY, value: 'true' } });
      for (const action of ROLE_WRITES) {
        expect(await decide(statements, request(action, role('/consumer-orders'), { [TAG_KEY]: 'true' })), action).toBe(
          'Allowed',
        );
        expect(await decide(statements, request(action, role('/consumer-orders'))), action).toBe('ImplicitlyDenied');
        expect(
          await decide(statements, request(action, role('/consumer-orders'), { [TAG_KEY]: 'false' })),
          action,
        ).toBe('ImplicitlyDenied');
        expect(
          await decide(statements, request(action, role('/consumer-orders'), { 'other-tag': 'true' })),
          action,
        ).toBe('ImplicitlyDenied');
        // The tag does not open a protected role.
        expect(
          await decide(statements, request(action, role('/OrganizationAccountAccessRole'), { [TAG_KEY]: 'true' })),
          action,
        ).toBe('ExplicitlyDenied');
        expect(await decide(statements, request(action, OWN_ROLES[1]!, { [TAG_KEY]: 'true' })), action).toBe(
          'ExplicitlyDenied',
        );
      }
      // The full reconcile reads every role under the path to report what an untagged one holds.
      for (const action of ROLE_READS)
        expect(await decide(statements, request(action, role('/consumer-orders'))), action).toBe('Allowed');
      expect(
        await decide(
          statements,
          request(
            'iam:AttachRolePolicy',
            role('/consumer-orders'),
            { [TAG_KEY]: 'true' },
            'arn:aws:iam::aws:policy/AdministratorAccess',
          ),
        ),
      ).toBe('ImplicitlyDenied');
    },
  );

  it.each(WRITERS)('%s with the key only: any value, but the tag must be there', async (fn) => {
    const statements = statementsOf(fn, { required_role_tag: { key: TAG_KEY } });
    for (const action of ROLE_WRITES) {
      expect(
        await decide(statements, request(action, role('/consumer-orders'), { [TAG_KEY]: 'anything' })),
        action,
      ).toBe('Allowed');
      expect(await decide(statements, request(action, role('/consumer-orders'))), action).toBe('ImplicitlyDenied');
    }
  });

  it('every Allow that grants a role write carries the tag condition', () => {
    const statements = statementsOf('reconcile', { required_role_tag: { key: TAG_KEY, value: 'true' } });
    const writes = statements.filter((s) => s.effect === 'Allow' && s.actions.some((a) => ROLE_WRITES.includes(a)));
    expect(writes.length).toBeGreaterThan(0);
    for (const statement of writes) {
      expect(statement.conditions, statement.origin).toContainEqual({
        test: 'StringEquals',
        variable: `aws:ResourceTag/${TAG_KEY}`,
        values: ['true'],
      });
    }
  });
});

describe('protected_role_names', () => {
  it.each(WRITERS)('%s: named roles and prefixes are denied wherever they are; similar names are not', async (fn) => {
    const statements = statementsOf(fn, { protected_role_names: ['break-glass', 'platform-*'] });
    for (const action of ROLE_WRITES) {
      expect(await decide(statements, request(action, role('/break-glass'))), action).toBe('ExplicitlyDenied');
      expect(await decide(statements, request(action, role('/admins/break-glass'))), action).toBe('ExplicitlyDenied');
      expect(await decide(statements, request(action, role('/platform-deployer'))), action).toBe('ExplicitlyDenied');
      expect(await decide(statements, request(action, role('/break-glass-2'))), action).toBe('Allowed');
      expect(await decide(statements, request(action, role('/team-platform-x'))), action).toBe('Allowed');
    }
  });
});

describe('ownership_tag_key', () => {
  const bucket = (name: string) => `arn:aws:s3:::${name}`;
  const table = (account: string) => `arn:aws:glue:eu-west-1:${account}:table/sales/orders`;

  it.each(WRITERS)('%s: exactly RESOURCE_TAG_ACTIONS_USED, in the own account by default', async (fn) => {
    const statements = statementsOf(fn, { ownership_tag_key: 'dmm:data-product' });
    // The agreement index's S3 rights (on the state bucket only, test/terraform/iam.test.ts) are not tag reads.
    const tagReads = statements.filter((s) => !s.origin.startsWith('data.aws_iam_policy_document.agreement_index#'));
    const granted = [...allowedActions(tagReads)].filter((a) => a.startsWith('s3:') || a.startsWith('glue:'));
    expect(granted.sort()).toEqual([...RESOURCE_TAG_ACTIONS_USED].sort());
    expect(
      await decide(statements, {
        action: 's3:GetBucketTagging',
        resource: bucket('sales'),
        context: { 's3:ResourceAccount': ACCOUNT },
      }),
    ).toBe('Allowed');
    expect(
      await decide(statements, {
        action: 's3:GetBucketTagging',
        resource: bucket('elsewhere'),
        context: { 's3:ResourceAccount': OTHER_ACCOUNT },
      }),
    ).toBe('ImplicitlyDenied');
    expect(await decide(statements, { action: 'glue:GetTags', resource: table(ACCOUNT) })).toBe('Allowed');
    expect(await decide(statements, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe(
      'ImplicitlyDenied',
    );
    expect(
      await decide(statements, {
        action: 's3:GetObject',
        resource: `${bucket('sales')}/x`,
        context: { 's3:ResourceAccount': ACCOUNT },
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('follows allowed_resource_account_ids: a list, or any account with ["*"]', async () => {
    const listed = statementsOf('process_events', {
      ownership_tag_key: 'owner',
      allowed_resource_account_ids: [OTHER_ACCOUNT],
    });
    expect(await decide(listed, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(listed, { action: 'glue:GetTags', resource: table(ACCOUNT) })).toBe('ImplicitlyDenied');
    expect(
      await decide(listed, {
        action: 's3:GetBucketTagging',
        resource: bucket('b'),
        context: { 's3:ResourceAccount': OTHER_ACCOUNT },
      }),
    ).toBe('Allowed');
    const any = statementsOf('process_events', { ownership_tag_key: 'owner', allowed_resource_account_ids: ['*'] });
    expect(await decide(any, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(
      await decide(any, {
        action: 's3:GetBucketTagging',
        resource: bucket('b'),
        context: { 's3:ResourceAccount': OTHER_ACCOUNT },
      }),
    ).toBe('Allowed');
  });

  it('poll-feed never reads tags', () => {
    const actions = allowedActions(statementsOf('poll_feed', { ownership_tag_key: 'owner' }));
    for (const action of RESOURCE_TAG_ACTIONS_USED) expect(actions.has(action)).toBe(false);
  });
});

describe('the guardrail environment the functions read', () => {
  const environment = (vars: Record<string, unknown>) =>
    locals(vars)['local.guardrail_environment'] as Record<string, string>;
  const read = (vars: Record<string, unknown>) => {
    const env = readEnvironment('reconcile', {
      DMM_BASE_URL: 'https://api.entropy-data.com',
      DMM_API_KEY_SECRET_ARN: `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:dmm-api-key-AbCdEf`,
      AWS_REGION: 'eu-central-1',
      MANAGED_ROLE_PATH: '/data-products/',
      STATE_BUCKET: 'dmm-aws-state',
      ...environment(vars),
    });
    return guardrailsFrom(ACCOUNT, { ...guardrailSettingsOf(env), managedRolePath: env.MANAGED_ROLE_PATH });
  };

  it("defaults: the code's defaults, plus the module's own roles protected", () => {
    expect(read({})).toEqual({
      ...defaultGuardrails(ACCOUNT),
      managedRolePath: '/data-products/',
      protectedRoles: [...ALWAYS_PROTECTED_ROLES, 'dmm-aws-poll-feed', 'dmm-aws-process-events', 'dmm-aws-reconcile'],
    });
  });

  it('every variable set: each reaches its guardrail', () => {
    expect(read({ ...ALL_GUARDRAIL_VARIABLES, name_prefix: 'mesh' })).toEqual({
      managedRolePath: '/data-products/',
      requiredRoleTag: { key: 'dmm-aws:managed', value: 'true' },
      protectedRoles: [
        ...ALWAYS_PROTECTED_ROLES,
        'mesh-poll-feed',
        'mesh-process-events',
        'mesh-reconcile',
        'break-glass',
        'platform-*',
      ],
      allowedResourceAccounts: ['111122223333', '444455556666'],
      ownershipTagKey: 'dmm:data-product',
      maxStatementsPerAgreement: 8,
      maxResourcesPerAgreement: 20,
      maxCharactersPerAgreement: 3000,
    });
    expect(read({ required_role_tag: { key: TAG_KEY }, allowed_resource_account_ids: ['*'] })).toMatchObject({
      requiredRoleTag: { key: TAG_KEY },
      allowedResourceAccounts: 'any',
    });
  });
});

describe('variable validation (terraform itself)', () => {
  const rejected = (vars: Record<string, unknown>) => {
    try {
      terraformLocals(mod, vars, STUBS);
    } catch (error) {
      return String(error);
    }
    return undefined;
  };

  it.each([
    [{ protected_role_names: ['a*b'] }, /protected_role_names must be IAM role names/],
    [{ protected_role_names: ['*'] }, /protected_role_names must be IAM role names/],
    [{ protected_role_names: ['team?'] }, /protected_role_names must be IAM role names/],
    [{ allowed_resource_account_ids: ['1234'] }, /allowed_resource_account_ids must be/],
    [{ allowed_resource_account_ids: ['*', ACCOUNT] }, /allowed_resource_account_ids must be/],
    [{ required_role_tag: { key: 'a=b' } }, /required_role_tag.key must be/],
    [{ required_role_tag: { key: 'team*' } }, /required_role_tag.key must be/],
    [{ required_role_tag: { key: 'aws:cloudformation:stack-name' } }, /required_role_tag.key must be/],
    [{ required_role_tag: { key: 'k', value: '' } }, /required_role_tag.value must be/],
    [{ ownership_tag_key: '' }, /ownership_tag_key must be/],
    [{ max_statements_per_agreement: 0 }, /max_statements_per_agreement must be/],
    [{ max_resources_per_agreement: 1001 }, /max_resources_per_agreement must be/],
    [{ max_characters_per_agreement: 99.5 }, /max_characters_per_agreement must be/],
  ])('rejects %j', (vars, message) => {
    expect(rejected(vars)).toMatch(message);
  });

  it('accepts the documented forms', () => {
    expect(rejected(ALL_GUARDRAIL_VARIABLES)).toBeUndefined();
    expect(
      rejected({
        required_role_tag: { key: TAG_KEY },
        allowed_resource_account_ids: ['*'],
        protected_role_names: ['platform-*'],
      }),
    ).toBeUndefined();
  });
});
