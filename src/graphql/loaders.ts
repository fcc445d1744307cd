import DataLoader from 'dataloader';
import { Prisma, type Member, type PrismaClient, type Segment } from '../generated/prisma/client.ts';
import type { AssociationResource, TargetingResource } from '../services/association-service.ts';
import type { Services } from '../services/index.ts';
import { membershipsOf, segmentsOfMembersSql } from '../services/memberships.ts';

/**
 * Per-request batch loaders, made in the context factory so nothing is shared between users or
 * stores. (Relations of Prisma objects — parts, criteria — are batched by plugin-prisma's own
 * per-request loading; these cover what it cannot see, and the member <-> segment lists.)
 *
 * Members and segments reached through memberships are loaded by id, once per request: a page of
 * 50 segments with 20 members each, each member in 10 segments, is 200 member rows and 50 segment
 * rows shared by every list that holds them, rather than 1,000 member and 10,000 segment rows
 * built one per membership (which is what selecting them through the relation costs).
 */
export function createLoaders(prisma: PrismaClient, services: Services) {
  const segmentsById = new DataLoader<string, Segment | null>(async (ids) => {
    const rows = await prisma.segment.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  const membersById = new DataLoader<string, Member | null>(async (ids) => {
    const rows = await prisma.member.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  /** Each id list's rows, each distinct row loaded once (not one promise per id of every list). */
  async function rowsOf<T>(lists: string[][], loader: DataLoader<string, T | null>): Promise<T[][]> {
    const distinct = [...new Set(lists.flat())];
    const rows = await loader.loadMany(distinct);
    const byId = new Map<string, T>();
    distinct.forEach((id, i) => {
      const row = rows[i];
      if (row !== null && !(row instanceof Error)) byId.set(id, row);
    });
    return lists.map((ids) => ids.flatMap((id) => byId.get(id) ?? []));
  }

  return {
    /** Segments by id (what a campaign, reward or achievement targets; a member's segments). */
    segmentsById,
    /** Members by id (a segment's first members). */
    membersById,
    /**
     * The first `first` members of each segment, in the order they joined (then by id): one
     * statement for every segment of a batch, reading at most `first` memberships per segment.
     */
    firstMembers: new DataLoader<{ segmentId: string; first: number }, Member[], string>(
      async (keys) => {
        const byFirst = new Map<number, string[]>();
        for (const { segmentId, first } of keys) push(byFirst, first, segmentId);
        const found = new Map<string, string[]>();
        for (const [first, segmentIds] of byFirst) {
          const bySegment = await jsonValue<Record<string, string[]>>(prisma.$queryRaw`
            SELECT json_object_agg(s.id, ARRAY(
              SELECT sm."memberId" FROM ${membershipsOf(Prisma.sql`s.id`)} sm
              ORDER BY sm."joinedAt", sm."memberId"
              LIMIT ${first}
            ))::text AS value
            FROM unnest(${segmentIds}::uuid[]) AS s(id)`);
          for (const segmentId of segmentIds) found.set(`${segmentId}|${first}`, bySegment?.[segmentId] ?? []);
        }
        return rowsOf(keys.map(({ segmentId, first }) => found.get(`${segmentId}|${first}`) ?? []), membersById);
      },
      { cacheKeyFn: ({ segmentId, first }) => `${segmentId}|${first}` },
    ),
    /** The segments each member belongs to, in the order the member joined them. */
    segmentsOfMember: new DataLoader<string, Segment[]>(async (memberIds) => {
      const byMember = await jsonValue<Record<string, string[]>>(prisma.$queryRaw`
        SELECT json_object_agg(x."memberId", x."segmentIds")::text AS value
        FROM (
          SELECT sm."memberId", json_agg(sm."segmentId" ORDER BY sm."joinedAt", sm."segmentId") AS "segmentIds"
          FROM (${segmentsOfMembersSql([...memberIds])}) sm
          GROUP BY sm."memberId"
        ) x`);
      return rowsOf(memberIds.map((id) => byMember?.[id] ?? []), segmentsById);
    }),
    /** One page of targeting resources per segment; keys of one batch share kind and page. */
    associations: new DataLoader<
      { storeId: string; resource: AssociationResource; segmentId: string; skip: number; take: number },
      TargetingResource[],
      string
    >(
      async (keys) => {
        const groups = new Map<string, typeof keys extends readonly (infer K)[] ? K[] : never>();
        for (const key of keys) {
          const group = `${key.storeId}|${key.resource}|${key.skip}|${key.take}`;
          groups.set(group, [...(groups.get(group) ?? []), key]);
        }
        const pages = new Map<string, TargetingResource[]>();
        for (const [group, members] of groups) {
          const { storeId, resource, skip, take } = members[0];
          const found = await services.associations.pagesForSegments(storeId, resource, members.map((k) => k.segmentId), skip, take);
          for (const [segmentId, page] of found) pages.set(`${group}|${segmentId}`, page);
        }
        return keys.map((key) => pages.get(`${key.storeId}|${key.resource}|${key.skip}|${key.take}|${key.segmentId}`) ?? []);
      },
      { cacheKeyFn: (key) => `${key.storeId}|${key.resource}|${key.skip}|${key.take}|${key.segmentId}` },
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/**
 * The one JSON text value a statement answers (null for none). The membership lists are read this
 * way, as one JSON document per batch, because Prisma maps raw rows value by value: for a page's
 * thousands of memberships that costs several times the query itself.
 */
async function jsonValue<T>(rows: Promise<{ value: string | null }[]>): Promise<T | null> {
  const [row] = await rows;
  return row?.value == null ? null : (JSON.parse(row.value) as T);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
