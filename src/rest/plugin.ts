import { randomUUID } from 'node:crypto';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin, YogaServer } from 'graphql-yoga';
import { AccessError, NotFound, ValidationFailed, fieldError } from '../errors.ts';
import type { Store } from '../generated/prisma/client.ts';
import type { Services } from '../services/index.ts';
import { linesOf } from '../ingest/lines.ts';
import { requireAdmin } from '../services/store-service.ts';
import { RestError, plainError, toFetchResponse, validationFailed, type RestResponse } from './responses.ts';
import { routes, type RestRequest, type RestRoute } from './routes.ts';

interface CompiledRoute {
  route: RestRoute;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = routes.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}/?$`), names };
});

/** Finds the route for a method and path; `methodMismatch` when only the method is wrong. */
export function matchRoute(method: string, pathname: string) {
  let pathKnown = false;
  for (const { route, pattern, names } of compiled) {
    const match = pattern.exec(pathname);
    if (!match) continue;
    pathKnown = true;
    if (route.method !== method) continue;
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
    return { route, params };
  }
  return { pathKnown };
}

class BodyTooLarge extends Error {}

const IMPORT_PATH = /^\/api\/([^/]+)\/import\/?$/;

/** Reads a body, refusing it as soon as it passes the limit (chunked bodies included). */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new BodyTooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RestError(validationFailed([fieldError('', 'invalid_format', 'The request body is not valid JSON.')]));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new RestError(
      validationFailed([fieldError('', 'invalid_type', 'The request body must be a JSON object.', { type: 'object' })]),
    );
  return parsed as Record<string, unknown>;
}

/** Turns GraphQL errors that reached the top (auth, limits, unexpected) into REST statuses. */
function errorResponse(errors: readonly GraphQLError[]): RestResponse {
  const error = errors[0];
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  if (error.extensions?.code === 'INTERNAL_SERVER_ERROR' || status === 500)
    return plainError(500, 'Internal server error.', { requestId: error.extensions?.requestId ?? randomUUID() });
  if (status && status !== 400 && status >= 401 && status < 500) return plainError(status, error.message);
  // Anything else the client caused (a value GraphQL could not coerce, a limit) keeps the 400 shape.
  return validationFailed([fieldError('', 'invalid_format', error.message)]);
}

function resultResponse(route: RestRoute, result: ExecutionResult): RestResponse {
  if (result.errors?.length) return errorResponse(result.errors);
  const data = (result.data as { result?: Record<string, unknown> } | null)?.result;
  if (!data) return plainError(500, 'Internal server error.', { requestId: randomUUID() });
  switch (data.__typename) {
    case 'ValidationError':
      return validationFailed(data.errors as never);
    case 'NotFoundError':
      return plainError(404, String(data.message));
    default:
      return route.respond(data);
  }
}

/**
 * The REST compatibility layer, as a yoga plugin: documented paths run fixed GraphQL documents
 * through this yoga instance. Also enforces the body limit for every request (413).
 */
export function restPlugin(options: { services: Services; bodyLimitBytes: number }): Plugin {
  let yoga: YogaServer<Record<string, unknown>, Record<string, unknown>>;
  return {
    onYogaInit: ({ yoga: instance }) => {
      yoga = instance as never;
    },
    async onRequest({ request, url, endResponse, fetchAPI, setRequest }) {
      const respond = (response: RestResponse) => endResponse(toFetchResponse(response, fetchAPI.Response));
      const importMatch = request.method === 'POST' && IMPORT_PATH.exec(url.pathname);
      if (importMatch) {
        // Streams: an import may be gigabytes, so it is exempt from the body limit.
        try {
          return respond(await handleImport(request, decodeURIComponent(importMatch[1])));
        } catch (error) {
          return respond(toRestResponse(error));
        }
      }
      const isApi = url.pathname.startsWith('/api/');
      let bytes: Uint8Array | undefined;
      if (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH') {
        try {
          bytes = await readBody(request, options.bodyLimitBytes);
        } catch (error) {
          if (error instanceof BodyTooLarge)
            return respond(plainError(413, `The request body is larger than ${options.bodyLimitBytes} bytes.`));
          throw error;
        }
        // The body stream is spent: hand GraphQL requests a buffered copy.
        if (!isApi) setRequest(new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, body: bytes as BodyInit }));
      }
      if (!isApi) return;
      try {
        respond(await handleRest(request, url, bytes));
      } catch (error) {
        respond(toRestResponse(error));
      }
    },
  };

  /** POST /api/{storeCode}/import: NDJSON body, one record per line; answers the import summary. */
  async function handleImport(request: Request, storeCode: string): Promise<RestResponse> {
    const viewer = await options.services.auth.authenticate(request.headers);
    const store = await options.services.stores.requireManaged(viewer, storeCode);
    const summary = await options.services.ingest.importLines(store, linesOf(request.body ?? new ReadableStream()));
    if (summary.touchedMemberIds.size) await options.services.segments.markDirty(store.id);
    const { touchedMemberIds, ...report } = summary;
    return { status: 200, body: { ...report, touchedMembers: touchedMemberIds.size } };
  }

  async function handleRest(request: Request, url: URL, bytes: Uint8Array | undefined): Promise<RestResponse> {
    const matched = matchRoute(request.method, url.pathname);
    if (!('route' in matched) || !matched.route) {
      return matched.pathKnown ? plainError(405, 'Method not allowed.') : plainError(404, 'Not found.');
    }
    const { route, params } = matched;
    // Order of answers: who is calling (401/403), then what (404), then how well (400).
    const viewer = await options.services.auth.authenticate(request.headers);
    let store: Store | undefined;
    if (route.access === 'admin') {
      requireAdmin(viewer);
      store = await options.services.stores.requireManaged(viewer, params.storeCode);
      if (params.segment) await options.services.segments.get(store, params.segment);
    }
    const body = route.body ? parseJsonObject(bytes ?? new Uint8Array()) : {};
    const restRequest: RestRequest = { params, query: url.searchParams, body, store };
    const variables = route.variables(restRequest);
    const result = await yoga.getResultForParams(
      { params: { query: route.document, variables }, request },
      // The store checked above comes along, so the document does not look it up again.
      { viewer, restStore: store } as never,
    );
    return resultResponse(route, result as ExecutionResult);
  }
}

function toRestResponse(error: unknown): RestResponse {
  if (error instanceof RestError) return error.response;
  if (error instanceof ValidationFailed) return validationFailed(error.errors);
  if (error instanceof NotFound) return plainError(404, error.message);
  if (error instanceof AccessError) return plainError(error.status, error.message);
  const requestId = randomUUID();
  console.error(`[${requestId}]`, error);
  return plainError(500, 'Internal server error.', { requestId });
}
