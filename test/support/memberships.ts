import { Prisma, type PrismaClient } from '../../src/generated/prisma/client.ts';
import { membershipsOf } from '../../src/services/memberships.ts';

/** A segment's memberships as rows, ordered by member id. */
export async function membershipsOfSegment(prisma: PrismaClient, segmentId: string): Promise<{ memberId: string; joinedAt: Date }[]> {
  return prisma.$queryRaw<{ memberId: string; joinedAt: Date }[]>`
    SELECT sm."memberId"::text AS "memberId", sm."joinedAt" FROM ${membershipsOf(Prisma.sql`${segmentId}::uuid`)} sm ORDER BY 1`;
}

/** A segment's member ids, sorted. */
export async function memberIdsOfSegment(prisma: PrismaClient, segmentId: string): Promise<string[]> {
  return (await membershipsOfSegment(prisma, segmentId)).map((row) => row.memberId);
}

/** The segments holding a member, found by scanning every block (not the service's lookup). */
export async function segmentIdsHolding(prisma: PrismaClient, memberId: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ segmentId: string }[]>`
    SELECT DISTINCT "segmentId"::text AS "segmentId" FROM "SegmentMemberBlock" WHERE ${memberId}::uuid = ANY("memberIds") ORDER BY 1`;
  return rows.map((row) => row.segmentId);
}
