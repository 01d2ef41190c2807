import { expect } from 'vitest';
import type { MeshData } from '../../src/simulator/server.js';
import { type Exchange, type Finding, OpenApiValidator } from './openapi-validator.js';

export const API_KEY = 'conformance-key';

/**
 * Every exchange against the document; returns the undocumented 404s so a test can name them.
 * Exchanges in `invalidOnPurpose` are requests a test sends to see the refusal: the document must
 * find their request invalid too, and their answer must conform like any other.
 */
export function expectConformance(
  validator: OpenApiValidator,
  exchanges: readonly Exchange[],
  invalidOnPurpose: ReadonlySet<Exchange> = new Set(),
): string[] {
  const undocumented: string[] = [];
  const findings = exchanges.flatMap((exchange): Finding[] => {
    // The simulator's own admin endpoints are not part of the vendor API.
    if (new URL(exchange.url).pathname.startsWith('/simulator/')) return [];
    const report = validator.check(exchange);
    if (report.undocumented) undocumented.push(report.undocumented);
    if (!invalidOnPurpose.has(exchange)) return [...report.request, ...report.response];
    if (report.request.length > 0) return report.response;
    const operation = `${exchange.method} ${exchange.url}`;
    return [{ operation, message: 'sent as an invalid request, but the document accepts it' }, ...report.response];
  });
  expect(OpenApiValidator.describe(findings), `against ${validator.name}`).toBe('');
  return undocumented;
}

/**
 * A mesh with what a real tenant holds: DPS products (and ODPS on the 2026-07 API, which
 * documents it), a consumer naming its team, an active agreement with tags and custom fields and,
 * on the 2026-07 API, the read-only data contract reference.
 */
export function conformanceMesh(options: { odps: boolean; dataContract: boolean }): MeshData {
  const orders = {
    dataProductSpecification: '0.0.1',
    id: 'orders',
    info: { title: 'Orders', owner: 'sales', status: 'active' },
    outputPorts: [
      {
        id: 'orders-s3',
        name: 'Orders in S3',
        type: 's3',
        custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
      },
      { id: 'orders-old', name: 'Orders (old)', custom: { 'output-port-type': 's3_bucket' } },
    ],
  };
  const clicks = {
    apiVersion: 'v1.0.0',
    kind: 'DataProduct',
    id: 'clicks',
    status: 'active',
    outputPorts: [
      {
        name: 'clicks-s3',
        version: '1.0.0',
        type: 's3',
        customProperties: [{ property: 'server', value: { type: 's3', location: 's3://acme-clicks/v1/' } }],
      },
    ],
  };
  return {
    teams: [
      { id: 'marketing', name: 'Marketing', type: 'Team', custom: { 'slack-channel': 'mkt' } },
      { id: 'sales', name: 'Sales', type: 'Team' },
    ],
    dataProducts: [
      {
        dataProductSpecification: '0.0.1',
        id: 'consumer',
        info: { title: 'Consumer', owner: 'marketing' },
        custom: { 'aws-role-name': 'consumer-role' },
      },
      orders,
      ...(options.odps ? [clicks] : []),
    ],
    agreements: [
      {
        id: 'agr-requested',
        info: { purpose: 'campaigns', startDate: '2025-01-01' },
        provider: { teamId: 'sales', dataProductId: 'orders', outputPortId: 'orders-s3' },
        consumer: { teamId: 'marketing', dataProductId: 'consumer' },
      },
      {
        id: 'agr-active',
        info: { purpose: 'revenue', status: 'approved', active: true, startDate: '2025-01-01' },
        provider: {
          teamId: 'sales',
          dataProductId: 'orders',
          outputPortId: 'orders-s3',
          ...(options.dataContract ? { dataContractId: 'orders-contract', dataContractVersion: '1.0.0' } : {}),
        },
        consumer: { teamId: 'marketing', dataProductId: 'consumer' },
        tags: ['from-ui'],
        links: { ticket: 'https://tickets.example.com/42' },
        custom: { 'owner-note': 'keep me' },
      },
    ],
  };
}
