/**
 * IAM's input rules, as the AWS API applies them, for the local stand-in. The local account must
 * reject everything AWS rejects (it may be stricter, never more lenient), or code that passes
 * locally fails in production. AWS reports parameter-format violations as `ValidationError`; the
 * shared interface maps those to `InvalidInput`.
 */
import { IAM_LIMITS, IamError } from '../interfaces/iam-account.js';

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Longest `policyDocument` parameter the API accepts, before the size quotas apply. */
const POLICY_DOCUMENT_MAX_LENGTH = 131_072;
const PATH_MAX_LENGTH = 512;
const TAGS_PER_ROLE = 50;

function invalid(field: string, value: string, constraint: string): IamError {
  return new IamError(
    'InvalidInput',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

function validateName(field: string, value: string, max: number): void {
  if (value.length < 1 || value.length > max) {
    throw invalid(field, value, `Member must have length between 1 and ${max}`);
  }
  if (!NAME.test(value)) throw invalid(field, value, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
}

export function validateRoleName(name: string): void {
  validateName('roleName', name, IAM_LIMITS.roleNameMax);
}

export function validatePolicyName(name: string): void {
  validateName('policyName', name, IAM_LIMITS.policyNameMax);
}

export function validatePath(path: string): void {
  if (path.length > PATH_MAX_LENGTH || !PATH.test(path)) {
    throw invalid(
      'path',
      path,
      `Member must begin and end with '/' and contain only printable ASCII, at most ${PATH_MAX_LENGTH} characters`,
    );
  }
}

export function validateTags(tags: Record<string, string>): void {
  const keys = Object.keys(tags);
  if (keys.length > TAGS_PER_ROLE) {
    throw new IamError('LimitExceeded', `Cannot exceed quota for TagsPerRole: ${TAGS_PER_ROLE}`);
  }
  for (const key of keys) {
    const value = tags[key] ?? '';
    if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key)) {
      throw invalid('tags.member.key', key, 'Member must be 1-128 letters, digits, spaces or _.:/=+-@');
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new IamError('InvalidInput', `Tag key '${key}' uses the reserved prefix 'aws:'.`);
    }
    if (value.length > 256 || !TAG_TEXT.test(value)) {
      throw invalid('tags.member.value', value, 'Member must be at most 256 letters, digits, spaces or _.:/=+-@');
    }
  }
}

/**
 * The character set check AWS applies to the raw parameter. Run before the role lookup, like AWS,
 * because it concerns the request itself.
 */
export function validatePolicyDocumentCharacters(document: string): void {
  if (document.length < 1 || document.length > POLICY_DOCUMENT_MAX_LENGTH) {
    throw new IamError(
      'MalformedPolicyDocument',
      `Policy document must be 1 to ${POLICY_DOCUMENT_MAX_LENGTH} characters long.`,
    );
  }
  const bad = disallowedCharacter(document);
  if (bad) {
    throw new IamError(
      'MalformedPolicyDocument',
      `Policy document contains U+${bad.code} at offset ${bad.offset}; IAM accepts only tab, LF, CR and U+0020-U+00FF.`,
    );
  }
}

// ---- Policy grammar shared by identity and resource policies --------------------------------------

/** The first character AWS policy documents may not contain (only tab, LF, CR, U+0020-U+00FF). */
export function disallowedCharacter(document: string): { code: string; offset: number } | undefined {
  const bad = /[^\t\n\r\u0020-\u00FF]/.exec(document);
  return bad
    ? { code: bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0'), offset: bad.index }
    : undefined;
}

export const POLICY_DOCUMENT_KEYS: ReadonlySet<string> = new Set(['Version', 'Id', 'Statement']);
export const POLICY_STATEMENT_KEYS: ReadonlySet<string> = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
export const POLICY_VERSIONS: ReadonlySet<string> = new Set(['2012-10-17', '2008-10-17']);
const ACTION = /^([A-Za-z0-9-]+:[A-Za-z0-9*?]+|\*)$/;
/** The shape of any ARN (its parts are not checked). */
export const ARN_SHAPE = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;
const SID = /^[A-Za-z0-9]*$/;

function malformed(message: string): IamError {
  return new IamError('MalformedPolicyDocument', message);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or a non-empty array of strings, as IAM accepts for Action and Resource. */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

/**
 * The grammar of an identity policy (the one attached to a role). Messages follow AWS's wording
 * so that logs from local runs read like logs from real ones.
 */
export function validatePolicyGrammar(document: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (!isObject(parsed) || Object.keys(parsed).some((k) => !POLICY_DOCUMENT_KEYS.has(k))) {
    throw malformed('Syntax errors in policy.');
  }
  // AWS would default a missing Version to 2008-10-17, whose policy variables do not work; the
  // stand-in insists on it, which is stricter but never wrong.
  if (typeof parsed.Version !== 'string' || !POLICY_VERSIONS.has(parsed.Version)) {
    throw malformed('The policy failed legacy parsing');
  }
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
  if (parsed.Statement === undefined || statements.length === 0) throw malformed('Syntax errors in policy.');
  const sids = new Set<string>();
  for (const statement of statements) {
    if (!isObject(statement) || Object.keys(statement).some((k) => !POLICY_STATEMENT_KEYS.has(k))) {
      throw malformed('Syntax errors in policy.');
    }
    if ('Principal' in statement || 'NotPrincipal' in statement) {
      throw malformed(`Policy document should not specify a principal.`);
    }
    if (statement.Sid !== undefined) {
      if (typeof statement.Sid !== 'string' || !SID.test(statement.Sid)) {
        throw malformed(
          'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
        );
      }
      if (sids.has(statement.Sid)) throw malformed('Statement IDs (SID) in a single policy must be unique.');
      sids.add(statement.Sid);
    }
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw malformed('Syntax errors in policy.');
    validateElementPair(statement, 'Action', 'NotAction', 'Policy statement must contain actions.', (action) => {
      if (!ACTION.test(action))
        throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    });
    validateElementPair(
      statement,
      'Resource',
      'NotResource',
      'Policy statement must contain resources.',
      (resource) => {
        if (resource !== '*' && !ARN_SHAPE.test(resource))
          throw malformed(`Resource ${resource} must be in ARN format or "*".`);
      },
    );
    if (statement.Condition !== undefined) {
      if (!isObject(statement.Condition) || !Object.values(statement.Condition).every(isObject)) {
        throw malformed('Syntax errors in policy.');
      }
    }
  }
}

function validateElementPair(
  statement: Record<string, unknown>,
  name: string,
  notName: string,
  missingMessage: string,
  validateEach: (value: string) => void,
): void {
  const has = name in statement;
  const hasNot = notName in statement;
  if (!has && !hasNot) throw malformed(missingMessage);
  if (has && hasNot) throw malformed('Syntax errors in policy.');
  const values = stringList(has ? statement[name] : statement[notName]);
  if (!values) throw malformed('Syntax errors in policy.');
  values.forEach(validateEach);
}
