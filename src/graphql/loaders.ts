import DataLoader from 'dataloader';
import type { PrismaClient, Segment } from '../generated/prisma/client.ts';
import type { AssociationResource, TargetingResource } from '../services/association-service.ts';
import type { Services } from '../services/index.ts';

/**
 * Per-request batch loaders, made in the context factory so nothing is shared between users or
 * stores. (Relations of Prisma objects — parts, criteria, memberships, members — are batched by
 * plugin-prisma's own per-request loading; these cover what it cannot see.)
 */
export function createLoaders(prisma: PrismaClient, services: Services) {
  return {
    /** Segments by id (what a campaign, reward or achievement targets). */
    segmentsById: new DataLoader<string, Segment | null>(async (ids) => {
      const rows = await prisma.segment.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
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
