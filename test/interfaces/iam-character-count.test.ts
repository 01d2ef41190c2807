import { describe, expect, it } from 'vitest';
import { iamCharacterCount } from '../../src/interfaces/iam-account.js';

/** The definition, one code point at a time. */
function byDefinition(text: string): number {
  let n = 0;
  for (const ch of text) if (!/\s/.test(ch)) n++;
  return n;
}

describe('iamCharacterCount', () => {
  it('leaves out every kind of whitespace, ASCII and Unicode', () => {
    expect(iamCharacterCount('{ "a" :\t"b c"\r\n}')).toBe(10);
    expect(iamCharacterCount('a\u00a0b\u2028c\u3000d\ufeffe\u000bf')).toBe(6);
  });

  it('counts a surrogate pair as one character and a lone surrogate as one', () => {
    expect(iamCharacterCount('"😀"')).toBe(3);
    expect(iamCharacterCount('\ud83d x \ude00')).toBe(3);
    // Whitespace between a lone high and a lone low surrogate does not make them a pair.
    expect(iamCharacterCount('\ud83d \ude00')).toBe(2);
  });

  it('agrees with the definition on policy-like text', () => {
    const samples = [
      '',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: 's3:GetObject' }] }),
      JSON.stringify({ Statement: [{ Resource: 'arn:aws:s3:::bücket/ünïcödé/😀/*' }] }, null, 2),
      '\t\n \u2003x\u2003\ud800\udc00\udbff\udfff\ud800',
    ];
    for (const text of samples) expect(iamCharacterCount(text)).toBe(byDefinition(text));
  });
});
