import type { OutputPort } from '../model/data-product.js';
import {
  checkRegion,
  checkTopicName,
  mskClusterArn,
  mskGroupsArn,
  mskTopicArn,
  parseRoleArn,
  type MskCluster,
  type MskTopic,
} from './arn.js';
import { arnFields, sameResource, serverString, type Sourced } from './fields.js';
import { PortFieldError, type PortType } from './port-type.js';
import { allow } from './statements.js';

export interface MskTopicResources {
  topic: MskTopic;
  consumerAccount: string;
}

/**
 * Consumer group ids a role may use start with its role name and this character. IAM role names
 * cannot contain it, so no role's prefix covers another role's groups (with `-` or `.`, role `a`
 * would get the groups of role `a-b`).
 */
export const GROUP_SEPARATOR = '~';

/** `b-1.orders.abc123.c2.kafka.eu-central-1.amazonaws.com:9098`, serverless `boot-x.c1.kafka-serverless.…`. */
const MSK_HOST = /(?:^|[.])kafka(?:-serverless)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?$/;

/**
 * Read one Kafka topic of an Amazon MSK cluster with IAM access control: connect, read the topic,
 * and commit offsets in consumer groups named after the consumer role.
 */
export const mskTopic: PortType<MskTopicResources> = {
  type: 'msk_topic',
  describe: 'Read one topic of an Amazon MSK cluster with IAM auth (consumer groups prefixed with the role name).',
  technicalTypes: ['kafka'],
  // Kafka ports of other platforms (Confluent, self-managed) are not this tool's.
  claims: (port) => bootstrapHosts(port).some((host) => MSK_HOST.test(host)),

  resourcesFrom(port, opts) {
    const arns = arnFields(port, 'msk_topic', ['msk-cluster', 'msk-topic'], opts);
    const fromTopicArn = arns['msk-topic'] && { field: arns['msk-topic'].field, value: arns['msk-topic'].value.topic };
    const cluster = sameResource(
      arns['msk-cluster'] && { field: arns['msk-cluster'].field, value: arns['msk-cluster'].value.cluster },
      fromTopicArn && { field: fromTopicArn.field, value: clusterOf(fromTopicArn.value) },
      mskClusterArn,
    );
    const name = serverString(port, 'topic');
    if (!cluster) {
      throw new PortFieldError(
        'custom.aws-msk-cluster-arn',
        `is missing: an msk_topic port needs its MSK cluster's ARN (IAM names the cluster by name and UUID, which ${bootstrapHosts(port).length > 0 ? 'server.host does not carry' : 'the port does not give'}), or custom.aws-msk-topic-arn`,
      );
    }
    const fromServer = name && {
      field: name.field,
      value: { ...cluster.value, topic: checkTopicName(name.field, name.value) },
    };
    const topic = sameResource(fromTopicArn, fromServer, mskTopicArn);
    if (!topic) {
      throw new PortFieldError(
        'server.topic',
        'is missing: an msk_topic port needs its topic (or custom.aws-msk-topic-arn)',
      );
    }
    checkHostRegion(port, cluster);
    return { topic: topic.value, consumerAccount: opts.accountId };
  },

  grants({ topic }, consumer) {
    const statements = [
      allow(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], [mskClusterArn(topic)]),
      allow(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], [mskTopicArn(topic)]),
      allow(
        ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        [mskGroupsArn(topic, groupPrefix(consumer.roleArn))],
      ),
    ];
    return [{ target: 'identity-policy', statements }];
  },

  providerResources({ topic }) {
    // Topics cannot be tagged: the cluster's tags speak for them (tagCarrierArn).
    return [{ arn: mskTopicArn(topic) }];
  },

  summary({ topic, consumerAccount }) {
    const cross =
      topic.account !== consumerAccount
        ? `. Cross-account: account ${topic.account} must also allow this role in the cluster policy (multi-VPC connectivity)`
        : '';
    return `Connect to MSK cluster ${topic.name} (${topic.region}, account ${topic.account}) with IAM auth and read topic ${topic.topic}, committing offsets in consumer groups whose id starts with the role name and "${GROUP_SEPARATOR}"${cross}.`;
  },
};

/** The role's group id prefix: `analytics-consumer~`. */
export const groupPrefix = (roleArn: string): string =>
  `${parseRoleArn('consumer role', roleArn).name}${GROUP_SEPARATOR}`;

const clusterOf = ({ topic: _topic, ...cluster }: MskTopic): MskCluster => cluster;

/** `server.host`, a comma-separated bootstrap list as Kafka clients take it. */
function bootstrapHosts(port: OutputPort): string[] {
  const host = port.server?.['host'];
  return typeof host === 'string'
    ? host
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== '')
    : [];
}

/** A bootstrap host in another region than the ARN's names another cluster: one of the two is wrong. */
function checkHostRegion(port: OutputPort, cluster: Sourced<MskCluster>): void {
  for (const host of bootstrapHosts(port)) {
    const region = MSK_HOST.exec(host)?.[1];
    if (region !== undefined && checkRegion('server.host', region) !== cluster.value.region) {
      throw new PortFieldError(
        'server.host',
        `(${host}) is an MSK host in ${region}, but ${cluster.field} names a cluster in ${cluster.value.region}`,
      );
    }
  }
}
