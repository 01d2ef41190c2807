import { describe, expect, it } from 'vitest';
import {
  inlinePackNumber,
  legacyAgreementId,
  managedPackName,
  managedPackNumber,
} from '../../../src/targets/identity-policy/ownership.js';
import { agreementIdFromSid, statementSid } from '../../../src/targets/sid.js';

describe('ownership markers', () => {
  it('encodes a UUID agreement id compactly and reads it back', () => {
    const id = '640864de-83d4-4619-afba-ccea8037ed3a';
    const sid = statementSid(id, 3);
    expect(sid).toBe('DmmU640864de83d44619afbaccea8037ed3aS3');
    expect(agreementIdFromSid(sid)).toBe(id);
  });

  it('encodes any other id reversibly with only Sid-legal characters', () => {
    for (const id of ['agr-orders-s3', 'a_b.c:d/e', 'Ünïcode', '640864DE-83D4-4619-AFBA-CCEA8037ED3A']) {
      const sid = statementSid(id, 1);
      expect(sid).toMatch(/^[A-Za-z0-9]+$/);
      expect(agreementIdFromSid(sid)).toBe(id);
    }
  });

  it('does not claim statements it did not write', () => {
    for (const sid of [undefined, 42, '', 'AllowRead', 'DmmU123S1', 'DmmHabcS1x', 'DmmHabcS', 'DmmXabS1', 'DmmH0S1']) {
      expect(agreementIdFromSid(sid)).toBeUndefined();
    }
  });

  it('recognises pack and reference-integration policy names', () => {
    expect(inlinePackNumber('dmm-aws-pack-2')).toBe(2);
    expect(inlinePackNumber('dmm-aws-pack-x')).toBeUndefined();
    expect(inlinePackNumber('my-policy')).toBeUndefined();
    expect(managedPackNumber('consumer', '/dmm-aws/', managedPackName('consumer', 4))).toBe(4);
    expect(managedPackNumber('consumer', '/', 'dmm-aws-consumer-4')).toBeUndefined();
    expect(managedPackNumber('consumer', '/dmm-aws/', 'dmm-aws-other-4')).toBeUndefined();
    expect(legacyAgreementId('DMM_DataUsageAgreement_abc-1')).toBe('abc-1');
    expect(legacyAgreementId('DMM_DataUsageAgreement_')).toBeUndefined();
  });
});
