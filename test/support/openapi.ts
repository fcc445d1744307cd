import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { TestResponse } from './test-app.ts';

/**
 * Response validation against the published REST contract (spec/segment-api.openapi.json, a copy
 * of the shared contract kept in the repository so a fresh clone can test; test/spec-copy.test.ts
 * fails when the two differ).
 *
 * `$ref`s to `#/components/responses/*` are resolved here; `$ref`s to `#/components/schemas/*`
 * are handed to ajv (rewritten to one registered document), so the recursive
 * `Segment -> SegmentPart -> Segment` reference works. OpenAPI 3.0 only keywords are translated
 * (`nullable`) or declared (the `float` format) so ajv can run in strict mode (`deprecated` is
 * an annotation ajv already knows).
 */

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the whole
// module object, so take its `default` when there is one.
type AddFormats = typeof addFormatsModule.default;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

export const OPENAPI_URL = new URL('../../spec/segment-api.openapi.json', import.meta.url);

type Json = any;

interface Operation {
  operationId: string;
  method: string;
  /** Path template, e.g. `/api/{storeCode}/segment/{segment}`. */
  path: string;
  pattern: RegExp;
  responses: Record<string, Json>;
}

/** Statuses DOMAIN.md allows on every path whether or not an operation documents them. */
export const ALWAYS_ALLOWED = [401, 405, 413, 429] as const;

const SCHEMAS_ID = 'openapi-components';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export const document: Json = JSON.parse(readFileSync(fileURLToPath(OPENAPI_URL), 'utf8'));

/** OpenAPI 3.0 schema -> JSON Schema draft-07 that ajv accepts, with refs pointed at one document. */
function toJsonSchema(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue;
    if (key === '$ref') {
      const ref = String(value);
      const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
      if (!match) throw new Error(`openapi: unsupported schema $ref ${ref}`);
      if (!document.components.schemas[match[1]]) throw new Error(`openapi: dangling $ref ${ref}`);
      out.$ref = `${SCHEMAS_ID}#/definitions/${match[1]}`;
    } else if (key === 'properties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([name, sub]) => [name, toJsonSchema(sub)]));
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if (schema.nullable === true && out.type !== undefined) {
    out.type = [...(Array.isArray(out.type) ? out.type : [out.type]), 'null'];
  }
  return out;
}

/** A `#/components/responses/X` reference (or an inline response) -> the response object. */
function resolveResponse(response: Json): Json {
  let current = response;
  const seen = new Set<string>();
  while (current && typeof current.$ref === 'string') {
    const ref: string = current.$ref;
    const match = /^#\/components\/responses\/(.+)$/.exec(ref);
    if (!match || seen.has(ref)) throw new Error(`openapi: unsupported response $ref ${ref}`);
    seen.add(ref);
    current = document.components.responses[match[1]];
    if (!current) throw new Error(`openapi: dangling $ref ${ref}`);
  }
  return current;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addFormat('float', { type: 'number', validate: (value: number) => Number.isFinite(value) });
ajv.addSchema({ $id: SCHEMAS_ID, definitions: toJsonSchema(document.components.schemas) });

const operations: Operation[] = Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
  METHODS.filter((method) => item[method]).map((method) => {
    const operation = item[method];
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    return {
      operationId: operation.operationId as string,
      method: method.toUpperCase(),
      path,
      pattern: new RegExp(`^${source}/?$`),
      responses: operation.responses,
    };
  }),
);

/**
 * An operation by its operationId (`segmentGet`), or by method and path, with the path either a
 * template (`GET /api/{storeCode}/segment/{segment}`) or concrete (`GET /api/DEFAULT/segment/<id>?x=1`).
 */
export function findOperation(ref: string): Operation {
  const byId = operations.find((operation) => operation.operationId === ref);
  if (byId) return byId;
  const match = /^([A-Za-z]+)\s+(\/.*)$/.exec(ref.trim());
  if (match) {
    const method = match[1].toUpperCase();
    const path = match[2].split('?')[0];
    const found =
      operations.find((operation) => operation.method === method && operation.path === path) ??
      operations.find((operation) => operation.method === method && operation.pattern.test(path));
    if (found) return found;
  }
  throw new Error(`openapi: no operation ${ref}`);
}

const compiledCache = new Map<string, ValidateFunction>();

/** The JSON schema the document gives an operation's response, or null when it gives no body. */
function responseSchema(operation: Operation, status: number): Json | null | undefined {
  const raw = operation.responses[String(status)] ?? undefined;
  if (raw === undefined) return undefined;
  const response = resolveResponse(raw);
  const schema = response?.content?.['application/json']?.schema;
  return schema ?? null;
}

function compiled(key: string, schema: Json): ValidateFunction {
  let validate = compiledCache.get(key);
  if (!validate) {
    validate = ajv.compile(toJsonSchema(schema));
    compiledCache.set(key, validate);
  }
  return validate;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message}`).join('; ');
}

/** The shape DOMAIN.md section 6 gives every plain error: `{"code": <status>, "message": ...}`. */
const plainErrorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'integer' }, message: { type: 'string' } },
};

/**
 * A validator for one operation (operationId or method+path) and one response status: it fails
 * the test when the status is not one the operation documents (401/405/413/429 excepted), when
 * a documented JSON body does not validate, when a body-less status (204) carries a body, or
 * when an error body's `code` is not the status.
 */
export function responseValidator(ref: string, status: number): (response: TestResponse) => void {
  const operation = findOperation(ref);
  const allowedAnywhere = (ALWAYS_ALLOWED as readonly number[]).includes(status);
  const schema = responseSchema(operation, status);
  if (schema === undefined && !allowedAnywhere) {
    return () =>
      expect.fail(
        `${operation.operationId} (${operation.method} ${operation.path}) does not document status ${status}; ` +
          `documented: ${Object.keys(operation.responses).join(', ')}`,
      );
  }
  const key = `${operation.operationId} ${status}`;
  return (response) => {
    expect(response.status, `status of ${operation.operationId}`).toBe(status);
    if (schema === null) {
      expect(response.text, `${key}: documented without a body`).toBe('');
      return;
    }
    expect(response.headers.get('content-type') ?? '', `${key}: content-type`).toMatch(/^application\/json\b/);
    const validate = schema === undefined ? compiled('plain-error', plainErrorSchema) : compiled(key, schema);
    if (!validate(response.body)) {
      expect.fail(`${key}: body does not match the OpenAPI schema: ${describeErrors(validate.errors)}\n${response.text}`);
    }
    if (status >= 400) expect((response.body as { code?: unknown }).code, `${key}: body.code`).toBe(status);
  };
}

/** Validates a response against the operation's entry for the response's own status. */
export function expectDocumented(ref: string, response: TestResponse): void {
  responseValidator(ref, response.status)(response);
}

/** Validates a body against a named `#/components/responses/X` (for paths with no operation). */
export function expectComponentResponse(name: string, response: TestResponse, status: number): void {
  expect(response.status).toBe(status);
  const schema = resolveResponse({ $ref: `#/components/responses/${name}` })?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`openapi: component response ${name} has no JSON schema`);
  const validate = compiled(`component ${name}`, schema);
  if (!validate(response.body)) {
    expect.fail(`${name}: body does not match the OpenAPI schema: ${describeErrors(validate.errors)}\n${response.text}`);
  }
  expect((response.body as { code?: unknown }).code).toBe(status);
}

export function documentedStatuses(ref: string): number[] {
  return Object.keys(findOperation(ref).responses).map(Number);
}
