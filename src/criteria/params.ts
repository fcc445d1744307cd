import { DateTime } from 'luxon';
import { fieldError, joinPath, type FieldError } from '../errors.ts';

/**
 * The kinds of parameter criteria take. Each kind knows how to check and normalise a raw JSON
 * value; the GraphQL input/output types and the REST codec are derived from the same kinds.
 */
export type ParamKind =
  | { kind: 'uuid' }
  | { kind: 'uuidList' }
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'amount' }
  | { kind: 'number'; min: number }
  | { kind: 'percent' }
  | { kind: 'instant' }
  | { kind: 'date' }
  | { kind: 'string' }
  | { kind: 'stringList'; minItems: number; maxItems?: number }
  | { kind: 'enum'; enumName: string; values: readonly string[] }
  | { kind: 'enumList'; enumName: string; values: readonly string[] }
  | { kind: 'labelList'; valueRequired: boolean };

export type ParamDefinition = ParamKind & { name: string; optional?: boolean; description?: string };

export interface CheckContext {
  /** IANA zone used to read `YYYY-MM-DD HH:MM` instants. */
  timezone: string;
  errors: FieldError[];
}

const INT32_MAX = 2_147_483_647;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const LOCAL_MINUTES = /^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Reads an instant: RFC 3339, or `YYYY-MM-DD HH:MM` in the store's zone. Returns ISO UTC. */
export function parseInstant(value: string, timezone: string): string | undefined {
  let parsed: DateTime | undefined;
  if (RFC3339.test(value)) parsed = DateTime.fromISO(value, { setZone: true });
  else if (LOCAL_MINUTES.test(value)) parsed = DateTime.fromFormat(value, 'yyyy-MM-dd HH:mm', { zone: timezone });
  if (!parsed?.isValid) return undefined;
  return parsed.toUTC().toISO({ suppressMilliseconds: true }) ?? undefined;
}

export function isCalendarDate(value: string): boolean {
  return DATE.test(value) && DateTime.fromISO(value).isValid;
}

function typeName(kind: ParamKind['kind']): string {
  switch (kind) {
    case 'int':
      return 'integer';
    case 'amount':
    case 'number':
    case 'percent':
      return 'number';
    case 'uuidList':
    case 'stringList':
    case 'enumList':
    case 'labelList':
      return 'array';
    default:
      return 'string';
  }
}

function wrongType(path: string, expected: string): FieldError {
  return fieldError(path, 'invalid_type', `This value should be of type ${expected}.`, { type: expected });
}

/** JSON numbers print as their shortest decimal form, so the text tells the decimals sent. */
function hasAtMostTwoDecimals(value: number): boolean {
  return /^-?\d+(\.\d{1,2})?$/.test(String(value));
}

/**
 * Checks one raw parameter value against its definition. Pushes errors to `ctx.errors` and
 * returns the normalised value, or undefined when the value is unusable.
 */
export function checkParam(param: ParamDefinition, raw: unknown, path: string, ctx: CheckContext): unknown {
  const fail = (error: FieldError) => {
    ctx.errors.push(error);
    return undefined;
  };
  switch (param.kind) {
    case 'uuid':
      if (typeof raw !== 'string') return fail(wrongType(path, 'string'));
      if (!isUuid(raw)) return fail(fieldError(path, 'invalid_format', 'This is not a valid UUID.'));
      return raw.toLowerCase();
    case 'int': {
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return fail(wrongType(path, 'integer'));
      // GraphQL's Int is 32-bit: larger values could never be sent back.
      return checkRange(raw, param.min, param.max ?? INT32_MAX, path, ctx);
    }
    case 'amount': {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return fail(wrongType(path, 'number'));
      if (!hasAtMostTwoDecimals(raw))
        return fail(fieldError(path, 'invalid_format', 'An amount has at most 2 decimal digits.', { scale: 2 }));
      return checkRange(raw, 0, undefined, path, ctx);
    }
    case 'percent':
    case 'number': {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return fail(wrongType(path, 'number'));
      return param.kind === 'percent' ? checkRange(raw, 0, 100, path, ctx) : checkRange(raw, param.min, undefined, path, ctx);
    }
    case 'instant': {
      if (typeof raw !== 'string') return fail(wrongType(path, 'string'));
      const instant = parseInstant(raw.trim(), ctx.timezone);
      if (!instant)
        return fail(
          fieldError(path, 'invalid_format', 'This value is not a valid date-time (RFC 3339 or YYYY-MM-DD HH:MM).'),
        );
      return instant;
    }
    case 'date': {
      if (typeof raw !== 'string') return fail(wrongType(path, 'string'));
      if (!isCalendarDate(raw.trim()))
        return fail(fieldError(path, 'invalid_format', 'This value is not a valid date (YYYY-MM-DD).'));
      return raw.trim();
    }
    case 'string': {
      if (typeof raw !== 'string') return fail(wrongType(path, 'string'));
      if (raw.trim() === '') return fail(fieldError(path, 'required', 'This value should not be blank.'));
      return raw.trim();
    }
    case 'enum': {
      if (typeof raw !== 'string') return fail(wrongType(path, 'string'));
      if (!param.values.includes(raw)) return fail(invalidChoice(path, param.values));
      return raw;
    }
    case 'uuidList':
    case 'stringList':
    case 'enumList':
    case 'labelList':
      return checkList(param, raw, path, ctx);
  }
}

function invalidChoice(path: string, values: readonly string[]): FieldError {
  return fieldError(path, 'invalid_choice', `The value you selected is not a valid choice: ${values.join(', ')}.`, {
    choices: values,
  });
}

function checkRange(value: number, min: number | undefined, max: number | undefined, path: string, ctx: CheckContext) {
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    const bounds = max === undefined ? `${min} or more` : `between ${min} and ${max}`;
    ctx.errors.push(fieldError(path, 'out_of_range', `This value should be ${bounds}.`, { min, max: max ?? null }));
    return undefined;
  }
  return value;
}

function checkList(
  param: Extract<ParamDefinition, { kind: 'uuidList' | 'stringList' | 'enumList' | 'labelList' }>,
  raw: unknown,
  path: string,
  ctx: CheckContext,
): unknown[] | undefined {
  if (!Array.isArray(raw)) {
    ctx.errors.push(wrongType(path, 'array'));
    return undefined;
  }
  const minItems = param.kind === 'stringList' ? param.minItems : 1;
  const maxItems = param.kind === 'stringList' ? param.maxItems : undefined;
  if (raw.length < minItems) {
    ctx.errors.push(
      fieldError(path, 'too_few', `This collection should contain ${minItems} element or more.`, { limit: minItems }, minItems),
    );
    return undefined;
  }
  if (maxItems !== undefined && raw.length > maxItems) {
    ctx.errors.push(
      fieldError(path, 'too_many', `This collection should contain ${maxItems} elements or less.`, { limit: maxItems }, maxItems),
    );
    return undefined;
  }
  const before = ctx.errors.length;
  const items = raw.map((item, index) => {
    const itemPath = joinPath(path, index);
    switch (param.kind) {
      case 'uuidList':
        return checkParam({ name: param.name, kind: 'uuid' }, item, itemPath, ctx);
      case 'stringList':
        return checkParam({ name: param.name, kind: 'string' }, item, itemPath, ctx);
      case 'enumList':
        return checkParam({ ...param, kind: 'enum' }, item, itemPath, ctx);
      case 'labelList':
        return checkLabel(item, param.valueRequired, itemPath, ctx);
    }
  });
  return ctx.errors.length === before ? items : undefined;
}

function checkLabel(raw: unknown, valueRequired: boolean, path: string, ctx: CheckContext) {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    ctx.errors.push(wrongType(path, 'object'));
    return undefined;
  }
  const label = raw as Record<string, unknown>;
  for (const field of Object.keys(label)) {
    if (field !== 'key' && field !== 'value') ctx.errors.push(unknownField(joinPath(path, field)));
  }
  const key = label.key == null
    ? (ctx.errors.push(fieldError(joinPath(path, 'key'), 'required', 'This value should not be blank.')), undefined)
    : checkParam({ name: 'key', kind: 'string' }, label.key, joinPath(path, 'key'), ctx);
  let value: unknown;
  if (label.value == null || (!valueRequired && label.value === '')) {
    if (valueRequired) ctx.errors.push(fieldError(joinPath(path, 'value'), 'required', 'This value should not be blank.'));
  } else {
    value = checkParam({ name: 'value', kind: 'string' }, label.value, joinPath(path, 'value'), ctx);
  }
  return value === undefined ? { key } : { key, value };
}

export function unknownField(path: string): FieldError {
  return fieldError(path, 'unknown_field', 'This field was not expected.');
}

export function requiredError(path: string): FieldError {
  return fieldError(path, 'required', 'This value should not be blank.');
}

export { typeName as jsonTypeName };
