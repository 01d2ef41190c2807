/**
 * Offline reading of the Terraform module in terraform/: every .tf file parsed with
 * @cdktf/hcl2json (no providers, no `terraform init`), merged into one view, plus a small
 * renderer that substitutes known values into `${...}` expressions and an IAM policy evaluator,
 * so that the tests can ask "may this role do X on Y?" instead of comparing strings. The locals of
 * terraform/guardrails.tf, which depend on variables only, are evaluated by `terraform console`
 * (no providers needed) for any set of variables, and feed `dynamic` blocks and expressions.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MODULE_DIR = join(ROOT, 'terraform');

/** A block body as hcl2json renders it: attributes as values, nested blocks as arrays of bodies. */
// biome-ignore lint/suspicious/noExplicitAny: hcl2json output is untyped JSON, narrowed where it is read
export type Body = Record<string, any>;

export interface ParsedFile {
  /** Relative to the repository root. */
  path: string;
  json: Body;
}

/** Every `.tf` file under `dir`, recursively when asked (examples are modules of their own). */
export function tfFiles(dir: string, recursive: boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive && entry.name !== '.terraform') found.push(...tfFiles(full, true));
    } else if (entry.name.endsWith('.tf')) {
      found.push(full);
    }
  }
  return found.sort();
}

export async function parseFile(file: string): Promise<ParsedFile> {
  return { path: relative(ROOT, file), json: await parse(file, readFileSync(file, 'utf8')) };
}

export interface TfModule {
  files: ParsedFile[];
  /** `type.name` → body; a resource with for_each as its instances, `type.name["key"]`. */
  resources: Map<string, Body>;
  /** `type.name` → body; with for_each as its instances, `type.name["key"]`. */
  data: Map<string, Body>;
  variables: Map<string, Body>;
  outputs: Map<string, Body>;
  modules: Map<string, Body>;
  locals: Body;
}

/** One module: the .tf files directly in `dir`. Throws on a duplicate name, as Terraform would. */
export async function loadModule(dir: string = MODULE_DIR): Promise<TfModule> {
  const files = await Promise.all(tfFiles(dir, false).map(parseFile));
  const mod: TfModule = {
    files,
    resources: new Map(),
    data: new Map(),
    variables: new Map(),
    outputs: new Map(),
    modules: new Map(),
    locals: {},
  };
  const add = (into: Map<string, Body>, key: string, body: Body, file: string) => {
    if (into.has(key)) throw new Error(`${key} is declared twice (again in ${file})`);
    into.set(key, body);
  };
  // Resources and data sources wait for the locals: a for_each over a local is expanded into its
  // instances, so the locals must be known first.
  const declared: [Map<string, Body>, string, Body, string][] = [];
  for (const { path, json } of files) {
    for (const [kind, into] of [
      ['resource', mod.resources],
      ['data', mod.data],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, Body[]>>)) {
        for (const [name, bodies] of Object.entries(byName))
          declared.push([into, `${type}.${name}`, single(bodies, `${kind} ${type}.${name}`), path]);
      }
    }
    for (const [kind, into] of [
      ['variable', mod.variables],
      ['output', mod.outputs],
      ['module', mod.modules],
    ] as const) {
      for (const [name, bodies] of Object.entries((json[kind] ?? {}) as Record<string, Body[]>))
        add(into, name, single(bodies, `${kind} ${name}`), path);
    }
    for (const block of (json.locals ?? []) as Body[]) {
      for (const [name, value] of Object.entries(block)) {
        if (name in mod.locals) throw new Error(`local.${name} is declared twice (again in ${path})`);
        mod.locals[name] = value;
      }
    }
  }
  for (const [into, address, body, path] of declared) {
    if (!('for_each' in body)) {
      add(into, address, body, path);
      continue;
    }
    for (const [key, value] of Object.entries(forEachOf(mod, body.for_each, address)))
      add(into, instanceAddress(address, key), instantiate(body, key, value, address), path);
  }
  return mod;
}

/** `type.name["key"]`: the address of one instance of a resource with for_each. */
export function instanceAddress(address: string, key: string): string {
  return `${address}[${JSON.stringify(key)}]`;
}

/** The keys and values of a `for_each`: a literal map in locals, or `toset([...])` of strings. */
function forEachOf(mod: TfModule, forEach: unknown, what: string): Record<string, unknown> {
  const expression = wholeReference(forEach);
  const local = /^local\.(\w+)$/.exec(expression ?? '')?.[1];
  if (local !== undefined) {
    const value: unknown = mod.locals[local];
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`${what}: for_each local.${local} is not a literal map in locals`);
    return value as Record<string, unknown>;
  }
  const set = /^toset\((\[[^\]]*\])\)$/.exec(expression ?? '')?.[1];
  if (set !== undefined) {
    const keys = JSON.parse(set.replace(/,\s*\]$/, ']')) as unknown;
    if (Array.isArray(keys) && keys.every((key) => typeof key === 'string'))
      return Object.fromEntries(keys.map((key) => [key, key]));
  }
  throw new Error(
    `${what}: for_each ${JSON.stringify(forEach)} is not understood by the tests (a local map or toset([...]) of strings)`,
  );
}

/**
 * One instance of a for_each body, as Terraform evaluates `each`: `${each.value.x}` as a whole
 * attribute takes the value itself (null leaves the attribute unset), inside a template its text;
 * `each.key` becomes the quoted key. Anything else about `each` throws.
 */
function instantiate(body: Body, key: string, value: unknown, what: string): Body {
  const attribute = (name: string): unknown => {
    if (!value || typeof value !== 'object' || !(name in value))
      throw new Error(`${what}["${key}"]: each.value.${name} is not in the for_each map`);
    return (value as Record<string, unknown>)[name];
  };
  const substitute = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(substitute);
    if (item && typeof item === 'object') {
      const entries = Object.entries(item as Body)
        .filter(([name]) => name !== 'for_each')
        .map(([name, inner]): [string, unknown] => [name, substitute(inner)]);
      return Object.fromEntries(entries.filter(([, inner]) => inner !== null));
    }
    if (typeof item !== 'string') return item;
    const whole = /^\$\{each\.value\.(\w+)\}$/.exec(item)?.[1];
    if (whole !== undefined) return attribute(whole);
    const text = item.replace(/\$\{each\.value\.(\w+)\}/g, (_, name: string) => {
      const inner = attribute(name);
      if (typeof inner !== 'string' && typeof inner !== 'number')
        throw new Error(`${what}["${key}"]: each.value.${name} is not text inside a template`);
      return String(inner);
    });
    if (/\beach\.value\b/.test(text))
      throw new Error(`${what}["${key}"]: ${text} uses each.value in a way the tests do not understand`);
    return text.replace(/\beach\.key\b/g, JSON.stringify(key)).replace(/\$\{"([^"{}$]*)"\}/g, '$1');
  };
  return substitute(body) as Body;
}

function single(bodies: Body[], what: string): Body {
  if (bodies.length !== 1 || !bodies[0]) throw new Error(`${what}: expected one block, found ${bodies.length}`);
  return bodies[0];
}

export function resource(mod: TfModule, address: string): Body {
  const body = mod.resources.get(address) ?? mod.data.get(address.replace(/^data\./, ''));
  if (!body) throw new Error(`${address} is not declared in terraform/`);
  return body;
}

export function resourcesOfType(mod: TfModule, type: string): [string, Body][] {
  return [...mod.resources.entries()]
    .filter(([address]) => address.startsWith(`${type}.`))
    .map(([address, body]) => [address.slice(type.length + 1), body]);
}

/** The reference of a value that is one whole interpolation, e.g. "${aws_iam_role.x.id}" → "aws_iam_role.x.id". */
export function wholeReference(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\$\{([^{}]+)\}$/.exec(value);
  return match?.[1]?.trim();
}

/** Keys of a function's `environment.variables`: a literal map, `local.x`, or `merge(local.a, local.b, ...)` of literal maps. */
export function environmentOf(mod: TfModule, lambda: Body): Record<string, unknown> {
  const variables: unknown = lambda.environment?.[0]?.variables;
  if (variables && typeof variables === 'object' && !Array.isArray(variables))
    return variables as Record<string, unknown>;
  const expression = wholeReference(variables);
  if (!expression)
    throw new Error(
      `environment.variables must be a map, local.x or merge(local.a, ...); found ${JSON.stringify(variables)}`,
    );
  const names = /^merge\((.*)\)$/
    .exec(expression)?.[1]
    ?.split(',')
    .map((part) => part.trim()) ?? [expression];
  const merged: Record<string, unknown> = {};
  for (const name of names) {
    const local = /^local\.(\w+)$/.exec(name)?.[1];
    const value: unknown = local === undefined ? undefined : mod.locals[local];
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new Error(`environment part ${name} is not a literal map in locals`);
    Object.assign(merged, value);
  }
  return merged;
}

// ---- Rendering expressions with known values ----------------------------------------------------

export type Rendered = string | string[];

/**
 * Substitutes `${...}` in a string: `var.x` from `vars` (or the variable's default), `local.x`
 * recursively from locals, anything else from `fixtures`. Unknown expressions throw, so a change in
 * the module that the tests do not understand fails loudly instead of passing silently.
 */
export function render(
  mod: TfModule,
  value: unknown,
  fixtures: Record<string, Rendered>,
  vars: Record<string, unknown> = {},
): Rendered {
  if (Array.isArray(value)) return value.flatMap((item) => render(mod, item, fixtures, vars));
  if (typeof value !== 'string') throw new Error(`cannot render ${JSON.stringify(value)}`);
  const whole = wholeReference(value);
  if (whole !== undefined) return resolveExpression(mod, whole, fixtures, vars);
  return value.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => {
    const resolved = resolveExpression(mod, expression.trim(), fixtures, vars);
    if (Array.isArray(resolved)) throw new Error(`\${${expression}} is a list inside a string`);
    return resolved;
  });
}

function resolveExpression(
  mod: TfModule,
  expression: string,
  fixtures: Record<string, Rendered>,
  vars: Record<string, unknown>,
): Rendered {
  const fixture = fixtures[expression];
  if (fixture !== undefined) return fixture;
  const variable = /^var\.(\w+)$/.exec(expression)?.[1];
  if (variable !== undefined) {
    const declared = mod.variables.get(variable);
    if (!declared) throw new Error(`var.${variable} is not declared`);
    const value = variable in vars ? vars[variable] : declared.default;
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new Error(`var.${variable} has no usable value for rendering: ${JSON.stringify(value)}`);
    return String(value);
  }
  const local = /^local\.(\w+)$/.exec(expression)?.[1];
  if (local !== undefined) {
    if (!(local in mod.locals)) throw new Error(`local.${local} is not declared`);
    return render(mod, mod.locals[local], fixtures, vars);
  }
  throw new Error(
    `the test does not know the value of \${${expression}}; add it to the fixtures if the change is intended`,
  );
}

// ---- IAM policy documents and their evaluation ------------------------------------------------------

export interface Condition {
  test: string;
  variable: string;
  values: string[];
}

export interface Statement {
  /** Where it comes from, for messages: data.aws_iam_policy_document.<name>#<sid>. */
  origin: string;
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  conditions: Condition[];
  /** Attributes that would make a statement open-ended: must stay empty. */
  negated: string[];
  hasPrincipals: boolean;
}

/** Values of expressions `terraform console` evaluated, keyed by expression, e.g. `local.x`. */
export type Evaluated = Record<string, unknown>;

/**
 * The statements of `data.aws_iam_policy_document.<name>`, rendered with the fixtures. `dynamic`
 * blocks are expanded when their `for_each` is a value in `evaluated` (or the iterator of an
 * enclosing dynamic block), and their content refers to `<iterator>.value.<attribute>`.
 */
export function policyStatements(
  mod: TfModule,
  name: string,
  fixtures: Record<string, Rendered>,
  vars: Record<string, unknown> = {},
  evaluated: Evaluated = {},
): Statement[] {
  const document = resource(mod, `data.aws_iam_policy_document.${name}`);
  const extra = Object.keys(document).filter((key) => key !== 'statement' && key !== 'dynamic');
  if (extra.length)
    throw new Error(`policy ${name} uses ${extra.join(', ')}: the tests only understand statement blocks`);
  const base: Record<string, Rendered> = { ...renderableValues(evaluated), ...fixtures };
  // Each statement body with what its expressions may refer to: fixtures, and the iterator of the
  // dynamic block it came from (for a nested dynamic "condition").
  const bodies: [Body, Record<string, Rendered>, Record<string, unknown>][] = (
    (document.statement ?? []) as Body[]
  ).map((body) => [body, base, {}]);
  for (const [block, body] of dynamicBlocks(document, `policy ${name}`)) {
    if (block !== 'statement') throw new Error(`policy ${name}: dynamic "${block}" is not understood by the tests`);
    const content = single(body.content as Body[], `policy ${name} dynamic statement content`);
    for (const element of forEachValues(body, evaluated, {}, `policy ${name}`)) {
      bodies.push([content, { ...base, ...iteratorFixtures('statement', element) }, { statement: element }]);
    }
  }
  return bodies.map(([statement, scopeFixtures, scope]) => {
    const effect = render(mod, statement.effect ?? 'Allow', scopeFixtures, vars);
    if (effect !== 'Allow' && effect !== 'Deny') throw new Error(`policy ${name}: effect ${String(effect)}`);
    const list = (value: unknown): string[] =>
      value === undefined ? [] : ([] as string[]).concat(render(mod, value, scopeFixtures, vars));
    const conditionBodies: [Body, Record<string, Rendered>][] = ((statement.condition ?? []) as Body[]).map((body) => [
      body,
      scopeFixtures,
    ]);
    for (const [block, body] of dynamicBlocks(statement, `policy ${name}`)) {
      if (block !== 'condition')
        throw new Error(`policy ${name}: dynamic "${block}" inside a statement is not understood by the tests`);
      for (const element of forEachValues(body, evaluated, scope, `policy ${name}`)) {
        conditionBodies.push([
          single(body.content as Body[], `policy ${name} dynamic condition content`),
          { ...scopeFixtures, ...iteratorFixtures('condition', element) },
        ]);
      }
    }
    const sid = statement.sid === undefined ? undefined : render(mod, statement.sid, scopeFixtures, vars);
    return {
      origin: `data.aws_iam_policy_document.${name}#${typeof sid === 'string' ? sid : '(no sid)'}`,
      ...(typeof sid === 'string' ? { sid } : {}),
      effect,
      actions: list(statement.actions),
      resources: list(statement.resources),
      conditions: conditionBodies.map(([condition, conditionFixtures]) => ({
        test: render(mod, condition.test, conditionFixtures, vars) as string,
        variable: render(mod, condition.variable, conditionFixtures, vars) as string,
        values: ([] as string[]).concat(render(mod, condition.values, conditionFixtures, vars)),
      })),
      negated: ['not_actions', 'not_resources', 'not_principals'].filter((key) => key in statement),
      hasPrincipals: 'principals' in statement,
    };
  });
}

function dynamicBlocks(body: Body, what: string): [string, Body][] {
  const dynamic = body.dynamic as Record<string, Body[]> | undefined;
  if (!dynamic) return [];
  return Object.entries(dynamic).flatMap(([block, bodies]) =>
    bodies.map((inner): [string, Body] => {
      if ('iterator' in inner || 'labels' in inner)
        throw new Error(`${what}: dynamic "${block}" with iterator/labels is not understood by the tests`);
      return [block, inner];
    }),
  );
}

/** A dynamic block's `for_each`: a list from `evaluated`, or an attribute of an enclosing iterator. */
function forEachValues(body: Body, evaluated: Evaluated, scope: Record<string, unknown>, what: string): unknown[] {
  const expression = wholeReference(body.for_each);
  if (expression === undefined)
    throw new Error(`${what}: for_each must be one reference, found ${JSON.stringify(body.for_each)}`);
  const value = lookup(expression, evaluated, scope);
  if (!Array.isArray(value))
    throw new Error(`${what}: for_each ${expression} is not a list the tests know (evaluate it with terraformLocals)`);
  return value;
}

function lookup(expression: string, evaluated: Evaluated, scope: Record<string, unknown>): unknown {
  if (expression in evaluated) return evaluated[expression];
  const [iterator, value, ...path] = expression.split('.');
  if (iterator === undefined || value !== 'value' || !(iterator in scope)) return undefined;
  return path.reduce<unknown>(
    (at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
    scope[iterator],
  );
}

/** `<iterator>.value.<attribute>` for every attribute of an element that renders as text. */
function iteratorFixtures(iterator: string, element: unknown): Record<string, Rendered> {
  if (!element || typeof element !== 'object' || Array.isArray(element))
    throw new Error(`dynamic ${iterator}: elements must be objects, found ${JSON.stringify(element)}`);
  return renderableValues(
    Object.fromEntries(Object.entries(element).map(([key, value]) => [`${iterator}.value.${key}`, value])),
  );
}

function renderableValues(values: Evaluated): Record<string, Rendered> {
  const renderable: Record<string, Rendered> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')))
      renderable[key] = value as Rendered;
  }
  return renderable;
}

/** role resource name (`this["poll_feed"]` for an instance) → the names of the policy documents attached to it as inline policies. */
export function rolePolicies(mod: TfModule): Map<string, string[]> {
  const byRole = new Map<string, string[]>();
  for (const [name] of resourcesOfType(mod, 'aws_iam_role')) byRole.set(name, []);
  for (const [name, body] of resourcesOfType(mod, 'aws_iam_role_policy')) {
    const role = /^aws_iam_role\.(\w+(?:\["[\w-]+"\])?)\.(id|name)$/.exec(wholeReference(body.role) ?? '')?.[1];
    const document = /^data\.aws_iam_policy_document\.(\w+(?:\["[\w-]+"\])?)\.json$/.exec(
      wholeReference(body.policy) ?? '',
    )?.[1];
    if (!role || !document)
      throw new Error(
        `aws_iam_role_policy.${name} must take role = aws_iam_role.<x>.id and policy = data.aws_iam_policy_document.<y>.json`,
      );
    const list = byRole.get(role);
    if (!list) throw new Error(`aws_iam_role_policy.${name} names an undeclared role ${role}`);
    list.push(document);
  }
  return byRole;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Request {
  action: string;
  resource: string;
  /** A multi-valued key (aws:ResourceOrgPaths) as a list. */
  context?: Record<string, string | readonly string[]>;
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function conditionHolds(condition: Condition, context: Record<string, string | readonly string[]>): boolean {
  // Condition key names are case-insensitive in IAM (aws:ResourceTag/Owner = aws:resourcetag/owner).
  const key = Object.keys(context).find((name) => name.toLowerCase() === condition.variable.toLowerCase());
  const given = key === undefined ? undefined : context[key];
  if (condition.test === 'Null') {
    // "Null": ["false"] holds when the key is present, ["true"] when it is absent.
    return condition.values.some((value) => (value.toLowerCase() === 'true') === (given === undefined));
  }
  if (given === undefined) return false;
  if (condition.test === 'ForAnyValue:StringLike') {
    // Any value of a multi-valued key matching any pattern (an absent key: no value, so false).
    const values = typeof given === 'string' ? [given] : given;
    return values.some((v) => condition.values.some((pattern) => wildcardMatch(pattern, v)));
  }
  if (typeof given !== 'string')
    throw new Error(`${condition.variable} is multi-valued: ${condition.test} needs a set operator`);
  const actual = given;
  switch (condition.test) {
    case 'ArnLike':
    case 'StringLike':
      return condition.values.some((value) => wildcardMatch(value, actual));
    case 'ArnEquals':
    case 'StringEquals':
      return condition.values.includes(actual);
    case 'Bool':
      return condition.values.some((value) => value.toLowerCase() === actual.toLowerCase());
    default:
      throw new Error(`condition operator ${condition.test} is not understood by the test evaluator`);
  }
}

function applies(statement: Statement, request: Request): boolean {
  if (statement.negated.length) throw new Error(`${statement.origin} uses ${statement.negated.join(', ')}`);
  return (
    statement.actions.some((action) => wildcardMatch(action, request.action, true)) &&
    statement.resources.some((resourcePattern) => wildcardMatch(resourcePattern, request.resource)) &&
    statement.conditions.every((condition) => conditionHolds(condition, request.context ?? {}))
  );
}

/** Identity-policy evaluation within one account: an explicit Deny wins, then any Allow. */
export function evaluate(statements: Statement[], request: Request): Decision {
  const matching = statements.filter((statement) => applies(statement, request));
  if (matching.some((statement) => statement.effect === 'Deny')) return 'ExplicitlyDenied';
  return matching.some((statement) => statement.effect === 'Allow') ? 'Allowed' : 'ImplicitlyDenied';
}

/** Every action an Allow statement grants. */
export function allowedActions(statements: Statement[]): Set<string> {
  return new Set(
    statements.filter((statement) => statement.effect === 'Allow').flatMap((statement) => statement.actions),
  );
}

// ---- terraform console: the locals that depend on variables only ----------------------------------

/** The module file whose locals depend on variables only, and the locals it may use from main.tf. */
export const VARIABLE_ONLY_FILE = 'guardrails.tf';

/** The terraform binary on PATH, or '' where there is none. */
export function terraformBinary(): string {
  const which = spawnSync('which', ['terraform'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : '';
}

/** Every guardrail variable of terraform/variables.tf set to a valid value. */
export const ALL_GUARDRAIL_VARIABLES = {
  required_role_tag: { key: 'dmm-aws:managed', value: 'true' },
  protected_role_names: ['break-glass', 'platform-*'],
  allowed_resource_account_ids: ['111122223333', '444455556666'],
  ownership_proof: 'required',
  ownership_tag_key: 'dmm:product',
  ownership_team_tag_key: 'dmm:team',
  ownership_allow_list: [
    { data_product: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*'] },
    { team: 'sales', resources: ['arn:aws:glue:*:111122223333:table/sales/*', 'arn:aws:kms:*:111122223333:key/*'] },
  ],
  max_statements_per_agreement: 8,
  max_resources_per_agreement: 20,
  max_characters_per_agreement: 3000,
};

export interface TerraformStubs {
  account_id: string;
  partition: string;
}

/**
 * Every local of terraform/guardrails.tf, as `terraform console` evaluates it with these variables
 * (JSON-encodable values, as in a .tfvars.json), next to variables.tf and stand-ins for the locals
 * of main.tf it uses (the account and partition, which come from data sources; function_names is
 * copied from main.tf). A variable that fails its validation throws with Terraform's message.
 */
export function terraformLocals(mod: TfModule, vars: Record<string, unknown>, stubs: TerraformStubs): Evaluated {
  const file = mod.files.find((f) => f.path === join('terraform', VARIABLE_ONLY_FILE));
  if (!file) throw new Error(`terraform/${VARIABLE_ONLY_FILE} is missing`);
  const names = ((file.json.locals ?? []) as Body[]).flatMap((block) => Object.keys(block));
  const values = terraformConsole(
    mod,
    `{ ${names.map((name) => `${name} = local.${name}`).join(', ')} }`,
    vars,
    stubs,
  ) as Record<string, unknown>;
  return Object.fromEntries(names.map((name) => [`local.${name}`, values[name]]));
}

/**
 * One expression that depends on variables (and the locals of terraform/guardrails.tf) only, e.g.
 * a value of an environment map in main.tf as hcl2json gives it (`${...}` or a plain expression),
 * as `terraform console` evaluates it with these variables. Validation failures throw as above.
 */
export function terraformExpression(
  mod: TfModule,
  expression: string,
  vars: Record<string, unknown>,
  stubs: TerraformStubs,
): unknown {
  const inner = wholeReference(expression) ?? expression;
  return (terraformConsole(mod, `{ value = ${inner} }`, vars, stubs) as { value: unknown }).value;
}

/** `jsonencode(<objectExpression>)` in `terraform console` next to variables.tf, guardrails.tf and the stubs. */
function terraformConsole(
  mod: TfModule,
  objectExpression: string,
  vars: Record<string, unknown>,
  stubs: TerraformStubs,
): unknown {
  const binary = terraformBinary();
  if (binary === '')
    throw new Error(
      'terraform is not on PATH: test/terraform evaluates terraform/guardrails.tf with `terraform console` (no providers needed); install terraform >= 1.5',
    );
  const functionNames = mod.locals.function_names as Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'dmm-aws-tf-'));
  try {
    for (const name of ['variables.tf', VARIABLE_ONLY_FILE]) copyFileSync(join(MODULE_DIR, name), join(dir, name));
    // JSON strings are valid HCL strings; "${var.name_prefix}-..." stays a template.
    const hclMap = (map: Record<string, string>) =>
      `{ ${Object.entries(map)
        .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
        .join(', ')} }`;
    writeFileSync(
      join(dir, 'stubs.tf'),
      `locals {\n  account_id = ${JSON.stringify(stubs.account_id)}\n  partition = ${JSON.stringify(stubs.partition)}\n  function_names = ${hclMap(functionNames)}\n}\n`,
    );
    writeFileSync(join(dir, 'test.tfvars.json'), JSON.stringify(vars));
    const run = spawnSync(binary, ['console', '-var-file=test.tfvars.json'], {
      cwd: dir,
      input: `jsonencode(${objectExpression})\n`,
      encoding: 'utf8',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', NO_COLOR: '1' },
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours terraform prints
    const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
    // A variable's failed validation does not always set the exit status: when only the expression
    // (no local) refers to it, console prints the error, a warning, and the value anyway.
    if (run.status !== 0 || /^│? *Error: /m.test(plain(run.stderr)))
      throw new Error(`terraform console failed for ${JSON.stringify(vars)}:\n${plain(run.stderr)}`);
    const printed = plain(run.stdout).trim().split('\n').at(-1) ?? '';
    return JSON.parse(JSON.parse(printed) as string) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
