import {
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  AwsIamAccount,
  decodePolicyDocument,
  policyPathFromArn,
  samePolicyDocument,
  toIamError,
} from '../../src/aws/iam-account.js';
import { IAM_LIMITS, IamError, iamCharacterCount } from '../../src/interfaces/iam-account.js';
import { MOTO_ACCOUNT, motoIam, recordCommands, unique } from './moto.js';

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

async function createRole(
  client: IAMClient,
  name: string,
  path = '/',
  tags: Record<string, string> = {},
): Promise<void> {
  await client.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: path,
      AssumeRolePolicyDocument: TRUST,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/** A valid policy reading `resources`, in IAM's JSON. */
function policy(sid: string, ...resources: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: sid, Effect: 'Allow', Action: ['s3:GetObject'], Resource: resources }],
  });
}

/** A valid policy of about `characters` non-whitespace characters. */
function policyOfSize(sid: string, characters: number): string {
  const base = iamCharacterCount(policy(sid, 'arn:aws:s3:::b/'));
  return policy(sid, `arn:aws:s3:::b/${'x'.repeat(characters - base)}`);
}

async function rejection(promise: Promise<unknown>): Promise<IamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IamError);
  return error as IamError;
}

function setup(managedRolePath?: string) {
  const client = motoIam();
  const account = new AwsIamAccount({
    client,
    accountId: MOTO_ACCOUNT,
    ...(managedRolePath ? { managedRolePath } : {}),
  });
  return { client, account };
}

describe('AwsIamAccount on moto: roles', () => {
  it('getRole returns name, ARN, path and tags; a missing role is undefined', async () => {
    const { client, account } = setup();
    const name = unique('role');
    await createRole(client, name, '/consumers/', { team: 'analytics' });
    expect(await account.getRole(name)).toEqual({
      name,
      arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/consumers/${name}`,
      path: '/consumers/',
      tags: { team: 'analytics' },
    });
    expect(await account.getRole(unique('missing'))).toBeUndefined();
  });

  it('roles outside the managed role path are invisible to getRole and listRoles', async () => {
    const { client } = setup();
    const managed = `/${unique('managed')}/`;
    const inside = unique('inside');
    const outside = unique('outside');
    await createRole(client, inside, managed);
    await createRole(client, outside, '/admins/');
    const account = new AwsIamAccount({ client, accountId: MOTO_ACCOUNT, managedRolePath: managed });
    expect((await account.getRole(inside))?.name).toBe(inside);
    expect(await account.getRole(outside)).toBeUndefined();
    expect((await account.listRoles()).map((r) => r.name)).toEqual([inside]);
  });

  it('listRoles follows every page', async () => {
    const { client } = setup();
    const path = `/${unique('paged')}/`;
    const names = [unique('r1'), unique('r2'), unique('r3')];
    for (const name of names) await createRole(client, name, path);
    // Two roles per page, so three roles take two ListRoles calls.
    client.middlewareStack.add(
      (next) => (args) => {
        const input = args.input as { MaxItems?: number };
        input.MaxItems = 2;
        return next(args);
      },
      { step: 'initialize', name: 'smallPages' },
    );
    const sent = recordCommands(client);
    const account = new AwsIamAccount({ client, accountId: MOTO_ACCOUNT, managedRolePath: path });
    const roles = await account.listRoles();
    expect(roles.map((r) => r.name).sort()).toEqual([...names].sort());
    expect(roles.every((r) => r.path === path)).toBe(true);
    expect(sent.names()).toEqual(['ListRolesCommand', 'ListRolesCommand']);
    expect(sent.inputs('ListRolesCommand')[1]!.Marker).toEqual(expect.any(String));
  });

  it('refuses a managed role path IAM would not accept', () => {
    expect(
      () => new AwsIamAccount({ client: motoIam(), accountId: MOTO_ACCOUNT, managedRolePath: 'no-slash' }),
    ).toThrow(IamError);
    expect(() => new AwsIamAccount({ client: motoIam(), accountId: '12345' })).toThrow(/12 digits/);
  });
});

describe('AwsIamAccount on moto: inline policies', () => {
  it('puts, lists (URL-decoded) and deletes inline policies', async () => {
    const { client, account } = setup();
    const role = unique('inline');
    await createRole(client, role);
    // Space, plus, percent and a Latin-1 letter all come back percent-encoded from IAM.
    const document = policy('A1', 'arn:aws:s3:::bucket/a b+c%20d/é*');
    await account.putInlinePolicy(role, 'dmm-aws-pack-1', document);
    const listed = await account.listInlinePolicies(role);
    expect(listed).toEqual([{ name: 'dmm-aws-pack-1', document }]);

    await account.deleteInlinePolicy(role, 'dmm-aws-pack-1');
    expect(await account.listInlinePolicies(role)).toEqual([]);
  });

  it('NoSuchEntity: putting on a missing role fails; deleting from a missing role or a missing policy succeeds', async () => {
    const { client, account } = setup();
    const missing = unique('missing');
    const error = await rejection(account.putInlinePolicy(missing, 'dmm-aws-pack-1', policy('A1', 'arn:aws:s3:::b')));
    expect(error.code).toBe('NoSuchEntity');
    expect((await rejection(account.listInlinePolicies(missing))).code).toBe('NoSuchEntity');

    await expect(account.deleteInlinePolicy(missing, 'dmm-aws-pack-1')).resolves.toBeUndefined();
    const role = unique('present');
    await createRole(client, role);
    await expect(account.deleteInlinePolicy(role, 'never-written')).resolves.toBeUndefined();
  });

  it('writes nothing when the stored document already says the same (formatting and key order aside)', async () => {
    const { client, account } = setup();
    const role = unique('skip');
    await createRole(client, role);
    await account.putInlinePolicy(role, 'dmm-aws-pack-1', policy('A1', 'arn:aws:s3:::b'));

    const sent = recordCommands(client);
    const reordered = JSON.stringify(
      {
        Statement: [{ Resource: ['arn:aws:s3:::b'], Action: ['s3:GetObject'], Effect: 'Allow', Sid: 'A1' }],
        Version: '2012-10-17',
      },
      null,
      2,
    );
    await account.putInlinePolicy(role, 'dmm-aws-pack-1', reordered);
    // Known from its own write: not even a read.
    expect(sent.names()).toEqual([]);
    // Another process (nothing remembered) reads the stored document and skips the write too.
    const other = new AwsIamAccount({ client, accountId: MOTO_ACCOUNT });
    await other.putInlinePolicy(role, 'dmm-aws-pack-1', reordered);
    expect(sent.names()).not.toContain('PutRolePolicyCommand');
    expect(sent.names()).toContain('ListRolePoliciesCommand');

    await account.putInlinePolicy(role, 'dmm-aws-pack-1', policy('A1', 'arn:aws:s3:::other'));
    expect(sent.inputs('PutRolePolicyCommand')).toHaveLength(1);
    expect((await account.listInlinePolicies(role))[0]!.document).toBe(policy('A1', 'arn:aws:s3:::other'));
  });

  it('a write right after reading the role sends only PutRolePolicy, and still enforces the budget from that read', async () => {
    const { client, account } = setup();
    const role = unique('after-read');
    await createRole(client, role);
    await client.send(
      new PutRolePolicyCommand({
        RoleName: role,
        PolicyName: 'someone-elses',
        PolicyDocument: policyOfSize('F', 6_000),
      }),
    );
    await account.listInlinePolicies(role);

    const sent = recordCommands(client);
    await account.putInlinePolicy(role, 'dmm-aws-pack-1', policy('A1', 'arn:aws:s3:::b'));
    expect(sent.names()).toEqual(['PutRolePolicyCommand']);
    // The foreign policy seen in that read still counts, and so does our own write since.
    const error = await rejection(account.putInlinePolicy(role, 'dmm-aws-pack-2', policyOfSize('Ours', 5_000)));
    expect(error.code).toBe('LimitExceeded');
    await account.deleteInlinePolicy(role, 'dmm-aws-pack-1');
    await account.putInlinePolicy(role, 'dmm-aws-pack-1', policy('A1', 'arn:aws:s3:::b'));
    expect(sent.inputs('PutRolePolicyCommand')).toHaveLength(2);
    expect(sent.names()).not.toContain('ListRolePoliciesCommand');
    expect((await account.listInlinePolicies(role)).map((p) => p.name).sort()).toEqual([
      'dmm-aws-pack-1',
      'someone-elses',
    ]);
  });

  it("enforces the role's 10,240-character inline budget across its policies (moto does not), writing nothing", async () => {
    const { client, account } = setup();
    const role = unique('budget');
    await createRole(client, role);
    const foreign = policyOfSize('Foreign', 6_000);
    await client.send(
      new PutRolePolicyCommand({ RoleName: role, PolicyName: 'someone-elses', PolicyDocument: foreign }),
    );

    const sent = recordCommands(client);
    const tooBig = policyOfSize('Ours', 5_000);
    const error = await rejection(account.putInlinePolicy(role, 'dmm-aws-pack-1', tooBig));
    expect(error.code).toBe('LimitExceeded');
    expect(error.message).toContain(role);
    expect(error.message).toContain('11000');
    expect(error.message).toContain(String(IAM_LIMITS.inlineRoleCharacters));
    expect(sent.names()).not.toContain('PutRolePolicyCommand');
    expect((await account.listInlinePolicies(role)).map((p) => p.name)).toEqual(['someone-elses']);

    // Exactly at the limit is allowed, and a replaced policy does not count twice.
    await account.putInlinePolicy(
      role,
      'dmm-aws-pack-1',
      policyOfSize('Ours', IAM_LIMITS.inlineRoleCharacters - 6_000),
    );
    await account.putInlinePolicy(
      role,
      'dmm-aws-pack-1',
      policyOfSize('Ours', IAM_LIMITS.inlineRoleCharacters - 6_001),
    );
    const sizes = (await account.listInlinePolicies(role)).map((p) => iamCharacterCount(p.document));
    expect(sizes.reduce((a, b) => a + b)).toBe(IAM_LIMITS.inlineRoleCharacters - 1);
  });

  it('validates policy names and document characters as IAM does, before sending anything', async () => {
    const { client, account } = setup();
    const role = unique('rules');
    await createRole(client, role);
    const sent = recordCommands(client);
    // moto would accept this name; AWS answers ValidationError.
    expect((await rejection(account.putInlinePolicy(role, 'pack 1/x', policy('A1', 'arn:aws:s3:::b')))).code).toBe(
      'InvalidInput',
    );
    expect((await rejection(account.putInlinePolicy(role, 'p'.repeat(129), policy('A1', 'arn:aws:s3:::b')))).code).toBe(
      'InvalidInput',
    );
    expect(await rejection(account.putInlinePolicy(role, 'ok', policy('A1', 'arn:aws:s3:::b/\u0100')))).toMatchObject({
      code: 'MalformedPolicyDocument',
    });
    expect(sent.names()).toEqual([]);
  });

  it("maps AWS's MalformedPolicyDocument", async () => {
    const { client, account } = setup();
    const role = unique('malformed');
    await createRole(client, role);
    const error = await rejection(account.putInlinePolicy(role, 'dmm-aws-pack-1', '{"x": 1}'));
    expect(error.code).toBe('MalformedPolicyDocument');
  });
});

describe('AwsIamAccount on moto: managed policies', () => {
  it('create → attach → update → unchanged → pruned at five versions → delete', async () => {
    const { client, account } = setup();
    const role = unique('managed');
    await createRole(client, role);
    const name = `dmm-aws-${role}-1`;
    const arn = `arn:aws:iam::${MOTO_ACCOUNT}:policy/dmm-aws/${name}`;

    const ref = await account.putManagedPolicy(role, '/dmm-aws/', name, policy('V1', 'arn:aws:s3:::v1'));
    expect(ref).toEqual({ name, arn, path: '/dmm-aws/' });
    expect(await account.listAttachedPolicies(role)).toEqual([ref]);
    expect(await account.getManagedPolicyDocument(arn)).toBe(policy('V1', 'arn:aws:s3:::v1'));

    await account.putManagedPolicy(role, '/dmm-aws/', name, policy('V2', 'arn:aws:s3:::v2'));
    expect(await account.getManagedPolicyDocument(arn)).toBe(policy('V2', 'arn:aws:s3:::v2'));

    const sent = recordCommands(client);
    await account.putManagedPolicy(
      role,
      '/dmm-aws/',
      name,
      JSON.stringify(JSON.parse(policy('V2', 'arn:aws:s3:::v2')), null, 4),
    );
    expect(sent.names().filter((n) => /^(Create|Delete|Attach|Detach)/.test(n))).toEqual([]);

    for (let v = 3; v <= 8; v++)
      await account.putManagedPolicy(role, '/dmm-aws/', name, policy(`V${v}`, `arn:aws:s3:::v${v}`));
    const { Versions = [] } = await client.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    expect(Versions.map((v) => v.VersionId).sort()).toEqual(['v4', 'v5', 'v6', 'v7', 'v8']);
    expect(Versions.find((v) => v.IsDefaultVersion)?.VersionId).toBe('v8');
    expect(await account.getManagedPolicyDocument(arn)).toBe(policy('V8', 'arn:aws:s3:::v8'));
    // Each update past five versions deleted exactly the oldest one first.
    expect(sent.inputs('DeletePolicyVersionCommand').map((i) => i.VersionId)).toEqual(['v1', 'v2', 'v3']);
    expect(sent.inputs('AttachRolePolicyCommand')).toEqual([]);

    await account.deleteManagedPolicy(role, arn);
    expect(await account.listAttachedPolicies(role)).toEqual([]);
    const gone = await client.send(new GetPolicyCommand({ PolicyArn: arn })).then(
      () => 'exists',
      (e: unknown) => (toIamError(e) as IamError).code,
    );
    expect(gone).toBe('NoSuchEntity');
    // Deleting what is already gone (policy and role) is success.
    await expect(account.deleteManagedPolicy(role, arn)).resolves.toBeUndefined();
    await expect(account.deleteManagedPolicy(unique('no-role'), arn)).resolves.toBeUndefined();
  });

  it('adopts a policy that already exists at its ARN and attaches it', async () => {
    const { client, account } = setup();
    const role = unique('adopt');
    await createRole(client, role);
    const name = `dmm-aws-${role}-1`;
    await client.send(
      new CreatePolicyCommand({
        PolicyName: name,
        Path: '/dmm-aws/',
        PolicyDocument: policy('Old', 'arn:aws:s3:::old'),
      }),
    );
    const ref = await account.putManagedPolicy(role, '/dmm-aws/', name, policy('New', 'arn:aws:s3:::new'));
    expect(await account.getManagedPolicyDocument(ref.arn)).toBe(policy('New', 'arn:aws:s3:::new'));
    const { AttachedPolicies = [] } = await client.send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
    expect(AttachedPolicies.map((p) => p.PolicyArn)).toEqual([ref.arn]);
  });

  /**
   * AWS keeps managed policy names unique in the account regardless of path; moto does not, so
   * its CreatePolicy is made to answer as AWS would.
   */
  function createPolicyAnswersAlreadyExists(client: IAMClient, before?: () => Promise<unknown>): void {
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    client.send = (async (command: unknown) => {
      if (command instanceof CreatePolicyCommand) {
        await before?.();
        throw Object.assign(new Error('A policy called x already exists. Duplicate names are not allowed.'), {
          name: 'EntityAlreadyExistsException',
        });
      }
      return send(command);
    }) as typeof client.send;
  }

  it('a name taken at another path is EntityAlreadyExists, not a silent write elsewhere', async () => {
    const { client, account } = setup();
    const role = unique('clash');
    await createRole(client, role);
    createPolicyAnswersAlreadyExists(client);
    const error = await rejection(
      account.putManagedPolicy(role, '/dmm-aws/', `dmm-aws-${role}-1`, policy('New', 'arn:aws:s3:::new')),
    );
    expect(error.code).toBe('EntityAlreadyExists');
    expect(error.message).toContain('/dmm-aws/');
    expect(await account.listAttachedPolicies(role)).toEqual([]);
  });

  it('a policy created by someone else between our look-up and CreatePolicy is updated and attached', async () => {
    const { client, account } = setup();
    const role = unique('race');
    await createRole(client, role);
    const name = `dmm-aws-${role}-1`;
    const other = motoIam();
    createPolicyAnswersAlreadyExists(client, () =>
      other.send(
        new CreatePolicyCommand({
          PolicyName: name,
          Path: '/dmm-aws/',
          PolicyDocument: policy('Theirs', 'arn:aws:s3:::theirs'),
        }),
      ),
    );
    const ref = await account.putManagedPolicy(role, '/dmm-aws/', name, policy('Ours', 'arn:aws:s3:::ours'));
    expect(await account.getManagedPolicyDocument(ref.arn)).toBe(policy('Ours', 'arn:aws:s3:::ours'));
    expect((await account.listAttachedPolicies(role)).map((p) => p.arn)).toEqual([ref.arn]);
  });

  it('refuses a managed policy over 6,144 characters without creating anything', async () => {
    const { client, account } = setup();
    const role = unique('big');
    await createRole(client, role);
    const sent = recordCommands(client);
    const error = await rejection(
      account.putManagedPolicy(role, '/dmm-aws/', `dmm-aws-${role}-1`, policyOfSize('Big', 6_145)),
    );
    expect(error.code).toBe('LimitExceeded');
    expect(error.message).toContain('6145');
    expect(sent.names()).toEqual([]);
  });

  it('putting a managed policy on a missing role is NoSuchEntity', async () => {
    const { account } = setup();
    const error = await rejection(
      account.putManagedPolicy(unique('nobody'), '/dmm-aws/', unique('dmm-aws-p'), policy('A', 'arn:aws:s3:::a')),
    );
    expect(error.code).toBe('NoSuchEntity');
  });

  it('listAttachedPolicies reads each policy path from its ARN', async () => {
    const { client, account } = setup();
    const role = unique('paths');
    await createRole(client, role);
    const ref = await account.putManagedPolicy(role, '/team/data/', unique('p'), policy('A', 'arn:aws:s3:::a'));
    expect(await account.listAttachedPolicies(role)).toEqual([{ name: ref.name, arn: ref.arn, path: '/team/data/' }]);
    expect(await account.getManagedPolicyDocument(ref.arn)).toBe(policy('A', 'arn:aws:s3:::a'));
    expect((await rejection(account.getManagedPolicyDocument(`${ref.arn}-missing`))).code).toBe('NoSuchEntity');
  });
});

describe('AwsIamAccount error mapping', () => {
  const sdkError = (name: string, message = 'from AWS') => Object.assign(new Error(message), { name, $metadata: {} });

  it.each([
    ['NoSuchEntityException', 'NoSuchEntity'],
    ['LimitExceededException', 'LimitExceeded'],
    ['MalformedPolicyDocumentException', 'MalformedPolicyDocument'],
    ['InvalidInputException', 'InvalidInput'],
    ['ValidationError', 'InvalidInput'],
    ['DeleteConflictException', 'InvalidInput'],
    ['EntityAlreadyExistsException', 'EntityAlreadyExists'],
    ['Throttling', 'Throttling'],
    ['ThrottlingException', 'Throttling'],
    ['AccessDenied', 'AccessDenied'],
    ['AccessDeniedException', 'AccessDenied'],
  ])('%s → %s', (name, code) => {
    const mapped = toIamError(sdkError(name));
    expect(mapped).toBeInstanceOf(IamError);
    expect((mapped as IamError).code).toBe(code);
    expect((mapped as IamError).message).toContain('from AWS');
  });

  it('leaves other errors as they are', () => {
    for (const error of [
      sdkError('ServiceFailureException'),
      sdkError('ConcurrentModificationException'),
      new TypeError('fetch failed'),
      'text',
    ]) {
      expect(toIamError(error)).toBe(error);
    }
  });

  it('an IAM call that is throttled or denied surfaces as IamError; anything else propagates unchanged', async () => {
    const { client, account } = setup();
    const send = (client as unknown as { send: (...a: unknown[]) => Promise<unknown> }).send;
    client.send = (() => Promise.reject(sdkError('Throttling', 'Rate exceeded'))) as typeof client.send;
    expect((await rejection(account.getRole('any'))).code).toBe('Throttling');
    client.send = (() =>
      Promise.reject(sdkError('AccessDenied', 'not authorized to perform iam:ListRoles'))) as typeof client.send;
    expect((await rejection(account.listRoles())).code).toBe('AccessDenied');
    // GetRole is only allowed under the managed path: a role outside it is "not managed".
    client.send = (() =>
      Promise.reject(sdkError('AccessDenied', 'not authorized to perform iam:GetRole'))) as typeof client.send;
    expect(await account.getRole('admin')).toBeUndefined();
    const failure = sdkError('ServiceFailureException');
    client.send = (() => Promise.reject(failure)) as typeof client.send;
    await expect(account.getRole('any')).rejects.toBe(failure);
    await expect(account.deleteInlinePolicy('any', 'p')).rejects.toBe(failure);
    client.send = send as typeof client.send;
  });
});

describe('helpers', () => {
  it('decodePolicyDocument decodes URL-encoded documents and leaves plain JSON (with %) alone', () => {
    const plain = policy('A', 'arn:aws:s3:::b/100%');
    expect(decodePolicyDocument(encodeURIComponent(plain))).toBe(plain);
    expect(decodePolicyDocument(plain)).toBe(plain);
  });

  it('samePolicyDocument ignores whitespace and key order, not values or array order', () => {
    expect(samePolicyDocument('{"a":1,"b":[1,2]}', '{ "b": [1, 2], "a": 1 }')).toBe(true);
    expect(samePolicyDocument('{"b":[1,2]}', '{"b":[2,1]}')).toBe(false);
    expect(samePolicyDocument('not json', 'not json')).toBe(false);
  });

  it('samePolicyDocument keeps a `__proto__` key as data, at any depth', () => {
    expect(samePolicyDocument('{"__proto__":{"a":1}}', '{}')).toBe(false);
    expect(samePolicyDocument('{"s":[{"__proto__":1}]}', '{"s":[{}]}')).toBe(false);
    expect(samePolicyDocument('{"__proto__":{"a":1},"b":2}', '{ "b": 2, "__proto__": { "a": 1 } }')).toBe(true);
  });

  it('policyPathFromArn', () => {
    expect(policyPathFromArn('arn:aws:iam::123456789012:policy/dmm-aws/p', 'p')).toBe('/dmm-aws/');
    expect(policyPathFromArn('arn:aws:iam::aws:policy/ReadOnlyAccess', 'ReadOnlyAccess')).toBe('/');
    expect(policyPathFromArn('arn:aws-cn:iam::123456789012:policy/a/b/c/p', 'p')).toBe('/a/b/c/');
  });
});
