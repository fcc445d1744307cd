import { camelName, criterionDefinition, criterionDefinitions, type CriterionDefinition } from './definitions.ts';
import type { ParamDefinition } from './params.ts';

/**
 * Translations between the flat wire form of a criterion (`{"type": "gender", "genders": ["male"]}`,
 * used by REST and storage) and its GraphQL form (`{gender: {genders: [MALE]}}` in, a
 * `GenderCriterion` out). GraphQL enum names are the wire values upper-cased.
 */

const byField = new Map(criterionDefinitions.map((definition) => [camelName(definition.type), definition]));

export const enumName = (value: string) => value.toUpperCase();
export const enumValue = (name: string) => name.toLowerCase();

/** `{gender: {criterionId, genders}}` (already coerced by GraphQL) -> flat wire criterion. */
export function graphqlInputToFlat(input: Record<string, unknown>): Record<string, unknown> {
  const [field, params] = Object.entries(input).find(([, value]) => value != null) ?? [];
  const definition = field ? byField.get(field) : undefined;
  if (!definition) return {};
  const flat: Record<string, unknown> = { type: definition.type };
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    if (value != null) flat[name] = value;
  }
  return flat;
}

/** Flat wire criterion (validated) -> GraphQL variables for `CriterionInput`. */
export function flatToGraphqlInput(flat: Record<string, unknown>): Record<string, unknown> {
  const { type, ...params } = flat;
  const definition = criterionDefinition(String(type));
  if (!definition) throw new Error(`unknown criterion type ${String(type)}`);
  const converted: Record<string, unknown> = { ...params };
  // What the server reported (e.g. `unresolved`) is output only; a client echoing it is ignored.
  for (const param of definition.reported ?? []) delete converted[param.name];
  for (const param of definition.params) {
    const value = converted[param.name];
    if (param.kind === 'enum' && typeof value === 'string') converted[param.name] = enumName(value);
    if (param.kind === 'enumList' && Array.isArray(value)) converted[param.name] = value.map((v) => enumName(String(v)));
  }
  return { [camelName(definition.type)]: converted };
}

/** A selected GraphQL criterion object -> flat wire criterion (REST responses). */
export function graphqlOutputToFlat(output: Record<string, unknown>): Record<string, unknown> {
  const { __typename, type, ...fields } = output;
  const wireType = enumValue(String(type));
  const definition = criterionDefinition(wireType);
  const flat: Record<string, unknown> = { type: wireType };
  for (const [selected, value] of Object.entries(fields)) {
    if (value === null || value === undefined) continue;
    const name = selected.endsWith(OPTIONAL_ALIAS) ? selected.slice(0, -OPTIONAL_ALIAS.length) : selected;
    const param = definition && outputParams(definition).find((p) => p.name === name);
    if (param?.kind === 'enum') flat[name] = enumValue(String(value));
    else if (param?.kind === 'enumList') flat[name] = (value as string[]).map(enumValue);
    else if (param?.kind === 'labelList')
      flat[name] = (value as { key: string; value?: string | null }[]).map((label) =>
        label.value == null ? { key: label.key } : { key: label.key, value: label.value },
      );
    else flat[name] = value;
  }
  return flat;
}

// An optional parameter is nullable where a required one of the same name (`days`, `fromDate`)
// is not; GraphQL forbids both under one response name, so optional ones are read under an alias.
const OPTIONAL_ALIAS = '_optional';

/** The GraphQL selection that reads every criterion type's parameters (REST documents use it). */
export function criterionSelection(): string {
  const fragments = criterionDefinitions.map((definition) => {
    const fields = outputParams(definition).map((param) => {
      const field = param.kind === 'labelList' ? `${param.name} { key value }` : param.name;
      return param.optional ? `${param.name}${OPTIONAL_ALIAS}: ${field}` : field;
    });
    return `... on ${graphqlTypeName(definition.type)} { ${fields.join(' ')} }`;
  });
  return `criterionId type ${fragments.join(' ')}`;
}

/** What a criterion of this type shows: its parameters, then what the server reported. */
export function outputParams(definition: CriterionDefinition): ParamDefinition[] {
  return [...definition.params, ...(definition.reported ?? [])];
}

export function graphqlTypeName(type: string): string {
  const camel = camelName(type);
  return `${camel[0].toUpperCase()}${camel.slice(1)}Criterion`;
}
