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
import { LAKE_FORMATION_ACTIONS_USED } from '../../src/aws/lake-formation.js';
import { RESOURCE_TAG_ACTIONS_USED } from '../../src/aws/resource-tags.js';
import { MULTI_ACCOUNT_ENVIRONMENT } from '../../src/accounts/settings.js';
import { guardrailSettingsOf, readEnvironment } from '../../src/lambda/environment.js';
import { defaultGuardrails, ALWAYS_PROTECTED_ROLES, roleRefusal } from '../../src/sync/guardrails.js';
import {
  GUARDRAIL_ENVIRONMENT,
  guardrailSettingsFromEnv,
  guardrailSettingsSchema,
  guardrailsFrom,
} from '../../src/sync/guardrail-settings.js';
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

/** ALL_GUARDRAIL_VARIABLES.ownership_allow_list as DMM_OWNERSHIP_ALLOW_LIST carries it to the code. */
const ALLOW_LIST_AS_THE_CODE_READS_IT = [
  { dataProduct: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*'] },
  { team: 'sales', resources: ['arn:aws:glue:*:111122223333:table/sales/*', 'arn:aws:kms:*:111122223333:key/*'] },
];

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
 * glue:GetTags and glue:TagResource ("no.resource.types"), and does not match `role/*` (nor any pattern) against the
 * service paths of AWS-managed roles such as /aws-reserved/sso.amazonaws.com/eu-central-1/. IAM
 * matches "*" across "/" there as anywhere; the tests' evaluator alone decides these.
 */
const simulatorCannotAnswer = (req: Request) =>
  req.action === 'glue:GetTags' || req.action === 'glue:TagResource' || /\.amazonaws\.com\//.test(req.resource);

/** The decision of the tests' evaluator, checked against iam-simulate's where it can answer. */
async function decide(statements: Statement[], req: Request): Promise<Decision> {
  const ours = evaluate(statements, req);
  if (simulatorCannotAnswer(req)) return ours;
  const simulation = {
    identityPolicies: [{ name: 'iam-writer', policy: policyDocument(statements) }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // KMS authorises a key only as far as its key policy lets IAM decide: with the default key
    // policy (the account root allowed kms:*), the identity policy alone decides, as elsewhere.
    ...(req.action.startsWith('kms:') ? { resourcePolicy: DEFAULT_KEY_POLICY } : {}),
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

/** The key policy AWS gives a key created without one: it delegates access to the account's IAM policies. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

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

  it.each(WRITERS)('%s: by default the tag reads of ownership proof, and no role tag condition', (fn) => {
    const statements = statementsOf(fn);
    const actions = allowedActions(statements);
    for (const action of RESOURCE_TAG_ACTIONS_USED) expect(actions.has(action), action).toBe(true);
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

describe('ownership proof (ownership_proof, required by default)', () => {
  const bucket = (name: string) => `arn:aws:s3:::${name}`;
  const table = (account: string) => `arn:aws:glue:eu-west-1:${account}:table/sales/orders`;
  const database = (account: string) => `arn:aws:glue:eu-west-1:${account}:database/sales`;
  const key = (account: string) => `arn:aws:kms:eu-west-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const bucketTags = (name: string, owner: string): Request => ({
    action: 's3:GetBucketTagging',
    resource: bucket(name),
    context: { 's3:ResourceAccount': owner },
  });
  /** The statements that read provider tags: not the agreement index's S3 rights on the state bucket (test/terraform/iam.test.ts). */
  const tagReads = (statements: Statement[]) =>
    statements.filter((s) => !s.origin.startsWith('data.aws_iam_policy_document.agreement_index#'));
  const TAG_SERVICES = ['s3:', 'glue:', 'kms:', 'kinesis:', 'dynamodb:', 'kafka:'];
  const stream = (account: string) => `arn:aws:kinesis:eu-west-1:${account}:stream/clicks`;
  const dynamoTable = (account: string) => `arn:aws:dynamodb:eu-west-1:${account}:table/Orders`;
  const cluster = (account: string) =>
    `arn:aws:kafka:eu-west-1:${account}:cluster/events/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5`;
  const TAG_READS: [string, (account: string) => string][] = [
    ['kinesis:ListTagsForStream', stream],
    ['dynamodb:ListTagsOfResource', dynamoTable],
    ['kafka:ListTagsForResource', cluster],
  ];

  it.each(WRITERS)(
    '%s, default variables: exactly RESOURCE_TAG_ACTIONS_USED (S3, Glue, KMS, Kinesis, DynamoDB, MSK), in the own account only',
    async (fn) => {
      const statements = statementsOf(fn);
      const granted = [...allowedActions(tagReads(statements))].filter((a) =>
        TAG_SERVICES.some((s) => a.startsWith(s)),
      );
      expect(granted.sort()).toEqual([...RESOURCE_TAG_ACTIONS_USED].sort());
      expect(RESOURCE_TAG_ACTIONS_USED).toContain('kms:ListResourceTags');
      expect(await decide(statements, bucketTags('sales', ACCOUNT))).toBe('Allowed');
      expect(await decide(statements, bucketTags('elsewhere', OTHER_ACCOUNT))).toBe('ImplicitlyDenied');
      expect(await decide(statements, { action: 'glue:GetTags', resource: table(ACCOUNT) })).toBe('Allowed');
      expect(await decide(statements, { action: 'glue:GetTags', resource: database(ACCOUNT) })).toBe('Allowed');
      expect(await decide(statements, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe(
        'ImplicitlyDenied',
      );
      expect(await decide(statements, { action: 'glue:GetTags', resource: database(OTHER_ACCOUNT) })).toBe(
        'ImplicitlyDenied',
      );
      expect(await decide(statements, { action: 'kms:ListResourceTags', resource: key(ACCOUNT) })).toBe('Allowed');
      expect(await decide(statements, { action: 'kms:ListResourceTags', resource: key(OTHER_ACCOUNT) })).toBe(
        'ImplicitlyDenied',
      );
      for (const [action, arn] of TAG_READS) {
        expect(await decide(statements, { action, resource: arn(ACCOUNT) }), action).toBe('Allowed');
        expect(await decide(statements, { action, resource: arn(OTHER_ACCOUNT) }), action).toBe('ImplicitlyDenied');
      }
      // Reading tags, nothing else: no data, no key use, no tag writes.
      for (const req of [
        { action: 'kinesis:GetRecords', resource: stream(ACCOUNT) },
        { action: 'kinesis:AddTagsToStream', resource: stream(ACCOUNT) },
        { action: 'dynamodb:Scan', resource: dynamoTable(ACCOUNT) },
        { action: 'dynamodb:TagResource', resource: dynamoTable(ACCOUNT) },
        { action: 'kafka:TagResource', resource: cluster(ACCOUNT) },
        { action: 'kafka-cluster:Connect', resource: cluster(ACCOUNT) },
        { action: 's3:GetObject', resource: `${bucket('sales')}/x`, context: { 's3:ResourceAccount': ACCOUNT } },
        { action: 's3:PutBucketTagging', resource: bucket('sales'), context: { 's3:ResourceAccount': ACCOUNT } },
        { action: 'kms:Decrypt', resource: key(ACCOUNT) },
        { action: 'kms:TagResource', resource: key(ACCOUNT) },
        { action: 'glue:GetTable', resource: table(ACCOUNT) },
        { action: 'glue:TagResource', resource: table(ACCOUNT) },
      ])
        expect(await decide(statements, req), req.action).toBe('ImplicitlyDenied');
    },
  );

  it.each(WRITERS)('%s: the same with proof stated explicitly, a team tag key and an allow-list', (fn) => {
    const vars = {
      ownership_proof: 'required',
      ownership_team_tag_key: 'dmm:team',
      ownership_allow_list: ALL_GUARDRAIL_VARIABLES.ownership_allow_list,
    };
    // The allow-list needs no AWS rights, and a second tag key is read by the same calls.
    expect(policyDocument(tagReads(statementsOf(fn, vars)))).toEqual(policyDocument(tagReads(statementsOf(fn))));
  });

  it.each(WRITERS)('%s with ownership_proof = "off": no tag reads at all', async (fn) => {
    const statements = statementsOf(fn, { ownership_proof: 'off' });
    const actions = allowedActions(statements);
    for (const action of RESOURCE_TAG_ACTIONS_USED) expect(actions.has(action), action).toBe(false);
    expect([...actions].filter((a) => /^(glue|kms|kinesis|dynamodb|kafka):/.test(a))).toEqual([]);
    expect(await decide(statements, bucketTags('sales', ACCOUNT))).toBe('ImplicitlyDenied');
    expect(await decide(statements, { action: 'kms:ListResourceTags', resource: key(ACCOUNT) })).toBe(
      'ImplicitlyDenied',
    );
    expect(locals({ ownership_proof: 'off' })['local.resource_tag_statements']).toEqual([]);
  });

  it('follows allowed_resource_account_ids: a list, or any account with ["*"]', async () => {
    const listed = statementsOf('process_events', { allowed_resource_account_ids: [OTHER_ACCOUNT] });
    expect(await decide(listed, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(listed, { action: 'glue:GetTags', resource: database(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(listed, { action: 'glue:GetTags', resource: table(ACCOUNT) })).toBe('ImplicitlyDenied');
    expect(await decide(listed, { action: 'kms:ListResourceTags', resource: key(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(listed, { action: 'kms:ListResourceTags', resource: key(ACCOUNT) })).toBe('ImplicitlyDenied');
    expect(await decide(listed, bucketTags('b', OTHER_ACCOUNT))).toBe('Allowed');
    expect(await decide(listed, bucketTags('b', ACCOUNT))).toBe('ImplicitlyDenied');
    for (const [action, arn] of TAG_READS) {
      expect(await decide(listed, { action, resource: arn(OTHER_ACCOUNT) }), action).toBe('Allowed');
      expect(await decide(listed, { action, resource: arn(ACCOUNT) }), action).toBe('ImplicitlyDenied');
    }
    const any = statementsOf('process_events', { allowed_resource_account_ids: ['*'] });
    expect(await decide(any, { action: 'glue:GetTags', resource: table(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(any, { action: 'glue:GetTags', resource: database(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(any, { action: 'kms:ListResourceTags', resource: key(OTHER_ACCOUNT) })).toBe('Allowed');
    expect(await decide(any, bucketTags('b', OTHER_ACCOUNT))).toBe('Allowed');
  });

  it('poll-feed never reads tags', () => {
    for (const vars of [{}, { ownership_team_tag_key: 'dmm:team' }]) {
      const actions = allowedActions(statementsOf('poll_feed', vars));
      for (const action of RESOURCE_TAG_ACTIONS_USED) expect(actions.has(action)).toBe(false);
    }
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

  it('sets exactly the variables of GUARDRAIL_ENVIRONMENT (src/sync/guardrail-settings.ts)', () => {
    // With the hub's variables (src/accounts/settings.ts), "" for a single account.
    const hub = [...Object.keys(MULTI_ACCOUNT_ENVIRONMENT), 'DMM_MEMBER_EXTERNAL_ID_SECRET_ARN'];
    expect(Object.keys(environment({})).sort()).toEqual([...Object.keys(GUARDRAIL_ENVIRONMENT), ...hub].sort());
    for (const name of hub) expect(environment({})[name], name).toBe('');
  });

  it("defaults: the code's defaults (ownership proof required with the dmm:data-product tag), plus the module's own roles protected", () => {
    expect(environment({})).toMatchObject({
      DMM_OWNERSHIP_PROOF: 'required',
      DMM_OWNERSHIP_TAG_KEY: 'dmm:data-product',
      DMM_OWNERSHIP_TEAM_TAG_KEY: '',
      DMM_OWNERSHIP_ALLOW_LIST: '',
    });
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
      ownership: {
        mode: 'required',
        productTagKey: 'dmm:product',
        teamTagKey: 'dmm:team',
        allowList: ALLOW_LIST_AS_THE_CODE_READS_IT,
      },
      maxStatementsPerAgreement: 8,
      maxResourcesPerAgreement: 20,
      maxCharactersPerAgreement: 3000,
    });
    expect(read({ required_role_tag: { key: TAG_KEY }, allowed_resource_account_ids: ['*'] })).toMatchObject({
      requiredRoleTag: { key: TAG_KEY },
      allowedResourceAccounts: 'any',
    });
  });

  it('every variable set: the settings the code parses are the variables, renamed (guardrailSettingsSchema)', () => {
    const env = environment({ ...ALL_GUARDRAIL_VARIABLES, ownership_proof: 'off' });
    expect(guardrailSettingsSchema.parse(guardrailSettingsFromEnv(env))).toMatchObject({
      ownershipProof: 'off',
      ownershipTagKey: 'dmm:product',
      ownershipTeamTagKey: 'dmm:team',
      ownershipAllowList: ALLOW_LIST_AS_THE_CODE_READS_IT,
    });
  });

  it('ownership_proof = "off" reaches the code as off', () => {
    expect(environment({ ownership_proof: 'off' }).DMM_OWNERSHIP_PROOF).toBe('off');
    expect(read({ ownership_proof: 'off' }).ownership).toEqual({ mode: 'off' });
  });

  it('the allow-list is exactly the JSON of its camelCase form; [] is "" (none)', () => {
    const json = environment({
      ownership_allow_list: ALL_GUARDRAIL_VARIABLES.ownership_allow_list,
    }).DMM_OWNERSHIP_ALLOW_LIST;
    // (jsonencode writes object keys in lexical order.)
    expect(json).toBe(
      '[{"dataProduct":"orders","resources":["arn:aws:s3:::shared-lake/orders/*"]},' +
        '{"resources":["arn:aws:glue:*:111122223333:table/sales/*","arn:aws:kms:*:111122223333:key/*"],"team":"sales"}]',
    );
    expect(JSON.parse(json!)).toEqual(ALLOW_LIST_AS_THE_CODE_READS_IT);
    expect(environment({ ownership_allow_list: [] }).DMM_OWNERSHIP_ALLOW_LIST).toBe('');
    // Text that needs escaping stays one JSON string.
    const odd = environment({ ownership_allow_list: [{ team: 'a "b"\\c', resources: ['arn:aws:s3:::x/"y"'] }] });
    expect(JSON.parse(odd.DMM_OWNERSHIP_ALLOW_LIST!)).toEqual([
      { team: 'a "b"\\c', resources: ['arn:aws:s3:::x/"y"'] },
    ]);
  });
});

describe('variable validation (terraform itself)', () => {
  const rejected = (vars: Record<string, unknown>) => {
    try {
      terraformLocals(mod, vars, STUBS);
    } catch (error) {
      // Terraform wraps its messages at 78 columns inside a "│" frame: one line again.
      return String(error).replace(/\s*\n│\s*/g, ' ');
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
    [{ ownership_tag_key: null }, /to turn ownership proof off, set ownership_proof = "off"/],
    [{ ownership_team_tag_key: '' }, /ownership_team_tag_key must be/],
    [{ ownership_team_tag_key: 'team*' }, /ownership_team_tag_key must be/],
    [{ ownership_proof: 'optional' }, /ownership_proof must be "required" or "off"/],
    [{ ownership_proof: 'Required' }, /ownership_proof must be "required" or "off"/],
    [{ ownership_proof: '' }, /ownership_proof must be "required" or "off"/],
    [{ ownership_proof: null }, /ownership_proof must be "required" or "off"/],
    [
      { ownership_allow_list: [{ data_product: 'orders', team: 'sales', resources: ['arn:aws:s3:::b'] }] },
      /must name exactly one of data_product and team/,
    ],
    [{ ownership_allow_list: [{ resources: ['arn:aws:s3:::b'] }] }, /must name exactly one of data_product and team/],
    [
      { ownership_allow_list: [{ team: '', resources: ['arn:aws:s3:::b'] }] },
      /must name exactly one of data_product and team/,
    ],
    [{ ownership_allow_list: [{ team: 'sales', resources: [] }] }, /must list at least one resource ARN pattern/],
    [{ ownership_allow_list: [{ team: 'sales' }] }, /resources/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['s3://b/'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['*'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['b/*'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['arn:aws:*:::b'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['arn:aws:s?:::b'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['arn:aws:*'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['arn:*:s3:::b'] }] }, /resources must be ARN patterns/],
    [{ ownership_allow_list: [{ team: 'sales', resources: ['arn:aws:s3:::a b'] }] }, /resources must be ARN patterns/],
    [
      { ownership_allow_list: [{ team: 'sales', resources: ['arn:aws:s3:::b', 'arn:aws::::x'] }] },
      /resources must be ARN patterns/,
    ],
    [{ max_statements_per_agreement: 0 }, /max_statements_per_agreement must be/],
    [{ max_resources_per_agreement: 1001 }, /max_resources_per_agreement must be/],
    [{ max_characters_per_agreement: 99.5 }, /max_characters_per_agreement must be/],
  ])('rejects %j', (vars, message) => {
    expect(rejected(vars)).toMatch(message);
  });

  it('accepts the documented forms', () => {
    expect(rejected(ALL_GUARDRAIL_VARIABLES)).toBeUndefined();
    expect(rejected({ ownership_proof: 'off' })).toBeUndefined();
    expect(
      rejected({ athena_workgroup: 'analysts', ownership_team_tag_key: null, ownership_allow_list: [] }),
    ).toBeUndefined();
    expect(
      rejected({
        ownership_allow_list: [
          { data_product: 'orders', resources: ['arn:aws:s3:::orders-*', 'arn:aws-cn:glue:cn-north-1:*:database/o?'] },
          { team: 'sales', resources: ['arn:aws:kinesis:eu-central-1:111122223333:stream/sales-*'] },
        ],
      }),
    ).toBeUndefined();
    expect(
      rejected({
        required_role_tag: { key: TAG_KEY },
        allowed_resource_account_ids: ['*'],
        protected_role_names: ['platform-*'],
      }),
    ).toBeUndefined();
  });
});

describe('Lake Formation grants (glue_tables_governed_by)', () => {
  const lakeFormation = (statements: Statement[]) =>
    [...allowedActions(statements)].filter((a) => a.startsWith('lakeformation:')).sort();

  it.each(WRITERS)('%s, default ("iam"): no Lake Formation rights at all', (fn) => {
    expect(lakeFormation(statementsOf(fn))).toEqual([]);
  });

  it.each(WRITERS)('%s with "lake-formation": exactly LAKE_FORMATION_ACTIONS_USED, and poll-feed none', async (fn) => {
    const vars = { glue_tables_governed_by: 'lake-formation' };
    const statements = statementsOf(fn, vars);
    expect(lakeFormation(statements)).toEqual([...LAKE_FORMATION_ACTIONS_USED].sort());
    expect(await decide(statements, { action: 'lakeformation:GrantPermissions', resource: '*' })).toBe('Allowed');
    // Granting, not using data or administering Lake Formation.
    for (const action of ['lakeformation:GetDataAccess', 'lakeformation:PutDataLakeSettings'])
      expect(await decide(statements, { action, resource: '*' }), action).toBe('ImplicitlyDenied');
    expect(lakeFormation(statementsOf('poll_feed', vars))).toEqual([]);
  });
});
