import { describe, expect, it } from 'vitest';
import { type Exchange, type OpenApiValidator, validatorFor } from './openapi-validator.js';
import { SPEC_2024_11, SPEC_2026_07 } from './reference.js';

/** The validator finds what a real server or client would trip over, and names operation and field. */

const BASE = 'http://127.0.0.1:1';
const JSON_TYPE = 'application/json';
const PROBLEM = 'application/problem+json';

const access = {
  id: 'a1',
  info: { purpose: 'p', status: 'approved', active: true, startDate: '2025-01-01' },
  provider: { dataProductId: 'orders', outputPortId: 'orders-s3' },
  consumer: { dataProductId: 'consumer', teamId: 'marketing' },
  tags: [],
  custom: {},
};

function get(path: string, body: unknown, overrides: Partial<Exchange> = {}): Exchange {
  return {
    method: 'GET',
    url: `${BASE}${path}`,
    status: 200,
    responseContentType: JSON_TYPE,
    responseBody: JSON.stringify(body),
    ...overrides,
  };
}

function put(path: string, body: unknown, overrides: Partial<Exchange> = {}): Exchange {
  return {
    method: 'PUT',
    url: `${BASE}${path}`,
    requestContentType: JSON_TYPE,
    requestBody: JSON.stringify(body),
    status: 200,
    responseBody: '',
    ...overrides,
  };
}

const messages = (validator: OpenApiValidator, exchange: Exchange) => {
  const report = validator.check(exchange);
  return [...report.request, ...report.response].map((f) => `${f.operation}: ${f.message}`);
};

describe('the OpenAPI validator (2026-07)', () => {
  const v = validatorFor(SPEC_2026_07);

  it('accepts a conforming agreement, a data product consumer naming its team included', () => {
    expect(messages(v, get('/api/access/a1', access))).toEqual([]);
    expect(messages(v, get('/api/access?p=0&pageSize=1000&consumerType=team', [access]))).toEqual([]);
  });

  it('names operation, status, field and rule of a response that departs from the schema', () => {
    const bad = { ...access, info: { ...access.info, status: 'pending', startDate: '1 Jan' } };
    expect(messages(v, get('/api/access/a1', bad))).toEqual([
      'getAccess (GET /api/access/{id}) → 200: response body /info/status must be equal to one of the allowed values: ["requested","approved","rejected"]',
      'getAccess (GET /api/access/{id}) → 200: response body /info/startDate must match format "date"',
    ]);
  });

  it('refuses null where the schema has an array or an object (provisioning record)', () => {
    const record = { status: 'provisioned', platform: null, customProperties: null, links: null };
    expect(messages(v, get('/api/access/a1/provisioning', record))).toEqual([
      'getAccessProvisioning (GET /api/access/{id}/provisioning) → 200: response body /customProperties must be array',
      'getAccessProvisioning (GET /api/access/{id}/provisioning) → 200: response body /links must be object',
    ]);
  });

  it('refuses read-only members in a request body, but not in a response', () => {
    const body = { ...access, provider: { ...access.provider, dataContractId: 'c1' } };
    expect(messages(v, put('/api/access/a1', body))).toEqual([
      'addAccess (PUT /api/access/{id}) → 200: request body /info/status is read-only (managed by the server) and must not be sent',
      'addAccess (PUT /api/access/{id}) → 200: request body /info/active is read-only (managed by the server) and must not be sent',
      'addAccess (PUT /api/access/{id}) → 200: request body /provider/dataContractId is read-only (managed by the server) and must not be sent',
    ]);
    expect(messages(v, get('/api/access/a1', body))).toEqual([]);
  });

  it('checks query parameters: declared ones by their schema, undeclared ones by name', () => {
    expect(messages(v, get('/api/access?pageSize=1', []))).toEqual([
      "getAccessList (GET /api/access) → 200: query parameter 'pageSize=1' (root) must be >= 2",
    ]);
    expect(messages(v, get('/api/access?pagesize=10', []))).toEqual([
      "getAccessList (GET /api/access) → 200: query parameter 'pagesize' is not declared",
    ]);
    expect(messages(v, get('/api/access?consumerType=group', []))[0]).toMatch(/consumerType=group.*allowed values/);
  });

  it('checks status codes, bodies where none is declared, and content types', () => {
    expect(messages(v, put('/api/access/a1', { ...access, info: { purpose: 'p' } }, { status: 201 }))).toEqual([
      'addAccess (PUT /api/access/{id}) → 201: status 201 is not declared for this operation',
    ]);
    expect(
      messages(
        v,
        put(
          '/api/access/a1',
          { ...access, info: { purpose: 'p' } },
          { responseBody: '{}', responseContentType: JSON_TYPE },
        ),
      ),
    ).toEqual(['addAccess (PUT /api/access/{id}) → 200: answers with a body, but the response declares none']);
    expect(messages(v, get('/api/events', [], { responseContentType: JSON_TYPE }))).toEqual([
      "pollEvents (GET /api/events) → 200: content type 'application/json' is not the declared application/cloudevents-batch+json",
    ]);
  });

  it('errors must be problem documents whose status and title match the response', () => {
    const notFound = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'x', instance: '/api/access/a1' };
    expect(messages(v, get('/api/access/a1', notFound, { status: 404, responseContentType: PROBLEM }))).toEqual([]);
    expect(
      messages(v, get('/api/access/a1', { ...notFound, status: 400 }, { status: 404, responseContentType: PROBLEM })),
    ).toEqual(['getAccess (GET /api/access/{id}) → 404: problem status 400 ≠ HTTP status 404']);
    expect(messages(v, get('/api/access/a1', 'Forbidden', { status: 403, responseContentType: 'text/plain' }))).toEqual(
      ["getAccess (GET /api/access/{id}) → 403: error answered as 'text/plain', not application/problem+json"],
    );
  });

  it('validates each event payload against the schema its type names', () => {
    const event = (type: string, data: unknown) => ({
      specversion: '1.0',
      id: '6f1c2f5e-8d0a-4f6e-9b1a-2c3d4e5f6a7b',
      type: `com.datamesh-manager.events.${type}`,
      source: 'urn:x',
      subject: 'orders',
      time: '2026-01-01T00:00:00Z',
      data,
    });
    const batch = [
      event('OutputPortUpdatedEvent', { id: 'orders', timestamp: '2026-01-01T00:00:00Z' }),
      event('AccessProvisionedEvent', { id: 'a1', status: 'provisioned', timestamp: '2026-01-01T00:00:00Z' }),
      event('NoSuchEvent', { id: 'x' }),
    ];
    const exchange = get('/api/events', batch, { responseContentType: 'application/cloudevents-batch+json' });
    expect(messages(v, exchange)).toEqual([
      "pollEvents (GET /api/events) → 200: event [0] OutputPortUpdatedEvent data (root) must have required property 'outputPortId'",
      "pollEvents (GET /api/events) → 200: event [2] type 'com.datamesh-manager.events.NoSuchEvent' has no schema NoSuchEvent",
    ]);
  });

  it('validates data products against the standard they declare', () => {
    const dps = { dataProductSpecification: '0.0.1', id: 'orders', info: { title: 'Orders', owner: 't' } };
    expect(messages(v, get('/api/dataproducts/orders', dps))).toEqual([]);
    expect(messages(v, get('/api/dataproducts/orders', { ...dps, outputPorts: {} }))).toEqual([
      'getDataProduct (GET /api/dataproducts/{id}) → 200: response body (orders) /outputPorts must be array',
    ]);
  });

  it('reports an undocumented path: a 404 as a probe to name, anything else as a finding', () => {
    const probe = get(
      '/api/datausageagreements',
      { type: 'about:blank', title: 'Not Found', status: 404 },
      {
        status: 404,
        responseContentType: PROBLEM,
      },
    );
    expect(v.check(probe)).toEqual({ request: [], response: [], undocumented: 'GET /api/datausageagreements' });
    expect(messages(v, get('/api/datausageagreements', []))).toEqual([
      'GET /api/datausageagreements: no operation in entropy-data-openapi-2026-07.yaml has this method and path',
    ]);
  });
});

describe('the OpenAPI validator (2024-11)', () => {
  const v = validatorFor(SPEC_2024_11);

  it('tolerates parameters of the newer API on the same operation, not others', () => {
    expect(messages(v, get('/api/access?p=0&pageSize=1000', [access]))).toEqual([]);
    expect(messages(v, get('/api/access?consumerType=group', []))[0]).toMatch(
      /getAccessList .*consumerType=group.*allowed values/,
    );
    expect(messages(v, get('/api/access?page=0', [access]))).toEqual([
      "getAccessList (GET /api/access) → 200: query parameter 'page' is not declared",
    ]);
  });

  it('checks the deprecated data usage agreement operations too', () => {
    const { status: _s, active: _a, ...writable } = access.info;
    expect(messages(v, put('/api/datausageagreements/a1', { ...access, info: writable }))).toEqual([]);
    expect(messages(v, get('/api/datausageagreements/a1', { ...access, consumer: {} }))).toEqual([
      "getDataUsageAgreement (GET /api/datausageagreements/{id}) → 200: response body /consumer must have required property 'dataProductId'",
      "getDataUsageAgreement (GET /api/datausageagreements/{id}) → 200: response body /consumer must have required property 'teamId'",
      "getDataUsageAgreement (GET /api/datausageagreements/{id}) → 200: response body /consumer must have required property 'userId'",
      'getDataUsageAgreement (GET /api/datausageagreements/{id}) → 200: response body /consumer must match a schema in anyOf',
    ]);
  });
});
