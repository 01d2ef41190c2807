/**
 * The multi-account settings as an operator writes them (config file `multiAccount:`, the
 * DMM_MEMBER_* environment variables, Terraform variables): which accounts the hub manages, the
 * role it assumes in each, and which consumer accounts may receive data from which provider
 * accounts. Unset: the tool manages the one account of its credentials, exactly as before.
 * See docs/adr/0010-multi-account.md.
 */
import { z } from 'zod';
import { managedRolePathSchema } from '../util/iam-path.js';
import { guardrailSettingsSchema } from '../sync/guardrail-settings.js';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

/** A member with its own role guardrails; the others apply as configured for the hub. */
const memberSchema = z.union(
  [
    accountId,
    // The hub's own guardrail fields, each overriding (or, for protectedRoles, adding to) the hub's in this account.
    guardrailSettingsSchema
      .pick({ managedRolePath: true, requiredRoleTag: true, protectedRoles: true })
      .extend({ account: accountId }),
  ],
  { error: 'must be a 12-digit account id or {account, managedRolePath?, requiredRoleTag?, protectedRoles?}' },
);

/** STS's rules for an external ID (2-1224 characters of [\w+=,.@:/-]). */
export const externalIdSchema = z
  .string()
  .regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 characters of letters, digits and +=,.@:/-');

/** An AWS Organizations OU id (`ou-<root id part>-<8-32 characters>`). */
export const organizationalUnitIdSchema = z
  .string()
  .regex(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/, 'must be an AWS Organizations OU id (ou-xxxx-xxxxxxxx)');

/** The IAM role ARN the hub assumes to list an OU's accounts (in the management or a delegated administrator account). */
const roleArnSchema = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN');

/** An S3 location as `glue.athenaQueryResultsLocation` takes it. */
const s3LocationSchema = z.string().regex(/^s3:\/\/[^/]+\/.*$/, 'must look like s3://bucket/prefix/');

export const multiAccountSettingsSchema = z
  .strictObject({
    /**
     * The member accounts named one by one; the hub's own account is managed only when listed
     * here (with its own credentials). Explicit entries win over OU membership for their guardrails.
     */
    members: z.array(memberSchema).default([]),
    /**
     * AWS Organizations OUs whose ACTIVE accounts are members too, nested OUs included
     * (src/accounts/organizations.ts); listed again at most every few minutes, so an account
     * joins or leaves without a redeploy.
     */
    organizationalUnits: z.array(organizationalUnitIdSchema).default([]),
    /**
     * The role to assume for listing the OUs (in the management account or a delegated
     * administrator); unset: the hub's own credentials call Organizations.
     */
    organizationsRoleArn: roleArnSchema.optional(),
    /**
     * Per consumer account, where its roles' Athena query results go (`s3://bucket/prefix/`, a
     * bucket in that account); overrides `glue.athenaQueryResultsLocation` for roles in that account.
     */
    athenaQueryResultsLocations: z
      .record(accountId, s3LocationSchema, { error: 'must map 12-digit account ids to s3://bucket/prefix/ locations' })
      .optional(),
    /** The role each member deploys (terraform/modules/member). */
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')
      .default('dmm-aws-member'),
    rolePath: managedRolePathSchema.default('/'),
    /**
     * For the CLI; the Lambda functions read it from Secrets Manager (DMM_MEMBER_EXTERNAL_ID_SECRET_ARN).
     * Never logged.
     */
    externalId: externalIdSchema.optional(),
    /**
     * Which consumer accounts may receive data from which provider accounts, beyond the same
     * account. Unset: any member from any member.
     */
    allowedAccountPairs: z.array(z.strictObject({ consumer: accountId, provider: accountId })).optional(),
  })
  .refine((s) => s.members.length > 0 || s.organizationalUnits.length > 0, {
    message: 'must list at least one member account or organizational unit',
    path: ['members'],
  });

export type MultiAccountSettings = z.infer<typeof multiAccountSettingsSchema>;
export type MemberSetting = MultiAccountSettings['members'][number];

export interface MemberGuardrailSettings {
  managedRolePath?: string;
  requiredRoleTag?: string;
  protectedRoles?: string[];
}

/** A member's account id and its own guardrail settings. */
export function memberOf(member: MemberSetting): { account: string; guardrails: MemberGuardrailSettings } {
  if (typeof member === 'string') return { account: member, guardrails: {} };
  const { account, ...guardrails } = member;
  return { account, guardrails };
}

/** Environment variable → what it sets, for the CLI and the Lambda functions alike. */
export const MULTI_ACCOUNT_ENVIRONMENT = {
  DMM_MEMBER_ACCOUNTS: 'members',
  DMM_MEMBER_ROLE_NAME: 'roleName',
  DMM_MEMBER_ROLE_PATH: 'rolePath',
  DMM_ALLOWED_ACCOUNT_PAIRS: 'allowedAccountPairs',
  DMM_MEMBER_ORGANIZATIONAL_UNITS: 'organizationalUnits',
  DMM_ORGANIZATIONS_ROLE_ARN: 'organizationsRoleArn',
  DMM_ATHENA_RESULTS_LOCATIONS: 'athenaQueryResultsLocations',
} as const;

/**
 * The settings the environment gives (`DMM_MEMBER_ACCOUNTS=111111111111,222222222222`,
 * `DMM_MEMBER_ORGANIZATIONAL_UNITS=ou-ab12-cdef3456`, `DMM_ALLOWED_ACCOUNT_PAIRS=111111111111:222222222222`
 * as consumer:provider), empty when nothing is set. Values are left as text where malformed, so the schema names them.
 */
export function multiAccountSettingsFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const list = (value: string) =>
    value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  const members = env.DMM_MEMBER_ACCOUNTS?.trim();
  // A JSON array carries members with their own guardrails (Terraform's jsonencode); a list, ids.
  if (members) settings['members'] = members.startsWith('[') ? parseJsonOr(members) : list(members);
  const roleName = env.DMM_MEMBER_ROLE_NAME?.trim();
  if (roleName) settings['roleName'] = roleName;
  const rolePath = env.DMM_MEMBER_ROLE_PATH?.trim();
  if (rolePath) settings['rolePath'] = rolePath;
  const units = env.DMM_MEMBER_ORGANIZATIONAL_UNITS?.trim();
  if (units) settings['organizationalUnits'] = list(units);
  const organizationsRole = env.DMM_ORGANIZATIONS_ROLE_ARN?.trim();
  if (organizationsRole) settings['organizationsRoleArn'] = organizationsRole;
  // A JSON object {"<account>": "s3://bucket/prefix/"} (Terraform's jsonencode of a map).
  const locations = env.DMM_ATHENA_RESULTS_LOCATIONS?.trim();
  if (locations) settings['athenaQueryResultsLocations'] = parseJsonOr(locations);
  const pairs = env.DMM_ALLOWED_ACCOUNT_PAIRS?.trim();
  if (pairs) {
    settings['allowedAccountPairs'] = list(pairs).map((pair) => {
      const [consumer, provider, ...rest] = pair.split(':');
      return rest.length === 0 && provider !== undefined ? { consumer, provider } : pair;
    });
  }
  return settings;
}

/** The ARN of the role the hub assumes in `account`. */
export function memberRoleArn(
  settings: Pick<MultiAccountSettings, 'roleName' | 'rolePath'>,
  account: string,
  partition = 'aws',
): string {
  return `arn:${partition}:iam::${account}:role${settings.rolePath}${settings.roleName}`;
}

/** The session name that identifies the hub in every member's CloudTrail. */
export function sessionNameOf(hubAccount: string): string {
  return `dmm-aws-${hubAccount}`;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Whether the environment makes the tool a hub (member accounts or OUs named): else one account. */
export function namesMembers(env: Record<string, string | undefined>): boolean {
  return !!(env.DMM_MEMBER_ACCOUNTS?.trim() || env.DMM_MEMBER_ORGANIZATIONAL_UNITS?.trim());
}
