import { describe, expect, it } from 'vitest';
import { IamError } from '../../src/interfaces/iam-account.js';
import {
  validatePath,
  validatePolicyDocumentCharacters,
  validatePolicyGrammar,
  validatePolicyName,
  validateRoleName,
  validateTags,
} from '../../src/model/iam-rules.js';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof IamError) return err.code;
    throw err;
  }
}

const doc = (value: unknown) => JSON.stringify(value);
const allow = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

describe('names', () => {
  it('accepts policy names of 1 to 128 characters of [\\w+=,.@-]', () => {
    expect(codeOf(() => validatePolicyName('a'))).toBeUndefined();
    expect(codeOf(() => validatePolicyName('dmm_aws+x=y,z.w@v-1'))).toBeUndefined();
    expect(codeOf(() => validatePolicyName('p'.repeat(128)))).toBeUndefined();
  });

  it.each(['', 'p'.repeat(129), 'has space', 'slash/no', 'colon:no', 'ümlaut', 'star*'])(
    'rejects policy name %j',
    (name) => {
      expect(codeOf(() => validatePolicyName(name))).toBe('InvalidInput');
    },
  );

  it('limits role names to 64 characters', () => {
    expect(codeOf(() => validateRoleName('r'.repeat(64)))).toBeUndefined();
    expect(codeOf(() => validateRoleName('r'.repeat(65)))).toBe('InvalidInput');
    expect(codeOf(() => validateRoleName('role/with/path'))).toBe('InvalidInput');
  });

  it('requires paths to start and end with a slash', () => {
    expect(codeOf(() => validatePath('/'))).toBeUndefined();
    expect(codeOf(() => validatePath('/dmm/consumers/'))).toBeUndefined();
    expect(codeOf(() => validatePath('dmm/'))).toBe('InvalidInput');
    expect(codeOf(() => validatePath('/dmm'))).toBe('InvalidInput');
    expect(codeOf(() => validatePath('/with space/'))).toBe('InvalidInput');
  });

  it('checks tags like IAM', () => {
    expect(codeOf(() => validateTags({ 'dmm-aws/managed': 'true', team: '' }))).toBeUndefined();
    expect(codeOf(() => validateTags({ 'aws:reserved': 'x' }))).toBe('InvalidInput');
    expect(codeOf(() => validateTags({ 'bad*key': 'x' }))).toBe('InvalidInput');
    expect(codeOf(() => validateTags({ k: 'v'.repeat(257) }))).toBe('InvalidInput');
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(codeOf(() => validateTags(many))).toBe('LimitExceeded');
  });
});

describe('policy document characters', () => {
  it('accepts tab, LF, CR and U+0020-U+00FF', () => {
    expect(codeOf(() => validatePolicyDocumentCharacters('{\t"a":\r\n"ÿ é ~"}'))).toBeUndefined();
  });

  it.each([
    ['U+0100', 'Ā'],
    ['an emoji', '😀'],
    ['a NUL', '\u0000'],
    ['a vertical tab', '\u000B'],
    ['a non-Latin-1 dash', '\u2013'],
  ])('rejects %s', (_label, ch) => {
    const error = (() => {
      try {
        validatePolicyDocumentCharacters(`{"Sid":"${ch}"}`);
      } catch (err) {
        return err as IamError;
      }
      return undefined;
    })();
    expect(error?.code).toBe('MalformedPolicyDocument');
    expect(error?.message).toMatch(/offset 8/);
  });

  it('rejects an empty document', () => {
    expect(codeOf(() => validatePolicyDocumentCharacters(''))).toBe('MalformedPolicyDocument');
  });
});

describe('policy grammar', () => {
  it.each([
    ['a statement array', doc({ Version: '2012-10-17', Statement: [allow] })],
    ['a single statement object', doc({ Version: '2012-10-17', Statement: allow })],
    [
      'NotAction and NotResource',
      doc({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', NotAction: ['s3:*'], NotResource: '*' }] }),
    ],
    [
      'an action list with wildcards',
      doc({ Version: '2008-10-17', Statement: [{ ...allow, Action: ['glue:Get*', 'athena:StartQueryExecution'] }] }),
    ],
    [
      'a condition and a Sid',
      doc({
        Version: '2012-10-17',
        Id: 'x',
        Statement: [{ ...allow, Sid: 'Read1', Condition: { StringLike: { 's3:prefix': ['a/*'] } } }],
      }),
    ],
  ])('accepts %s', (_label, document) => {
    expect(codeOf(() => validatePolicyGrammar(document))).toBeUndefined();
  });

  it.each([
    ['invalid JSON', '{"Version":'],
    ['a JSON array', '[]'],
    ['no Version', doc({ Statement: [allow] })],
    ['an unknown Version', doc({ Version: '2020-01-01', Statement: [allow] })],
    ['no Statement', doc({ Version: '2012-10-17' })],
    ['an empty Statement', doc({ Version: '2012-10-17', Statement: [] })],
    ['an unknown top-level key', doc({ Version: '2012-10-17', Statement: [allow], Extra: 1 })],
    ['no Effect', doc({ Version: '2012-10-17', Statement: [{ Action: 's3:GetObject', Resource: '*' }] })],
    ['a lower-case Effect', doc({ Version: '2012-10-17', Statement: [{ ...allow, Effect: 'allow' }] })],
    ['no Action', doc({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] })],
    ['both Action and NotAction', doc({ Version: '2012-10-17', Statement: [{ ...allow, NotAction: 's3:*' }] })],
    ['an empty Action list', doc({ Version: '2012-10-17', Statement: [{ ...allow, Action: [] }] })],
    [
      'an action without a service prefix',
      doc({ Version: '2012-10-17', Statement: [{ ...allow, Action: 'GetObject' }] }),
    ],
    ['no Resource', doc({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] })],
    ['a resource that is not an ARN', doc({ Version: '2012-10-17', Statement: [{ ...allow, Resource: 'my-bucket' }] })],
    ['a Principal', doc({ Version: '2012-10-17', Statement: [{ ...allow, Principal: '*' }] })],
    ['a non-alphanumeric Sid', doc({ Version: '2012-10-17', Statement: [{ ...allow, Sid: 'read-1' }] })],
    [
      'duplicate Sids',
      doc({
        Version: '2012-10-17',
        Statement: [
          { ...allow, Sid: 'A' },
          { ...allow, Sid: 'A' },
        ],
      }),
    ],
    ['a misspelt statement key', doc({ Version: '2012-10-17', Statement: [{ ...allow, Resources: '*' }] })],
    [
      'a Condition that is not a map of maps',
      doc({ Version: '2012-10-17', Statement: [{ ...allow, Condition: { StringLike: 'x' } }] }),
    ],
  ])('rejects %s with MalformedPolicyDocument', (_label, document) => {
    expect(codeOf(() => validatePolicyGrammar(document))).toBe('MalformedPolicyDocument');
  });
});
