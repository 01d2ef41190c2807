import { z } from 'zod';
import type { Violation } from './problem.js';

/**
 * Request and fixture schemas. They check what the vendor's OpenAPI and JSON schemas mark as
 * required and keep every other field (loose objects): the simulator must hand documents back as
 * they were stored, because clients PUT them back whole.
 */

export type JsonObject = Record<string, unknown>;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date like 2025-01-31');
const nonEmpty = z.string().min(1, 'must not be empty');

const AGREEMENT_STATUSES = ['requested', 'approved', 'rejected'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];

export const agreementSchema = z.looseObject({
  id: nonEmpty,
  info: z.looseObject({
    purpose: z.string(),
    status: z.enum(AGREEMENT_STATUSES).optional(),
    active: z.boolean().optional(),
    startDate: isoDate.optional(),
    endDate: isoDate.optional(),
  }),
  provider: z.looseObject({
    dataProductId: nonEmpty,
    outputPortId: nonEmpty,
    teamId: z.string().optional(),
  }),
  consumer: z
    .looseObject({
      dataProductId: z.string().optional(),
      teamId: z.string().optional(),
      userId: z.string().optional(),
    })
    .refine((c) => Boolean(c.dataProductId || c.teamId || c.userId), {
      message: 'needs one of dataProductId, teamId or userId',
    }),
  tags: z.array(z.string()).optional(),
  custom: z.record(z.string(), z.string()).optional(),
});

const TEAM_TYPES = ['Domain', 'Team', 'Domain Team', 'Enabling Team', 'Platform Team', 'Governance Group'] as const;

export const teamSchema = z.looseObject({
  id: nonEmpty,
  name: nonEmpty,
  type: z.enum(TEAM_TYPES),
});

/** Data Product Specification 0.0.1: required fields per dataproduct-specification-0.0.1.schema.json. */
const dpsSchema = z.looseObject({
  dataProductSpecification: z.literal('0.0.1'),
  id: nonEmpty,
  info: z.looseObject({ title: z.string(), owner: nonEmpty }),
  outputPorts: z
    .array(
      z.looseObject({
        id: nonEmpty,
        name: z.string(),
        custom: z.record(z.string(), z.string()).optional(),
        server: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
  custom: z.record(z.string(), z.string()).optional(),
});

const customProperties = z.array(z.looseObject({ property: nonEmpty, value: z.unknown() })).optional();

/** ODPS (v0.9.0 and v1.0.0 per odps.schema.json, v1.1.0 as served today): required fields; ports are keyed by name + version. */
const odpsSchema = z.looseObject({
  apiVersion: z.enum(['v0.9.0', 'v1.0.0', 'v1.1.0']),
  kind: z.literal('DataProduct'),
  id: nonEmpty,
  status: z.string(),
  outputPorts: z.array(z.looseObject({ name: nonEmpty, version: z.string(), customProperties })).optional(),
  customProperties,
});

/** Picks the schema by the marker fields the vendor recommends for telling the formats apart. */
export function validateDataProduct(value: unknown): Result<JsonObject> {
  if (!isObject(value)) return { violations: [{ field: '', message: 'expected an object' }] };
  if ('dataProductSpecification' in value) return validate(dpsSchema, value);
  if ('kind' in value || 'apiVersion' in value) return validate(odpsSchema, value);
  return {
    violations: [
      {
        field: '',
        message:
          'not a data product: expected `dataProductSpecification: 0.0.1` (DPS) or `apiVersion: v1.0.0` + `kind: DataProduct` (ODPS)',
      },
    ],
  };
}

export const PROVISIONING_STATUSES = [
  'provisioning',
  'provisioned',
  'provisioning-failed',
  'deprovisioning',
  'deprovisioned',
  'deprovisioning-failed',
] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];

const nullableString = z.string().nullable().optional();
const dateTime = z.iso.datetime({ offset: true }).nullable().optional();

/** AccessProvisioningReport: every field optional on transitions; PUT additionally needs `status`. */
export const provisioningReportSchema = z.looseObject({
  status: z.enum(PROVISIONING_STATUSES).optional(),
  platform: nullableString,
  executor: nullableString,
  reference: nullableString,
  diagnostics: nullableString,
  note: nullableString,
  provisioningStartedAt: dateTime,
  provisionedAt: dateTime,
  deprovisioningStartedAt: dateTime,
  deprovisionedAt: dateTime,
  customProperties: z
    .array(z.looseObject({ property: z.string(), value: z.unknown() }))
    .nullable()
    .optional(),
  links: z.record(z.string(), z.string()).nullable().optional(),
});
export type ProvisioningReportInput = z.infer<typeof provisioningReportSchema>;

export type Result<T> = { value: T; violations?: undefined } | { value?: undefined; violations: Violation[] };

export function validate<S extends z.ZodType>(schema: S, value: unknown): Result<z.infer<S>> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { value: parsed.data };
  return {
    violations: parsed.error.issues.map((issue) => ({
      field: issue.path.join('.'),
      // zod says "Invalid input: expected string, received undefined" for a missing field.
      message: issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'required' : issue.message,
    })),
  };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
