import { criterionDefinition, type EvalEnv } from '../criteria/definitions.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';

/** A criterion as stored: its type and its validated, normalised parameters. */
export interface StoredCriterion {
  type: string;
  params: unknown;
}

export interface StoredPart {
  criteria: StoredCriterion[];
}

export class UnknownCriterionType extends Error {
  constructor(type: string) {
    super(`Unknown criterion type ${type}`);
  }
}

/**
 * One criterion's boolean SQL. It may be NULL (a NULL column compared): since criteria are only
 * combined with AND and OR, never negated, NULL acts as false, and leaving it unwrapped lets
 * PostgreSQL turn a lone EXISTS into a semi-join.
 */
export function criterionSql(criterion: StoredCriterion, env: EvalEnv): Prisma.Sql {
  const definition = criterionDefinition(criterion.type);
  if (!definition) throw new UnknownCriterionType(criterion.type);
  return Prisma.sql`(${definition.sql(criterion.params as never, env)})`;
}

/**
 * The segment's condition over `m` and `s`: parts AND-ed, criteria inside a part OR-ed.
 * No parts (or an empty part) matches nobody.
 */
export function segmentConditionSql(parts: StoredPart[], env: EvalEnv): Prisma.Sql {
  if (!parts.length) return Prisma.sql`FALSE`;
  return Prisma.join(
    parts.map((part) =>
      part.criteria.length
        ? Prisma.sql`(${Prisma.join(
            part.criteria.map((criterion) => criterionSql(criterion, env)),
            ' OR ',
          )})`
        : Prisma.sql`FALSE`,
    ),
    ' AND ',
  );
}

export interface CompileOptions {
  /**
   * Only members with `after < id <= upTo` (either bound optional): one step of a chunked
   * evaluation. The range is applied to the aggregates' join too, so a small step reads only its
   * own slice of both tables (by their primary keys) instead of all of MemberStats.
   */
  range?: { after?: string; upTo?: string };
  /**
   * Also return each matched member's lifetime purchase count (`purchases`) and lifetime
   * amount (`amount`), read from the aggregates the statement joins anyway.
   */
  withAggregates?: boolean;
}

/**
 * ONE parameterised statement returning the ids (`memberId`) of the store's active members the
 * segment matches. Values travel as bound parameters only. Usable as a subquery.
 */
export function compileSegment(storeId: string, parts: StoredPart[], env: EvalEnv, options: CompileOptions = {}): Prisma.Sql {
  const { after, upTo } = options.range ?? {};
  const rangeOf = (column: Prisma.Sql) =>
    Prisma.sql`${after === undefined ? Prisma.empty : Prisma.sql` AND ${column} > ${after}::uuid`}${
      upTo === undefined ? Prisma.empty : Prisma.sql` AND ${column} <= ${upTo}::uuid`
    }`;
  const aggregates = options.withAggregates
    ? Prisma.sql`, COALESCE(s."purchaseCount", 0) AS "purchases",
      GREATEST(0, COALESCE(s."sellAmount", 0) - COALESCE(s."returnAmount", 0)) AS "amount"`
    : Prisma.empty;
  return Prisma.sql`SELECT m."id" AS "memberId"${aggregates}
    FROM "Member" m LEFT JOIN "MemberStats" s ON s."memberId" = m."id"${rangeOf(Prisma.sql`s."memberId"`)}
    WHERE m."storeId" = ${storeId}::uuid AND m."active"${rangeOf(Prisma.sql`m."id"`)} AND (${segmentConditionSql(parts, env)})`;
}

/** Runs the compiled statement; the ids come back sorted. For tests and diagnostics. */
export async function matchingMemberIds(
  prisma: Pick<PrismaClient, '$queryRaw'>,
  storeId: string,
  parts: StoredPart[],
  env: EvalEnv,
): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ memberId: string }[]>(
    Prisma.sql`SELECT x."memberId"::text AS "memberId" FROM (${compileSegment(storeId, parts, env)}) x`,
  );
  return rows.map((row) => row.memberId).sort();
}
