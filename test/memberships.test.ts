import { afterAll, beforeAll, expect, it } from 'vitest';
import { Prisma, type PrismaClient, type Store } from '../src/generated/prisma/client.ts';
import {
  blockOf,
  changeMembersCtes,
  insertMemberships,
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
  });

  it('rewrites only the blocks a change touches, and deletes those left empty', async () => {
    const segmentId = await newSegment('Changed');
    await insertMemberships(prisma, [
      { segmentId, memberId: shared[0], joinedAt: at(1) },
      { segmentId, memberId: alone[0], joinedAt: at(1) },
      { segmentId, memberId: alone[1], joinedAt: at(1) },
    ]);
    const before = new Map((await blocks(segmentId)).map((row) => [row.block, row.version]));
    // shared[1] joins the block of shared[0]; alone[0] leaves (its block empties); alone[1] stays.
    await prisma.$queryRaw`
      WITH joining AS MATERIALIZED (SELECT ${shared[1]}::uuid AS id),
      leaving AS MATERIALIZED (SELECT ${alone[0]}::uuid AS id),
      ${changeMembersCtes(Prisma.sql`${segmentId}::uuid`, Prisma.sql`${at(9).toISOString()}::timestamptz`)}
      SELECT 1`;
    expect(await membershipsOfSegment(prisma, segmentId)).toEqual(
      [
        { memberId: shared[0], joinedAt: at(1) },
        { memberId: shared[1], joinedAt: at(9) },
        { memberId: alone[1], joinedAt: at(1) },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
    const after = await blocks(segmentId);
    expect(after.length).toBe(2);
    const untouched = after.find((row) => row.version === before.get(row.block));
    const rewritten = after.filter((row) => row.version !== before.get(row.block));
    expect(untouched).toBeDefined();
    expect(rewritten.length).toBe(1);
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
    await prisma.$executeRaw(removeMemberSql(Prisma.sql`${store.id}::uuid`, Prisma.sql`${shared[0]}::uuid`));
    expect(await membershipsOfSegment(prisma, first)).toEqual([{ memberId: shared[1], joinedAt: at(2) }]);
    expect(await membershipsOfSegment(prisma, second)).toEqual([{ memberId: alone[2], joinedAt: at(4) }]);
    await prisma.$executeRaw(removeMemberSql(Prisma.sql`${store.id}::uuid`, Prisma.sql`${alone[2]}::uuid`));
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
