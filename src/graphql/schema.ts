import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
// Each module registers its types, queries and mutations on the builder.
import './types/errors.ts';
import './types/criterion.ts';
import './types/segment.ts';
import './types/member.ts';
import './types/association.ts';
import './types/recalculation.ts';
import './types/store.ts';
import './types/auth.ts';

export const schema = builder.toSchema();

/** The committed schema.graphql: printed sorted, so diffs show real changes only. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
