import type { FieldError } from '../errors.ts';

/** A REST answer before it becomes a Response. `body` undefined means no body (204). */
export interface RestResponse {
  status: number;
  body?: unknown;
}

/** Thrown while reading a request, to answer at once with the documented error shape. */
export class RestError extends Error {
  constructor(public readonly response: RestResponse) {
    super(`REST ${response.status}`);
  }
}

export const validationFailed = (errors: FieldError[]): RestResponse => ({
  status: 400,
  body: {
    code: 400,
    message: 'Validation failed',
    errors: errors.map(({ message, parameters, plural, code, path }) => ({ message, parameters, plural, code, path })),
  },
});

export const plainError = (status: number, message: string, extra: Record<string, unknown> = {}): RestResponse => ({
  status,
  body: { code: status, message, ...extra },
});

export function toFetchResponse(response: RestResponse, ResponseClass: typeof Response): Response {
  if (response.body === undefined) return new ResponseClass(null, { status: response.status });
  return new ResponseClass(JSON.stringify(response.body), {
    status: response.status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}
