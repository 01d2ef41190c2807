/**
 * Agreement ids with an unpaired UTF-16 surrogate cannot round-trip through the UTF-8 hex of a
 * Sid: two such ids would share one Sid. They are refused when the agreement is read, and
 * statementSid refuses them too rather than colliding.
 */
import { describe, expect, it } from 'vitest';
import { readAgreement } from '../../src/model/read-agreement.js';
import { agreementIdFromSid, statementSid } from '../../src/targets/sid.js';

const doc = (id: string) => ({
  id,
  info: { purpose: 'x', status: 'approved', active: true },
  provider: { dataProductId: 'p', outputPortId: 'o' },
  consumer: { dataProductId: 'c' },
});

describe('ids with unpaired surrogates', () => {
  it('are refused on reading and never produce a colliding Sid', () => {
    expect(() => readAgreement(doc('agr-\ud800'))).toThrow(/well-formed Unicode/);
    expect(() => statementSid('agr-\ud800', 1)).toThrow(/not well-formed Unicode/);
    expect(() => statementSid('agr-\udfff', 1)).toThrow(/not well-formed Unicode/);
  });

  it('well-formed ids outside the BMP still round-trip', () => {
    const id = 'agr-\u{1F600}';
    expect(agreementIdFromSid(statementSid(id, 1))).toBe(id);
    expect(readAgreement(doc(id)).id).toBe(id);
  });
});
