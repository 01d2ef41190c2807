import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../src/model/policy.js';
import { guardrailsFrom } from '../../src/sync/guardrail-settings.js';
import { constrainStatements, defaultGuardrails, grantRefusal, roleRefusal } from '../../src/sync/guardrails.js';
import type { Grant } from '../../src/sync/resolve.js';

const ACCOUNT = '123456789012';
const role = (name: string, path = '/', tags: Record<string, string> = {}) => ({ name, path, tags });

function grant(statements: PolicyStatement[]): Grant {
  return {
    agreementId: 'a',
    role: { name: 'r', arn: `arn:aws:iam::${ACCOUNT}:role/r`, accountId: ACCOUNT },
    portType: 'glue_table',
    outputPortId: 'p',
    providerDataProductId: 'orders',
    consumerDataProductId: 'c',
    grants: [{ target: 'identity-policy', statements }],
    summary: '',
    providerResources: [],
  };
}

describe('roleRefusal', () => {
  it('refuses protected roles, roles outside the path, and roles without the required tag', () => {
    const g = guardrailsFrom(ACCOUNT, {
      managedRolePath: '/data/',
      requiredRoleTag: 'dmm-aws=managed',
      protectedRoles: ['break-glass-*'],
    });
    expect(roleRefusal(role('OrganizationAccountAccessRole', '/data/'), g)).toMatch(
      /protected \(guardrails\.protectedRoles: OrganizationAccountAccessRole\)/,
    );
    expect(roleRefusal(role('AWSReservedSSO_Admin_1234', '/data/'), g)).toMatch(/AWSReservedSSO_\*/);
    expect(roleRefusal(role('break-glass-2', '/data/'), g)).toMatch(/break-glass-\*/);
    expect(roleRefusal(role('consumer', '/'), g)).toMatch(/outside the managed path \/data\//);
    expect(roleRefusal(role('consumer', '/data/'), g)).toMatch(/lacks the tag dmm-aws/);
    expect(roleRefusal(role('consumer', '/data/', { 'dmm-aws': 'other' }), g)).toMatch(
      /dmm-aws=other.*only roles with dmm-aws=managed/,
    );
    expect(roleRefusal(role('consumer', '/data/team/', { 'dmm-aws': 'managed' }), g)).toBeUndefined();
  });

  it('by default manages every role but the protected ones', () => {
    const g = defaultGuardrails(ACCOUNT);
    expect(roleRefusal(role('consumer'), g)).toBeUndefined();
    expect(roleRefusal(role('AWSServiceRoleForSupport', '/aws-service-role/'), g)).toBeDefined();
  });
});

describe('grantRefusal', () => {
  const glue = (account: string): PolicyStatement => ({
    Effect: 'Allow',
    Action: 'glue:GetTable',
    Resource: [`arn:aws:glue:eu-central-1:${account}:table/db/t`],
  });

  it('refuses resources of accounts that are not allowed, unless any account is allowed', () => {
    expect(grantRefusal(grant([glue('999988887777')]), defaultGuardrails(ACCOUNT))).toMatch(
      /account 999988887777.*guardrails\.allowedResourceAccounts: 123456789012/,
    );
    expect(
      grantRefusal(
        grant([glue('999988887777')]),
        guardrailsFrom(ACCOUNT, { allowedResourceAccounts: ['999988887777'] }),
      ),
    ).toBeUndefined();
    expect(
      grantRefusal(grant([glue('999988887777')]), guardrailsFrom(ACCOUNT, { allowedResourceAccounts: '*' })),
    ).toBeUndefined();
  });

  it('bounds statements, resources and characters per agreement', () => {
    const many = Array.from({ length: 5 }, () => glue(ACCOUNT));
    expect(grantRefusal(grant(many), guardrailsFrom(ACCOUNT, { maxStatementsPerAgreement: 4 }))).toMatch(
      /5 statements.*maxStatementsPerAgreement \(4\)/,
    );
    expect(grantRefusal(grant(many), guardrailsFrom(ACCOUNT, { maxResourcesPerAgreement: 3 }))).toMatch(
      /5 resources.*maxResourcesPerAgreement \(3\)/,
    );
    expect(grantRefusal(grant(many), guardrailsFrom(ACCOUNT, { maxCharactersPerAgreement: 200 }))).toMatch(
      /characters, more than guardrails\.maxCharactersPerAgreement \(200\)/,
    );
    expect(grantRefusal(grant(many), defaultGuardrails(ACCOUNT))).toBeUndefined();
  });
});

describe('constrainStatements', () => {
  it('adds the bucket-owner condition to S3-only statements, keeping their own conditions', () => {
    const list: PolicyStatement = {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::b',
      Condition: { StringLike: { 's3:prefix': ['p/', 'p/*'] } },
    };
    const athena: PolicyStatement = {
      Effect: 'Allow',
      Action: ['athena:GetWorkGroup'],
      Resource: 'arn:aws:athena:eu-central-1:123456789012:workgroup/w',
    };
    expect(constrainStatements([list, athena], defaultGuardrails(ACCOUNT))).toEqual([
      {
        ...list,
        Condition: { StringLike: { 's3:prefix': ['p/', 'p/*'] }, StringEquals: { 's3:ResourceAccount': ACCOUNT } },
      },
      athena,
    ]);
    const two = guardrailsFrom(ACCOUNT, { allowedResourceAccounts: [ACCOUNT, '111122223333'] });
    expect(constrainStatements([list], two)[0]!.Condition!['StringEquals']).toEqual({
      's3:ResourceAccount': [ACCOUNT, '111122223333'],
    });
    expect(constrainStatements([list], guardrailsFrom(ACCOUNT, { allowedResourceAccounts: '*' }))).toEqual([list]);
  });
});
