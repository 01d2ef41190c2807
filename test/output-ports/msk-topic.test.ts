import { describe, expect, it } from 'vitest';
import { identityStatements } from '../../src/model/grants.js';
import type { PolicyStatement } from '../../src/model/policy.js';
import { tagCarrierArn } from '../../src/output-ports/arn.js';
import { isAwsPort, planPort } from '../../src/output-ports/registry.js';
import { expectAccess } from './access.js';
import { CONSUMER, document, OPTS, port } from './fixtures.js';

const UUID = '6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5';
const CLUSTER = `arn:aws:kafka:eu-central-1:111122223333:cluster/events/${UUID}`;
const TOPIC = `arn:aws:kafka:eu-central-1:111122223333:topic/events/${UUID}/orders.v1`;
const GROUPS = `arn:aws:kafka:eu-central-1:111122223333:group/events/${UUID}`;
const HOST =
  'b-1.events.abc123.c2.kafka.eu-central-1.amazonaws.com:9098,b-2.events.abc123.c2.kafka.eu-central-1.amazonaws.com:9098';
const GRANT: PolicyStatement[] = [
  { Effect: 'Allow', Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: CLUSTER },
  { Effect: 'Allow', Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], Resource: TOPIC },
  // The fixtures' consumer role is named `consumer`.
  {
    Effect: 'Allow',
    Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
    Resource: `${GROUPS}/consumer~*`,
  },
];

const referencePort = (extra: Record<string, string> = {}) =>
  port({ custom: { 'output-port-type': 'msk_topic', 'aws-msk-topic-arn': TOPIC, ...extra } });

describe('msk_topic', () => {
  it('grants connecting, reading the topic and consumer groups prefixed with the role name', () => {
    const plan = planPort(referencePort(), OPTS, CONSUMER);
    expect(plan.ok && plan.portType).toBe('msk_topic');
    expect(plan.ok && document(identityStatements(plan.grants))).toEqual(document(GRANT));
    expect(plan.ok && plan.providerResources).toEqual([{ arn: TOPIC }]);
    // Kafka topics carry no tags: the cluster's prove the topic.
    expect(tagCarrierArn(TOPIC)).toBe(CLUSTER);
    expect(plan.ok && plan.summary).toBe(
      'Connect to MSK cluster events (eu-central-1, account 111122223333) with IAM auth and read topic orders.v1, committing offsets in consumer groups whose id starts with the role name and "~".',
    );
  });

  it('reads a DPS/ODCS kafka server with an MSK host, the topic and the cluster ARN', () => {
    const p = port({
      type: 'kafka',
      server: { type: 'kafka', host: HOST, topic: 'orders.v1' },
      custom: { 'aws-msk-cluster-arn': CLUSTER },
    });
    expect(planPort(p, OPTS, CONSUMER)).toEqual(planPort(referencePort(), OPTS, CONSUMER));
  });

  it('claims Kafka ports only on MSK: other Kafka belongs to other integrations', () => {
    expect(isAwsPort(port({ type: 'kafka', server: { host: HOST, topic: 'orders' } }))).toBe(true);
    expect(
      isAwsPort(port({ server: { type: 'kafka', host: 'boot-abc.c1.kafka-serverless.eu-west-1.amazonaws.com:9098' } })),
    ).toBe(true);
    expect(
      isAwsPort(
        port({ type: 'kafka', server: { host: 'pkc-123.eu-central-1.aws.confluent.cloud:9092', topic: 'orders' } }),
      ),
    ).toBe(false);
    expect(isAwsPort(port({ type: 'kafka', server: { host: 'kafka.acme.internal:9092' } }))).toBe(false);
    expect(isAwsPort(port({ type: 'kafka' }))).toBe(false);
  });

  it.each([
    [
      'an MSK host without the cluster ARN',
      port({ type: 'kafka', server: { host: HOST, topic: 'orders.v1' } }),
      'custom.aws-msk-cluster-arn',
      'IAM names the cluster by name and UUID, which server.host does not carry',
    ],
    [
      'a cluster without topic',
      port({ type: 'kafka', server: { host: HOST }, custom: { 'aws-msk-cluster-arn': CLUSTER } }),
      'server.topic',
      'is missing',
    ],
    [
      'a wildcard topic',
      port({ type: 'kafka', server: { host: HOST, topic: 'orders.*' }, custom: { 'aws-msk-cluster-arn': CLUSTER } }),
      'server.topic',
      'wildcards',
    ],
    [
      'an invalid topic',
      port({ type: 'kafka', server: { host: HOST, topic: 'orders/v1' }, custom: { 'aws-msk-cluster-arn': CLUSTER } }),
      'server.topic',
      'not a valid Kafka topic name',
    ],
    [
      'a topic ARN of another cluster than the cluster ARN',
      referencePort({ 'aws-msk-cluster-arn': CLUSTER.replace('events', 'payments') }),
      'custom.aws-msk-cluster-arn',
      'name different resources',
    ],
    [
      'a server topic other than the topic ARN',
      port({ type: 'kafka', server: { host: HOST, topic: 'payments' }, custom: { 'aws-msk-topic-arn': TOPIC } }),
      'custom.aws-msk-topic-arn',
      'name different resources',
    ],
    [
      'a host in another region than the cluster',
      port({
        type: 'kafka',
        server: { host: HOST.replaceAll('eu-central-1', 'us-east-1'), topic: 'orders.v1' },
        custom: { 'aws-msk-cluster-arn': CLUSTER },
      }),
      'server.host',
      'is an MSK host in us-east-1, but custom.aws-msk-cluster-arn names a cluster in eu-central-1',
    ],
    [
      'a group ARN in the field',
      referencePort({ 'aws-msk-topic-arn': `${GROUPS}/anything` }),
      'custom.aws-msk-topic-arn',
      'is not an MSK cluster or topic ARN (cluster/<name>/<uuid> or topic/<cluster>/<uuid>/<topic>; group ARNs are not a port)',
    ],
    [
      'a topic ARN with a wildcard',
      referencePort({ 'aws-msk-topic-arn': `arn:aws:kafka:eu-central-1:111122223333:topic/events/${UUID}/*` }),
      'custom.aws-msk-topic-arn',
      'wildcards',
    ],
  ])('refuses %s', (_name, p, field, problem) => {
    expect(planPort(p, OPTS, CONSUMER)).toMatchObject({ ok: false, field, problem: expect.stringContaining(problem) });
  });

  it('access matrix: connect, read the topic, own groups allowed; writes, admin, other topics and groups denied', async () => {
    const otherTopic = `arn:aws:kafka:eu-central-1:111122223333:topic/events/${UUID}/payments`;
    await expectAccess(
      referencePort(),
      [
        { action: 'kafka-cluster:Connect', resource: CLUSTER },
        { action: 'kafka-cluster:DescribeCluster', resource: CLUSTER },
        { action: 'kafka-cluster:DescribeTopic', resource: TOPIC },
        { action: 'kafka-cluster:ReadData', resource: TOPIC },
        { action: 'kafka-cluster:DescribeGroup', resource: `${GROUPS}/consumer~orders-app` },
        { action: 'kafka-cluster:AlterGroup', resource: `${GROUPS}/consumer~orders-app` },
      ],
      [
        { action: 'kafka-cluster:WriteData', resource: TOPIC },
        { action: 'kafka-cluster:CreateTopic', resource: TOPIC },
        { action: 'kafka-cluster:DeleteTopic', resource: TOPIC },
        { action: 'kafka-cluster:AlterTopic', resource: TOPIC },
        { action: 'kafka-cluster:AlterTopicDynamicConfiguration', resource: TOPIC },
        { action: 'kafka-cluster:AlterCluster', resource: CLUSTER },
        { action: 'kafka-cluster:AlterClusterDynamicConfiguration', resource: CLUSTER },
        { action: 'kafka-cluster:WriteDataIdempotently', resource: CLUSTER },
        { action: 'kafka-cluster:ReadData', resource: otherTopic },
        { action: 'kafka-cluster:ReadData', resource: `${TOPIC}-dlq` },
        {
          action: 'kafka-cluster:ReadData',
          resource: `arn:aws:kafka:eu-central-1:111122223333:topic/other/${UUID}/orders.v1`,
        },
        { action: 'kafka-cluster:Connect', resource: `arn:aws:kafka:eu-central-1:111122223333:cluster/other/${UUID}` },
        { action: 'kafka-cluster:AlterGroup', resource: `${GROUPS}/other-consumer~orders-app` },
        { action: 'kafka-cluster:AlterGroup', resource: `${GROUPS}/consumer-eu~orders-app` },
        { action: 'kafka-cluster:AlterGroup', resource: `${GROUPS}/orders-app` },
        { action: 'kafka-cluster:DeleteGroup', resource: `${GROUPS}/consumer~orders-app` },
      ],
    );
  });
});
