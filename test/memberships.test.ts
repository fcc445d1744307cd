import { afterAll, beforeAll, expect, it } from 'vitest';
import { Prisma, type PrismaClient, type Store } from '../src/generated/prisma/client.ts';
import {
  applyBlockChangesCtes,
  blockChangesSql,
  blockOf,
  insertMemberships,
  matchedBlocksSql,
  removeMemberSql,
  segmentsOfMembersSql,
} from '../src/services/memberships.ts';
import { describeEachDatabase } from './support/databases.ts';
import { membershipsOfSegment } from './support/memberships.ts';
import { TestApp } from './support/test-app.ts';

/**
 * Memberships are stored in blocks of members (src/services/memberships.ts). The services' and
 * the engine's tests check what they mean; these check the block operations themselves, with
 * members chosen to share a block with others or to have one alone.
 */
describeEachDatabase('memberships', (kind) => {
  let t: TestApp;
  let prisma: PrismaClient;
  let store: Store;
  let token: string;
  /** Two members in one block, and three more each in a block of its own (among these five). */
  let shared: [string, string];
  let alone: [string, string, string];

  const at = (day: number) => new Date(Date.UTC(2025, 0, day));
  const newSegment = async (name: string) =>
    (await t.request('POST', '/api/DEFAULT/segment', { token, body: { segment: { name } } })).body.segmentId as string;
  const blocks = (segmentId: string) =>
    prisma.$queryRaw<{ block: number; version: string }[]>`
      SELECT "block", xmin::text AS "version" FROM "SegmentMemberBlock" WHERE "segmentId" = ${segmentId}::uuid ORDER BY 1`;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    prisma = t.app.database.prisma;
    token = await t.login();
    store = await prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const candidates = await prisma.$queryRaw<{ id: string; block: number }[]>`
      SELECT x.id::text AS id, ${blockOf(Prisma.sql`x.id`)} AS block
      FROM (SELECT overlay(overlay(md5('member ' || i) PLACING '4' FROM 13) PLACING '8' FROM 17)::uuid AS id
            FROM generate_series(1, 3000) i) x`; // version 4 ids, as the importer requires
    const byBlock = new Map<number, string[]>();
    for (const { id, block } of candidates) byBlock.set(block, [...(byBlock.get(block) ?? []), id]);
    shared = [...byBlock.values()].find((ids) => ids.length >= 2)!.slice(0, 2) as [string, string];
    alone = [...byBlock.values()].filter((ids) => ids.length === 1).slice(0, 3).map((ids) => ids[0]) as [string, string, string];
    const summary = await t.app.services.ingest.importRecords(store, [...shared, ...alone].map((customerId) => ({ kind: 'member', customerId })));
    expect(summary.errors).toEqual([]);
  });
  afterAll(() => t?.close());

  /** The ids of each block, as stored. */
  const storedIds = async (segmentId: string) =>
    (await prisma.$queryRaw<{ ids: string[] }[]>`
      SELECT "memberIds"::text[] AS ids FROM "SegmentMemberBlock" WHERE "segmentId" = ${segmentId}::uuid ORDER BY "block"`).map((row) => row.ids);

  it('stores members with the time each joined, several in one block', async () => {
    const segmentId = await newSegment('Stored');
    await insertMemberships(prisma, [
      { segmentId, memberId: shared[0], joinedAt: at(1) },
      { segmentId, memberId: shared[1], joinedAt: at(2) },
      { segmentId, memberId: alone[0], joinedAt: at(3) },
    ]);
    expect(await membershipsOfSegment(prisma, segmentId)).toEqual(
      [
        { memberId: shared[0], joinedAt: at(1) },
        { memberId: shared[1], joinedAt: at(2) },
        { memberId: alone[0], joinedAt: at(3) },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
    expect((await blocks(segmentId)).length).toBe(2);
    expect((await storedIds(segmentId)).find((ids) => ids.length === 2)?.sort()).toEqual([...shared].sort());
    // Their checksums are right: the same members again change nothing.
    const before = await blocks(segmentId);
    expect(await replaceMembers(segmentId, [alone[0], ...shared], at(9))).toEqual({ joining: [], leaving: [] });
    expect(await blocks(segmentId)).toEqual(before);
  });

  /** Makes a segment's members exactly `memberIds` at `joinedAt`, as a recalculation does. */
  async function replaceMembers(segmentId: string, memberIds: string[], joinedAt: Date) {
    const matched = Prisma.sql`SELECT u.id AS "memberId", 0 AS "purchases", 0 AS "amount" FROM unnest(${memberIds}::uuid[]) AS u(id)`;
    const [row] = await prisma.$queryRaw<{ joining: string[]; leaving: string[] }[]>`
      WITH changes AS MATERIALIZED (${blockChangesSql(Prisma.sql`${segmentId}::uuid`, matchedBlocksSql(matched))}),
      ${applyBlockChangesCtes(Prisma.sql`${segmentId}::uuid`, Prisma.sql`changes`, Prisma.sql`${joinedAt.toISOString()}::timestamptz`)}
      SELECT ARRAY(SELECT id::text FROM joining ORDER BY 1) AS joining, ARRAY(SELECT id::text FROM leaving ORDER BY 1) AS leaving`;
    return row;
  }

  it('replaces members, rewriting only the blocks that change and deleting those left empty', async () => {
    const segmentId = await newSegment('Changed');
    expect(await replaceMembers(segmentId, [shared[0], alone[0], alone[1]], at(1))).toEqual({
      joining: [shared[0], alone[0], alone[1]].sort(),
      leaving: [],
    });
    const before = new Map((await blocks(segmentId)).map((row) => [row.block, row.version]));
    expect(before.size).toBe(3);
    // shared[1] joins the block of shared[0]; alone[0] leaves (its block empties); alone[1] stays.
    expect(await replaceMembers(segmentId, [alone[1], shared[1], shared[0]], at(9))).toEqual({ joining: [shared[1]], leaving: [alone[0]] });
    expect(await membershipsOfSegment(prisma, segmentId)).toEqual(
      [
        { memberId: shared[0], joinedAt: at(1) },
        { memberId: shared[1], joinedAt: at(9) },
        { memberId: alone[1], joinedAt: at(1) },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
    const after = await blocks(segmentId);
    expect(after.length).toBe(2);
    expect(after.filter((row) => row.version === before.get(row.block)).length).toBe(1); // alone[1]'s, untouched
    // Nobody changes: nothing is written.
    expect(await replaceMembers(segmentId, [shared[0], shared[1], alone[1]], at(10))).toEqual({ joining: [], leaving: [] });
    expect(await blocks(segmentId)).toEqual(after);
    // Nobody matches: every block goes.
    expect(await replaceMembers(segmentId, [], at(11))).toEqual({ joining: [], leaving: [alone[1], ...shared].sort() });
    expect(await blocks(segmentId)).toEqual([]);
  });

  it('removes a member from every segment of its store, keeping its block-mates', async () => {
    const first = await newSegment('Removal 1');
    const second = await newSegment('Removal 2');
    await insertMemberships(prisma, [
      { segmentId: first, memberId: shared[0], joinedAt: at(1) },
      { segmentId: first, memberId: shared[1], joinedAt: at(2) },
      { segmentId: second, memberId: shared[0], joinedAt: at(3) },
      { segmentId: second, memberId: alone[2], joinedAt: at(4) },
    ]);
    await prisma.$executeRaw(removeMemberSql(store.id, shared[0]));
    expect(await membershipsOfSegment(prisma, first)).toEqual([{ memberId: shared[1], joinedAt: at(2) }]);
    expect(await storedIds(first)).toEqual([[shared[1]]]);
    // The block's checksum follows: the remaining member again changes nothing.
    const kept = await blocks(first);
    expect(await replaceMembers(first, [shared[1]], at(9))).toEqual({ joining: [], leaving: [] });
    expect(await blocks(first)).toEqual(kept);
    expect(await membershipsOfSegment(prisma, second)).toEqual([{ memberId: alone[2], joinedAt: at(4) }]);
    await prisma.$executeRaw(removeMemberSql(store.id, alone[2]));
    expect(await membershipsOfSegment(prisma, second)).toEqual([]);
    expect(await blocks(second)).toEqual([]);
  });

  it('finds the segments of members in the order each joined them', async () => {
    const early = await newSegment('Lookup early');
    const late = await newSegment('Lookup late');
    await insertMemberships(prisma, [
      { segmentId: late, memberId: shared[1], joinedAt: at(5) },
      { segmentId: early, memberId: shared[1], joinedAt: at(4) },
      { segmentId: late, memberId: alone[1], joinedAt: at(6) },
    ]);
    const rows = await prisma.$queryRaw<{ memberId: string; segmentId: string }[]>`
      SELECT x."memberId"::text AS "memberId", x."segmentId"::text AS "segmentId"
      FROM (${segmentsOfMembersSql([shared[1], alone[1], alone[0]])}) x
      WHERE x."segmentId" IN (${early}::uuid, ${late}::uuid) ORDER BY x."memberId", x."joinedAt"`;
    expect(rows).toEqual(
      [
        { memberId: shared[1], segmentId: early },
        { memberId: shared[1], segmentId: late },
        { memberId: alone[1], segmentId: late },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
  });
});
