import { ANNIVERSARY_TYPES, GENDERS, camelName, criterionDefinitions } from '../../criteria/definitions.ts';
import { enumName, graphqlTypeName, outputParams } from '../../criteria/codec.ts';
import type { ParamDefinition } from '../../criteria/params.ts';
import type { Criterion } from '../../generated/prisma/client.ts';
import { builder, type BuilderTypes } from '../builder.ts';

/**
 * One GraphQL object type and one input type per criterion type, generated from
 * src/criteria/definitions.ts so that schema, validation and storage share one definition.
 */

const enumValues = (values: readonly string[]) =>
  Object.fromEntries(values.map((value) => [enumName(value), { value }]));

export const CriterionTypeEnum = builder.enumType('CriterionType', {
  values: enumValues(criterionDefinitions.map((definition) => definition.type)),
});
export const enums = {
  Gender: builder.enumType('Gender', { values: enumValues(GENDERS) }),
  AnniversaryType: builder.enumType('AnniversaryType', { values: enumValues(ANNIVERSARY_TYPES) }),
};

interface Label {
  key: string;
  value?: string | null;
}
export const LabelType = builder.objectRef<Label>('Label').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value', { nullable: true }) }),
});
export const LabelInput = builder.inputType('LabelInput', {
  description: 'A label whose key and value must both match.',
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});
const LabelKeyInput = builder.inputType('LabelKeyInput', {
  description: 'A label matched by key; the value is kept but ignored.',
  fields: (t) => ({ key: t.string({ required: true }), value: t.string() }),
});

export const CriterionInterface = builder.interfaceRef<Criterion>('Criterion').implement({
  description: 'One condition of a segment part. Each criterion type has its own object type with its parameters.',
  fields: (t) => ({
    criterionId: t.exposeID('id'),
    type: t.field({ type: CriterionTypeEnum, resolve: (criterion) => criterion.type }),
  }),
});

type FieldBuilder = PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Criterion>;

function outputField(t: FieldBuilder, param: ParamDefinition) {
  const nullable = param.optional ?? false;
  const resolve = (criterion: Criterion) => (criterion.params as Record<string, unknown>)[param.name] as never;
  const options = { nullable, description: param.description, resolve };
  switch (param.kind) {
    case 'uuid':
      return t.field({ type: 'ID', ...options });
    case 'uuidList':
      return t.field({ type: ['ID'], ...options });
    case 'int':
      return t.field({ type: 'Int', ...options });
    case 'amount':
    case 'number':
    case 'percent':
      return t.field({ type: 'Float', ...options });
    case 'instant':
    case 'date':
    case 'string':
      return t.field({ type: 'String', ...options });
    case 'stringList':
      return t.field({ type: ['String'], ...options });
    case 'enum':
      return t.field({ type: enums[param.enumName as keyof typeof enums], ...options });
    case 'enumList':
      return t.field({ type: [enums[param.enumName as keyof typeof enums]], ...options });
    case 'labelList':
      return t.field({ type: [LabelType], ...options });
  }
}

type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>;

const INSTANT_HELP = 'RFC 3339 instant, or `YYYY-MM-DD HH:MM` read in the store time zone.';

function inputField(t: InputFieldBuilder, param: ParamDefinition) {
  const required = !param.optional;
  switch (param.kind) {
    case 'uuid':
      return t.id({ required });
    case 'uuidList':
      return t.idList({ required });
    case 'int':
      return t.int({ required });
    case 'amount':
      return t.float({ required, description: 'Amount, at most 2 decimals, >= 0.' });
    case 'number':
    case 'percent':
      return t.float({ required });
    case 'instant':
      return t.string({ required, description: INSTANT_HELP });
    case 'date':
      return t.string({ required, description: 'Calendar date, YYYY-MM-DD.' });
    case 'string':
      return t.string({ required });
    case 'stringList':
      return t.stringList({ required });
    case 'enum':
      return t.field({ type: enums[param.enumName as keyof typeof enums], required });
    case 'enumList':
      return t.field({ type: [enums[param.enumName as keyof typeof enums]], required });
    case 'labelList':
      return t.field({ type: [param.valueRequired ? LabelInput : LabelKeyInput], required });
  }
}

const inputTypes = criterionDefinitions.map((definition) => {
  const name = graphqlTypeName(definition.type);
  builder
    .objectRef<Criterion>(name)
    .implement({
      description: definition.description,
      interfaces: [CriterionInterface],
      isTypeOf: (criterion) => (criterion as Criterion).type === definition.type,
      fields: (t) => Object.fromEntries(outputParams(definition).map((param) => [param.name, outputField(t, param)])),
    });
  const input = builder.inputType(`${name}Input`, {
    description: definition.description,
    fields: (t) => ({
      criterionId: t.id({ description: 'Keep or choose the criterion id; the server makes one when absent.' }),
      ...Object.fromEntries(definition.params.map((param) => [param.name, inputField(t, param)])),
    }),
  });
  return [camelName(definition.type), input] as const;
});

export const CriterionInput = builder.inputType('CriterionInput', {
  description: 'Exactly one criterion type with its parameters.',
  isOneOf: true,
  fields: (t) => Object.fromEntries(inputTypes.map(([field, input]) => [field, t.field({ type: input })])),
});
