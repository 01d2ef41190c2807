import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { parse } from 'yaml';
import { DPS_SCHEMA, ODPS_SCHEMA, SPEC_2026_07, referenceFile } from './reference.js';

/**
 * Checks recorded HTTP exchanges against a vendor OpenAPI document with Ajv: the operation is
 * found by method and path, then the query parameters, the request body, the status, the
 * content type and the response body are validated against what that operation declares.
 */

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  (addFormatsModule as unknown as FormatsPlugin);

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is walked without a type per node
type Node = any;

/** One request the client sent and the answer it got, as recorded on the wire. */
export interface Exchange {
  method: string;
  url: string;
  requestContentType?: string;
  /** The request body as sent (text), absent when there was none. */
  requestBody?: string;
  status: number;
  responseContentType?: string;
  responseBody: string;
}

/** A way the exchange departs from the document, readable on its own in a failing test. */
export interface Finding {
  /** `getAccess (GET /api/access/{id}) → 200`, or `GET /api/x` when no operation matched. */
  operation: string;
  message: string;
}

export interface ExchangeReport {
  /** Departures of the request: query parameters and body. */
  request: Finding[];
  /** Departures of the response: status, content type, body. */
  response: Finding[];
  /** Set when no operation in the document has this method and path (and the server said 404). */
  undocumented?: string;
}

/**
 * Where the vendor documents contradict themselves, so that a literal reading refuses the
 * vendor's own examples. Each is patched before validation, for the reason given; a patch whose
 * target is missing fails loudly, so a fixed document shows up as a stale patch.
 */
export const SPEC_DEFECTS = [
  {
    where: 'components.schemas.{Access,DataUsageAgreement}.properties.consumer.oneOf',
    why:
      'the first alternative lists dataProductId and teamId, the second requires teamId: a consumer with both ' +
      '(the documented shape of a data product consumer) matches two alternatives and fails oneOf. Read as anyOf.',
  },
  {
    where: 'paths./api/events.get 200 items.properties.data',
    why: "2026-07 declares `data` as an object with additionalProperties: false and no properties (no payload could pass); 2024-11 as a oneOf of the event schemas, which share the shape {id, timestamp} and so always match several. `data` is validated instead against the schema the event's type names (components.schemas.<Name>), as the feed's `dataschema` example points to.",
  },
] as const;

type Mode = 'request' | 'response';

export class OpenApiValidator {
  readonly name: string;
  private readonly doc: Node;
  private readonly ajv: Record<Mode, Ajv>;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: { template: string; segments: string[]; params: number }[];

  constructor(specFile: string) {
    this.name = specFile;
    this.doc = patchDefects(readDocument(specFile));
    const openapi31 = String(this.doc.openapi).startsWith('3.1');
    this.ajv = { request: newAjv(openapi31, 'request'), response: newAjv(openapi31, 'response') };
    for (const ajv of Object.values(this.ajv)) ajv.addSchema(this.doc, ROOT_ID);
    this.routes = Object.keys(this.doc.paths).map((template) => {
      const segments = template.split('/').filter(Boolean);
      return { template, segments, params: segments.filter((s) => s.startsWith('{')).length };
    });
  }

  /** Every departure of one exchange from the document. */
  check(exchange: Exchange): ExchangeReport {
    const url = new URL(exchange.url);
    const method = exchange.method.toUpperCase();
    const template = this.findPath(url.pathname);
    const operation = template === undefined ? undefined : this.doc.paths[template][method.toLowerCase()];
    if (!operation) {
      const label = `${method} ${url.pathname}`;
      // A documented path with another method: 405 (as a problem) is the right answer.
      if (template !== undefined && exchange.status === 405)
        return { request: [], response: this.problemFindings(label, exchange) };
      // A server says "no such endpoint" with 404; clients probe for optional endpoints that way.
      if (exchange.status === 404)
        return { request: [], response: this.problemFindings(label, exchange), undocumented: label };
      return {
        request: [{ operation: label, message: `no operation in ${this.name} has this method and path` }],
        response: [],
      };
    }
    const label = `${operation.operationId ?? '?'} (${method} ${template}) → ${exchange.status}`;
    const pathPointer = `/paths/${escapePointer(template!)}`;
    return {
      request: [
        ...this.queryFindings(label, url, method),
        ...this.requestFindings(label, exchange, `${pathPointer}/${method.toLowerCase()}`),
      ],
      response: this.responseFindings(label, exchange, `${pathPointer}/${method.toLowerCase()}`, operation),
    };
  }

  /** Readable lines for a test failure, one per finding. */
  static describe(findings: readonly Finding[]): string {
    return findings.map((f) => `${f.operation}: ${f.message}`).join('\n');
  }

  private findPath(pathname: string): string | undefined {
    const actual = pathname.split('/').filter(Boolean);
    const candidates = this.routes.filter(
      (route) =>
        route.segments.length === actual.length &&
        route.segments.every((segment, i) => segment.startsWith('{') || segment === actual[i]),
    );
    // A literal segment beats a parameter: /api/access/{id}/approve, not /api/access/{id}/{x}.
    candidates.sort((a, b) => a.params - b.params);
    return candidates[0]?.template;
  }

  private queryFindings(label: string, url: URL, method: string): Finding[] {
    const findings: Finding[] = [];
    for (const [name, text] of url.searchParams) {
      const own = this.queryParameterFindings(label, url.pathname, method, name, text);
      // A parameter of the 2026-07 API sent to an older server, which ignores parameters it does
      // not know: allowed, and checked against the newer declaration.
      const found =
        own ??
        (this.name === SPEC_2026_07
          ? undefined
          : newer().queryParameterFindings(label, url.pathname, method, name, text));
      findings.push(...(found ?? [{ operation: label, message: `query parameter '${name}' is not declared` }]));
    }
    return findings;
  }

  /** The findings for one query parameter, or undefined when the operation does not declare it. */
  queryParameterFindings(
    label: string,
    pathname: string,
    method: string,
    name: string,
    text: string,
  ): Finding[] | undefined {
    const template = this.findPath(pathname);
    if (template === undefined) return undefined;
    const pathPointer = `/paths/${escapePointer(template)}`;
    for (const base of [`${pathPointer}/${method.toLowerCase()}`, pathPointer]) {
      const parameters: Node[] = this.at(`${base}/parameters`) ?? [];
      for (const [index, raw] of parameters.entries()) {
        const { value, pointer } = this.deref(raw, `${base}/parameters/${index}`);
        if (value?.in !== 'query' || value.name !== name) continue;
        const validate = this.validator('request', `${pointer}/schema`);
        return validate(coerce(text, value.schema))
          ? []
          : errors(label, `query parameter '${name}=${text}'`, validate.errors);
      }
    }
    return undefined;
  }

  private requestFindings(label: string, exchange: Exchange, opPointer: string): Finding[] {
    const requestBody = this.at(`${opPointer}/requestBody`);
    if (requestBody === undefined) {
      return exchange.requestBody === undefined
        ? []
        : [{ operation: label, message: 'sends a request body, but the operation declares none' }];
    }
    const { value, pointer } = this.deref(requestBody, `${opPointer}/requestBody`);
    if (exchange.requestBody === undefined) {
      return value.required ? [{ operation: label, message: 'the request body is required but none was sent' }] : [];
    }
    const mediaType = baseType(exchange.requestContentType);
    if (!value.content?.[mediaType]) {
      return [{ operation: label, message: `request content type '${mediaType}' is not declared` }];
    }
    const body = parseJson(exchange.requestBody);
    if (!body.ok) return [{ operation: label, message: `request body is not JSON: ${body.error}` }];
    const validate = this.validator('request', `${pointer}/content/${escapePointer(mediaType)}/schema`);
    const findings = validate(body.value) ? [] : errors(label, 'request body', validate.errors);
    if (this.at(opPointer).operationId === 'addDataProduct') {
      findings.push(...dataProductFindings(label, 'request body', body.value));
    }
    return findings;
  }

  private responseFindings(label: string, exchange: Exchange, opPointer: string, operation: Node): Finding[] {
    const key = String(exchange.status);
    if (operation.responses?.[key] === undefined) {
      if (exchange.status >= 400) return this.problemFindings(label, exchange);
      return [{ operation: label, message: `status ${key} is not declared for this operation` }];
    }
    const { value, pointer } = this.deref(operation.responses[key], `${opPointer}/responses/${key}`);
    // A listed error without a body schema (2024-11 lists some): still a problem document.
    if (!value.content && exchange.status >= 400) return this.problemFindings(label, exchange);
    if (!value.content) {
      return exchange.responseBody === ''
        ? []
        : [{ operation: label, message: 'answers with a body, but the response declares none' }];
    }
    const mediaType = baseType(exchange.responseContentType);
    if (!value.content[mediaType]) {
      const declared = Object.keys(value.content).join(', ');
      return [{ operation: label, message: `content type '${mediaType}' is not the declared ${declared}` }];
    }
    const body = parseJson(exchange.responseBody);
    if (!body.ok) return [{ operation: label, message: `response body is not JSON: ${body.error}` }];
    const validate = this.validator('response', `${pointer}/content/${escapePointer(mediaType)}/schema`);
    const findings = validate(body.value) ? [] : errors(label, 'response body', validate.errors);
    if (operation.operationId === 'pollEvents' && Array.isArray(body.value)) {
      findings.push(...this.eventDataFindings(label, body.value));
    }
    if (exchange.status === 200 && /^getDataProducts?$/.test(operation.operationId)) {
      const products = Array.isArray(body.value) ? body.value : [body.value];
      products.forEach((product, i) => {
        const where = Array.isArray(body.value) ? `response body[${i}]` : 'response body';
        findings.push(...dataProductFindings(label, where, product));
      });
    }
    if (mediaType === 'application/problem+json') findings.push(...problemStatusFindings(label, exchange, body.value));
    return findings;
  }

  /** The payload of each event against the schema its type names (see SPEC_DEFECTS). */
  private eventDataFindings(label: string, events: Node[]): Finding[] {
    const findings: Finding[] = [];
    events.forEach((event, index) => {
      const name = String(event?.type ?? '').replace(/^.*\./, '');
      if (this.doc.components.schemas[name] === undefined) {
        findings.push({ operation: label, message: `event [${index}] type '${event?.type}' has no schema ${name}` });
        return;
      }
      const validate = this.validator('response', `/components/schemas/${name}`);
      if (!validate(event.data)) findings.push(...errors(label, `event [${index}] ${name} data`, validate.errors));
    });
    return findings;
  }

  /** An error the operation does not list: RFC 7807 as the 2026-07 document says of all /api/** errors. */
  private problemFindings(label: string, exchange: Exchange): Finding[] {
    const mediaType = baseType(exchange.responseContentType);
    if (mediaType !== 'application/problem+json') {
      return [{ operation: label, message: `error answered as '${mediaType}', not application/problem+json` }];
    }
    const body = parseJson(exchange.responseBody);
    if (!body.ok) return [{ operation: label, message: `problem body is not JSON: ${body.error}` }];
    const validate = problemValidator(body.value);
    const findings = validate(body.value) ? [] : errors(label, 'problem body', validate.errors);
    return [...findings, ...problemStatusFindings(label, exchange, body.value)];
  }

  private validator(mode: Mode, pointer: string): ValidateFunction {
    const key = `${mode}:${pointer}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv[mode].compile({ $ref: `${ROOT_ID}#${pointer}` });
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private at(pointer: string): Node {
    let node = this.doc;
    for (const part of pointer.split('/').slice(1)) node = node?.[unescapePointer(part)];
    return node;
  }

  /** Follows local `$ref`s (responses, parameters, request bodies); the pointer is where the value lives. */
  private deref(value: Node, pointer: string): { value: Node; pointer: string } {
    let current = { value, pointer };
    for (let hops = 0; typeof current.value?.$ref === 'string' && hops < 10; hops++) {
      const target = String(current.value.$ref).replace(/^#/, '');
      current = { value: this.at(target), pointer: target };
    }
    return current;
  }
}

const ROOT_ID = 'https://openapi.invalid/document.json';

/** Parsing the 2026-07 YAML takes seconds: once per file, a fresh copy for each user (patches mutate). */
const parsedDocuments = new Map<string, Node>();
function readDocument(specFile: string): Node {
  let doc = parsedDocuments.get(specFile);
  if (doc === undefined) {
    doc = parse(readFileSync(referenceFile(specFile), 'utf8'));
    parsedDocuments.set(specFile, doc);
  }
  return structuredClone(doc);
}

/** One validator per document, so compiled schemas are shared by the tests of a file. */
const validators = new Map<string, OpenApiValidator>();
export function validatorFor(specFile: string): OpenApiValidator {
  let validator = validators.get(specFile);
  if (validator === undefined) {
    validator = new OpenApiValidator(specFile);
    validators.set(specFile, validator);
  }
  return validator;
}

function newAjv(openapi31: boolean, mode: Mode): Ajv {
  // The documents carry OpenAPI-only keywords (example, x-…, discriminator) that plain JSON Schema
  // does not know; `nullable` is OpenAPI 3.0's, but the 3.1 document uses it too and Ajv reads it.
  const options = { strict: false, allErrors: true, validateSchema: false } as const;
  const ajv = openapi31 ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  if (mode === 'request') {
    // readOnly members are the server's: a client must not send them (OpenAPI "SHOULD NOT be sent").
    ajv.removeKeyword('readOnly');
    ajv.addKeyword({
      keyword: 'readOnly',
      schemaType: 'boolean',
      validate: function readOnly(schema: boolean) {
        (readOnly as unknown as { errors: Partial<ErrorObject>[] }).errors = [
          { keyword: 'readOnly', message: 'is read-only (managed by the server) and must not be sent', params: {} },
        ];
        return !schema;
      },
    });
  }
  return ajv;
}

function patchDefects(doc: Node): Node {
  for (const name of ['Access', 'DataUsageAgreement']) {
    const consumer = doc.components?.schemas?.[name]?.properties?.consumer;
    if (!consumer?.oneOf) throw new Error(`stale SPEC_DEFECTS patch: ${name}.consumer has no oneOf`);
    consumer.anyOf = consumer.oneOf;
    delete consumer.oneOf;
  }
  const item =
    doc.paths?.['/api/events']?.get?.responses?.[200]?.content?.['application/cloudevents-batch+json']?.schema?.items;
  if (!item?.properties?.data) throw new Error('stale SPEC_DEFECTS patch: the events feed has no data schema');
  item.properties.data = { type: 'object', nullable: true };
  return doc;
}

/** Problem bodies are checked against the 2026-07 document's ProblemDetail (2024-11 has none). */
let problemValidators: { plain: ValidateFunction; validation: ValidateFunction } | undefined;
function problemValidator(body: unknown): ValidateFunction {
  if (!problemValidators) {
    const doc = readDocument(SPEC_2026_07);
    const ajv = newAjv(true, 'response');
    ajv.addSchema(doc, ROOT_ID);
    problemValidators = {
      plain: ajv.compile({ $ref: `${ROOT_ID}#/components/schemas/ProblemDetail` }),
      validation: ajv.compile({ $ref: `${ROOT_ID}#/components/schemas/ValidationProblemDetail` }),
    };
  }
  const hasViolations = typeof body === 'object' && body !== null && 'violations' in body;
  return hasViolations ? problemValidators.validation : problemValidators.plain;
}

/** `status` in a problem must be the HTTP status, `title` its reason phrase (ProblemDetail's description). */
function problemStatusFindings(label: string, exchange: Exchange, body: Node): Finding[] {
  const findings: Finding[] = [];
  if (body?.status !== exchange.status) {
    findings.push({ operation: label, message: `problem status ${body?.status} ≠ HTTP status ${exchange.status}` });
  }
  if (body?.title !== STATUS_CODES[exchange.status]) {
    findings.push({ operation: label, message: `problem title '${body?.title}' is not the reason phrase` });
  }
  return findings;
}

/**
 * A data product document against the standard it declares: the documents' DataProduct and
 * OpenDataProductStandard components are these schema files.
 */
let productValidators: { dps: ValidateFunction; odps: ValidateFunction } | undefined;
function dataProductFindings(label: string, where: string, product: Node): Finding[] {
  if (typeof product !== 'object' || product === null) return [];
  productValidators ??= {
    dps: new Ajv({ strict: false, allErrors: true }).compile(schemaFile(DPS_SCHEMA)),
    odps: addFormats(new Ajv2019({ strict: false, allErrors: true })).compile(schemaFile(ODPS_SCHEMA)),
  };
  const validate =
    product.dataProductSpecification !== undefined
      ? productValidators.dps
      : product.kind === 'DataProduct'
        ? productValidators.odps
        : undefined;
  if (!validate) return [{ operation: label, message: `${where}: neither a DPS nor an ODPS data product` }];
  return validate(product) ? [] : errors(label, `${where} (${product.id})`, validate.errors);
}

function schemaFile(name: string): Node {
  const schema = JSON.parse(readFileSync(referenceFile(name), 'utf8'));
  // Each Ajv class knows its own meta-schema only; the dialect is chosen by the class instead.
  delete schema.$schema;
  return schema;
}

function newer(): OpenApiValidator {
  return validatorFor(SPEC_2026_07);
}

function errors(label: string, where: string, list: ErrorObject[] | null | undefined): Finding[] {
  return (list ?? []).map((error) => ({
    operation: label,
    message: `${where} ${error.instancePath || '(root)'} ${error.message ?? error.keyword}${describeParams(error)}`,
  }));
}

function describeParams(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum') return `: ${JSON.stringify(params.allowedValues)}`;
  if (error.keyword === 'additionalProperties') return `: '${params.additionalProperty}'`;
  return '';
}

function coerce(text: string, schema: Node): unknown {
  if ((schema?.type === 'integer' || schema?.type === 'number') && text.trim() !== '' && !Number.isNaN(Number(text)))
    return Number(text);
  if (schema?.type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function parseJson(text: string): { ok: true; value: Node } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

function baseType(contentType: string | undefined): string {
  return (contentType ?? '(none)').split(';')[0]!.trim().toLowerCase();
}

function escapePointer(part: string): string {
  return part.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointer(part: string): string {
  return part.replaceAll('~1', '/').replaceAll('~0', '~');
}
