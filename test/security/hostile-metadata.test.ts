/**
 * Hostile and broken Data Mesh Manager metadata, end to end: the simulator serves it, the real
 * HTTP client reads it, the converging core decides, and the local IAM account shows what was
 * written. Every row asserts both halves of "never more access than the agreement says":
 *
 * - no widened access: every role in the account holds exactly the legitimate grants (the row's
 *   agreement has nothing, or exactly what it should), and
 * - a clear diagnostic: the agreement is marked failed and `custom.aws-integration-error` names
 *   the field (or the value) and the rule that refused it.
 *
 * Each world also holds a legitimate agreement (`agr-ok`, a whole-bucket grant of acme-orders to
 * analytics-consumer) that must be granted exactly, whatever the hostile row does.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyStatement } from '../../src/model/policy.js';
import { FileResourceTags, type ResourceTagsData } from '../../src/local/file-resource-tags.js';
import { defaultGuardrails, type Guardrails } from '../../src/sync/guardrails.js';
import { reconcileAll } from '../../src/sync/reconcile.js';
import {
  ACCOUNT,
  REGION,
  ROLE,
  agreement,
  dpsProduct,
  provisioningOf,
  startWorld,
  view,
  type World,
} from '../e2e/harness.js';
import { OTHER_ACCOUNT, allPolicyText, bucketGrant, evaluate, everyGrant } from './helpers.js';

type Doc = Record<string, unknown>;
type RoleSpec = { name: string; path?: string; tags?: Record<string, string> };

const HOSTILE = 'agr-hostile';
const OK = 'agr-ok';
const TAG = 'dmm:data-product';
/** What the provider `prov` legitimately owns and has tagged as its own. */
const PROVIDER_OWNS: ResourceTagsData = {
  buckets: Object.fromEntries(['acme-orders', 'acme-orders-2', 'acme-lake'].map((b) => [b, { [TAG]: 'prov' }])),
  glueTables: Object.fromEntries(
    [ACCOUNT, OTHER_ACCOUNT].map((account) => [`${account}/${REGION}/sales/orders`, { [TAG]: 'prov' }]),
  ),
};
const GLUE = `arn:aws:glue:${REGION}:${ACCOUNT}`;
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

interface Refused {
  kind: 'refused';
  /** Each must appear in custom.aws-integration-error: the field (or the offending value) and the rule. */
  diagnostic: (string | RegExp)[];
}
interface Granted {
  kind: 'granted';
  /** Exactly the statements the hostile agreement holds afterwards (Sids stripped). */
  statements: PolicyStatement[];
  /** Requests the grant must NOT allow although the metadata asked for them (IAM evaluation). */
  denied?: { action: string; resource: string; resourceAccount?: string; context?: Record<string, string> }[];
}

interface Row {
  name: string;
  /** The provider's output port the hostile agreement points at (id `hostile`). */
  port?: Doc;
  /** The hostile consumer product's custom fields; default aws-role-name analytics-consumer. */
  consumer?: Record<string, string>;
  /** Custom fields on the hostile agreement itself. */
  agreementCustom?: Record<string, string>;
  /** Roles in the account besides analytics-consumer (which is created at `rolePath`). */
  roles?: RoleSpec[];
  rolePath?: string;
  roleTags?: Record<string, string>;
  guardrails?: Partial<Guardrails>;
  resourceTags?: ResourceTagsData;
  athenaQueryResultsLocation?: string;
  /** Role that ends up holding the hostile grant, for `granted` rows; default analytics-consumer. */
  grantedOn?: string;
  expect: Refused | Granted;
}

const s3Port = (custom: Record<string, string>): Doc => ({
  id: 'hostile',
  name: 'hostile',
  custom: { 'output-port-type': 's3_bucket', ...custom },
});
const bucketArnPort = (arn: string): Doc => s3Port({ 'aws-s3-bucket-arn': arn });
const serverPort = (location: string, extra: Doc = {}): Doc => ({
  id: 'hostile',
  name: 'hostile',
  type: 's3',
  server: { type: 's3', location },
  ...extra,
});
const gluePort = (custom: Record<string, string>): Doc => ({
  id: 'hostile',
  name: 'hostile',
  custom: {
    'output-port-type': 'glue_table',
    'aws-glue-table-arn': `${GLUE}:table/sales/orders`,
    'aws-s3-folder-arn': 'arn:aws:s3:::acme-lake/sales/orders',
    ...custom,
  },
});

/** The legitimate Glue grant (table sales.orders in acme-lake), account-constrained S3. */
function glueGrant(account: string, accounts: string | string[]): PolicyStatement[] {
  const cond = { StringEquals: { 's3:ResourceAccount': accounts } };
  return [
    {
      Effect: 'Allow',
      Action: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetPartition',
        'glue:GetPartitions',
        'glue:BatchGetPartition',
      ],
      Resource: [
        `arn:aws:glue:${REGION}:${account}:catalog`,
        `arn:aws:glue:${REGION}:${account}:database/sales`,
        `arn:aws:glue:${REGION}:${account}:table/sales/orders`,
      ],
    },
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::acme-lake',
      Condition: { StringLike: { 's3:prefix': ['sales/orders/', 'sales/orders/*'] }, ...cond },
    },
    {
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:GetObject'],
      Resource: ['arn:aws:s3:::acme-lake', 'arn:aws:s3:::acme-lake/sales/orders/*'],
      Condition: cond,
    },
    // Stored once per role (docs/adr/0011-shared-statements.md), listed last for each member.
    {
      Effect: 'Allow',
      Action: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      Resource: `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/primary`,
    },
  ];
}

const wildcard = /must not contain wildcards or policy variables \(\*, \?, \$\{…\}\)/;
const notAscii = /must contain only printable ASCII characters without spaces/;

const ROWS: Row[] = [
  // ---- Wildcards and policy variables ------------------------------------------------------------
  {
    name: 'wildcard bucket ARN arn:aws:s3:::*',
    port: bucketArnPort('arn:aws:s3:::*'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', wildcard] },
  },
  {
    name: 'partial wildcard arn:aws:s3:::acme-*',
    port: bucketArnPort('arn:aws:s3:::acme-*'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', wildcard, 'acme-*'] },
  },
  {
    name: 'single-character wildcard acme-?rders',
    port: bucketArnPort('arn:aws:s3:::acme-?rders'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', wildcard] },
  },
  {
    name: 'policy variable ${aws:username} as bucket',
    port: bucketArnPort('arn:aws:s3:::${aws:username}'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', wildcard] },
  },
  {
    name: 'policy variable in a server.location prefix',
    port: serverPort('s3://acme-orders/${aws:userid}/'),
    expect: { kind: 'refused', diagnostic: ['server.location', 'must not contain policy variables'] },
  },
  {
    // A pattern is granted at its fixed folder; in the first folder there is none, and the
    // whole bucket is never granted instead.
    name: 'wildcard in the first folder of a server.location',
    port: serverPort('s3://acme-orders/*/'),
    expect: { kind: 'refused', diagnostic: ['server.location', 'no fixed S3 prefix'] },
  },
  {
    name: 'wildcard Glue table',
    port: gluePort({ 'aws-glue-table-arn': `${GLUE}:table/sales/*` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', wildcard] },
  },
  {
    name: 'wildcard Glue database',
    port: gluePort({ 'aws-glue-table-arn': `${GLUE}:table/*/orders` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', wildcard] },
  },
  {
    name: 'wildcard Glue database ARN beside a concrete table',
    port: gluePort({ 'aws-glue-database-arn': `${GLUE}:database/*` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-database-arn', wildcard] },
  },
  {
    name: 'wildcard Glue table in the server block',
    port: {
      id: 'hostile',
      name: 'hostile',
      type: 'glue',
      server: { type: 'glue', database: 'sales', table: 'ord*', location: 's3://acme-lake/sales/orders/' },
    },
    expect: { kind: 'refused', diagnostic: ['server.table', wildcard] },
  },
  {
    name: 'wildcard account in a Glue ARN',
    port: gluePort({ 'aws-glue-table-arn': `arn:aws:glue:${REGION}:*:table/sales/orders` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', wildcard] },
  },
  {
    name: 'wildcard Athena workgroup',
    port: gluePort({ 'aws-athena-workgroup-arn': `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/*` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-athena-workgroup-arn', wildcard] },
  },

  // ---- Other accounts -------------------------------------------------------------------------
  {
    name: "another account's Glue table: refused by default (allowedResourceAccounts)",
    port: gluePort({ 'aws-glue-table-arn': `arn:aws:glue:${REGION}:${OTHER_ACCOUNT}:table/sales/orders` }),
    expect: {
      kind: 'refused',
      diagnostic: [
        `account ${OTHER_ACCOUNT}`,
        'guardrails.allowedResourceAccounts',
        `arn:aws:glue:${REGION}:${OTHER_ACCOUNT}:`,
      ],
    },
  },
  {
    name: "another account's Glue table: granted when allowedResourceAccounts includes it",
    port: gluePort({ 'aws-glue-table-arn': `arn:aws:glue:${REGION}:${OTHER_ACCOUNT}:table/sales/orders` }),
    guardrails: { allowedResourceAccounts: [ACCOUNT, OTHER_ACCOUNT] },
    expect: { kind: 'granted', statements: glueGrant(OTHER_ACCOUNT, [ACCOUNT, OTHER_ACCOUNT]) },
  },
  {
    name: "another account's Glue table in the server block (server.account): refused by default",
    port: {
      id: 'hostile',
      name: 'hostile',
      type: 'glue',
      server: {
        type: 'glue',
        account: '9999-9999-9999',
        database: 'sales',
        table: 'orders',
        location: 's3://acme-lake/sales/orders/',
      },
    },
    expect: { kind: 'refused', diagnostic: [`account ${OTHER_ACCOUNT}`, 'guardrails.allowedResourceAccounts'] },
  },
  {
    name: "another account's KMS key: refused by default",
    expect: { kind: 'refused', diagnostic: [`account ${OTHER_ACCOUNT}`, 'guardrails.allowedResourceAccounts', 'kms'] },
  },
  {
    name: "another account's Athena workgroup",
    port: gluePort({ 'aws-athena-workgroup-arn': `arn:aws:athena:${REGION}:${OTHER_ACCOUNT}:workgroup/primary` }),
    expect: {
      kind: 'refused',
      diagnostic: [
        'custom.aws-athena-workgroup-arn',
        `is in account ${OTHER_ACCOUNT}`,
        'cannot be used across accounts',
      ],
    },
  },
  {
    name: "another account's bucket: refused by default, its tags cannot be read from here (ownership proof)",
    port: bucketArnPort('arn:aws:s3:::someone-elses-bucket'),
    expect: {
      kind: 'refused',
      diagnostic: [
        'ownership proof failed',
        'S3 bucket someone-elses-bucket does not exist or its tags cannot be read',
      ],
    },
  },
  {
    name: "another account's bucket, ownership proof off: granted only on condition s3:ResourceAccount = managed account, so it opens nothing",
    port: bucketArnPort('arn:aws:s3:::someone-elses-bucket'),
    guardrails: { ownership: { mode: 'off' } },
    expect: {
      kind: 'granted',
      statements: [bucketGrant('someone-elses-bucket')],
      denied: [
        {
          action: 's3:GetObject',
          resource: 'arn:aws:s3:::someone-elses-bucket/data.csv',
          resourceAccount: OTHER_ACCOUNT,
        },
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::someone-elses-bucket', resourceAccount: OTHER_ACCOUNT },
      ],
    },
  },

  // ---- Ownership proof --------------------------------------------------------------------------
  {
    name: 'provider names a bucket it does not own, ownership proof on: refused',
    port: bucketArnPort('arn:aws:s3:::team-b-private'),
    resourceTags: { buckets: { 'acme-orders': { [TAG]: 'prov' }, 'team-b-private': { [TAG]: 'team-b-product' } } },
    expect: {
      kind: 'refused',
      diagnostic: [
        'ownership proof failed',
        'S3 bucket team-b-private',
        'team-b-product',
        'does not name the provider data product prov',
      ],
    },
  },
  {
    name: 'provider names an untagged bucket, ownership proof on: refused',
    port: bucketArnPort('arn:aws:s3:::untagged-bucket'),
    resourceTags: { buckets: { 'acme-orders': { [TAG]: 'prov' }, 'untagged-bucket': {} } },
    expect: {
      kind: 'refused',
      diagnostic: ['ownership proof failed', 'S3 bucket untagged-bucket has no tag dmm:data-product'],
    },
  },
  {
    name: 'provider names a bucket it does not own, ownership proof turned off: granted, limited to the managed account (documented)',
    port: bucketArnPort('arn:aws:s3:::team-b-private'),
    guardrails: { ownership: { mode: 'off' } },
    expect: {
      kind: 'granted',
      statements: [bucketGrant('team-b-private')],
      denied: [{ action: 's3:GetObject', resource: 'arn:aws:s3:::team-b-private/x', resourceAccount: OTHER_ACCOUNT }],
    },
  },
  {
    name: "glue_table whose S3 location is the root of another team's bucket, ownership proof on: refused",
    port: gluePort({ 'aws-s3-folder-arn': 'arn:aws:s3:::team-b-lake' }),
    resourceTags: {
      buckets: { 'acme-orders': { [TAG]: 'prov' }, 'team-b-lake': { [TAG]: 'team-b-product' } },
      glueTables: { [`${ACCOUNT}/${REGION}/sales/orders`]: { [TAG]: 'prov' } },
    },
    expect: {
      kind: 'refused',
      diagnostic: [
        'ownership proof failed',
        'S3 bucket team-b-lake has tag dmm:data-product',
        'does not name the provider data product prov',
      ],
    },
  },
  {
    name: "glue_table whose S3 location is the root of another team's bucket, ownership proof turned off: the whole bucket (documented)",
    port: gluePort({ 'aws-s3-folder-arn': 'arn:aws:s3:::team-b-lake' }),
    guardrails: { ownership: { mode: 'off' } },
    expect: {
      kind: 'granted',
      statements: [
        glueGrant(ACCOUNT, ACCOUNT)[0]!,
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::team-b-lake',
          Condition: { StringEquals: { 's3:ResourceAccount': ACCOUNT } },
        },
        {
          Effect: 'Allow',
          Action: ['s3:GetBucketLocation', 's3:GetObject'],
          Resource: ['arn:aws:s3:::team-b-lake', 'arn:aws:s3:::team-b-lake/*'],
          Condition: { StringEquals: { 's3:ResourceAccount': ACCOUNT } },
        },
        glueGrant(ACCOUNT, ACCOUNT)[3]!,
      ],
      denied: [{ action: 's3:GetObject', resource: 'arn:aws:s3:::team-b-lake/x', resourceAccount: OTHER_ACCOUNT }],
    },
  },
  {
    name: 'Glue table of another product, ownership proof on: refused',
    port: gluePort({}),
    resourceTags: {
      buckets: { 'acme-orders': { [TAG]: 'prov' }, 'acme-lake': { [TAG]: 'prov' } },
      glueTables: { [`${ACCOUNT}/${REGION}/sales/orders`]: { [TAG]: 'sales-product' } },
    },
    expect: {
      kind: 'refused',
      diagnostic: [
        'ownership proof failed',
        'Glue table sales.orders (account 123456789012, eu-central-1) has tag dmm:data-product',
        'does not name the provider data product prov',
      ],
    },
  },

  // ---- Roles the tool must never write to ---------------------------------------------------------
  {
    name: 'admin role as consumer: OrganizationAccountAccessRole',
    consumer: { 'aws-role-name': 'OrganizationAccountAccessRole' },
    roles: [{ name: 'OrganizationAccountAccessRole' }],
    expect: { kind: 'refused', diagnostic: ['OrganizationAccountAccessRole', 'guardrails.protectedRoles'] },
  },
  {
    name: 'admin role as consumer: AWSReservedSSO_Admin_abc (by ARN)',
    consumer: {
      'aws-role-arn': `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc`,
    },
    roles: [{ name: 'AWSReservedSSO_Admin_abc', path: '/aws-reserved/sso.amazonaws.com/' }],
    expect: { kind: 'refused', diagnostic: ['AWSReservedSSO_Admin_abc', 'guardrails.protectedRoles'] },
  },
  {
    name: 'admin role with surrounding whitespace',
    consumer: { 'aws-role-name': '  OrganizationAccountAccessRole\n' },
    roles: [{ name: 'OrganizationAccountAccessRole' }],
    expect: { kind: 'refused', diagnostic: ['OrganizationAccountAccessRole', 'guardrails.protectedRoles'] },
  },
  {
    name: "the integration's own role as consumer (guardrails.protectedRoles)",
    consumer: { 'aws-role-name': 'dmm-aws-process-events' },
    roles: [{ name: 'dmm-aws-process-events' }],
    guardrails: { protectedRoles: [...defaultGuardrails(ACCOUNT).protectedRoles, 'dmm-aws-*'] },
    expect: { kind: 'refused', diagnostic: ['dmm-aws-process-events', 'guardrails.protectedRoles'] },
  },
  {
    name: 'a role in a foreign account (aws-role-arn)',
    consumer: { 'aws-role-arn': `arn:aws:iam::${OTHER_ACCOUNT}:role/${ROLE}` },
    expect: {
      kind: 'refused',
      diagnostic: [
        'custom.aws-role-arn',
        `is a role in account ${OTHER_ACCOUNT}`,
        `manages roles in account ${ACCOUNT}`,
      ],
    },
  },
  {
    name: 'a role outside the managed path',
    consumer: { 'aws-role-name': 'stray-role' },
    rolePath: '/data-consumers/',
    roles: [{ name: 'stray-role', path: '/' }],
    guardrails: { managedRolePath: '/data-consumers/' },
    expect: {
      kind: 'refused',
      diagnostic: ['stray-role', 'outside the managed path /data-consumers/', 'guardrails.managedRolePath'],
    },
  },
  {
    name: 'a role outside the managed path whose ARN claims the managed path',
    consumer: { 'aws-role-arn': `arn:aws:iam::${ACCOUNT}:role/data-consumers/stray-role` },
    rolePath: '/data-consumers/',
    roles: [{ name: 'stray-role', path: '/admin/' }],
    guardrails: { managedRolePath: '/data-consumers/' },
    expect: { kind: 'refused', diagnostic: ['stray-role', 'has path /admin/', 'guardrails.managedRolePath'] },
  },
  {
    name: 'a role without the required tag',
    consumer: { 'aws-role-name': 'untagged-role' },
    roleTags: { 'dmm-managed': 'true' },
    roles: [{ name: 'untagged-role' }],
    guardrails: { requiredRoleTag: { key: 'dmm-managed', value: 'true' } },
    expect: {
      kind: 'refused',
      diagnostic: ['untagged-role', 'lacks the tag dmm-managed', 'guardrails.requiredRoleTag'],
    },
  },
  {
    name: 'a role with the required tag but the wrong value',
    consumer: { 'aws-role-name': 'wrong-tag-role' },
    roleTags: { 'dmm-managed': 'true' },
    roles: [{ name: 'wrong-tag-role', tags: { 'dmm-managed': 'false' } }],
    guardrails: { requiredRoleTag: { key: 'dmm-managed', value: 'true' } },
    expect: { kind: 'refused', diagnostic: ['wrong-tag-role', 'dmm-managed=false', 'guardrails.requiredRoleTag'] },
  },
  {
    name: "agreement's own aws-granted-role-arn names an admin role (a revoke must not touch it)",
    agreementCustom: { 'aws-granted-role-arn': `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole` },
    port: bucketArnPort('arn:aws:s3:::acme-orders'),
    roles: [{ name: 'OrganizationAccountAccessRole' }],
    expect: { kind: 'granted', statements: [bucketGrant('acme-orders')] },
  },

  // ---- Injection characters -----------------------------------------------------------------------
  {
    name: 'JSON injection in the role name',
    consumer: { 'aws-role-name': 'role"}],"Statement":[{"Effect":"Allow","Action":"*"' },
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', wildcard] },
  },
  {
    name: 'JSON injection in the role name, without a wildcard',
    consumer: { 'aws-role-name': 'role"}],"Statement":[{"Effect":"Allow","Action":"iam:PassRole"' },
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', 'is not a valid IAM role name'] },
  },
  {
    name: 'JSON injection in a bucket ARN',
    port: bucketArnPort('arn:aws:s3:::acme-orders","arn:aws:s3:::team-b-private'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', 'names an invalid S3 bucket'] },
  },
  {
    name: 'JSON injection in a server.location prefix',
    port: serverPort('s3://acme-orders/x"],"Action":"iam:PassRole/'),
    expect: { kind: 'refused', diagnostic: ['server.location', 'backslash or quote'] },
  },
  {
    name: 'JSON injection in a Glue table name',
    port: gluePort({ 'aws-glue-table-arn': `${GLUE}:table/sales/orders"],"Action":"glue:DeleteTable` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', 'is not a valid Glue name'] },
  },
  {
    name: 'newline inside the role name',
    consumer: { 'aws-role-name': `${ROLE}\nOrganizationAccountAccessRole` },
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', notAscii] },
  },
  {
    name: 'newline inside a bucket ARN',
    port: bucketArnPort('arn:aws:s3:::acme-orders\n/secret'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', notAscii] },
  },
  {
    name: 'slash in the role name',
    consumer: { 'aws-role-name': `admin/${ROLE}` },
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', 'is not a valid IAM role name'] },
  },
  {
    name: 'server.location with s3://bucket/../other/',
    port: serverPort('s3://acme-orders/../other/'),
    expect: { kind: 'refused', diagnostic: ['server.location', 'has an empty, "." or ".." path segment'] },
  },
  {
    name: 'bucket ARN with a .. segment',
    port: {
      id: 'hostile',
      name: 'hostile',
      custom: { 'output-port-type': 's3_prefix', 'aws-s3-folder-arn': 'arn:aws:s3:::acme-orders/public/../private' },
    },
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-folder-arn', '".." path segment'] },
  },
  {
    name: 'Glue table name ..',
    port: gluePort({ 'aws-glue-table-arn': `${GLUE}:table/sales/..` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', 'is not a valid Glue name'] },
  },
  {
    name: 'an S3 access point instead of a bucket',
    port: bucketArnPort(`arn:aws:s3:${REGION}:${ACCOUNT}:accesspoint/everything`),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', 'access points'] },
  },

  // ---- Unicode look-alikes -------------------------------------------------------------------------
  {
    name: 'Cyrillic а in a bucket name',
    port: bucketArnPort('arn:aws:s3:::\u0430cme-orders'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', notAscii] },
  },
  {
    name: 'Cyrillic а in server.location',
    port: serverPort('s3://\u0430cme-orders/'),
    expect: { kind: 'refused', diagnostic: ['server.location', notAscii] },
  },
  {
    name: 'fullwidth asterisk in a bucket name',
    port: bucketArnPort('arn:aws:s3:::acme-\uff0a'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', notAscii] },
  },
  {
    name: 'fullwidth letters in the role name (ＯrganizationAccountAccessRole)',
    consumer: { 'aws-role-name': '\uff2frganizationAccountAccessRole' },
    roles: [{ name: 'OrganizationAccountAccessRole' }],
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', notAscii] },
  },
  {
    name: 'zero-width space in a Glue table name',
    port: gluePort({ 'aws-glue-table-arn': `${GLUE}:table/sales/ord\u200bers` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-glue-table-arn', notAscii] },
  },

  // ---- Enormous values -------------------------------------------------------------------------------
  {
    name: 'a 100 KB bucket name',
    port: bucketArnPort(`arn:aws:s3:::${'a'.repeat(100_000)}`),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', 'must be 3-63 characters long'] },
  },
  {
    name: '10,000 aws-…-arn custom fields naming different buckets',
    port: s3Port(
      Object.fromEntries(
        Array.from({ length: 10_000 }, (_, i) => [
          `aws-extra-${String(i).padStart(5, '0')}-arn`,
          `arn:aws:s3:::bucket-${i}`,
        ]),
      ),
    ),
    expect: {
      kind: 'refused',
      diagnostic: ['name two different resources of the same kind', 'a s3_bucket port has one'],
    },
  },
  {
    name: '10,000 unrelated custom fields beside a valid bucket: exactly the bucket',
    port: s3Port({
      ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`note-${i}`, `x`.repeat(20)])),
      'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
    }),
    consumer: {
      'aws-role-name': ROLE,
      ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`c-${i}`, 'y'])),
    },
    expect: { kind: 'granted', statements: [bucketGrant('acme-orders')] },
  },

  // ---- Missing and duplicated fields ------------------------------------------------------------------
  {
    name: 'no bucket at all on an s3_bucket port',
    port: s3Port({}),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', 'is missing'] },
  },
  {
    name: 'AWS fields but no port type at all',
    port: { id: 'hostile', name: 'hostile', custom: { 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' } },
    expect: { kind: 'refused', diagnostic: ['custom.output-port-type', 'is missing'] },
  },
  {
    name: 'unsupported port type',
    port: { id: 'hostile', name: 'hostile', custom: { 'output-port-type': 'iam_admin' } },
    expect: { kind: 'refused', diagnostic: ['custom.output-port-type', 'not a supported output port type'] },
  },
  {
    name: 'no role on the consumer',
    consumer: {},
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name is not set'] },
  },
  {
    name: 'two different aws-…-arn fields of the same kind',
    port: s3Port({
      'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders',
      'aws-s3-other-arn': 'arn:aws:s3:::team-b-private',
    }),
    expect: {
      kind: 'refused',
      diagnostic: [
        'custom.aws-s3-other-arn',
        'custom.aws-s3-bucket-arn',
        'name two different resources of the same kind',
      ],
    },
  },
  {
    name: 'two different Glue tables',
    port: gluePort({ 'aws-glue-second-table-arn': `${GLUE}:table/hr/salaries` }),
    expect: {
      kind: 'refused',
      diagnostic: ['custom.aws-glue-table-arn', 'name two different resources of the same kind'],
    },
  },
  {
    name: 'ARN field and server.location disagree',
    port: { ...bucketArnPort('arn:aws:s3:::acme-orders'), server: { type: 's3', location: 's3://team-b-private/' } },
    expect: {
      kind: 'refused',
      diagnostic: ['custom.aws-s3-bucket-arn', 'server.location', 'name different S3 locations'],
    },
  },
  {
    name: 'aws-role-name and aws-role-arn name different roles',
    consumer: { 'aws-role-name': ROLE, 'aws-role-arn': `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole` },
    roles: [{ name: 'OrganizationAccountAccessRole' }],
    expect: { kind: 'refused', diagnostic: ['custom.aws-role-name', 'name different roles'] },
  },
  {
    name: 'a well-known field holding the wrong kind (table ARN in aws-s3-bucket-arn)',
    port: s3Port({ 'aws-s3-bucket-arn': `${GLUE}:table/sales/orders` }),
    expect: { kind: 'refused', diagnostic: ['custom.aws-s3-bucket-arn', 'must be an S3 bucket or folder ARN'] },
  },
  {
    name: 'a non-string server.location',
    port: {
      id: 'hostile',
      name: 'hostile',
      type: 's3',
      server: { type: 's3', location: { $ref: 's3://team-b-private/' } },
    },
    expect: { kind: 'refused', diagnostic: ['server.location', 'must be a string'] },
  },

  // ---- Type confusion ---------------------------------------------------------------------------------
  {
    name: 's3_bucket type pointing at a folder',
    port: bucketArnPort('arn:aws:s3:::acme-orders/public'),
    expect: {
      kind: 'refused',
      diagnostic: [
        'custom.aws-s3-bucket-arn',
        'names the folder s3://acme-orders/public/',
        's3_bucket grants the whole bucket',
      ],
    },
  },
  {
    name: 's3_prefix type pointing at a whole bucket',
    port: {
      id: 'hostile',
      name: 'hostile',
      custom: { 'output-port-type': 's3_prefix' },
      server: { type: 's3', location: 's3://acme-orders/' },
    },
    expect: { kind: 'refused', diagnostic: ['server.location', 'names the whole bucket', 's3_prefix needs a prefix'] },
  },
  {
    name: 'KMS alias instead of a key ARN',
    port: bucketArnPort('arn:aws:s3:::acme-orders-2'),
    expect: { kind: 'refused', diagnostic: ['custom.aws-kms-key-arn', 'aliases cannot be used'] },
  },

  // ---- Upper bounds -----------------------------------------------------------------------------------
  {
    name: 'more statements than guardrails.maxStatementsPerAgreement',
    port: gluePort({}),
    guardrails: { maxStatementsPerAgreement: 3 },
    expect: {
      kind: 'refused',
      diagnostic: ['the grant needs 4 statements', 'guardrails.maxStatementsPerAgreement (3)'],
    },
  },
  {
    name: 'more resources than guardrails.maxResourcesPerAgreement',
    port: gluePort({}),
    guardrails: { maxResourcesPerAgreement: 4 },
    expect: { kind: 'refused', diagnostic: ['the grant names 7 resources', 'guardrails.maxResourcesPerAgreement (4)'] },
  },
  {
    name: 'more characters than guardrails.maxCharactersPerAgreement',
    port: gluePort({}),
    guardrails: { maxCharactersPerAgreement: 400 },
    expect: {
      kind: 'refused',
      diagnostic: [/the grant's statements take \d+ characters/, 'guardrails.maxCharactersPerAgreement (400)'],
    },
  },
];

// Rows whose port needs a KMS key field (kept out of the table literal for readability).
ROWS.find((r) => r.name === "another account's KMS key: refused by default")!.port = s3Port({
  'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders-2',
  'aws-kms-key-arn': `arn:aws:kms:${REGION}:${OTHER_ACCOUNT}:key/${KEY_ID}`,
});
ROWS.find((r) => r.name === 'KMS alias instead of a key ARN')!.port = s3Port({
  'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders-2',
  'aws-kms-key-arn': `arn:aws:kms:${REGION}:${ACCOUNT}:alias/orders`,
});

async function runRow(row: Row): Promise<World> {
  const world = await startWorld({
    mesh: {
      dataProducts: [
        dpsProduct('prov', {
          ports: [
            row.port ?? bucketArnPort('arn:aws:s3:::acme-orders-2'),
            {
              id: 'legit',
              name: 'legit',
              custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
            },
          ],
        }),
        dpsProduct('hostile-consumer', { custom: row.consumer ?? { 'aws-role-name': ROLE } }),
        dpsProduct('consumer', { custom: { 'aws-role-name': ROLE } }),
      ],
      agreements: [
        agreement(HOSTILE, 'prov', 'hostile', {
          consumer: 'hostile-consumer',
          active: true,
          custom: row.agreementCustom ?? {},
        }),
        agreement(OK, 'prov', 'legit', { active: true }),
      ],
    },
    roles: [],
    ...(row.athenaQueryResultsLocation ? { athenaQueryResultsLocation: row.athenaQueryResultsLocation } : {}),
  });
  await world.iam.createRole(ROLE, { path: row.rolePath ?? '/', ...(row.roleTags ? { tags: row.roleTags } : {}) });
  for (const role of row.roles ?? [])
    await world.iam.createRole(role.name, { path: role.path ?? '/', ...(role.tags ? { tags: role.tags } : {}) });
  // The product's defaults (ownership proof on), with the row's changes.
  world.ctx.guardrails = { ...defaultGuardrails(ACCOUNT), ...row.guardrails };
  // The operator named a default workgroup (there is no implicit one).
  world.ctx.resolve.defaultAthenaWorkgroup = 'primary';
  // Ownership proof is on by default: the provider tagged what it owns, unless a row says otherwise.
  world.ctx.resourceTags = new FileResourceTags(row.resourceTags ?? PROVIDER_OWNS);
  await world.sync();
  return world;
}

function accountsOf(row: Row): string | string[] {
  const allowed = row.guardrails?.allowedResourceAccounts;
  return Array.isArray(allowed) && allowed.length > 1 ? allowed : ACCOUNT;
}

async function checkRow(world: World, row: Row, path: string): Promise<void> {
  const grants = await everyGrant(world.iam);

  // The legitimate agreement is granted exactly, on analytics-consumer only.
  expect(grants.get(ROLE)?.get(OK)).toEqual([bucketGrant('acme-orders', accountsOf(row))]);
  expect(view(world, OK).custom['aws-integration-error']).toBeUndefined();

  // No role holds anything but agr-ok and (for granted rows) exactly the expected hostile grant.
  const grantedOn = row.grantedOn ?? ROLE;
  for (const [role, byAgreement] of grants) {
    const expected = new Map<string, PolicyStatement[]>();
    if (role === ROLE) expected.set(OK, [bucketGrant('acme-orders', accountsOf(row))]);
    if (row.expect.kind === 'granted' && role === grantedOn) {
      expected.set(HOSTILE, row.expect.statements);
    }
    expect(Object.fromEntries(byAgreement), `${path}: statements on role ${role}`).toEqual(
      Object.fromEntries(expected),
    );
    // Nothing outside our packs either: roles other than the consumer carry no policy at all.
    if (role !== ROLE) expect(await allPolicyText(world.iam, role), `policies on ${role}`).toEqual([]);
  }
  // Not a single write went to a role other than analytics-consumer.
  expect(new Set(world.writes.map((w) => w.roleName))).toEqual(new Set([ROLE]));

  const v = view(world, HOSTILE);
  if (row.expect.kind === 'refused') {
    const error = v.custom['aws-integration-error'];
    expect(error, 'custom.aws-integration-error').toBeDefined();
    for (const part of row.expect.diagnostic) {
      if (typeof part === 'string') expect(error).toContain(part);
      else expect(error).toMatch(part);
    }
    expect(error!.length).toBeLessThanOrEqual(2000);
    expect(v.tags).toContain('aws-integration-failed');
    expect(v.tags).not.toContain('aws-integration-active');
    expect(v.custom['aws-policy-name']).toBeUndefined();
    expect((await provisioningOf(world, HOSTILE)).body).toMatchObject({
      status: 'provisioning-failed',
      diagnostics: error,
    });
  } else {
    expect(v.custom['aws-integration-error']).toBeUndefined();
    expect(v.tags).toContain('aws-integration-active');
    expect((await provisioningOf(world, HOSTILE)).body?.status).toBe('provisioned');
    // What the metadata asked for beyond the guardrails is denied by IAM itself.
    const held = grants.get(grantedOn)?.get(HOSTILE) ?? [];
    for (const request of row.expect.denied ?? []) {
      expect(
        await evaluate(held, request),
        `${request.action} on ${request.resource} (owner ${request.resourceAccount ?? ACCOUNT})`,
      ).toBe('ImplicitlyDenied');
    }
    // ... while the same request on a bucket the managed account owns is what the grant is for.
    for (const request of row.expect.denied ?? []) {
      expect(
        await evaluate(held, {
          ...request,
          resourceAccount: ACCOUNT,
          context: request.action === 's3:ListBucket' ? { 's3:prefix': '' } : {},
        }),
      ).toBe('Allowed');
    }
  }
}

describe('hostile metadata, end to end', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const world = await runRow(row);
    await checkRow(world, row, 'event');
    // The full reconcile (dmm-aws apply, the hourly Lambda) reaches the same state and diagnostic.
    const full = await reconcileAll(world.ctx);
    const outcome = full.outcomes.find((o) => o.agreementId === HOSTILE);
    expect(outcome?.decision).toBe(row.expect.kind === 'refused' ? 'failed' : 'grant');
    await checkRow(world, row, 'full reconcile');
  });
});

describe('hostile metadata over time', () => {
  it('an agreement whose port was deleted ("unknown") loses its access and says why', async () => {
    const world = await runRow({
      name: 'port deleted',
      port: bucketArnPort('arn:aws:s3:::acme-orders-2'),
      expect: { kind: 'granted', statements: [] },
    });
    expect((await everyGrant(world.iam)).get(ROLE)?.get(HOSTILE)).toEqual([bucketGrant('acme-orders-2')]);

    // The provider removes the port: the agreement's provider.outputPortId reads "unknown".
    world.sim.putDataProduct(
      dpsProduct('prov', {
        ports: [
          {
            id: 'legit',
            name: 'legit',
            custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
          },
        ],
      }),
    );
    expect(
      (world.sim.state.agreementView(HOSTILE)?.provider as { outputPortId: string } | undefined)?.outputPortId,
    ).toBe('unknown');
    const run = await world.sync();

    const grants = await everyGrant(world.iam);
    expect(grants.get(ROLE)?.has(HOSTILE)).toBe(false);
    expect(grants.get(ROLE)?.get(OK)).toEqual([bucketGrant('acme-orders')]);
    const outcome = run.results.flatMap((r) => r.outcomes).find((o) => o.agreementId === HOSTILE);
    expect(outcome).toMatchObject({ decision: 'revoke', effect: 'revoked' });
    expect(outcome?.reason).toContain('the provider data product or its output port was deleted');
    // A PUT would send the "unknown" placeholder back over the real port id: the revoke is
    // reported through the provisioning endpoint only, and the agreement document is left alone.
    expect(outcome?.report).toMatchObject({ tagsWritten: false, tagsNotWritten: expect.stringContaining('unknown') });
    expect((world.sim.state.agreements.get(HOSTILE)!.doc.provider as { outputPortId: string }).outputPortId).not.toBe(
      'unknown',
    );
    expect((await provisioningOf(world, HOSTILE)).body?.status).toBe('deprovisioned');
  });

  it('a port edited to a wildcard after the grant: the old grant is removed, the wildcard never written', async () => {
    const world = await runRow({
      name: 'edited',
      port: bucketArnPort('arn:aws:s3:::acme-orders-2'),
      expect: { kind: 'granted', statements: [] },
    });
    expect((await everyGrant(world.iam)).get(ROLE)?.get(HOSTILE)).toEqual([bucketGrant('acme-orders-2')]);

    world.sim.putDataProduct(
      dpsProduct('prov', {
        ports: [
          bucketArnPort('arn:aws:s3:::*'),
          {
            id: 'legit',
            name: 'legit',
            custom: { 'output-port-type': 's3_bucket', 'aws-s3-bucket-arn': 'arn:aws:s3:::acme-orders' },
          },
        ],
      }),
    );
    await world.sync();

    const grants = await everyGrant(world.iam);
    expect(grants.get(ROLE)?.has(HOSTILE)).toBe(false);
    expect(grants.get(ROLE)?.get(OK)).toEqual([bucketGrant('acme-orders')]);
    for (const text of await allPolicyText(world.iam, ROLE)) expect(text).not.toContain(':::*');
    expect(view(world, HOSTILE).custom['aws-integration-error']).toMatch(/custom\.aws-s3-bucket-arn .*wildcards/);
  });

  it('a consumer edited to an admin role after the grant: the grant leaves the old role, the admin role is never written', async () => {
    const world = await runRow({
      name: 'role edited',
      port: bucketArnPort('arn:aws:s3:::acme-orders-2'),
      roles: [{ name: 'OrganizationAccountAccessRole' }],
      expect: { kind: 'granted', statements: [] },
    });
    expect((await everyGrant(world.iam)).get(ROLE)?.get(HOSTILE)).toEqual([bucketGrant('acme-orders-2')]);

    world.sim.putDataProduct(
      dpsProduct('hostile-consumer', { custom: { 'aws-role-name': 'OrganizationAccountAccessRole' } }),
    );
    await world.sync();

    const grants = await everyGrant(world.iam);
    expect(grants.get(ROLE)?.has(HOSTILE)).toBe(false);
    expect(await allPolicyText(world.iam, 'OrganizationAccountAccessRole')).toEqual([]);
    expect(world.writes.filter((w) => w.roleName !== ROLE)).toEqual([]);
    expect(view(world, HOSTILE).custom['aws-integration-error']).toMatch(
      /OrganizationAccountAccessRole is protected \(guardrails\.protectedRoles/,
    );
  });
});

/**
 * AWS looks role names up ignoring case (the local stand-in does not): GetRole("organization…")
 * answers OrganizationAccountAccessRole. This wrapper gives the core AWS's behaviour, so a
 * protected role spelled in another case is shown never to be written.
 */
function caseInsensitiveIam(iam: World['iam']): World['iam'] {
  const canonical = async (name: string): Promise<string> =>
    (await iam.listRoles()).find((r) => r.name.toLowerCase() === name.toLowerCase())?.name ?? name;
  const byRoleName = new Set([
    'getRole',
    'listInlinePolicies',
    'putInlinePolicy',
    'deleteInlinePolicy',
    'listAttachedPolicies',
    'putManagedPolicy',
    'deleteManagedPolicy',
  ]);
  return new Proxy(iam, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!byRoleName.has(String(property))) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (name: string, ...rest: unknown[]) =>
        (value as (...a: unknown[]) => unknown).call(target, await canonical(name), ...rest);
    },
  });
}

describe('hostile metadata against IAM that ignores case, as AWS does', () => {
  for (const spelling of [
    'organizationaccountaccessrole',
    'ORGANIZATIONACCOUNTACCESSROLE',
    'awsreservedsso_admin_abc',
  ]) {
    it(`aws-role-name "${spelling}" never reaches the protected role`, async () => {
      const world = await startWorld({
        mesh: {
          dataProducts: [
            dpsProduct('prov', { ports: [bucketArnPort('arn:aws:s3:::acme-orders-2')] }),
            dpsProduct('hostile-consumer', { custom: { 'aws-role-name': spelling } }),
          ],
          agreements: [agreement(HOSTILE, 'prov', 'hostile', { consumer: 'hostile-consumer', active: true })],
        },
        roles: [
          'OrganizationAccountAccessRole',
          { name: 'AWSReservedSSO_Admin_abc', path: '/aws-reserved/sso.amazonaws.com/' },
        ],
      });
      world.ctx.iam = caseInsensitiveIam(world.iam);
      expect((await world.ctx.iam.getRole(spelling))?.name).toMatch(
        /^(OrganizationAccountAccessRole|AWSReservedSSO_Admin_abc)$/,
      );
      await world.sync();

      expect(world.writes).toEqual([]);
      for (const role of await world.iam.listRoles()) expect(await allPolicyText(world.iam, role.name)).toEqual([]);
      const error = view(world, HOSTILE).custom['aws-integration-error'];
      expect(error).toContain(spelling);
      expect(error).toMatch(/does not exist in account|outside the roles this integration may manage|protected/);
    });
  }
});
