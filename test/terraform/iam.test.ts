/**
 * The functions' IAM rights, read from terraform/ and evaluated: each role may do exactly what its
 * code calls (the *_ACTIONS_USED lists exported by src/aws/), on the narrowest resources, and
 * nothing that would let the tool change roles outside the managed path or widen its own rights.
 * Widening a statement, adding an action or dropping the Deny makes these tests fail.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { INDEX_ACTIONS_USED } from '../../src/aws/agreement-index.js';
import { SECRETS_ACTIONS_USED } from '../../src/aws/api-key.js';
import { IAM_ACTIONS_USED } from '../../src/aws/iam-account.js';
import { RESOURCE_TAG_ACTIONS_USED } from '../../src/aws/resource-tags.js';
import { S3_ACTIONS_USED } from '../../src/aws/s3-checkpoint.js';
import { LEASE_ACTIONS_USED } from '../../src/aws/s3-target-leases.js';
import { SQS_ACTIONS_USED } from '../../src/aws/sqs-queue.js';
import { RECORD_QUEUE_SQS_ACTIONS } from '../../src/lambda/record-queue.js';
import {
  allowedActions,
  evaluate,
  instanceAddress,
  loadModule,
  policyStatements,
  resource,
  resourcesOfType,
  rolePolicies,
  terraformLocals,
  wholeReference,
  type Evaluated,
  type Rendered,
  type Request,
  type Statement,
  type TfModule,
} from './module.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-central-1';
const iamArn = (kind: 'role' | 'policy', pathAndName: string) => `arn:aws:iam::${ACCOUNT}:${kind}${pathAndName}`;

const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:dmm-aws-events.fifo`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:dmm-aws-events-dlq.fifo`;
const BUCKET_ARN = 'arn:aws:s3:::dmm-aws-state-111122223333-eu-central-1';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:dmm-aws/dmm-api-key-20260101-AbCdEf`;
const OWN_ROLES = {
  poll_feed: iamArn('role', '/dmm-aws-poll-feed'),
  process_events: iamArn('role', '/dmm-aws-process-events'),
  reconcile: iamArn('role', '/dmm-aws-reconcile'),
};
const logGroupArn = (fn: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/dmm-aws-${fn}`;

/** What the references in the policies evaluate to in a deployment with default names. */
const FIXTURES: Record<string, Rendered> = {
  'local.partition': 'aws',
  'local.account_id': ACCOUNT,
  'aws_sqs_queue.events.arn': QUEUE_ARN,
  'aws_sqs_queue.dead_letter.arn': DLQ_ARN,
  'aws_s3_bucket.state.arn': BUCKET_ARN,
  'local.api_key_secret_arn': SECRET_ARN,
  'aws_iam_role.this["poll_feed"].arn': OWN_ROLES.poll_feed,
  'aws_iam_role.this["process_events"].arn': OWN_ROLES.process_events,
  'aws_iam_role.this["reconcile"].arn': OWN_ROLES.reconcile,
  'aws_cloudwatch_log_group.this["poll_feed"].arn': logGroupArn('poll-feed'),
  'aws_cloudwatch_log_group.this["process_events"].arn': logGroupArn('process-events'),
  'aws_cloudwatch_log_group.this["reconcile"].arn': logGroupArn('reconcile'),
};

/** Actions IAM only authorises on Resource "*" (no resource-level permissions). */
const ONLY_ON_STAR = new Set(['iam:ListRoles', 'iam:ListPolicies']);

/** What the SQS event source mapping does with the function's role to feed it. */
const EVENT_SOURCE_MAPPING_SQS = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:ReceiveMessage',
];

/**
 * S3 answers GetObject of a missing key with 404 NoSuchKey only to callers that may ListBucket,
 * otherwise with 403 AccessDenied; the checkpoint adapter relies on NoSuchKey for "no checkpoint
 * yet", the agreement index for "no entry". So every role that reads the state bucket needs
 * ListBucket although no command calls it.
 */
const IMPLIED_S3 = ['s3:ListBucket'];

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];

let mod: TfModule;
/** terraform/guardrails.tf with default variables (it does not depend on managed_role_path). */
let defaults: Evaluated;

beforeAll(async () => {
  mod = await loadModule();
  defaults = terraformLocals(mod, {}, { account_id: ACCOUNT, partition: 'aws' });
});

/** Every statement of every inline policy of a module role, for one managed_role_path. */
function roleStatements(role: keyof typeof OWN_ROLES, managedRolePath = '/'): Statement[] {
  const documents = rolePolicies(mod).get(instance(role));
  if (!documents) throw new Error(`no aws_iam_role.${instance(role)}`);
  return documents.flatMap((name) =>
    policyStatements(mod, name, FIXTURES, { managed_role_path: managedRolePath }, defaults),
  );
}

function allStatements(): Statement[] {
  return [...mod.data.keys()]
    .filter((address) => address.startsWith('aws_iam_policy_document.'))
    .flatMap((address) =>
      policyStatements(mod, address.slice('aws_iam_policy_document.'.length), FIXTURES, {}, defaults),
    );
}

/** The module's roles, lambdas and log groups are one resource `this` with an instance per function. */
const instance = (key: string) => instanceAddress('this', key);

const byService = (actions: Iterable<string>, service: string) =>
  [...actions].filter((action) => action.startsWith(`${service}:`)).sort();
const sorted = (actions: Iterable<string>) => [...new Set(actions)].sort();

describe('the roles and what is attached to them', () => {
  it('one role per function, each assumed by Lambda only', () => {
    expect(
      resourcesOfType(mod, 'aws_iam_role')
        .map(([name]) => name)
        .sort(),
    ).toEqual(['poll_feed', 'process_events', 'reconcile'].map(instance));
    for (const [name, body] of resourcesOfType(mod, 'aws_lambda_function'))
      expect(body.role, name).toBe(`\${aws_iam_role.${name}.arn}`);
    const [trust] = policyStatements(mod, 'lambda_assume', FIXTURES);
    expect(trust).toMatchObject({ effect: 'Allow', actions: ['sts:AssumeRole'], hasPrincipals: true });
    expect(resource(mod, 'data.aws_iam_policy_document.lambda_assume').statement[0].principals).toEqual([
      { type: 'Service', identifiers: ['lambda.amazonaws.com'] },
    ]);
    for (const [name, body] of resourcesOfType(mod, 'aws_iam_role'))
      expect(body.assume_role_policy, name).toBe('${data.aws_iam_policy_document.lambda_assume.json}');
  });

  it('rights come only from inline policy documents the tests can read (no attachments, no managed policies)', () => {
    for (const type of [
      'aws_iam_role_policy_attachment',
      'aws_iam_policy_attachment',
      'aws_iam_policy',
      'aws_iam_role_policies_exclusive',
    ]) {
      expect(resourcesOfType(mod, type), type).toEqual([]);
    }
    for (const [name, body] of resourcesOfType(mod, 'aws_iam_role')) {
      expect(body, name).not.toHaveProperty('inline_policy');
      expect(body, name).not.toHaveProperty('managed_policy_arns');
    }
  });
});

describe('no wildcard rights', () => {
  it('no Allow statement has a wildcard in an action, and none uses NotAction/NotResource', () => {
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) {
      expect(statement.negated, statement.origin).toEqual([]);
      if (statement.effect === 'Allow')
        for (const action of statement.actions) expect(action, statement.origin).not.toMatch(/[*?]/);
    }
  });

  it("the only wildcard action anywhere is the state bucket's TLS-only Deny", () => {
    const wildcard = allStatements().filter((statement) => statement.actions.some((action) => /[*?]/.test(action)));
    expect(wildcard.map((statement) => statement.origin)).toEqual([
      'data.aws_iam_policy_document.state_bucket#DenyInsecureTransport',
    ]);
    expect(wildcard[0]).toMatchObject({
      effect: 'Deny',
      actions: ['s3:*'],
      conditions: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
    });
  });

  it.each(['poll_feed', 'process_events', 'reconcile'] as const)(
    '%s: Resource "*" only for actions IAM cannot scope',
    (role) => {
      for (const statement of roleStatements(role)) {
        if (statement.resources.some((r) => r === '*' || r.startsWith('*'))) {
          for (const action of statement.actions)
            expect(ONLY_ON_STAR.has(action), `${statement.origin}: ${action} on *`).toBe(true);
        }
      }
    },
  );
});

describe('actions granted equal the actions the code uses', () => {
  it('process-events and reconcile: exactly IAM_ACTIONS_USED', () => {
    for (const role of ['process_events', 'reconcile'] as const) {
      expect(byService(allowedActions(roleStatements(role)), 'iam'), role).toEqual(sorted(IAM_ACTIONS_USED));
    }
  });

  it('poll-feed has no IAM rights at all', () => {
    expect(byService(allowedActions(roleStatements('poll_feed')), 'iam')).toEqual([]);
  });

  it("SQS: poll-feed sends (SendMessageBatch is authorised as sqs:SendMessage), process-events' event source consumes, and the handler tops its batch up and puts outage-kept events back; the queue adapter's actions are exactly SQS_ACTIONS_USED", () => {
    const pollFeed = byService(allowedActions(roleStatements('poll_feed')), 'sqs');
    const processEvents = byService(allowedActions(roleStatements('process_events')), 'sqs');
    expect(pollFeed).toEqual(['sqs:SendMessage']);
    expect(processEvents).toEqual(sorted([...EVENT_SOURCE_MAPPING_SQS, ...RECORD_QUEUE_SQS_ACTIONS]));
    expect(byService(allowedActions(roleStatements('reconcile')), 'sqs')).toEqual([]);
    expect(sorted([...pollFeed, ...EVENT_SOURCE_MAPPING_SQS])).toEqual(sorted(SQS_ACTIONS_USED));
  });

  it('S3: poll-feed exactly S3_ACTIONS_USED, the IAM writers exactly INDEX_ACTIONS_USED and LEASE_ACTIONS_USED (each plus ListBucket, which S3 requires to answer NoSuchKey) and the S3 tag reads of ownership proof (on by default)', () => {
    expect(byService(allowedActions(roleStatements('poll_feed')), 's3')).toEqual(
      sorted([...S3_ACTIONS_USED, ...IMPLIED_S3]),
    );
    const writers = sorted([
      ...new Set([
        ...INDEX_ACTIONS_USED,
        ...LEASE_ACTIONS_USED,
        ...IMPLIED_S3,
        ...byService(RESOURCE_TAG_ACTIONS_USED, 's3'),
      ]),
    ]);
    expect(byService(allowedActions(roleStatements('process_events')), 's3')).toEqual(writers);
    expect(byService(allowedActions(roleStatements('reconcile')), 's3')).toEqual(writers);
  });

  it('Glue, KMS, Kinesis, DynamoDB and MSK: the IAM writers exactly the tag reads of ownership proof (RESOURCE_TAG_ACTIONS_USED), poll-feed none', () => {
    for (const service of ['glue', 'kms', 'kinesis', 'dynamodb', 'kafka']) {
      const expected = byService(RESOURCE_TAG_ACTIONS_USED, service);
      expect(expected.length, service).toBeGreaterThan(0);
      expect(byService(allowedActions(roleStatements('process_events')), service)).toEqual(expected);
      expect(byService(allowedActions(roleStatements('reconcile')), service)).toEqual(expected);
      expect(byService(allowedActions(roleStatements('poll_feed')), service)).toEqual([]);
    }
  });

  it.each(['poll_feed', 'process_events', 'reconcile'] as const)(
    '%s: Secrets Manager exactly SECRETS_ACTIONS_USED, logs only to write its own group, nothing else',
    (role) => {
      const actions = allowedActions(roleStatements(role));
      expect(byService(actions, 'secretsmanager')).toEqual(sorted(SECRETS_ACTIONS_USED));
      expect(byService(actions, 'logs')).toEqual(sorted(LOGS));
      const services = new Set([...actions].map((action) => action.split(':')[0]));
      const expected =
        role === 'poll_feed'
          ? ['logs', 's3', 'secretsmanager', 'sqs']
          : role === 'process_events'
            ? ['dynamodb', 'glue', 'iam', 'kafka', 'kinesis', 'kms', 'logs', 's3', 'secretsmanager', 'sqs']
            : ['dynamodb', 'glue', 'iam', 'kafka', 'kinesis', 'kms', 'logs', 's3', 'secretsmanager'];
      expect([...services].sort()).toEqual(expected);
    },
  );
});

describe('what the IAM writers may change', () => {
  const ROLE_WRITES = ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy'];
  const PACK = iamArn('policy', '/dmm-aws/dmm-aws-analyst-1');
  const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';

  const request = (action: string, roleArn: string, policyArn = PACK): Request => ({
    action,
    resource: roleArn,
    context:
      action.endsWith('AttachRolePolicy') || action.endsWith('DetachRolePolicy') ? { 'iam:PolicyARN': policyArn } : {},
  });

  it.each(['process_events', 'reconcile'] as const)(
    '%s with managed_role_path "/": role-policy writes allowed on consumer roles, denied on its own three roles',
    (role) => {
      const statements = roleStatements(role, '/');
      for (const action of ROLE_WRITES) {
        expect(evaluate(statements, request(action, iamArn('role', '/consumer-orders'))), action).toBe('Allowed');
        expect(evaluate(statements, request(action, iamArn('role', '/data-products/consumer-orders'))), action).toBe(
          'Allowed',
        );
        for (const own of Object.values(OWN_ROLES))
          expect(evaluate(statements, request(action, own)), `${action} on ${own}`).toBe('ExplicitlyDenied');
      }
    },
  );

  it.each(['process_events', 'reconcile'] as const)(
    '%s with managed_role_path "/data-products/": only roles under that path',
    (role) => {
      const statements = roleStatements(role, '/data-products/');
      for (const action of [
        ...ROLE_WRITES,
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
      ]) {
        expect(evaluate(statements, request(action, iamArn('role', '/data-products/consumer-orders'))), action).toBe(
          'Allowed',
        );
        expect(evaluate(statements, request(action, iamArn('role', '/data-products/team-a/consumer'))), action).toBe(
          'Allowed',
        );
        expect(evaluate(statements, request(action, iamArn('role', '/admin-role'))), action).toBe('ImplicitlyDenied');
        expect(evaluate(statements, request(action, iamArn('role', '/data-products-other/x'))), action).toBe(
          'ImplicitlyDenied',
        );
        expect(evaluate(statements, request(action, iamArn('role', '/aws-service-role/x'))), action).toBe(
          'ImplicitlyDenied',
        );
      }
      for (const own of Object.values(OWN_ROLES))
        expect(evaluate(statements, request('iam:PutRolePolicy', own))).not.toBe('Allowed');
    },
  );

  it.each(['process_events', 'reconcile'] as const)(
    '%s: role-policy writes are allowed only on the managed path (every Allow names it)',
    (role) => {
      for (const path of ['/', '/data-products/']) {
        for (const statement of roleStatements(role, path).filter(
          (s) => s.effect === 'Allow' && s.actions.some((a) => ROLE_WRITES.includes(a)),
        )) {
          expect(statement.resources, statement.origin).toEqual([iamArn('role', `${path}*`)]);
        }
      }
    },
  );

  it.each(['process_events', 'reconcile'] as const)(
    "%s: the Denies cover every role write it is granted, on exactly the module's roles and the protected roles",
    (role) => {
      const statements = roleStatements(role);
      const denies = statements.filter((s) => s.effect === 'Deny');
      expect(denies.map((d) => d.sid)).toEqual(['NeverChangeOwnRoles', 'NeverChangeProtectedRoles']);
      const [own, protectedRoles] = denies as [Statement, Statement];
      expect(sorted(own.resources)).toEqual(sorted(Object.values(OWN_ROLES)));
      expect(protectedRoles.resources).toEqual(defaults['local.protected_role_arns']);
      const grantedRoleWrites = [...allowedActions(statements)].filter((a) =>
        /^iam:(Put|Delete|Attach|Detach)Role/.test(a),
      );
      for (const deny of denies) {
        expect(deny.conditions, deny.origin).toEqual([]);
        expect(sorted(deny.actions), deny.origin).toEqual(sorted(grantedRoleWrites));
      }
      expect(mod.locals.own_role_arns).toEqual([
        '${aws_iam_role.this["poll_feed"].arn}',
        '${aws_iam_role.this["process_events"].arn}',
        '${aws_iam_role.this["reconcile"].arn}',
      ]);
    },
  );

  it.each(['process_events', 'reconcile'] as const)(
    '%s: attaches only its own /dmm-aws/ packs, never another policy',
    (role) => {
      const statements = roleStatements(role);
      const consumer = iamArn('role', '/consumer-orders');
      expect(evaluate(statements, request('iam:AttachRolePolicy', consumer, PACK))).toBe('Allowed');
      expect(evaluate(statements, request('iam:DetachRolePolicy', consumer, PACK))).toBe('Allowed');
      expect(evaluate(statements, request('iam:AttachRolePolicy', consumer, ADMIN))).toBe('ImplicitlyDenied');
      expect(evaluate(statements, request('iam:AttachRolePolicy', consumer, iamArn('policy', '/team-admin')))).toBe(
        'ImplicitlyDenied',
      );
      expect(
        evaluate(statements, request('iam:DetachRolePolicy', consumer, iamArn('policy', '/guardrails/boundary'))),
      ).toBe('ImplicitlyDenied');
    },
  );

  it.each(['process_events', 'reconcile'] as const)('%s: managed-policy actions only under /dmm-aws/', (role) => {
    const statements = roleStatements(role);
    const policyActions = [...allowedActions(statements)].filter(
      (a) => /Polic(y|yVersion|yVersions)$/.test(a) && !/Role/.test(a),
    );
    expect(sorted(policyActions)).toEqual([
      'iam:CreatePolicy',
      'iam:CreatePolicyVersion',
      'iam:DeletePolicy',
      'iam:DeletePolicyVersion',
      'iam:GetPolicy',
      'iam:GetPolicyVersion',
      'iam:ListPolicyVersions',
    ]);
    for (const action of policyActions) {
      expect(evaluate(statements, { action, resource: PACK }), action).toBe('Allowed');
      expect(evaluate(statements, { action, resource: iamArn('policy', '/team-admin') }), action).toBe(
        'ImplicitlyDenied',
      );
      expect(evaluate(statements, { action, resource: iamArn('policy', '/dmm-aws-other/x') }), action).toBe(
        'ImplicitlyDenied',
      );
      expect(evaluate(statements, { action, resource: ADMIN }), action).toBe('ImplicitlyDenied');
    }
    for (const statement of statements.filter((s) => s.actions.some((a) => policyActions.includes(a)))) {
      expect(statement.resources, statement.origin).toEqual([iamArn('policy', '/dmm-aws/*')]);
    }
  });

  it('ListRoles is the only IAM action on "*"', () => {
    const star = roleStatements('reconcile').filter((s) => s.resources.includes('*'));
    expect(star.flatMap((s) => s.actions)).toEqual(['iam:ListRoles']);
  });

  it('managed_role_path cannot smuggle a wildcard into the role ARN', () => {
    const validation =
      (mod.variables.get('managed_role_path')?.validation as { condition: string }[] | undefined)?.[0]?.condition ?? '';
    const regex = /regex\("(.+?)", var\.managed_role_path\)/.exec(validation)?.[1];
    expect(regex).toBeDefined();
    const pattern = new RegExp(regex!.replace(/\\\\/g, '\\'));
    for (const ok of ['/', '/data-products/', '/a/b-c/']) expect(pattern.test(ok), ok).toBe(true);
    for (const bad of ['*', '/*', '/data*/', '/a?/', '/${aws:username}/', 'data-products/', '/data-products', ''])
      expect(pattern.test(bad), bad).toBe(false);
  });
});

describe('poll-feed, the queues, the checkpoint and the secret', () => {
  it('poll-feed sends to the event queue only, never to the dead-letter queue', () => {
    const statements = roleStatements('poll_feed');
    expect(evaluate(statements, { action: 'sqs:SendMessage', resource: QUEUE_ARN })).toBe('Allowed');
    expect(evaluate(statements, { action: 'sqs:SendMessage', resource: DLQ_ARN })).toBe('ImplicitlyDenied');
    expect(evaluate(statements, { action: 'sqs:ReceiveMessage', resource: QUEUE_ARN })).toBe('ImplicitlyDenied');
  });

  it('process-events consumes the event queue and puts outage-kept events back on it, never on the dead-letter queue', () => {
    const statements = roleStatements('process_events');
    for (const action of [...EVENT_SOURCE_MAPPING_SQS, ...RECORD_QUEUE_SQS_ACTIONS]) {
      expect(evaluate(statements, { action, resource: QUEUE_ARN }), action).toBe('Allowed');
      expect(evaluate(statements, { action, resource: DLQ_ARN }), action).toBe('ImplicitlyDenied');
    }
    expect(evaluate(statements, { action: 'sqs:DeleteQueue', resource: QUEUE_ARN })).toBe('ImplicitlyDenied');
  });

  it('the dead-letter queue is written by SQS alone: no function policy names it', () => {
    for (const role of ['poll_feed', 'process_events', 'reconcile'] as const) {
      for (const statement of roleStatements(role))
        expect(statement.resources, statement.origin).not.toContain(DLQ_ARN);
    }
  });

  it('poll-feed reads and writes the checkpoint object and nothing else in S3', () => {
    const statements = roleStatements('poll_feed');
    const checkpoint = `${BUCKET_ARN}/${String(mod.variables.get('checkpoint_key')?.default)}`;
    for (const action of S3_ACTIONS_USED) {
      expect(evaluate(statements, { action, resource: checkpoint }), action).toBe('Allowed');
      expect(evaluate(statements, { action, resource: `${BUCKET_ARN}/other-object` }), action).toBe('ImplicitlyDenied');
      expect(
        evaluate(statements, { action, resource: 'arn:aws:s3:::someone-elses-bucket/checkpoint/last-event-id.json' }),
        action,
      ).toBe('ImplicitlyDenied');
    }
    expect(evaluate(statements, { action: 's3:ListBucket', resource: BUCKET_ARN })).toBe('Allowed');
    expect(evaluate(statements, { action: 's3:ListBucket', resource: 'arn:aws:s3:::someone-elses-bucket' })).toBe(
      'ImplicitlyDenied',
    );
    expect(evaluate(statements, { action: 's3:DeleteObject', resource: checkpoint })).toBe('ImplicitlyDenied');
  });

  it.each(['process_events', 'reconcile'] as const)(
    '%s reads, writes and deletes agreement index entries and nothing else in S3',
    (role) => {
      const statements = roleStatements(role);
      const entry = `${BUCKET_ARN}/index/agreements/agr-1.json`;
      const checkpoint = `${BUCKET_ARN}/${String(mod.variables.get('checkpoint_key')?.default)}`;
      for (const action of INDEX_ACTIONS_USED.filter((a) => a !== 's3:ListBucket')) {
        expect(evaluate(statements, { action, resource: entry }), action).toBe('Allowed');
        expect(
          evaluate(statements, { action, resource: `${BUCKET_ARN}/index/agreements/team%2Fagr.json` }),
          action,
        ).toBe('Allowed');
        expect(evaluate(statements, { action, resource: checkpoint }), action).toBe('ImplicitlyDenied');
        expect(evaluate(statements, { action, resource: `${BUCKET_ARN}/index/other/agr-1.json` }), action).toBe(
          'ImplicitlyDenied',
        );
        expect(
          evaluate(statements, { action, resource: 'arn:aws:s3:::someone-elses-bucket/index/agreements/agr-1.json' }),
          action,
        ).toBe('ImplicitlyDenied');
      }
      expect(evaluate(statements, { action: 's3:ListBucket', resource: BUCKET_ARN })).toBe('Allowed');
      expect(evaluate(statements, { action: 's3:ListBucket', resource: 'arn:aws:s3:::someone-elses-bucket' })).toBe(
        'ImplicitlyDenied',
      );
    },
  );

  it.each(['process_events', 'reconcile'] as const)(
    '%s reads and writes target leases under their prefix, and never deletes one',
    (role) => {
      const statements = roleStatements(role);
      const lease = `${BUCKET_ARN}/leases/0123abcd.json`;
      for (const action of LEASE_ACTIONS_USED) {
        expect(evaluate(statements, { action, resource: lease }), action).toBe('Allowed');
        expect(
          evaluate(statements, { action, resource: 'arn:aws:s3:::someone-elses-bucket/leases/x.json' }),
          action,
        ).toBe('ImplicitlyDenied');
      }
      expect(evaluate(statements, { action: 's3:DeleteObject', resource: lease })).toBe('ImplicitlyDenied');
      expect(evaluate(statements, { action: 's3:PutObject', resource: `${BUCKET_ARN}/leasesX/x.json` })).toBe(
        'ImplicitlyDenied',
      );
    },
  );

  it('the lease prefix the IAM writers are granted is the one their environment names; poll-feed has none', () => {
    expect(mod.locals.target_lease_prefix).toBe('leases/');
    expect(mod.locals.iam_writer_environment.TARGET_LEASE_PREFIX).toBe('${local.target_lease_prefix}');
    for (const action of LEASE_ACTIONS_USED)
      expect(evaluate(roleStatements('poll_feed'), { action, resource: `${BUCKET_ARN}/leases/x.json` }), action).toBe(
        'ImplicitlyDenied',
      );
  });

  it('poll-feed cannot touch the agreement index', () => {
    const statements = roleStatements('poll_feed');
    // It may list the bucket (for its checkpoint), but not read, write or delete an index entry.
    for (const action of INDEX_ACTIONS_USED.filter((a) => a !== 's3:ListBucket'))
      expect(evaluate(statements, { action, resource: `${BUCKET_ARN}/index/agreements/agr-1.json` }), action).toBe(
        'ImplicitlyDenied',
      );
  });

  it('the index prefix the IAM writers are granted is the one their environment names', () => {
    expect(mod.locals.agreement_index_prefix).toBe('index/agreements/');
    expect(mod.locals.iam_writer_environment.AGREEMENT_INDEX_PREFIX).toBe('${local.agreement_index_prefix}');
    expect(resource(mod, 'data.aws_iam_policy_document.agreement_index').statement[0].resources).toEqual([
      '${aws_s3_bucket.state.arn}/${local.agreement_index_prefix}*',
    ]);
  });

  it.each(['poll_feed', 'process_events', 'reconcile'] as const)('%s reads the API key secret and no other', (role) => {
    const statements = roleStatements(role);
    expect(evaluate(statements, { action: 'secretsmanager:GetSecretValue', resource: SECRET_ARN })).toBe('Allowed');
    expect(
      evaluate(statements, {
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/db-password-XyZ123`,
      }),
    ).toBe('ImplicitlyDenied');
  });

  it.each([
    ['poll_feed', 'poll-feed'],
    ['process_events', 'process-events'],
    ['reconcile', 'reconcile'],
  ] as const)('%s writes log events to its own log group only', (role, fn) => {
    const statements = roleStatements(role);
    for (const other of ['poll-feed', 'process-events', 'reconcile']) {
      const decision = evaluate(statements, {
        action: 'logs:PutLogEvents',
        resource: `${logGroupArn(other)}:log-stream:2026/01/01/[$LATEST]abc`,
      });
      expect(decision, `${role} → ${other}`).toBe(other === fn ? 'Allowed' : 'ImplicitlyDenied');
    }
    expect(evaluate(statements, { action: 'logs:CreateLogGroup', resource: logGroupArn(fn) })).toBe('ImplicitlyDenied');
  });

  it('the evaluator itself tells a widened statement apart (the assertions above can fail)', () => {
    const widened: Statement[] = [
      {
        origin: 'widened',
        effect: 'Allow',
        actions: ['iam:*'],
        resources: ['*'],
        conditions: [],
        negated: [],
        hasPrincipals: false,
      },
    ];
    expect(evaluate(widened, { action: 'iam:PutRolePolicy', resource: iamArn('role', '/admin-role') })).toBe('Allowed');
    expect(allowedActions(widened).has('iam:*')).toBe(true);
    expect(wholeReference('${aws_iam_role.x.id}')).toBe('aws_iam_role.x.id');
  });
});
