import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { GraphQLError } from 'graphql';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Context } from './context.ts';

export type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>;

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
}>({
  plugins: [ErrorsPlugin, PrismaPlugin, SimpleObjectsPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
  },
  errors: { defaultTypes: [] },
  complexity: {
    // Small lists (parts, criteria) count 3x their item cost; paginated lists count their page size.
    // A full 50-segment page selecting every criterion type's parameters stays under the limit.
    defaultComplexity: 1,
    defaultListMultiplier: 3,
    limit: { complexity: 60_000, depth: 15, breadth: 250 },
    complexityError: (kind, result) =>
      new GraphQLError(`Query too complex: ${kind.toLowerCase()} ${JSON.stringify(result)}`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } },
      }),
  },
});

builder.queryType({});
builder.mutationType({});

builder.scalarType('DateTime', {
  description: 'An instant, written as RFC 3339 in UTC.',
  serialize: (value) => (value as Date).toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an RFC 3339 instant.');
    return date;
  },
});
