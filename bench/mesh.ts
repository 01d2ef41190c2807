/** Small builders for benchmark meshes (DPS 0.0.1 products and access agreements). */
export function consumer(id: string, roleName: string) {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'consumers' },
    custom: { 'aws-role-name': roleName },
  };
}

export function s3Provider(id: string) {
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'providers' },
    outputPorts: [
      {
        id: 'port',
        name: 'port',
        custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': `arn:aws:s3:::bench-${id}-data` },
      },
    ],
  };
}

export function glueProvider(id: string) {
  const base = 'arn:aws:glue:eu-central-1:123456789012';
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'providers' },
    outputPorts: [
      {
        id: 'port',
        name: 'port',
        custom: {
          'output-port-type': 'glue_table',
          'aws-athena-workgroup-arn': 'arn:aws:athena:eu-central-1:123456789012:workgroup/analytics',
          'aws-glue-catalog-arn': `${base}:catalog`,
          'aws-glue-database-arn': `${base}:database/db_${id}`,
          'aws-glue-table-arn': `${base}:table/db_${id}/table_${id}`,
          'aws-s3-aws-s3-folder-arn': `arn:aws:s3:::bench-lake/${id}`,
        },
      },
    ],
  };
}

export function agreement(id: string, provider: string, consumerId: string, active: boolean) {
  return {
    id,
    info: { purpose: 'benchmark', status: active ? 'approved' : 'requested', active, startDate: '2025-01-01' },
    provider: { dataProductId: provider, outputPortId: 'port', teamId: 'providers' },
    consumer: { dataProductId: consumerId, teamId: 'consumers' },
    tags: [],
    custom: {},
  };
}

/** Data Mesh Manager ids are usually UUIDs; their length matters for the Sid markers. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

const ACCOUNT_ARN = 'eu-central-1:123456789012';

/** A provider with one port of a newer type: Kinesis, DynamoDB, MSK or S3 Tables. */
export function portProvider(kind: 'kinesis_stream' | 'dynamodb_table' | 'msk_topic' | 's3_table', id: string) {
  const custom: Record<string, Record<string, string>> = {
    kinesis_stream: { 'aws-kinesis-stream-arn': `arn:aws:kinesis:${ACCOUNT_ARN}:stream/bench-${id}` },
    dynamodb_table: { 'aws-dynamodb-table-arn': `arn:aws:dynamodb:${ACCOUNT_ARN}:table/bench-${id}` },
    msk_topic: {
      'aws-msk-topic-arn': `arn:aws:kafka:${ACCOUNT_ARN}:topic/bench/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5/bench-${id}`,
    },
    s3_table: { 'aws-s3tables-bucket-arn': `arn:aws:s3tables:${ACCOUNT_ARN}:bucket/bench-${id}` },
  };
  return {
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'providers' },
    outputPorts: [
      {
        id: 'port',
        name: 'port',
        custom: { 'output-port-type': kind, ...custom[kind] },
        ...(kind === 's3_table' ? { server: { namespace: 'sales', table: 'orders' } } : {}),
      },
    ],
  };
}
