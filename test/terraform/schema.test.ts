/**
 * `terraform validate` needs the provider, which cannot be downloaded here. Instead every resource
 * and data block of every module and example (the hub, modules/member, examples/*) is checked
 * against the AWS provider's argument schema (../shared/reference/terraform-aws-provider-6.25-
 * schema-subset.json): no unknown argument or block, every required argument given, and every
 * reference to a resource's or data source's attribute names one the schema has.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Body, MODULE_DIR, parseFile, ROOT, tfFiles } from './module.js';

const SCHEMA_FILE = join(ROOT, '..', 'shared', 'reference', 'terraform-aws-provider-6.25-schema-subset.json');
const FALLBACK_SCHEMA_FILE = '/work/shared/reference/terraform-aws-provider-6.25-schema-subset.json';

/** One argument: an attribute, a list/set/map of attributes, or a nested block (single or repeated). */
type Argument =
  | { required?: boolean; type: string }
  | { required?: boolean; collection: string; of: { type: string } | { block: Schema } }
  | { required?: boolean; block: Schema };
type Schema = Record<string, Argument> & { __computed__?: string[] };

interface ProviderSchema {
  resources: Record<string, Schema>;
  data_sources: Record<string, Schema>;
}

const META_ARGUMENTS = new Set(['count', 'for_each', 'provider', 'depends_on', 'lifecycle', 'dynamic']);

let schema: ProviderSchema;
beforeAll(() => {
  const file = existsSync(SCHEMA_FILE) ? SCHEMA_FILE : FALLBACK_SCHEMA_FILE;
  schema = JSON.parse(readFileSync(file, 'utf8')) as ProviderSchema;
});

const nestedBlock = (argument: Argument | undefined): Schema | undefined => {
  if (!argument) return undefined;
  if ('block' in argument) return argument.block;
  if ('collection' in argument && 'block' in argument.of) return argument.of.block;
  return undefined;
};

/** Problems with one block body against its schema; `where` names it in messages. */
function check(body: Body, blockSchema: Schema, where: string, topLevel: boolean): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (topLevel && META_ARGUMENTS.has(key)) continue;
    if (key === 'dynamic') {
      for (const [name, dynamics] of Object.entries(value as Record<string, Body[]>)) {
        const inner = nestedBlock(blockSchema[name]);
        if (!inner) {
          problems.push(`${where}: dynamic "${name}" is not a block of this type`);
          continue;
        }
        for (const dynamic of dynamics)
          for (const content of (dynamic.content ?? []) as Body[])
            problems.push(...check(content, inner, `${where}.${name}`, false));
      }
      continue;
    }
    const argument = blockSchema[key];
    if (!argument || key === '__computed__') {
      problems.push(`${where}: unknown argument "${key}"`);
      continue;
    }
    const inner = nestedBlock(argument);
    if (inner && Array.isArray(value))
      for (const item of value as Body[]) problems.push(...check(item, inner, `${where}.${key}`, false));
  }
  for (const [key, argument] of Object.entries(blockSchema)) {
    if (key === '__computed__' || !(argument as Argument).required) continue;
    const viaDynamic = Object.hasOwn((body.dynamic ?? {}) as object, key);
    if (!(key in body) && !viaDynamic) problems.push(`${where}: required argument "${key}" is missing`);
  }
  return problems;
}

/** `aws_x.name.attr`, `aws_x.name[...].attr`, `data.aws_x.name.attr` in every expression of a file. */
function references(json: unknown): { data: boolean; type: string; name: string; attribute: string }[] {
  const found: { data: boolean; type: string; name: string; attribute: string }[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(
        /(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])*\.([a-z_][a-z0-9_]*)/g,
      ))
        found.push({ data: m[1] !== undefined, type: m[2]!, name: m[3]!, attribute: m[4]! });
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(json);
  return found;
}

const FILES = tfFiles(MODULE_DIR, true);

describe('every resource and data block against the AWS provider 6.25 schema', () => {
  it('covers the hub, modules/member and both examples', () => {
    const dirs = new Set(FILES.map((file) => relative(MODULE_DIR, file).split('/').slice(0, -1).join('/')));
    expect([...dirs].sort()).toEqual(['', 'examples/basic', 'examples/multi-account', 'modules/member']);
  });

  it.each(FILES.map((file) => [relative(ROOT, file), file]))('%s', async (_, file) => {
    const { json } = await parseFile(file);
    const problems: string[] = [];
    for (const [kind, schemas] of [
      ['resource', schema.resources],
      ['data', schema.data_sources],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, Body[]>>)) {
        // terraform_data and other built-ins belong to Terraform itself, not to the AWS provider.
        if (!type.startsWith('aws_')) continue;
        const typeSchema = schemas[type];
        if (!typeSchema) {
          problems.push(`${kind} ${type} is not in the provider schema`);
          continue;
        }
        for (const [name, bodies] of Object.entries(byName))
          for (const body of bodies) problems.push(...check(body, typeSchema, `${kind} ${type}.${name}`, true));
      }
    }
    for (const ref of references(json)) {
      const typeSchema = (ref.data ? schema.data_sources : schema.resources)[ref.type];
      const what = `${ref.data ? 'data.' : ''}${ref.type}.${ref.name}.${ref.attribute}`;
      if (!typeSchema) problems.push(`${what}: ${ref.type} is not in the provider schema`);
      else if (!(ref.attribute in typeSchema) && !typeSchema.__computed__?.includes(ref.attribute))
        problems.push(`${what}: ${ref.type} has no attribute "${ref.attribute}"`);
    }
    expect(problems).toEqual([]);
  });

  it('finds a misspelt argument, a missing required one and a reference to an attribute that does not exist', () => {
    const role = schema.resources.aws_iam_role!;
    expect(check({ name: 'x', assume_role_polcy: '{}' }, role, 'aws_iam_role.r', true)).toEqual([
      'aws_iam_role.r: unknown argument "assume_role_polcy"',
      'aws_iam_role.r: required argument "assume_role_policy" is missing',
    ]);
    const policy = schema.data_sources.aws_iam_policy_document!;
    expect(check({ statement: [{ principals: [{ type: 'AWS' }] }] }, policy, 'd', true)).toEqual([
      'd.statement.principals: required argument "identifiers" is missing',
    ]);
    const [ref] = references({ value: '${aws_iam_role.member.role_arn}' });
    expect(ref).toEqual({ data: false, type: 'aws_iam_role', name: 'member', attribute: 'role_arn' });
    expect('role_arn' in role || role.__computed__?.includes('role_arn')).toBe(false);
  });
});
