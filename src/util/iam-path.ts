import { z } from 'zod';

/**
 * The IAM path prefix of the roles this tool may manage (MANAGED_ROLE_PATH): `/`, or printable
 * ASCII beginning and ending with `/`, e.g. `/data-consumers/`. One pattern for the CLI's config,
 * the Lambda functions' environment and the guardrail settings, so all three accept the same paths.
 */
const MANAGED_ROLE_PATH_PATTERN = /^\/([\x21-\x7e]*\/)?$/;

export const managedRolePathSchema = z
  .string()
  .regex(MANAGED_ROLE_PATH_PATTERN, 'must be an IAM path that starts and ends with /, e.g. / or /data-consumers/');
