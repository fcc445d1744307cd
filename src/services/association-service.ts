import { ValidationFailed, fieldError } from '../errors.ts';
import { Prisma, type PrismaClient, type Store } from '../generated/prisma/client.ts';
import { checkPaging } from './list-query.ts';
import type { SegmentService } from './segment-service.ts';

/** The resources that target segments (DOMAIN.md section 8), by their REST resourceName. */
export const ASSOCIATION_RESOURCES = ['campaign', 'reward', 'achievement'] as const;
export type AssociationResource = (typeof ASSOCIATION_RESOURCES)[number];
const TABLES: Record<AssociationResource, string> = { campaign: 'Campaign', reward: 'Reward', achievement: 'Achievement' };

export interface TargetingResource {
  id: string;
  name: string;
  active: boolean;
  attributes: unknown;
  segmentIds: string[];
}

export class AssociationService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly segments: SegmentService,
  ) {}

  private table(resource: AssociationResource) {
    const delegates = { campaign: this.prisma.campaign, reward: this.prisma.reward, achievement: this.prisma.achievement };
    return delegates[resource] as unknown as {
      findMany(args: object): Promise<TargetingResource[]>;
      count(args: object): Promise<number>;
    };
  }

  /** The resources of one kind that target the segment, paged (`total.all` is exact). */
  async list(store: Store, segmentId: string, resource: AssociationResource, paging: { page?: number; itemsOnPage?: number }) {
    const segment = await this.segments.get(store, segmentId);
    const errors: ReturnType<typeof fieldError>[] = [];
    const { skip, take } = checkPaging(paging, errors);
    if (errors.length) throw new ValidationFailed(errors);
    const where = { storeId: store.id, segmentIds: { has: segment.id } };
    const [items, all] = await Promise.all([
      this.table(resource).findMany({ where, orderBy: [{ name: 'asc' }, { id: 'asc' }], skip, take }),
      this.table(resource).count({ where }),
    ]);
    return { items, total: { all, estimated: false } };
  }

  /**
   * One page of resources for each of many segments, in one statement (GraphQL's Segment
   * fields, through a per-request dataloader): numbered per segment, then cut to the page.
   */
  async pagesForSegments(
    storeId: string,
    resource: AssociationResource,
    segmentIds: readonly string[],
    skip: number,
    take: number,
  ): Promise<Map<string, TargetingResource[]>> {
    const table = Prisma.raw(`"${TABLES[resource]}"`);
    const rows = await this.prisma.$queryRaw<(TargetingResource & { forSegment: string })[]>`
      SELECT x.id::text, x.name, x.active, x.attributes, x."segmentIds"::text[] AS "segmentIds", x."forSegment"
      FROM (
        SELECT r.*, s.seg::text AS "forSegment",
               row_number() OVER (PARTITION BY s.seg ORDER BY r.name, r.id) AS rn
        FROM ${table} r CROSS JOIN LATERAL unnest(r."segmentIds") AS s(seg)
        WHERE r."storeId" = ${storeId}::uuid AND s.seg = ANY(${[...segmentIds]}::uuid[])
      ) x
      WHERE x.rn > ${skip} AND x.rn <= ${skip + take}
      ORDER BY x."forSegment", x.rn`;
    const pages = new Map<string, TargetingResource[]>(segmentIds.map((id) => [id, []]));
    for (const { forSegment, ...row } of rows) pages.get(forSegment)?.push(row);
    return pages;
  }

  /** Checks GraphQL paging arguments the way lists do everywhere. */
  paging(page?: number | null, itemsOnPage?: number | null) {
    const errors: ReturnType<typeof fieldError>[] = [];
    const result = checkPaging({ page: page ?? undefined, itemsOnPage: itemsOnPage ?? undefined }, errors);
    if (errors.length) throw new ValidationFailed(errors);
    return result;
  }

  /** Everything still targeting the segment: deleting it is refused while this is not empty. */
  async targeting(storeId: string, segmentId: string) {
    const where = { storeId, segmentIds: { has: segmentId } };
    const found = await Promise.all(
      ASSOCIATION_RESOURCES.map(async (kind) =>
        (await this.table(kind).findMany({ where, orderBy: { name: 'asc' } })).map((resource) => ({ kind, resource })),
      ),
    );
    return found.flat();
  }
}

/** String facts about a resource for `additionalData` (its imported attributes, as strings). */
export function additionalData(resource: TargetingResource): Record<string, string> {
  const attributes = (resource.attributes ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, String(value)]));
}
