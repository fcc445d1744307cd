/** The error codes DOMAIN.md section 6 lists, and the documented error item shape. */
export type ErrorCode =
  | 'required'
  | 'invalid_type'
  | 'invalid_format'
  | 'invalid_choice'
  | 'out_of_range'
  | 'too_few'
  | 'too_many'
  | 'not_unique'
  | 'not_found'
  | 'unknown_field'
  | 'in_use';

export interface FieldError {
  path: string;
  code: ErrorCode;
  message: string;
  parameters: Record<string, unknown>;
  plural: number | null;
}

export function fieldError(
  path: string,
  code: ErrorCode,
  message: string,
  parameters: Record<string, unknown> = {},
  plural: number | null = null,
): FieldError {
  return { path, code, message, parameters, plural };
}

/** Joins a path prefix and a field name the way a client writes it: `parts[0].criteria[1].min`. */
export function joinPath(prefix: string, field: string | number): string {
  if (typeof field === 'number') return `${prefix}[${field}]`;
  return prefix ? `${prefix}.${field}` : field;
}

/** Thrown by services for expected validation failures; resolvers turn it into a typed result. */
export class ValidationFailed extends Error {
  constructor(public readonly errors: FieldError[]) {
    super('Validation failed');
  }
}

/** Thrown by services when a store or segment does not exist (or is not visible). */
export class NotFound extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** Credentials missing, bad or expired (401), valid but not allowed (403), or too many tries (429). */
export class AccessError extends Error {
  constructor(
    public readonly status: 401 | 403 | 429,
    message: string,
  ) {
    super(message);
  }

  get code(): string {
    return { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 429: 'TOO_MANY_REQUESTS' }[this.status];
  }
}
