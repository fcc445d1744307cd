import { Prisma } from '../generated/prisma/client.ts';

/**
 * How a segment's members are stored. Not one row per member but blocks: SegmentMemberBlock
 * holds, for a segment and a block number, the ids of its members whose id hashes to that block
 * and, at the same positions, when each joined. A recalculation that adds or replaces hundreds
 * of thousands of members then writes a few thousand rows instead (one row per member cost
 * ~3 µs to insert with its index entries and WAL: most of a large segment's first run), and a
 * run that changes a few members rewrites only their blocks. Arrays are in no particular order.
 *
 * The block is a hash of the id, so ids of any shape (random, time-ordered, sequential) spread
 * evenly: a segment of a million members has ~60 in each of MEMBERSHIP_BLOCKS blocks, a row
 * small enough to stay inline. Every read and write of memberships uses the SQL of this module.
 */
export const MEMBERSHIP_BLOCKS = 16384;

/**
 * The block of a member id (an SQL uuid expression). PostgreSQL keeps its hash functions stable
 * (hash partitioning relies on it); the migration that created the table used the same formula.
 */
export const blockOf = (memberId: Prisma.Sql) => Prisma.sql`(uuid_hash(${memberId}) & ${Prisma.raw(String(MEMBERSHIP_BLOCKS - 1))})`;

/**
 * A segment's memberships as rows, for a FROM clause: `FROM ${membershipsOf(id)} sm` gives
 * sm."memberId" and sm."joinedAt".
 */
export const membershipsOf = (segmentId: Prisma.Sql) => Prisma.sql`(
  SELECT u."memberId", u."joinedAt" FROM "SegmentMemberBlock" b
  CROSS JOIN LATERAL unnest(b."memberIds", b."joinedAt") AS u("memberId", "joinedAt")
  WHERE b."segmentId" = ${segmentId})`;

/** Whether a segment has no members (an SQL boolean). */
export const hasNoMembers = (segmentId: Prisma.Sql) =>
  Prisma.sql`NOT EXISTS (SELECT 1 FROM "SegmentMemberBlock" WHERE "segmentId" = ${segmentId})`;

/**
 * Adds members who are not in the segment yet: `source` is a query or CTE name giving
 * "memberId" (and "joinedAt" unless `joinedAt` is given). A block already stored gets them
 * appended (a recalculation in several chunks reaches a block once per chunk).
 */
export function addMembersSql(segmentId: Prisma.Sql, source: Prisma.Sql, joinedAt?: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "SegmentMemberBlock" AS b ("segmentId", "block", "memberIds", "joinedAt")
    SELECT ${segmentId}, ${blockOf(Prisma.sql`x."memberId"`)}, array_agg(x."memberId"), array_agg(${joinedAt ?? Prisma.sql`x."joinedAt"`})
    FROM ${source} x GROUP BY 2
    ON CONFLICT ("segmentId", "block") DO UPDATE
      SET "memberIds" = b."memberIds" || EXCLUDED."memberIds", "joinedAt" = b."joinedAt" || EXCLUDED."joinedAt"`;
}

/**
 * Data-modifying CTEs (to follow CTEs `joining` and `leaving`, each giving "id": members who
 * join at `joinedAt`, and members who leave) that rewrite the blocks they touch: each is rebuilt
 * from its members minus those leaving plus those joining, and deleted when none remain. Names
 * the CTEs it adds membership_touched, membership_rebuilt, membership_written, membership_emptied.
 */
export function changeMembersCtes(segmentId: Prisma.Sql, joinedAt: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    membership_touched AS MATERIALIZED (
      SELECT DISTINCT ${blockOf(Prisma.sql`c.id`)} AS block FROM (SELECT id FROM joining UNION ALL SELECT id FROM leaving) c),
    membership_rebuilt AS MATERIALIZED (
      SELECT t.block, array_agg(u."memberId") AS "memberIds", array_agg(u."joinedAt") AS "joinedAt"
      FROM membership_touched t
      CROSS JOIN LATERAL (
        SELECT k."memberId", k."joinedAt" FROM "SegmentMemberBlock" b
        CROSS JOIN LATERAL unnest(b."memberIds", b."joinedAt") AS k("memberId", "joinedAt")
        WHERE b."segmentId" = ${segmentId} AND b."block" = t.block AND k."memberId" NOT IN (SELECT id FROM leaving)
        UNION ALL
        SELECT j.id, ${joinedAt} FROM joining j WHERE ${blockOf(Prisma.sql`j.id`)} = t.block) u
      GROUP BY t.block),
    membership_written AS (
      INSERT INTO "SegmentMemberBlock" AS b ("segmentId", "block", "memberIds", "joinedAt")
      SELECT ${segmentId}, r.block, r."memberIds", r."joinedAt" FROM membership_rebuilt r
      ON CONFLICT ("segmentId", "block") DO UPDATE SET "memberIds" = EXCLUDED."memberIds", "joinedAt" = EXCLUDED."joinedAt"),
    membership_emptied AS (
      DELETE FROM "SegmentMemberBlock" b
      WHERE b."segmentId" = ${segmentId} AND b."block" IN (SELECT block FROM membership_touched)
        AND b."block" NOT IN (SELECT block FROM membership_rebuilt))`;
}

/** Deletes every membership of a segment. */
export const deleteSegmentMembersSql = (segmentId: Prisma.Sql) =>
  Prisma.sql`DELETE FROM "SegmentMemberBlock" WHERE "segmentId" = ${segmentId}`;

/** Removes a member from every segment of its store (one block of each segment holds it). */
export const removeMemberSql = (storeId: Prisma.Sql, memberId: Prisma.Sql) => Prisma.sql`
  WITH holding AS MATERIALIZED (
    SELECT b."segmentId", b."block", b."memberIds", b."joinedAt" FROM "Segment" s
    JOIN "SegmentMemberBlock" b ON b."segmentId" = s."id" AND b."block" = ${blockOf(memberId)}
    WHERE s."storeId" = ${storeId} AND ${memberId} = ANY(b."memberIds")),
  emptied AS (
    DELETE FROM "SegmentMemberBlock" b USING holding h
    WHERE b."segmentId" = h."segmentId" AND b."block" = h."block" AND cardinality(h."memberIds") = 1)
  UPDATE "SegmentMemberBlock" b
  SET ("memberIds", "joinedAt") = (
    SELECT array_agg(k."memberId"), array_agg(k."joinedAt")
    FROM unnest(h."memberIds", h."joinedAt") AS k("memberId", "joinedAt") WHERE k."memberId" <> ${memberId})
  FROM holding h
  WHERE b."segmentId" = h."segmentId" AND b."block" = h."block" AND cardinality(h."memberIds") > 1`;

/**
 * The segments each of `memberIds` belongs to, in the order the member joined them: rows
 * ("memberId", "segmentId", "joinedAt"). Each member is looked up in one block of each segment
 * of its store.
 */
export const segmentsOfMembersSql = (memberIds: string[]) => Prisma.sql`
  SELECT m."id" AS "memberId", b."segmentId", b."joinedAt"[p.position] AS "joinedAt"
  FROM "Member" m
  JOIN "Segment" s ON s."storeId" = m."storeId"
  JOIN "SegmentMemberBlock" b ON b."segmentId" = s."id" AND b."block" = ${blockOf(Prisma.sql`m."id"`)}
  CROSS JOIN LATERAL (SELECT array_position(b."memberIds", m."id") AS position) p
  WHERE m."id" = ANY(${memberIds}::uuid[]) AND p.position IS NOT NULL`;

/**
 * Writes memberships directly, for members not yet in those segments: fixtures of tests and
 * benchmarks (the application's memberships come from recalculations).
 */
export async function insertMemberships(
  db: { $executeRaw: (query: Prisma.Sql) => Promise<number> },
  rows: { segmentId: string; memberId: string; joinedAt: Date }[],
): Promise<void> {
  if (!rows.length) return;
  await db.$executeRaw(Prisma.sql`
    INSERT INTO "SegmentMemberBlock" AS b ("segmentId", "block", "memberIds", "joinedAt")
    SELECT x."segmentId", ${blockOf(Prisma.sql`x."memberId"`)}, array_agg(x."memberId"), array_agg(x."joinedAt")
    FROM unnest(${rows.map((r) => r.segmentId)}::uuid[], ${rows.map((r) => r.memberId)}::uuid[], ${rows.map((r) => r.joinedAt.toISOString())}::timestamptz[])
      AS x("segmentId", "memberId", "joinedAt")
    GROUP BY 1, 2
    ON CONFLICT ("segmentId", "block") DO UPDATE
      SET "memberIds" = b."memberIds" || EXCLUDED."memberIds", "joinedAt" = b."joinedAt" || EXCLUDED."joinedAt"`);
}
