// Checks request and response bodies against GitHub's published OpenAPI description
// (@octokit/openapi, api.github.com). A small JSON-schema checker for the subset that
// description uses on our routes (OpenAPI 3.0: type, nullable, properties, required,
// additionalProperties, items, enum, allOf/anyOf/oneOf (read as anyOf) with discriminator, $ref, string/number
// bounds, date-time and uri formats), so the fake cannot drift from the real API unnoticed.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Schema = Record<string, unknown>;

interface Operation {
  operationId: string;
  parameters?: Schema[];
  requestBody?: Schema;
  responses: Record<string, Schema>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Schema>>;
}

let document: OpenApiDocument | undefined;

/** The description is 13 MB: parsed once per process, on first use. */
function openApi(): OpenApiDocument {
  if (!document) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    document = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  }
  return document;
}

function resolveRef(schema: Schema): Schema {
  let current = schema;
  while (typeof current.$ref === 'string') {
    const [, section, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(current.$ref) ?? [];
    const target = section && name ? openApi().components[section]?.[name] : undefined;
    if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      throw new Error(`schema type ${type} is not supported by this checker`);
  }
}

function formatProblem(format: unknown, value: string): string | undefined {
  if (format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) return 'is not an ISO date-time';
  if (format === 'uri' && !URL.canParse(value)) return 'is not a URI';
  return undefined;
}

/** Problems of `value` against `schema`, each prefixed with its JSON path; empty when it matches. */
export function schemaProblems(schemaOrRef: Schema, value: unknown, at = '$'): string[] {
  const schema = resolveRef(schemaOrRef);
  if (value === null && schema.nullable === true) return [];

  if (Array.isArray(schema.allOf)) {
    const problems = (schema.allOf as Schema[]).flatMap((part) => schemaProblems(part, value, at));
    if (problems.length > 0) return problems;
  }
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (Array.isArray(alternatives)) {
    const discriminator = schema.discriminator as { propertyName: string; mapping?: Record<string, string> } | undefined;
    const tag = discriminator && isObject(value) ? value[discriminator.propertyName] : undefined;
    const mapped = typeof tag === 'string' ? discriminator?.mapping?.[tag] : undefined;
    if (mapped) return schemaProblems({ $ref: mapped }, value, at);
    // oneOf is read as anyOf: GitHub's description lists overlapping alternatives (a 409 is
    // `basic-error` or `repository-rule-violation-error`, both all-optional), so a strict
    // "exactly one" would reject every real body.
    const results = alternatives.map((alternative) => schemaProblems(alternative, value, at));
    if (!results.some((problems) => problems.length === 0)) {
      return [`${at} matches none of its alternatives: ${results.map((problems) => problems[0]).join(' | ')}`];
    }
  }

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => typeMatches(type, value))) {
      return [`${at} is ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}, expected ${types.join('|')}`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    return [`${at} is ${JSON.stringify(value)}, expected one of ${JSON.stringify(schema.enum)}`];
  }

  const problems: string[] = [];
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at} is longer than ${schema.maxLength}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${at} is shorter than ${schema.minLength}`);
    const formatIssue = formatProblem(schema.format, value);
    if (formatIssue) problems.push(`${at} ${formatIssue}: ${JSON.stringify(value)}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at} is below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at} is above ${schema.maximum}`);
  }
  if (Array.isArray(value) && schema.items) {
    for (const [index, item] of value.entries()) problems.push(...schemaProblems(schema.items as Schema, item, `${at}[${index}]`));
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in value)) problems.push(`${at}.${name} is required but missing`);
    }
    for (const [name, property] of Object.entries(value)) {
      if (properties[name]) problems.push(...schemaProblems(properties[name], property, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}.${name} is not allowed`);
      else if (isObject(schema.additionalProperties))
        problems.push(...schemaProblems(schema.additionalProperties, property, `${at}.${name}`));
    }
  }
  return problems;
}

function operation(method: string, pathTemplate: string): Operation {
  const found = openApi().paths[pathTemplate]?.[method.toLowerCase()];
  if (!found) throw new Error(`${method} ${pathTemplate} is not in GitHub's OpenAPI description`);
  return found;
}

/** Problems of a request's query parameters and JSON body against the operation's description. */
export function requestProblems(method: string, pathTemplate: string, query: URLSearchParams, body: unknown): string[] {
  const described = operation(method, pathTemplate);
  const problems: string[] = [];
  for (const parameter of (described.parameters ?? []).map(resolveRef)) {
    if (parameter.in !== 'query') continue;
    const raw = query.get(parameter.name as string);
    if (raw === null) {
      if (parameter.required) problems.push(`query parameter ${String(parameter.name)} is required`);
      continue;
    }
    const schema = resolveRef(parameter.schema as Schema);
    const value = schema.type === 'integer' || schema.type === 'number' ? Number(raw) : schema.type === 'boolean' ? raw === 'true' : raw;
    problems.push(...schemaProblems(schema, value, `query.${String(parameter.name)}`));
  }
  const known = new Set((described.parameters ?? []).map((parameter) => resolveRef(parameter).name));
  for (const name of query.keys()) if (!known.has(name)) problems.push(`query parameter ${name} is not described`);

  const requestBody = described.requestBody ? resolveRef(described.requestBody) : undefined;
  const bodySchema = (requestBody?.content as Record<string, Schema> | undefined)?.['application/json']?.schema as Schema | undefined;
  if (body === undefined) {
    if (requestBody?.required) problems.push('request body is required');
  } else if (!bodySchema) {
    problems.push('request body is not described for this operation');
  } else {
    problems.push(...schemaProblems(bodySchema, body, 'body'));
  }
  return problems;
}

/**
 * Problems of a response body against the operation's description. An error status the
 * description leaves out (a 403 on updating a comment, a 502 from the edge) is checked against
 * `basic-error`, the body GitHub sends for every undocumented error.
 */
export function responseProblems(method: string, pathTemplate: string, status: number, body: unknown): string[] {
  const described = operation(method, pathTemplate);
  const response = described.responses[String(status)];
  if (!response) {
    if (status >= 400) return schemaProblems({ $ref: '#/components/schemas/basic-error' }, body, 'response');
    return [`status ${status} is not described for ${described.operationId}`];
  }
  const content = resolveRef(response).content as Record<string, Schema> | undefined;
  const schema = content?.['application/json']?.schema as Schema | undefined;
  if (!schema) return body === undefined ? [] : [`status ${status} of ${described.operationId} has no body in the description`];
  return schemaProblems(schema, body, 'response');
}

/** The operationId GitHub gives a route, e.g. `issues/list-comments`. */
export function operationId(method: string, pathTemplate: string): string {
  return operation(method, pathTemplate).operationId;
}
