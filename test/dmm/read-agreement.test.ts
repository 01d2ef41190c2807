import { describe, expect, it } from 'vitest';
import { AgreementFormatError, readAgreement } from '../../src/model/read-agreement.js';

function access(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'acc-1',
    info: { purpose: 'reporting', status: 'approved', active: true, startDate: '2026-01-01', endDate: '2027-01-01' },
    provider: { teamId: 'orders-team', dataProductId: 'orders', outputPortId: 'orders_s3' },
    consumer: { teamId: 'marketing', dataProductId: 'campaigns' },
    tags: ['business-critical'],
    custom: { 'aws-integration': 'managed' },
    provisioning: { status: 'provisioned', reference: 'arn:aws:iam::1:role/x', platform: 'aws' },
    roles: ['reader'],
    links: { catalog: 'https://catalog' },
    ...overrides,
  };
}

function formatError(raw: unknown): AgreementFormatError {
  try {
    readAgreement(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(AgreementFormatError);
    return error as AgreementFormatError;
  }
  throw new Error('readAgreement accepted an invalid document');
}

describe('readAgreement', () => {
  it('reads an Access document and keeps the raw document verbatim', () => {
    const raw = access();
    const agreement = readAgreement(raw);
    expect(agreement).toEqual({
      id: 'acc-1',
      status: 'approved',
      active: true,
      startDate: '2026-01-01',
      endDate: '2027-01-01',
      provider: { teamId: 'orders-team', dataProductId: 'orders', outputPortId: 'orders_s3' },
      consumer: { teamId: 'marketing', dataProductId: 'campaigns' },
      roles: ['reader'],
      tags: ['business-critical'],
      custom: { 'aws-integration': 'managed' },
      provisioning: { status: 'provisioned', reference: 'arn:aws:iam::1:role/x', diagnostics: null, executor: null },
      raw,
    });
    // The very object, unknown fields included: write-back must PUT it without losing anything.
    expect(agreement.raw).toBe(raw);
    expect(agreement.raw['roles']).toEqual(['reader']);
  });

  it('reads requested roles as trimmed, distinct names; no roles, an empty list or blank names are none', () => {
    expect(readAgreement(access({ roles: [' orders.read ', 'orders.read', 'eu.read', ''] })).roles).toEqual([
      'orders.read',
      'eu.read',
    ]);
    for (const roles of [undefined, null, [], ['  ']])
      expect(readAgreement(access({ roles })), JSON.stringify(roles)).not.toHaveProperty('roles');
  });

  it('refuses roles that are not a list of names: guessing which were meant could widen a grant', () => {
    expect(() => readAgreement(access({ roles: 'orders.read' }))).toThrow(/roles/);
    expect(() => readAgreement(access({ roles: [{ role: 'orders.read' }] }))).toThrow(/roles/);
  });

  it('accepts the reference integration’s info.id when the top-level id is missing', () => {
    const raw = access({ id: undefined, dataUsageAgreementSpecification: '0.0.1' });
    raw['info'] = { ...(raw['info'] as object), id: 'dua-7' };
    expect(readAgreement(raw).id).toBe('dua-7');
  });

  it('prefers the top-level id over info.id', () => {
    const raw = access();
    raw['info'] = { ...(raw['info'] as object), id: 'legacy' };
    expect(readAgreement(raw).id).toBe('acc-1');
  });

  it('defaults missing tags, custom, consumer and provisioning', () => {
    const agreement = readAgreement(
      access({ tags: undefined, custom: undefined, consumer: undefined, provisioning: undefined }),
    );
    expect(agreement.tags).toEqual([]);
    expect(agreement.custom).toEqual({});
    expect(agreement.consumer).toEqual({});
    expect(agreement).not.toHaveProperty('provisioning');
  });

  it('keeps the "unknown" marker of a deleted provider as an ordinary id', () => {
    const agreement = readAgreement(access({ provider: { dataProductId: 'unknown', outputPortId: 'unknown' } }));
    expect(agreement.provider).toEqual({ dataProductId: 'unknown', outputPortId: 'unknown' });
  });

  it('keeps scalar custom values as text', () => {
    expect(readAgreement(access({ custom: { retries: 3, enabled: true } })).custom).toEqual({
      retries: '3',
      enabled: 'true',
    });
  });

  it('leaves null, object and array custom values out of custom, and keeps them verbatim in raw', () => {
    const custom = { note: 'kept', nothing: null, nested: { a: 1 }, list: [1, 2] };
    const agreement = readAgreement(access({ custom }));
    expect(agreement.custom).toEqual({ note: 'kept' });
    expect(agreement.raw['custom']).toEqual(custom);
  });

  describe('without info.active (read-only and optional in the spec), active is derived from status and dates', () => {
    const TODAY = '2026-03-15';
    const read = (info: Record<string, unknown>) =>
      readAgreement(access({ info: { purpose: 'p', ...info } }), TODAY).active;

    it.each([
      [{ status: 'approved' }, true],
      [{ status: 'approved', startDate: '2026-03-15', endDate: '2026-03-15' }, true],
      [{ status: 'approved', startDate: '2026-01-01', endDate: '2026-12-31' }, true],
      [{ status: 'approved', startDate: '2026-03-16' }, false],
      [{ status: 'approved', endDate: '2026-03-14' }, false],
      [{ status: 'approved', startDate: 'next spring' }, false],
      [{ status: 'requested', startDate: '2026-01-01' }, false],
      [{ status: 'rejected' }, false],
      [{}, false],
    ])('%j → %s', (info, active) => {
      expect(read(info)).toBe(active);
    });

    it('a served info.active wins over the dates', () => {
      expect(read({ status: 'approved', active: false, startDate: '2026-01-01' })).toBe(false);
      expect(read({ status: 'approved', active: true, startDate: '2027-01-01' })).toBe(true);
    });
  });

  it('ignores a malformed provisioning block instead of failing the agreement', () => {
    expect(readAgreement(access({ provisioning: { status: 5 } }))).not.toHaveProperty('provisioning');
  });

  it('names the agreement and the field when the output port is missing', () => {
    const error = formatError(access({ provider: { dataProductId: 'orders' } }));
    expect(error.agreementId).toBe('acc-1');
    expect(error.field).toBe('provider.outputPortId');
    expect(error.message).toMatch(/^Agreement "acc-1": provider\.outputPortId: /);
  });

  it.each([
    ['info.active', { info: { status: 'approved', active: 'yes' } }],
    ['provider.dataProductId', { provider: { dataProductId: '', outputPortId: 'p' } }],
    ['provider', { provider: undefined }],
    ['info', { info: undefined }],
    ['tags.1', { tags: ['ok', 7] }],
    ['info.status', { info: { status: 3, active: true } }],
  ])('rejects a bad %s', (field, overrides) => {
    const error = formatError(access(overrides));
    expect(error.field).toBe(field);
    expect(error.agreementId).toBe('acc-1');
  });

  it('uses info.id to name an invalid legacy agreement', () => {
    const error = formatError({ info: { id: 'dua-9', active: true }, provider: {} });
    expect(error.agreementId).toBe('dua-9');
    expect(error.message).toContain('"dua-9"');
  });

  it('rejects a document without any id', () => {
    const error = formatError(access({ id: undefined }));
    expect(error.field).toBe('id');
    expect(error.agreementId).toBeUndefined();
    expect(error.message).toContain('(without id)');
  });

  it.each([[null], [[]], ['text']])('rejects %j as a document', (raw) => {
    expect(formatError(raw).field).toBe('(document)');
  });
});
