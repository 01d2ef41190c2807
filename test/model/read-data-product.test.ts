import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DataProductFormatError, readDataProduct } from '../../src/model/read-data-product.js';

function formatError(raw: unknown): DataProductFormatError {
  try {
    readDataProduct(raw);
  } catch (error) {
    if (error instanceof DataProductFormatError) return error;
    throw error;
  }
  throw new Error('expected a DataProductFormatError');
}

describe('Data Product Specification 0.0.1', () => {
  it('reads the reference README consumer (id and owner as the README writes them)', () => {
    const raw = parse(`
dataProductSpecification: 0.0.1
info:
  id: example_consumer_id
  name: Example Consumer Data Product
owner:
  teamId: example_team_id
custom:
  aws-role-name: analytics-consumer
`);
    expect(readDataProduct(raw)).toEqual({
      id: 'example_consumer_id',
      format: 'dps-0.0.1',
      title: 'Example Consumer Data Product',
      ownerTeamId: 'example_team_id',
      custom: { 'aws-role-name': 'analytics-consumer' },
      outputPorts: [],
      raw,
    });
  });

  it('reads the reference README glue provider', () => {
    const raw = parse(`
dataProductSpecification: 0.0.1
info:
  id: example_provider_id
  name: Example Provider Data Product
owner:
  teamId: example_team_id
outputPorts:
  - id: example_output_port_id
    custom:
      output-port-type: glue_table
      aws-athena-workgroup-arn: arn:aws:athena:eu-central-1:111122223333:workgroup/primary
      aws-glue-table-arn: arn:aws:glue:eu-central-1:111122223333:table/sales/orders
`);
    expect(readDataProduct(raw).outputPorts).toEqual([
      {
        id: 'example_output_port_id',
        name: 'example_output_port_id',
        custom: {
          'output-port-type': 'glue_table',
          'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:111122223333:workgroup/primary',
          'aws-glue-table-arn': 'arn:aws:glue:eu-central-1:111122223333:table/sales/orders',
        },
      },
    ]);
  });

  it('reads the API shape: top-level id, info.title/owner, port type, server block, contract', () => {
    const raw = {
      id: 'orders',
      info: { title: 'Orders', owner: 'sales-team', status: 'active' },
      custom: { 'aws-role-name': 'orders-role', replicas: 3, pii: false, empty: null },
      outputPorts: [
        {
          id: 'orders-s3',
          name: 'Orders on S3',
          type: 's3',
          server: { location: 's3://acme-lake/orders/', format: 'parquet' },
          dataContractId: 'orders-contract',
          containsPii: false,
        },
      ],
    };
    expect(readDataProduct(raw)).toEqual({
      id: 'orders',
      format: 'dps-0.0.1',
      title: 'Orders',
      ownerTeamId: 'sales-team',
      custom: { 'aws-role-name': 'orders-role', replicas: '3', pii: 'false' },
      outputPorts: [
        {
          id: 'orders-s3',
          name: 'Orders on S3',
          type: 's3',
          server: { location: 's3://acme-lake/orders/', format: 'parquet' },
          custom: {},
          dataContractId: 'orders-contract',
        },
      ],
      raw,
    });
  });

  it('keeps object and array custom values as JSON text and drops nulls, instead of refusing the document', () => {
    const product = readDataProduct({
      id: 'p',
      info: {},
      custom: { owners: ['a', 'b'], nothing: null },
      outputPorts: [{ id: 'a', custom: { 'aws-s3-bucket-arn': { arn: 'x' }, ok: 'yes' } }],
    });
    expect(product.custom).toEqual({ owners: '["a","b"]' });
    expect(product.outputPorts[0]!.custom).toEqual({ 'aws-s3-bucket-arn': '{"arn":"x"}', ok: 'yes' });
  });

  it.each([
    [{ info: { title: 'x' } }, undefined, 'id', 'is missing'],
    [{ dataProductSpecification: '0.0.2', id: 'p' }, 'p', 'dataProductSpecification', 'only 0.0.1'],
    [{ id: 'p', info: {}, outputPorts: [{ name: 'no-id' }] }, 'p', 'outputPorts[0].id', ''],
    [{ id: 'p', info: {}, outputPorts: [{ id: ' ' }] }, 'p', 'outputPorts[0].id', 'non-empty'],
    [{ id: 'p', info: {}, outputPorts: [{ id: 'a', server: 's3://x' }] }, 'p', 'outputPorts[0].server', ''],
    [{ id: 'p', info: {}, outputPorts: {} }, 'p', 'outputPorts', ''],
  ])('rejects %j naming product and field', (raw, id, field, problem) => {
    const error = formatError(raw);
    expect(error.dataProductId).toBe(id);
    expect(error.field).toBe(field);
    expect(error.message).toContain(problem);
    expect(error.message).toContain(id === undefined ? '(without id)' : `"${id}"`);
  });
});

describe('ODPS v1.0.0', () => {
  const raw = parse(`
apiVersion: v1.0.0
kind: DataProduct
id: orders
name: Orders
status: active
team:
  name: sales-team
customProperties:
  - property: aws-role-name
    value: orders-role
  - property: retention
    value: { days: 30 }
outputPorts:
  - name: orders-glue
    version: 1.0.0
    type: glue
    contractId: orders-contract
    customProperties:
      - property: server
        value: { account: "111122223333", database: sales, table: orders, location: "s3://acme-lake/sales/orders/" }
      - property: aws-kms-key-arn
        value: arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
      - property: partitions
        value: 12
  - name: orders-files
    version: 1.0.0
`);

  it('flattens customProperties, keeps the server object, and uses the port name as id', () => {
    expect(readDataProduct(raw)).toEqual({
      id: 'orders',
      format: 'odps-1.0.0',
      title: 'Orders',
      ownerTeamId: 'sales-team',
      custom: { 'aws-role-name': 'orders-role', retention: '{"days":30}' },
      outputPorts: [
        {
          id: 'orders-glue',
          name: 'orders-glue',
          type: 'glue',
          server: {
            account: '111122223333',
            database: 'sales',
            table: 'orders',
            location: 's3://acme-lake/sales/orders/',
          },
          custom: {
            'aws-kms-key-arn': 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            partitions: '12',
          },
          dataContractId: 'orders-contract',
          version: '1.0.0',
        },
        { id: 'orders-files', name: 'orders-files', custom: {}, version: '1.0.0' },
      ],
      raw,
    });
  });

  it.each([
    ['v0.9.0', 'odps-0.9.0'],
    ['v1.1.0', 'odps-1.1.0'],
  ])('reads apiVersion %s', (apiVersion, format) => {
    const product = readDataProduct({ apiVersion, kind: 'DataProduct', id: 'p', status: 'active' });
    expect(product.format).toBe(format);
  });

  it('keeps every version of a port, with its version, under the one name agreements use', () => {
    const product = readDataProduct({
      apiVersion: 'v1.0.0',
      kind: 'DataProduct',
      id: 'p',
      outputPorts: [
        { name: 'orders', version: '1.0.0', contractId: 'c1' },
        { name: 'orders', version: 2 },
      ],
    });
    expect(product.outputPorts).toEqual([
      { id: 'orders', name: 'orders', version: '1.0.0', dataContractId: 'c1', custom: {} },
      { id: 'orders', name: 'orders', version: '2', custom: {} },
    ]);
  });

  it('reads a property repeated with the same value once; one repeated with different values is a conflict, not an error', () => {
    const product = readDataProduct({
      kind: 'DataProduct',
      id: 'p',
      customProperties: [
        { property: 'aws-role-name', value: 'r' },
        { property: 'aws-role-name', value: 'r' },
      ],
      outputPorts: [
        {
          name: 'a',
          customProperties: [
            { property: 'aws-s3-bucket-arn', value: 'arn:aws:s3:::one' },
            { property: 'note', value: null },
            { property: 'aws-s3-bucket-arn', value: 'arn:aws:s3:::two' },
            { property: 'labels', value: ['x', { y: 1 }] },
          ],
        },
      ],
    });
    expect(product.custom).toEqual({ 'aws-role-name': 'r' });
    expect(product).not.toHaveProperty('conflicts');
    expect(product.outputPorts[0]).toEqual({
      id: 'a',
      name: 'a',
      custom: { labels: '["x",{"y":1}]' },
      conflicts: [
        {
          field: 'aws-s3-bucket-arn',
          path: 'outputPorts[0].customProperties[2]',
          problem: '"aws-s3-bucket-arn" is given more than once with different values',
        },
      ],
    });
  });

  it('keeps an id an ODPS port carries (outside the schema), so agreements naming it find the port', () => {
    const product = readDataProduct({ kind: 'DataProduct', id: 'p', outputPorts: [{ id: 'p-1', name: 'orders' }] });
    expect(product.outputPorts[0]).toMatchObject({ id: 'p-1', name: 'orders' });
  });

  it('is recognised by apiVersion alone', () => {
    expect(readDataProduct({ apiVersion: 'v1.0.0', id: 'p', status: 'active' }).format).toBe('odps-1.0.0');
  });

  it('keeps a non-object server property as a custom string', () => {
    const product = readDataProduct({
      kind: 'DataProduct',
      id: 'p',
      outputPorts: [{ name: 'a', customProperties: [{ property: 'server', value: 'production' }] }],
    });
    expect(product.outputPorts[0]).toEqual({ id: 'a', name: 'a', custom: { server: 'production' } });
  });

  it.each([
    [{ kind: 'DataProduct', apiVersion: 'v2.0.0', id: 'p' }, 'apiVersion', 'supported are ODPS v0.9.0, v1.0.0, v1.1.0'],
    [{ kind: 'DataProduct' }, 'id', ''],
    [{ kind: 'DataProduct', id: 'p', outputPorts: [{ version: '1' }] }, 'outputPorts[0].name', ''],
    [{ kind: 'DataProduct', id: 'p', customProperties: [{ value: 1 }] }, 'customProperties[0].property', ''],
  ])('rejects %j naming the field', (doc, field, problem) => {
    const error = formatError(doc);
    expect(error.field).toBe(field);
    expect(error.message).toContain(problem);
  });
});

describe('unrecognised documents', () => {
  it.each([[null], [[]], ['text'], [{ id: 'p' }]])('rejects %j', (doc) => {
    expect(formatError(doc).field).toBe('(document)');
  });
});
