import { z } from 'zod';
import { managedRolePathSchema } from '../util/iam-path.js';
import { ALWAYS_PROTECTED_ROLES, defaultGuardrails, type Guardrails } from './guardrails.js';

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
  ownershipTagKey: z.string().min(1).max(128).optional(),
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
  DMM_OWNERSHIP_TAG_KEY: 'ownershipTagKey',
  DMM_MAX_STATEMENTS_PER_AGREEMENT: 'maxStatementsPerAgreement',
  DMM_MAX_RESOURCES_PER_AGREEMENT: 'maxResourcesPerAgreement',
  DMM_MAX_CHARACTERS_PER_AGREEMENT: 'maxCharactersPerAgreement',
} as const satisfies Record<string, keyof GuardrailSettings>;

/** Read the guardrail variables from an environment (comma-separated lists; empty = unset). */
export function guardrailSettingsFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(GUARDRAIL_ENVIRONMENT)) {
    const value = env[name]?.trim();
    if (!value) continue;
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
    ...(settings.ownershipTagKey ? { ownershipTagKey: settings.ownershipTagKey } : {}),
    maxStatementsPerAgreement: settings.maxStatementsPerAgreement ?? defaults.maxStatementsPerAgreement,
    maxResourcesPerAgreement: settings.maxResourcesPerAgreement ?? defaults.maxResourcesPerAgreement,
    maxCharactersPerAgreement: settings.maxCharactersPerAgreement ?? defaults.maxCharactersPerAgreement,
  };
}
