import { ValidationFailed, fieldError } from '../errors.ts';
import type { PrismaClient, Store } from '../generated/prisma/client.ts';
import { checkPaging } from './list-query.ts';
import type { SegmentService } from './segment-service.ts';

/** The resources that target segments (DOMAIN.md section 8), by their REST resourceName. */
export const ASSOCIATION_RESOURCES = ['campaign', 'reward', 'achievement'] as const;
export type AssociationResource = (typeof ASSOCIATION_RESOURCES)[number];

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

  /** For GraphQL's Segment fields: the segment is already loaded and visible. */
  async listForSegment(storeId: string, segmentId: string, resource: AssociationResource, paging: { page?: number | null; itemsOnPage?: number | null }) {
    const errors: ReturnType<typeof fieldError>[] = [];
    const { skip, take } = checkPaging({ page: paging.page ?? undefined, itemsOnPage: paging.itemsOnPage ?? undefined }, errors);
    if (errors.length) throw new ValidationFailed(errors);
    return this.table(resource).findMany({
      where: { storeId, segmentIds: { has: segmentId } },
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
      skip,
      take,
    });
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
