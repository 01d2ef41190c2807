import { describe, expect, it } from 'vitest';
import { markerEdits } from '../../src/sync/report.js';
import { writeBackBody } from '../../src/sync/write-back-body.js';

/** The PUT body is the received document plus our marker edits, never anything a server owns or we derived. */

const received = () => ({
  id: 'agr-1',
  info: { purpose: 'p', status: 'approved', active: true, id: 'agr-1', startDate: '2026-01-01' },
  provider: {
    dataProductId: 'orders',
    outputPortId: 'orders-s3',
    dataContractId: 'orders-contract',
    dataContractVersion: '1.0.0',
  },
  consumer: { dataProductId: 'consumer' },
  provisioning: { status: 'provisioned' },
  tags: ['from-ui', 'aws-integration-failed'],
  // Another writer's values that are not strings stay as they were; the reader stringifies them.
  custom: { count: 3, flag: false, 'aws-integration-error': 'old' },
  futureMember: { anything: [1, 2] },
});

describe('writeBackBody', () => {
  it('keeps unknown members and others’ custom values verbatim, drops read-only members, edits only our markers', () => {
    const result = writeBackBody(
      received(),
      markerEdits({ kind: 'granted', roleArn: 'arn:r', policyNames: ['p1'], reference: 'x' }),
    );
    expect(result).toEqual({
      ok: true,
      body: {
        id: 'agr-1',
        info: { purpose: 'p', startDate: '2026-01-01' },
        provider: { dataProductId: 'orders', outputPortId: 'orders-s3' },
        consumer: { dataProductId: 'consumer' },
        tags: ['from-ui', 'aws-integration', 'aws-integration-active'],
        custom: { count: 3, flag: false, 'aws-policy-name': 'p1', 'aws-granted-role-arn': 'arn:r' },
        futureMember: { anything: [1, 2] },
      },
    });
  });

  it.each([
    ['provider.dataProductId', { dataProductId: 'unknown', outputPortId: 'unknown' }, { dataProductId: 'consumer' }],
    ['provider.outputPortId', { dataProductId: 'orders', outputPortId: 'unknown' }, { dataProductId: 'consumer' }],
    ['consumer.dataProductId', { dataProductId: 'orders', outputPortId: 'p' }, { dataProductId: 'unknown' }],
  ])('refuses to write when %s is the "unknown" placeholder', (field, provider, consumer) => {
    const result = writeBackBody({ ...received(), provider, consumer }, markerEdits({ kind: 'revoked' }));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(`${field} reads "unknown"`) });
  });

  it('does not change the document it was given', () => {
    const raw = received();
    writeBackBody(raw, markerEdits({ kind: 'failed', diagnostic: 'boom' }));
    expect(raw).toEqual(received());
  });
});
