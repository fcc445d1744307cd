import { validateCriterion, type CriterionDraft } from '../criteria/validate.ts';
import { isUuid, requiredError, unknownField, type CheckContext } from '../criteria/params.ts';
import { fieldError, joinPath, type FieldError } from '../errors.ts';

export interface PartDraft {
  segmentPartId?: string;
  criteria: CriterionDraft[];
}

/** A segment as a client sends it (REST body's `segment`, or the GraphQL input made flat). */
export interface SegmentDraft {
  name: string;
  /** undefined: keep the current one (update); null: clear it. */
  description?: string | null;
  active?: boolean;
  /** undefined: keep the current parts (update); otherwise replaces them all. */
  parts?: PartDraft[];
}

const SEGMENT_FIELDS = new Set(['name', 'description', 'active', 'parts']);
const PART_FIELDS = new Set(['segmentPartId', 'criteria']);
export const NAME_MAX = 255;
export const DESCRIPTION_MAX = 4000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeError(path: string, type: string): FieldError {
  return fieldError(path, 'invalid_type', `This value should be of type ${type}.`, { type });
}

/**
 * Validates a raw segment object as DOMAIN.md sections 2 and 4 define it. Paths are relative to
 * the segment (`name`, `parts[0].criteria[1].min`). Referenced ids are checked elsewhere.
 */
export function validateSegmentInput(
  raw: unknown,
  timezone: string,
): { draft?: SegmentDraft; errors: FieldError[] } {
  const ctx: CheckContext = { timezone, errors: [] };
  if (!isObject(raw)) return { errors: [typeError('segment', 'object')] };

  for (const field of Object.keys(raw)) if (!SEGMENT_FIELDS.has(field)) ctx.errors.push(unknownField(field));

  const draft: Partial<SegmentDraft> = {};
  if (raw.name == null) ctx.errors.push(requiredError('name'));
  else if (typeof raw.name !== 'string') ctx.errors.push(typeError('name', 'string'));
  else if (raw.name.trim() === '') ctx.errors.push(requiredError('name'));
  else if (raw.name.trim().length > NAME_MAX) ctx.errors.push(tooLong('name', NAME_MAX));
  else draft.name = raw.name.trim();

  if (raw.description === null) draft.description = null;
  else if (raw.description !== undefined) {
    if (typeof raw.description !== 'string') ctx.errors.push(typeError('description', 'string'));
    else if (raw.description.length > DESCRIPTION_MAX) ctx.errors.push(tooLong('description', DESCRIPTION_MAX));
    else draft.description = raw.description;
  }

  if (raw.active != null) {
    if (typeof raw.active !== 'boolean') ctx.errors.push(typeError('active', 'boolean'));
    else draft.active = raw.active;
  }

  if (raw.parts === null) draft.parts = [];
  else if (raw.parts !== undefined) {
    if (!Array.isArray(raw.parts)) ctx.errors.push(typeError('parts', 'array'));
    else draft.parts = raw.parts.map((part, index) => validatePart(part, joinPath('parts', index), ctx));
  }
  if (draft.parts) checkIdsUnique(draft.parts, ctx.errors);
  return ctx.errors.length ? { errors: ctx.errors } : { draft: draft as SegmentDraft, errors: [] };
}

function validatePart(raw: unknown, path: string, ctx: CheckContext): PartDraft {
  const part: PartDraft = { criteria: [] };
  if (!isObject(raw)) {
    ctx.errors.push(typeError(path, 'object'));
    return part;
  }
  for (const field of Object.keys(raw)) if (!PART_FIELDS.has(field)) ctx.errors.push(unknownField(joinPath(path, field)));
  if (raw.segmentPartId != null) {
    if (!isUuid(raw.segmentPartId))
      ctx.errors.push(fieldError(joinPath(path, 'segmentPartId'), 'invalid_format', 'This is not a valid UUID.'));
    else part.segmentPartId = raw.segmentPartId.toLowerCase();
  }
  const criteriaPath = joinPath(path, 'criteria');
  if (raw.criteria == null) ctx.errors.push(requiredError(criteriaPath));
  else if (!Array.isArray(raw.criteria)) ctx.errors.push(typeError(criteriaPath, 'array'));
  else if (raw.criteria.length === 0)
    ctx.errors.push(
      fieldError(criteriaPath, 'too_few', 'A part needs at least one criterion.', { limit: 1 }, 1),
    );
  else {
    raw.criteria.forEach((criterion, index) => {
      // Kept at its index (holes for invalid ones) so later checks name the right criterion;
      // a draft with holes is never returned, since holes come with errors.
      const checked = validateCriterion(criterion, joinPath(criteriaPath, index), ctx);
      if (checked) part.criteria[index] = checked;
    });
  }
  return part;
}

function tooLong(path: string, max: number): FieldError {
  return fieldError(path, 'out_of_range', `This value is too long. It should have ${max} characters or less.`, { max }, max);
}

/** Client-chosen part and criterion ids must not repeat within one request. */
function checkIdsUnique(parts: PartDraft[], errors: FieldError[]) {
  const seen = new Set<string>();
  const claim = (id: string | undefined, path: string) => {
    if (!id) return;
    if (seen.has(id)) errors.push(fieldError(path, 'not_unique', 'This id is used twice in the segment.', { id }));
    seen.add(id);
  };
  parts.forEach((part, p) => {
    claim(part.segmentPartId, `parts[${p}].segmentPartId`);
    part.criteria.forEach((criterion, c) => claim(criterion.criterionId, `parts[${p}].criteria[${c}].criterionId`));
  });
}
