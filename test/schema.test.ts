import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { criterionDefinitions } from '../src/criteria/definitions.ts';
import { graphqlTypeName, outputParams } from '../src/criteria/codec.ts';
import { printSortedSchema, schema } from '../src/graphql/schema.ts';

describe('schema.graphql', () => {
  it('is the printed Pothos schema (run `npm run schema:print` after changing types)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });

  it('has one object type and one input field per criterion type, with its parameters and reported facts', () => {
    expect(criterionDefinitions).toHaveLength(39);
    const input = schema.getType('CriterionInput') as import('graphql').GraphQLInputObjectType;
    expect(input.isOneOf).toBe(true);
    expect(Object.keys(input.getFields())).toHaveLength(39);
    for (const definition of criterionDefinitions) {
      const type = schema.getType(graphqlTypeName(definition.type)) as import('graphql').GraphQLObjectType;
      expect(type, definition.type).toBeDefined();
      expect(Object.keys(type.getFields()).sort()).toEqual(
        ['criterionId', 'type', ...outputParams(definition).map((param) => param.name)].sort(),
      );
    }
  });
});
