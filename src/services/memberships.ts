import { Prisma } from '../generated/prisma/client.ts';

/**
 * How a segment's members are stored. Not one row per member but blocks: SegmentMemberBlock
 * holds, for a segment and a block number, the ids of its members whose id hashes to that block
 * and, at the same positions, when each joined. A recalculation that adds or replaces hundreds
 * of thousands of members then writes a few thousand rows instead (one row per member cost
 * ~3 µs to insert with its index entries and WAL: most of a large segment's first run), and a
 * run that changes a few members rewrites only their blocks. Each block also keeps a checksum of
 * its ids (the XOR of their 64-bit hashes, memberChecksum): a recalculation finds the blocks it
 * changes by comparing checksums, without sorting or comparing ids, in the statement that
 * evaluates the segment, and hands on only the changed blocks' ids. (A change that kept a
 * block's checksum would need two sets of ids whose hashes XOR alike: about 1 in 2^64 for each
 * changed block with ids as they come. The hash is not keyed, so ids chosen on purpose could
 * collide; they come from the store's own loyalty core.) Ids are in no particular order.
 *
 * The block is a hash of the id, so ids of any shape (random, time-ordered, sequential) spread
 * evenly: a segment of a million members has ~60 in each of MEMBERSHIP_BLOCKS blocks, ~1 KB,
 * small enough to stay inline (no TOAST, in this table and in a recalculation's scratch table).
 * Every read and write of memberships uses the SQL of this module.
 */
export const MEMBERSHIP_BLOCKS = 16384;

/**
 * The block of a member id (an SQL uuid expression). PostgreSQL keeps its hash functions stable
 * (hash partitioning relies on it); the migration that created the table used the same formula.
 */
export const blockOf = (memberId: Prisma.Sql) => Prisma.sql`(uuid_hash(${memberId}) & ${Prisma.raw(String(MEMBERSHIP_BLOCKS - 1))})`;

/**
 * The checksum term of a member id (an SQL uuid expression); a block's checksum XORs its members'.
 * Seed 1: with seed 0 the low 32 bits equal uuid_hash, which fixes the low 14 bits for every id
 * of a block (they are its number) and leaves a checksum 50 bits of evidence instead of 64.
 */
export const memberChecksum = (memberId: Prisma.Sql) => Prisma.sql`uuid_hash_extended(${memberId}, 1)`;

/**
 * A segment's memberships as rows, for a FROM clause: `FROM ${membershipsOf(id)} sm` gives
 * sm."memberId" and sm."joinedAt". (Set-returning functions in the select list expand the arrays
 * side by side, as unnest(a, b) would, without a function scan per block row: several times
 * cheaper for small segments, whose blocks hold a member or two.)
 */
export const membershipsOf = (segmentId: Prisma.Sql) => Prisma.sql`(
  SELECT unnest(b."memberIds") AS "memberId", unnest(b."joinedAt") AS "joinedAt" FROM "SegmentMemberBlock" b
  WHERE b."segmentId" = ${segmentId})`;

/**
 * The members `matched` gives (rows "memberId", "purchases", "amount"), in blocks: one row per
 * block with its member ids, their "checksum", and the block's totals: "members", "purchases",
 * "amount".
 */
export const matchedBlocksSql = (matched: Prisma.Sql) => Prisma.sql`
  SELECT ${blockOf(Prisma.sql`x."memberId"`)} AS "block", array_agg(x."memberId") AS "memberIds",
         bit_xor(${memberChecksum(Prisma.sql`x."memberId"`)}) AS "checksum",
         count(*) AS "members", sum(x."purchases") AS "purchases", sum(x."amount") AS "amount"
  FROM (${matched}) x GROUP BY 1`;

/**
 * Blocks of several matchedBlocksSql results (recalculation chunks, in table `source`) as one
 * row per block, with the same columns.
 */
export const mergedBlocksSql = (source: Prisma.Sql) => Prisma.sql`
  SELECT t."block", i."memberIds", i."checksum", t."members", t."purchases", t."amount"
  FROM (SELECT r."block", sum(r."members") AS "members", sum(r."purchases") AS "purchases", sum(r."amount") AS "amount"
        FROM ${source} r GROUP BY 1) t
  JOIN (SELECT r."block", array_agg(u.id) AS "memberIds", bit_xor(${memberChecksum(Prisma.sql`u.id`)}) AS "checksum"
        FROM ${source} r CROSS JOIN LATERAL unnest(r."memberIds") AS u(id) GROUP BY 1) i ON i."block" = t."block"`;

/**
 * Blocks (`blocks`: a matchedBlocksSql or mergedBlocksSql query) compared with the segment's
 * stored ones by checksum: a row per block in either, with "changed", the new "memberIds" only
 * when changed (null also when the block has no members any more), "checksum", and the totals
 * ("members", "purchases", "amount"; null for a block no longer matched).
 */
export const blockChangesSql = (segmentId: Prisma.Sql, blocks: Prisma.Sql) => Prisma.sql`
  SELECT COALESCE(r."block", s."block") AS "block", r."checksum" IS DISTINCT FROM s."checksum" AS "changed",
         CASE WHEN r."checksum" IS DISTINCT FROM s."checksum" THEN r."memberIds" END AS "memberIds",
         r."checksum", r."members", r."purchases", r."amount"
  FROM (${blocks}) r
  FULL JOIN (SELECT b."block", b."checksum" FROM "SegmentMemberBlock" b WHERE b."segmentId" = ${segmentId}) s ON s."block" = r."block"`;

/**
 * CTEs (a WITH list's first) that apply the changed blocks of `changes` (a table of
 * blockChangesSql rows) to the segment: a changed block's members become its new ids (members
 * who stay keep when they joined, newcomers join at `joinedAt`), or it is deleted when it has
 * none. Also defines `joining` and `leaving` (column id), the members who join and who leave.
 */
export function applyBlockChangesCtes(segmentId: Prisma.Sql, changes: Prisma.Sql, joinedAt: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    membership_changed AS MATERIALIZED (
      SELECT c."block", c."memberIds" AS "ids", c."checksum", s."memberIds" AS "oldIds", s."joinedAt" AS "oldJoinedAt"
      FROM ${changes} c LEFT JOIN "SegmentMemberBlock" s ON s."segmentId" = ${segmentId} AND s."block" = c."block"
      WHERE c."changed"),
    joining AS MATERIALIZED (
      SELECT j.id FROM membership_changed c CROSS JOIN LATERAL unnest(c."ids") AS j(id) WHERE c."oldIds" IS NULL
      UNION ALL
      SELECT j.id FROM membership_changed c
      CROSS JOIN LATERAL (SELECT unnest(c."ids") EXCEPT SELECT unnest(c."oldIds")) AS j(id) WHERE c."oldIds" IS NOT NULL),
    leaving AS MATERIALIZED (
      SELECT l.id FROM membership_changed c
      CROSS JOIN LATERAL (SELECT unnest(c."oldIds") EXCEPT SELECT unnest(c."ids")) AS l(id) WHERE c."oldIds" IS NOT NULL),
    membership_written AS (
      INSERT INTO "SegmentMemberBlock" AS b ("segmentId", "block", "memberIds", "joinedAt", "checksum")
      SELECT ${segmentId}, c."block", c."ids",
             CASE WHEN c."oldIds" IS NULL THEN array_fill(${joinedAt}, ARRAY[cardinality(c."ids")])
                  ELSE ARRAY(SELECT COALESCE(o.j, ${joinedAt}) FROM unnest(c."ids") WITH ORDINALITY AS u(id, n)
                             LEFT JOIN unnest(c."oldIds", c."oldJoinedAt") AS o(id, j) ON o.id = u.id ORDER BY u.n) END,
             c."checksum"
      FROM membership_changed c WHERE c."ids" IS NOT NULL
      ON CONFLICT ("segmentId", "block") DO UPDATE
        SET "memberIds" = EXCLUDED."memberIds", "joinedAt" = EXCLUDED."joinedAt", "checksum" = EXCLUDED."checksum"),
    membership_emptied AS (
      DELETE FROM "SegmentMemberBlock" b USING membership_changed c
      WHERE b."segmentId" = ${segmentId} AND b."block" = c."block" AND c."ids" IS NULL)`;
}

/** Deletes every membership of a segment. */
export const deleteSegmentMembersSql = (segmentId: string) =>
  Prisma.sql`DELETE FROM "SegmentMemberBlock" WHERE "segmentId" = ${segmentId}::uuid`;

/** Removes a member from every segment of its store (one block of each segment holds it). */
export function removeMemberSql(storeIdText: string, memberIdText: string): Prisma.Sql {
  const [storeId, memberId] = [Prisma.sql`${storeIdText}::uuid`, Prisma.sql`${memberIdText}::uuid`];
  return Prisma.sql`
  WITH holding AS MATERIALIZED (
    SELECT b."segmentId", b."block", b."memberIds", b."joinedAt", array_position(b."memberIds", ${memberId}) AS position
    FROM "Segment" s
    JOIN "SegmentMemberBlock" b ON b."segmentId" = s."id" AND b."block" = ${blockOf(memberId)}
    WHERE s."storeId" = ${storeId} AND ${memberId} = ANY(b."memberIds")),
  emptied AS (
    DELETE FROM "SegmentMemberBlock" b USING holding h
    WHERE b."segmentId" = h."segmentId" AND b."block" = h."block" AND cardinality(h."memberIds") = 1)
  UPDATE "SegmentMemberBlock" b
  SET "memberIds" = h."memberIds"[:h.position - 1] || h."memberIds"[h.position + 1:],
      "joinedAt" = h."joinedAt"[:h.position - 1] || h."joinedAt"[h.position + 1:],
      "checksum" = b."checksum" # ${memberChecksum(memberId)}
  FROM holding h
  WHERE b."segmentId" = h."segmentId" AND b."block" = h."block" AND cardinality(h."memberIds") > 1`;
}

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
    INSERT INTO "SegmentMemberBlock" AS b ("segmentId", "block", "memberIds", "joinedAt", "checksum")
    SELECT x."segmentId", ${blockOf(Prisma.sql`x."memberId"`)}, array_agg(x."memberId"), array_agg(x."joinedAt"),
           bit_xor(${memberChecksum(Prisma.sql`x."memberId"`)})
    FROM unnest(${rows.map((r) => r.segmentId)}::uuid[], ${rows.map((r) => r.memberId)}::uuid[], ${rows.map((r) => r.joinedAt.toISOString())}::timestamptz[])
      AS x("segmentId", "memberId", "joinedAt")
    GROUP BY 1, 2
    ON CONFLICT ("segmentId", "block") DO UPDATE
      SET "memberIds" = b."memberIds" || EXCLUDED."memberIds", "joinedAt" = b."joinedAt" || EXCLUDED."joinedAt",
          "checksum" = b."checksum" # EXCLUDED."checksum"`);
}
