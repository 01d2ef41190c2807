import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { INDEX_ACTIONS_USED } from '../../src/aws/agreement-index.js';
import { SECRETS_ACTIONS_USED } from '../../src/aws/api-key.js';
import { IAM_ACTIONS_USED } from '../../src/aws/iam-account.js';
import { LAKE_FORMATION_ACTIONS_USED } from '../../src/aws/lake-formation.js';
import {
  RESOURCE_POLICY_GLUE_ACTIONS_USED,
  RESOURCE_POLICY_KMS_ACTIONS_USED,
  RESOURCE_POLICY_S3_ACTIONS_USED,
} from '../../src/aws/resource-policies.js';
import {
  RESOURCE_TAG_DYNAMODB_ACTIONS_USED,
  RESOURCE_TAG_GLUE_ACTIONS_USED,
  RESOURCE_TAG_KAFKA_ACTIONS_USED,
  RESOURCE_TAG_KINESIS_ACTIONS_USED,
  RESOURCE_TAG_KMS_ACTIONS_USED,
  RESOURCE_TAG_S3_ACTIONS_USED,
} from '../../src/aws/resource-tags.js';
import { S3_ACTIONS_USED } from '../../src/aws/s3-checkpoint.js';
import { SQS_ACTIONS_USED } from '../../src/aws/sqs-queue.js';
import { RECORD_QUEUE_SQS_ACTIONS } from '../../src/lambda/record-queue.js';

/**
 * The exported action lists feed the Terraform policy test; this one keeps them honest by
 * reading the SDK commands each module really imports and constructs.
 */
const modules = [
  { file: 'src/aws/iam-account.ts', sdk: '@aws-sdk/client-iam', prefix: 'iam', actions: IAM_ACTIONS_USED },
  { file: 'src/aws/sqs-queue.ts', sdk: '@aws-sdk/client-sqs', prefix: 'sqs', actions: SQS_ACTIONS_USED },
  {
    file: 'src/lambda/record-queue.ts',
    sdk: '@aws-sdk/client-sqs',
    prefix: 'sqs',
    actions: RECORD_QUEUE_SQS_ACTIONS,
  },
  { file: 'src/aws/s3-checkpoint.ts', sdk: '@aws-sdk/client-s3', prefix: 's3', actions: S3_ACTIONS_USED },
  { file: 'src/aws/agreement-index.ts', sdk: '@aws-sdk/client-s3', prefix: 's3', actions: INDEX_ACTIONS_USED },
  {
    file: 'src/aws/api-key.ts',
    sdk: '@aws-sdk/client-secrets-manager',
    prefix: 'secretsmanager',
    actions: SECRETS_ACTIONS_USED,
  },
  // Six SDKs in one module: one row per SDK (RESOURCE_TAG_ACTIONS_USED is exactly their union).
  { file: 'src/aws/resource-tags.ts', sdk: '@aws-sdk/client-s3', prefix: 's3', actions: RESOURCE_TAG_S3_ACTIONS_USED },
  {
    file: 'src/aws/resource-tags.ts',
    sdk: '@aws-sdk/client-glue',
    prefix: 'glue',
    actions: RESOURCE_TAG_GLUE_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-tags.ts',
    sdk: '@aws-sdk/client-kms',
    prefix: 'kms',
    actions: RESOURCE_TAG_KMS_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-tags.ts',
    sdk: '@aws-sdk/client-kinesis',
    prefix: 'kinesis',
    actions: RESOURCE_TAG_KINESIS_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-tags.ts',
    sdk: '@aws-sdk/client-dynamodb',
    prefix: 'dynamodb',
    actions: RESOURCE_TAG_DYNAMODB_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-tags.ts',
    sdk: '@aws-sdk/client-kafka',
    prefix: 'kafka',
    actions: RESOURCE_TAG_KAFKA_ACTIONS_USED,
  },
  // Three SDKs in one module (RESOURCE_POLICY_ACTIONS_USED is exactly their union).
  {
    file: 'src/aws/resource-policies.ts',
    sdk: '@aws-sdk/client-s3',
    prefix: 's3',
    actions: RESOURCE_POLICY_S3_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-policies.ts',
    sdk: '@aws-sdk/client-kms',
    prefix: 'kms',
    actions: RESOURCE_POLICY_KMS_ACTIONS_USED,
  },
  {
    file: 'src/aws/resource-policies.ts',
    sdk: '@aws-sdk/client-glue',
    prefix: 'glue',
    actions: RESOURCE_POLICY_GLUE_ACTIONS_USED,
  },
  {
    file: 'src/aws/lake-formation.ts',
    sdk: '@aws-sdk/client-lakeformation',
    prefix: 'lakeformation',
    actions: LAKE_FORMATION_ACTIONS_USED,
  },
];

/** `*Command` classes imported (as values, not `type`) from the SDK package. */
function importedCommands(source: string, sdk: string): string[] {
  const imports = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)].filter((m) => m[2] === sdk);
  return imports
    .flatMap((m) => m[1]!.split(','))
    .map((name) => name.trim())
    .filter((name) => /^\w+Command$/.test(name));
}

/** Operations authorised by an action of another name. */
const AUTHORISED_AS: Readonly<Record<string, string>> = { 's3:ListObjectsV2': 's3:ListBucket' };

/** The IAM action that authorises a command: batch commands are authorised as their single form. */
function actionOf(prefix: string, command: string): string {
  const operation = command.replace(/Command$/, '');
  const action = `${prefix}:${operation}`;
  if (AUTHORISED_AS[action]) return AUTHORISED_AS[action];
  return `${prefix}:${prefix === 'sqs' ? operation.replace(/Batch$/, '') : operation}`;
}

describe('actions used', () => {
  it.each(modules)(
    '$file: the action list is exactly what its imported commands need',
    async ({ file, sdk, prefix, actions }) => {
      const source = await readFile(file, 'utf8');
      const commands = importedCommands(source, sdk);
      expect(commands.length).toBeGreaterThan(0);
      // An imported command that is never sent would widen the policy for nothing.
      for (const command of commands)
        expect(source, `${file} imports ${command} but never constructs it`).toContain(`new ${command}(`);
      const expected = [...new Set(commands.map((c) => actionOf(prefix, c)))].sort();
      expect([...actions].sort()).toEqual(expected);
    },
  );

  it('no module under src/aws sends a command it does not import by name', async () => {
    for (const { file } of modules) {
      const source = await readFile(file, 'utf8');
      const constructed = [...source.matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!);
      const imported = modules.flatMap((m) => importedCommands(source, m.sdk));
      expect(constructed.filter((c) => !imported.includes(c))).toEqual([]);
    }
  });
});
