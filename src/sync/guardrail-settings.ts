import { z } from 'zod';
import { managedRolePathSchema } from '../util/iam-path.js';
import { ALWAYS_PROTECTED_ROLES, defaultGuardrails, type Guardrails } from './guardrails.js';
import { DEFAULT_OWNERSHIP_TAG_KEY, type OwnershipAllowEntry } from './ownership-proof.js';

const tagKeySchema = z
  .string()
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/u, 'must be a tag key of 1-128 letters, digits, spaces and _.:/=+@-');

/**
 * An ARN pattern: `*` and `?` are wildcards, but the service must be named, so that no entry can
 * cover "everything" by accident.
 */
const arnPatternSchema = z
  .string()
  .max(2048)
  .regex(
    /^arn:[^:*?]+:[a-z0-9-]+:[^\s]*$/,
    'must be an ARN pattern such as arn:aws:s3:::acme-orders* (the service may not be a wildcard)',
  );

const allowEntrySchema = z.union(
  [
    z.strictObject({ dataProduct: z.string().min(1), resources: z.array(arnPatternSchema).min(1) }),
    z.strictObject({ team: z.string().min(1), resources: z.array(arnPatternSchema).min(1) }),
  ],
  { error: 'must be {dataProduct, resources} or {team, resources}, with at least one ARN pattern' },
);

/**
 * The guardrails as an operator writes them (config file, environment, Terraform variables),
 * shared by the CLI and the Lambda functions so both read them the same way.
 */
export const guardrailSettingsSchema = z.strictObject({
  managedRolePath: managedRolePathSchema.optional(),
  /** `key` or `key=value`. */
  requiredRoleTag: z
    .string()
    .regex(/^[^=]{1,128}(=.{0,256})?$/, 'must be key or key=value')
    .optional(),
  /** Added to the always-protected roles; a trailing `*` matches a prefix. */
  protectedRoles: z
    .array(z.string().regex(/^[\w+=,.@*-]{1,64}$/, 'must be a role name, optionally ending in *'))
    .optional(),
  /** 12-digit account ids, or `*` for any. Default: the managed account only. */
  allowedResourceAccounts: z
    .union([z.literal('*'), z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'))])
    .optional(),
  /** `required` (default): every provider resource must be proven by tag or allow-list; `off`: no proof. */
  ownershipProof: z
    .union([z.enum(['required', 'off']), z.boolean().transform((on) => (on ? 'required' : 'off'))])
    .optional(),
  /** Default `dmm:data-product`. */
  ownershipTagKey: tagKeySchema.optional(),
  /** A second tag, naming the provider's owner team; unset: team tags prove nothing. */
  ownershipTeamTagKey: tagKeySchema.optional(),
  ownershipAllowList: z.array(allowEntrySchema).optional(),
  maxStatementsPerAgreement: z.coerce.number().int().min(1).max(100).optional(),
  maxResourcesPerAgreement: z.coerce.number().int().min(1).max(1000).optional(),
  maxCharactersPerAgreement: z.coerce.number().int().min(100).max(10_240).optional(),
});

export type GuardrailSettings = z.infer<typeof guardrailSettingsSchema>;

/** Environment variable → setting, for the CLI and the Lambda functions alike. */
export const GUARDRAIL_ENVIRONMENT = {
  DMM_REQUIRED_ROLE_TAG: 'requiredRoleTag',
  DMM_PROTECTED_ROLES: 'protectedRoles',
  DMM_ALLOWED_RESOURCE_ACCOUNTS: 'allowedResourceAccounts',
  DMM_OWNERSHIP_PROOF: 'ownershipProof',
  DMM_OWNERSHIP_TAG_KEY: 'ownershipTagKey',
  DMM_OWNERSHIP_TEAM_TAG_KEY: 'ownershipTeamTagKey',
  DMM_OWNERSHIP_ALLOW_LIST: 'ownershipAllowList',
  DMM_MAX_STATEMENTS_PER_AGREEMENT: 'maxStatementsPerAgreement',
  DMM_MAX_RESOURCES_PER_AGREEMENT: 'maxResourcesPerAgreement',
  DMM_MAX_CHARACTERS_PER_AGREEMENT: 'maxCharactersPerAgreement',
} as const satisfies Record<string, keyof GuardrailSettings>;

/**
 * Read the guardrail variables from an environment (comma-separated lists, the allow-list as
 * JSON; empty = unset). A malformed allow-list is kept as text, so the schema names the variable.
 */
export function guardrailSettingsFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(GUARDRAIL_ENVIRONMENT)) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (key === 'ownershipAllowList') {
      settings[key] = parseJsonOr(value);
      continue;
    }
    const list = key === 'protectedRoles' || (key === 'allowedResourceAccounts' && value !== '*');
    settings[key] = list
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : value;
  }
  return settings;
}

export function guardrailsFrom(accountId: string, settings: GuardrailSettings = {}): Guardrails {
  const defaults = defaultGuardrails(accountId);
  const [key, ...rest] = settings.requiredRoleTag?.split('=') ?? [];
  return {
    managedRolePath: settings.managedRolePath ?? defaults.managedRolePath,
    ...(key ? { requiredRoleTag: rest.length ? { key, value: rest.join('=') } : { key } } : {}),
    protectedRoles: [...ALWAYS_PROTECTED_ROLES, ...(settings.protectedRoles ?? [])],
    allowedResourceAccounts:
      settings.allowedResourceAccounts === '*'
        ? 'any'
        : (settings.allowedResourceAccounts ?? defaults.allowedResourceAccounts),
    ownership:
      settings.ownershipProof === 'off'
        ? { mode: 'off' }
        : {
            mode: 'required',
            productTagKey: settings.ownershipTagKey ?? DEFAULT_OWNERSHIP_TAG_KEY,
            ...(settings.ownershipTeamTagKey ? { teamTagKey: settings.ownershipTeamTagKey } : {}),
            allowList: (settings.ownershipAllowList ?? []) as OwnershipAllowEntry[],
          },
    maxStatementsPerAgreement: settings.maxStatementsPerAgreement ?? defaults.maxStatementsPerAgreement,
    maxResourcesPerAgreement: settings.maxResourcesPerAgreement ?? defaults.maxResourcesPerAgreement,
    maxCharactersPerAgreement: settings.maxCharactersPerAgreement ?? defaults.maxCharactersPerAgreement,
  };
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
