import { fieldError, joinPath, type FieldError } from '../errors.ts';
import { criterionDefinition, criterionTypes } from './definitions.ts';
import { checkParam, isUuid, requiredError, unknownField, type CheckContext } from './params.ts';

/** A criterion as stored and as sent over REST: `type`, optional id, then its flat parameters. */
export interface CriterionDraft {
  type: string;
  criterionId?: string;
  params: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a raw criterion object (`{"type": "...", "criterionId"?: "...", ...params}`) against its
 * definition: required parameters, JSON types, ranges, unknown fields, from <= to.
 * Returns the normalised criterion, or undefined when errors were pushed.
 */
export function validateCriterion(raw: unknown, path: string, ctx: CheckContext): CriterionDraft | undefined {
  const before = ctx.errors.length;
  if (!isObject(raw)) {
    ctx.errors.push(fieldError(path, 'invalid_type', 'This value should be of type object.', { type: 'object' }));
    return undefined;
  }
  const { type, criterionId, ...rawParams } = raw;
  if (type == null) {
    ctx.errors.push(requiredError(joinPath(path, 'type')));
    return undefined;
  }
  if (typeof type !== 'string') {
    ctx.errors.push(fieldError(joinPath(path, 'type'), 'invalid_type', 'This value should be of type string.', { type: 'string' }));
    return undefined;
  }
  const definition = criterionDefinition(type);
  if (!definition) {
    ctx.errors.push(
      fieldError(joinPath(path, 'type'), 'invalid_choice', 'The value you selected is not a valid choice.', {
        choices: criterionTypes,
      }),
    );
    return undefined;
  }
  if (criterionId != null && !isUuid(criterionId)) {
    ctx.errors.push(fieldError(joinPath(path, 'criterionId'), 'invalid_format', 'This is not a valid UUID.'));
  }
  const known = new Set(definition.params.map((param) => param.name));
  const reported = new Set(definition.reported?.map((param) => param.name));
  for (const field of Object.keys(rawParams)) {
    if (!known.has(field) && !reported.has(field)) ctx.errors.push(unknownField(joinPath(path, field)));
  }
  const params: Record<string, unknown> = {};
  for (const param of definition.params) {
    const value = rawParams[param.name];
    const paramPath = joinPath(path, param.name);
    if (value == null) {
      if (!param.optional) ctx.errors.push(requiredError(paramPath));
      continue;
    }
    const checked = checkParam(param, value, paramPath, ctx);
    if (checked !== undefined) params[param.name] = checked;
  }
  if (ctx.errors.length > before) return undefined;

  const at = (field: string) => joinPath(path, field);
  for (const [from, to] of definition.ranges ?? []) {
    if (params[from] === undefined || params[to] === undefined) continue;
    if (compare(params[from], params[to]) > 0) {
      ctx.errors.push(
        fieldError(at(to), 'out_of_range', `This value should be greater than or equal to ${from}.`, {
          field: from,
          min: params[from],
        }),
      );
    }
  }
  if (ctx.errors.length === before && definition.check) ctx.errors.push(...definition.check(params, at));
  if (ctx.errors.length > before) return undefined;
  return { type, criterionId: (criterionId as string | undefined)?.toLowerCase(), params };
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Date.parse(String(a)) - Date.parse(String(b));
}

export type { FieldError };
