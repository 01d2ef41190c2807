import {
  checkStreamName,
  kinesisConsumersArn,
  kinesisStreamArn,
  kmsKeyArn,
  type KinesisStream,
  type KmsKey,
} from './arn.js';
import { arnFields, checkKeyRegion, kmsKeyOf, sameResource, serverPlacement, serverString } from './fields.js';
import { PortFieldError, type PortType } from './port-type.js';
import { allow, kmsDecrypt } from './statements.js';

export interface KinesisStreamResources {
  stream: KinesisStream;
  kmsKey?: KmsKey;
  consumerAccount: string;
}

/**
 * Read one Kinesis data stream with the Kinesis Client Library, polling (GetRecords) or with
 * enhanced fan-out (SubscribeToShard through a consumer the reader registers on the stream).
 */
export const kinesisStream: PortType<KinesisStreamResources> = {
  type: 'kinesis_stream',
  describe: 'Read one Kinesis data stream (KCL polling and enhanced fan-out; no writes).',
  technicalTypes: ['kinesis'],

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 'kinesis_stream', ['kinesis-stream', 'kms-key'], opts);
    const fromArn = arns['kinesis-stream'] && {
      field: arns['kinesis-stream'].field,
      value: arns['kinesis-stream'].value.stream,
    };
    // ODCS names the stream `stream` (its Kinesis server type has only region and format).
    const name = serverString(port, 'stream');
    const fromServer = name && {
      field: name.field,
      value: { ...serverPlacement(port, opts), name: checkStreamName(name.field, name.value) },
    };
    const stream = sameResource(fromArn, fromServer, kinesisStreamArn);
    if (!stream) {
      throw new PortFieldError(
        'custom.aws-kinesis-stream-arn',
        'is missing: a kinesis_stream port needs its stream (or set server.stream, with server.region and server.account when they are not the defaults)',
      );
    }
    const key = kmsKeyOf(port, arns, opts);
    checkKeyRegion(key, stream.value.region, 'stream');
    return { stream: stream.value, ...(key ? { kmsKey: key.value } : {}), consumerAccount: opts.accountId };
  },

  grants({ stream, kmsKey }) {
    const statements = [
      allow(
        [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:ListShards',
          'kinesis:GetShardIterator',
          'kinesis:GetRecords',
          // Enhanced fan-out: the KCL registers its consumer on the stream and finds it again.
          'kinesis:RegisterStreamConsumer',
          'kinesis:ListStreamConsumers',
        ],
        [kinesisStreamArn(stream)],
      ),
      allow(['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'], [kinesisConsumersArn(stream)]),
      ...(kmsKey ? [kmsDecrypt(kmsKey, 'kinesis')] : []),
    ];
    return [{ target: 'identity-policy', statements }];
  },

  providerResources({ stream, kmsKey }) {
    return [{ arn: kinesisStreamArn(stream) }, ...(kmsKey ? [{ arn: kmsKeyArn(kmsKey) }] : [])];
  },

  summary({ stream, kmsKey, consumerAccount }) {
    const parts = [
      `Read Kinesis stream ${stream.name} (${stream.region}, account ${stream.account}): describe it, list its shards, get records, and register and use enhanced fan-out consumers on it`,
      kmsKey ? `; decrypt with KMS key ${kmsKeyArn(kmsKey)} through Kinesis` : '',
      stream.account !== consumerAccount
        ? `. Cross-account: account ${stream.account} must also allow this role in the stream's resource policy`
        : '',
    ];
    return `${parts.join('')}.`;
  },
};
