import {
  checkDynamoTableName,
  dynamoIndexesArn,
  dynamoStreamArn,
  dynamoTableArn,
  kmsKeyArn,
  type DynamoStream,
  type DynamoTable,
  type KmsKey,
} from './arn.js';
import { arnFields, checkKeyRegion, kmsKeyOf, sameResource, serverPlacement, serverString } from './fields.js';
import { PortFieldError, type PortType } from './port-type.js';
import { allow, kmsDecrypt } from './statements.js';

export interface DynamoTableResources {
  table: DynamoTable;
  /** The table's stream, when the port names it: its change records are read too. */
  stream?: DynamoStream;
  kmsKey?: KmsKey;
  consumerAccount: string;
}

/** Read one DynamoDB table: items, queries and scans of the table and its indexes; optionally its stream. */
export const dynamodbTable: PortType<DynamoTableResources> = {
  type: 'dynamodb_table',
  describe: 'Read one DynamoDB table (get, query, scan, its indexes; its stream when named). No writes.',
  technicalTypes: ['dynamodb'],

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 'dynamodb_table', ['dynamodb-table', 'dynamodb-stream', 'kms-key'], opts);
    const fromArn = arns['dynamodb-table'] && {
      field: arns['dynamodb-table'].field,
      value: arns['dynamodb-table'].value.table,
    };
    const name = serverString(port, 'table');
    const fromServer = name && {
      field: name.field,
      value: { ...serverPlacement(port, opts), name: checkDynamoTableName(name.field, name.value) },
    };
    const streamField = arns['dynamodb-stream'];
    const fromStream = streamField && { field: streamField.field, value: tableOf(streamField.value.stream) };
    const table = sameResource(sameResource(fromArn, fromServer, dynamoTableArn), fromStream, dynamoTableArn);
    if (!table) {
      throw new PortFieldError(
        'custom.aws-dynamodb-table-arn',
        'is missing: a dynamodb_table port needs its table (or set server.table, with server.region and server.account when they are not the defaults)',
      );
    }
    const key = kmsKeyOf(port, arns, opts);
    checkKeyRegion(key, table.value.region, 'table');
    return {
      table: table.value,
      ...(streamField ? { stream: streamField.value.stream } : {}),
      ...(key ? { kmsKey: key.value } : {}),
      consumerAccount: opts.accountId,
    };
  },

  grants({ table, stream, kmsKey }) {
    const statements = [
      allow(
        ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'],
        [dynamoTableArn(table)],
      ),
      // Index names are the provider's to add and change; an index holds only the table's items.
      allow(['dynamodb:Query', 'dynamodb:Scan'], [dynamoIndexesArn(table)]),
      ...(stream
        ? [
            allow(
              ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
              [dynamoStreamArn(stream)],
            ),
          ]
        : []),
      // DynamoDB checks the caller's key permissions when it reads a table encrypted with a customer-managed key.
      ...(kmsKey ? [kmsDecrypt(kmsKey, 'dynamodb', ['kms:Decrypt', 'kms:DescribeKey'])] : []),
    ];
    return [{ target: 'identity-policy', statements }];
  },

  providerResources({ table, kmsKey }) {
    // The stream and the indexes are the table's: its tags prove them (tagCarrierArn).
    return [{ arn: dynamoTableArn(table) }, ...(kmsKey ? [{ arn: kmsKeyArn(kmsKey) }] : [])];
  },

  summary({ table, stream, kmsKey, consumerAccount }) {
    const parts = [
      `Read DynamoDB table ${table.name} (${table.region}, account ${table.account}): describe it, get items, query and scan it and its indexes`,
      stream ? `; read its stream ${stream.label}` : '',
      kmsKey ? `; decrypt with KMS key ${kmsKeyArn(kmsKey)} through DynamoDB` : '',
      table.account !== consumerAccount
        ? `. Cross-account: account ${table.account} must also allow this role in the table's resource policy`
        : '',
    ];
    return `${parts.join('')}.`;
  },
};

const tableOf = ({ label: _label, ...table }: DynamoStream): DynamoTable => table;
