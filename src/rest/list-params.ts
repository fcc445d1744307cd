import { fieldError, type FieldError } from '../errors.ts';
import { RestError, validationFailed } from './responses.ts';

/** How a list field may be filtered and how a query-string value is read for it. */
export type FilterFieldKind = 'string' | 'boolean' | 'integer' | 'number' | 'date-time';

const OPERATORS: Record<FilterFieldKind, string[]> = {
  string: ['eq', 'like'],
  boolean: ['eq'],
  integer: ['eq', 'gt', 'gte', 'lt', 'lte'],
  number: ['eq', 'gt', 'gte', 'lt', 'lte'],
  'date-time': ['eq', 'gt', 'gte', 'lt', 'lte'],
};

export interface ParsedListParams {
  page?: number;
  itemsOnPage?: number;
  orderBy: { field: string; direction: 'asc' | 'desc' }[];
  /** field -> operator -> typed value (GraphQL filter input shape). */
  filter: Record<string, Record<string, unknown>>;
}

const KEY = /^([A-Za-z_]+)(?:\[([A-Za-z_]+)\])?$/;

/**
 * Reads `_page`, `_itemsOnPage`, `_orderBy[field]=asc|desc` and `field` / `field[op]` filters
 * (DOMAIN.md section 7). Anything unknown or of the wrong type is a 400 naming the parameter.
 */
export function parseListParams(
  search: URLSearchParams,
  fields: Record<string, FilterFieldKind>,
  orderable: readonly string[],
): ParsedListParams {
  const errors: FieldError[] = [];
  const parsed: ParsedListParams = { orderBy: [], filter: {} };
  for (const [key, raw] of search) {
    const match = KEY.exec(key);
    const [name, operator] = match ? [match[1], match[2]] : [key, undefined];
    if (name === '_page' || name === '_itemsOnPage') {
      const value = readInteger(raw);
      if (value === undefined || operator) errors.push(invalidType(key, 'integer'));
      else if (name === '_page') parsed.page = value;
      else parsed.itemsOnPage = value;
    } else if (name === '_orderBy') {
      if (!operator || !orderable.includes(operator))
        errors.push(fieldError(key, 'invalid_choice', 'Unknown field to order by.', { choices: orderable }));
      else if (raw !== 'asc' && raw !== 'desc')
        errors.push(fieldError(key, 'invalid_choice', 'The direction is asc or desc.', { choices: ['asc', 'desc'] }));
      else parsed.orderBy.push({ field: operator, direction: raw });
    } else if (fields[name]) {
      const kind = fields[name];
      const op = operator ?? 'eq';
      if (!OPERATORS[kind].includes(op)) {
        errors.push(fieldError(key, 'invalid_choice', `Operators for ${name}: ${OPERATORS[kind].join(', ')}.`, { choices: OPERATORS[kind] }));
        continue;
      }
      const value = readValue(kind, raw);
      if (value === undefined) errors.push(invalidType(key, kind));
      else (parsed.filter[name] ??= {})[op] = value;
    } else {
      errors.push(fieldError(key, 'unknown_field', 'This query parameter is not supported here.'));
    }
  }
  if (errors.length) throw new RestError(validationFailed(errors));
  return parsed;
}

function invalidType(path: string, type: string): FieldError {
  return fieldError(path, 'invalid_type', `This value should be of type ${type}.`, { type });
}

const INT32_MAX = 2_147_483_647;

/** An integer that fits GraphQL's Int; larger ones are refused here with the documented shape. */
function readInteger(raw: string): number | undefined {
  if (!/^-?\d{1,15}$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return Math.abs(value) <= INT32_MAX ? value : undefined;
}

function readValue(kind: FilterFieldKind, raw: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'boolean':
      return { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()];
    case 'integer':
      return readInteger(raw);
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : undefined;
    case 'date-time': {
      // An unencoded "+01:00" arrives as " 01:00"; a date and time may be split by a space.
      let value = raw.trim().replace(/^(\d{4}-\d{2}-\d{2}) (?=\d)/, '$1T').replace(/ (\d{2}:?\d{2})$/, '+$1');
      if (/T[\d:.]+$/.test(value)) value += 'Z'; // no zone given: UTC, never the server's zone
      return /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(value) &&
        !Number.isNaN(Date.parse(value))
        ? new Date(value).toISOString()
        : undefined;
    }
  }
}
