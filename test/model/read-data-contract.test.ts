import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DataContractFormatError, readDataContract } from '../../src/model/read-data-contract.js';

const odcs = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v3.1.0',
  kind: 'DataContract',
  id: 'orders-contract',
  version: '1.2.0',
  status: 'active',
  ...extra,
});

describe('readDataContract', () => {
  it('reads ODCS v3 servers as port server blocks: type-specific fields kept, meta fields left out', () => {
    const contract = readDataContract(
      odcs({
        servers: [
          {
            server: 'lake-prod',
            type: 'Glue',
            environment: ' prod ',
            description: 'the lake',
            account: '123456789012',
            database: 'sales',
            location: 's3://acme-lake/orders/',
            roles: [{ role: 'orders.read', access: 'read' }],
            customProperties: [{ property: 'region', value: 'eu-central-1' }],
          },
        ],
        roles: [{ role: 'orders.admin', access: 'write', description: 'x', firstLevelApprovers: 'ops' }],
        schema: [{ name: 'orders', physicalName: 'orders_v1', physicalType: 'table' }],
        somethingNew: { kept: true },
      }),
    );
    expect(contract).toMatchObject({ id: 'orders-contract', format: 'odcs-3.1.0', version: '1.2.0' });
    expect(contract.servers).toEqual([
      {
        name: 'lake-prod',
        type: 'glue',
        environment: 'prod',
        // The contract's only schema object names the table; the custom property fills the region.
        block: {
          type: 'glue',
          account: '123456789012',
          database: 'sales',
          location: 's3://acme-lake/orders/',
          region: 'eu-central-1',
          table: 'orders_v1',
        },
        roles: [{ role: 'orders.read', access: 'read' }],
        problems: [],
      },
    ]);
    expect(contract.roles).toEqual([{ role: 'orders.admin', access: 'write' }]);
    expect(contract.raw['somethingNew']).toEqual({ kept: true });
  });

  it('leaves the table unset when the schema has several objects, and never overrides a field with a custom property', () => {
    const contract = readDataContract(
      odcs({
        servers: [
          {
            server: 's3',
            type: 's3',
            location: 's3://a/b/',
            customProperties: [
              { property: 'location', value: 's3://a/other/' },
              { property: 'format', value: 'json' },
              { property: 'format', value: 'csv' },
            ],
          },
        ],
        schema: [{ name: 'one' }, { name: 'two' }],
      }),
    );
    const [server] = contract.servers;
    expect(server?.block).toEqual({ type: 's3', location: 's3://a/b/', format: 'csv' });
    expect(server?.problems).toEqual([
      'servers[0].customProperties: "location" contradicts the server\'s own location',
      'servers[0].customProperties: "format" is given more than once with different values',
    ]);
  });

  it('reads the deprecated Data Contract Specification: servers by name, no roles', () => {
    const contract = readDataContract({
      dataContractSpecification: '1.1.0',
      id: 'dcs-orders',
      info: { title: 'Orders', version: '2.0.0' },
      servers: { production: { type: 's3', environment: 'prod', location: 's3://acme/orders/' } },
      models: { orders: { type: 'table' } },
    });
    expect(contract).toMatchObject({ id: 'dcs-orders', format: 'dcs', version: '2.0.0', roles: [] });
    expect(contract.servers).toEqual([
      {
        name: 'production',
        type: 's3',
        environment: 'prod',
        block: { type: 's3', location: 's3://acme/orders/', table: 'orders' },
        roles: [],
        problems: [],
      },
    ]);
  });

  it('reads a contract without servers or roles as having none', () => {
    expect(readDataContract(odcs())).toMatchObject({ servers: [], roles: [] });
    expect(readDataContract(odcs({ servers: null, roles: null }))).toMatchObject({ servers: [], roles: [] });
  });

  it.each([
    [[], '(document)', 'is not a JSON object'],
    [{ id: 'x' }, 'apiVersion', 'is missing'],
    [odcs({ apiVersion: 'v2.2.2' }), 'apiVersion', 'is "v2.2.2", only ODCS v3'],
    [odcs({ id: ' ' }), 'id', 'non-empty'],
    [odcs({ servers: [{ server: 'a' }] }), 'servers[0].type', ''],
    [odcs({ servers: [{ type: 's3', location: 's3://a/' }] }), 'servers[0].server', ''],
    [odcs({ roles: [{ access: 'read' }] }), 'roles[0].role', ''],
    [odcs({ servers: { a: { type: 's3' } } }), 'servers', ''],
  ])('refuses %j at %s', (doc, field, problem) => {
    let error: unknown;
    try {
      readDataContract(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataContractFormatError);
    expect((error as DataContractFormatError).field).toBe(field);
    expect((error as Error).message).toContain(problem);
  });

  it('reads the demo contract', () => {
    const doc = parseYaml(
      readFileSync(new URL('../../examples/mesh/datacontracts/clickstream-contract.yaml', import.meta.url), 'utf8'),
    );
    const contract = readDataContract(doc);
    expect(contract.servers.map((s) => [s.name, s.type, s.environment])).toEqual([
      ['clickstream-prod', 's3', 'prod'],
      ['clickstream-dev', 's3', 'dev'],
      ['clickstream-snowflake', 'snowflake', 'prod'],
    ]);
  });
});
