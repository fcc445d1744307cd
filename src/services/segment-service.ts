import { randomUUID } from 'node:crypto';
import { isUuid } from '../criteria/params.ts';
import { NotFound, ValidationFailed, fieldError, type FieldError } from '../errors.ts';
import { Prisma, type PrismaClient, type Segment, type Store } from '../generated/prisma/client.ts';
import { resolveReferences } from './criterion-references.ts';
import { deleteSegmentMembersSql } from './memberships.ts';
import { checkPaging, filtersToWhere, type ListQuery } from './list-query.ts';
import { validateSegmentInput, type PartDraft, type SegmentDraft } from './segment-input.ts';

export const SEGMENT_LIST_FIELDS = [
  'name',
  'active',
  'description',
  'customersCount',
  'averageTransactionAmount',
  'averageTransactions',
  'averageClv',
  'createdAt',
] as const;
export type SegmentListField = (typeof SEGMENT_LIST_FIELDS)[number];

/** Called after a segment's definition or active flag changed; recalculation hooks in here. */
export type SegmentChangeListener = (segment: Segment, change: 'created' | 'updated' | 'activated') => Promise<void> | void;

export class SegmentService {
  private listeners: SegmentChangeListener[] = [];
  /** Who still uses a segment (set by the association service; kept out of the constructor to avoid a cycle). */
  deleteGuard?: (storeId: string, segmentId: string) => Promise<{ kind: string; resource: { id: string; name: string } }[]>;

  constructor(private readonly prisma: PrismaClient) {}

  onChange(listener: SegmentChangeListener) {
    this.listeners.push(listener);
  }

  private async changed(segment: Segment, change: 'created' | 'updated' | 'activated') {
    if (!segment.active) return;
    for (const listener of this.listeners) await listener(segment, change);
  }

  /**
   * Ingested data changed members of the store: its active segments are marked, and the next
   * job sweep queues their recalculation instead of waiting for the schedule.
   */
  async markDirty(storeId: string): Promise<void> {
    await this.prisma.segment.updateMany({
      where: { storeId, active: true, dirtySince: null },
      data: { dirtySince: new Date() },
    });
  }

  /** A segment by id in any store (callers check the store); undefined when there is none. */
  async find(segmentId: string): Promise<Segment | undefined> {
    if (!isUuid(segmentId)) return undefined;
    return (await this.prisma.segment.findUnique({ where: { id: segmentId.toLowerCase() } })) ?? undefined;
  }

  /** A segment of the store; a malformed id is simply not found, as DOMAIN.md section 6 says. */
  async get(store: Store, segmentId: string): Promise<Segment> {
    const segment = isUuid(segmentId)
      ? await this.prisma.segment.findFirst({ where: { id: segmentId.toLowerCase(), storeId: store.id } })
      : null;
    if (!segment) throw new NotFound(`Segment ${segmentId} not found.`);
    return segment;
  }

  /** `selection`: what else to load with each segment (`{ include }`), e.g. what a GraphQL query selects. */
  async list(store: Store, query: ListQuery<SegmentListField>, selection: { include?: Prisma.SegmentInclude } = {}) {
    const errors: FieldError[] = [];
    const { skip, take } = checkPaging(query, errors);
    if (errors.length) throw new ValidationFailed(errors);
    const base = { storeId: store.id };
    const where = { AND: [base, ...filtersToWhere(query.filters)] } as Prisma.SegmentWhereInput;
    const orderBy: Prisma.SegmentOrderByWithRelationInput[] = [
      ...(query.orderBy ?? []).map(({ field, direction }) => ({ [field]: direction })),
      // Stable order whatever the client asked for: by creation, then id.
      { createdAt: 'asc' },
      { id: 'asc' },
    ];
    const [items, all, filtered] = await Promise.all([
      this.prisma.segment.findMany({ where, orderBy, skip, take, ...selection }),
      this.prisma.segment.count({ where: base }),
      query.filters?.length ? this.prisma.segment.count({ where }) : undefined,
    ]);
    return { items, total: { all, filtered: filtered ?? all, estimated: false } };
  }

  async create(store: Store, raw: unknown): Promise<Segment> {
    const draft = await this.validate(raw, store);
    await this.checkConflicts(store, draft, undefined);
    const id = randomUUID();
    const segment = await this.writeGuarded(draft, () => this.prisma.$transaction(async (tx) => {
      const created = await tx.segment.create({
        data: {
          id,
          storeId: store.id,
          name: draft.name,
          description: draft.description ?? null,
          active: draft.active ?? false,
        },
      });
      await writeParts(tx, id, draft.parts ?? []);
      return created;
    }));
    await this.changed(segment, 'created');
    return segment;
  }

  async update(store: Store, segmentId: string, raw: unknown): Promise<Segment> {
    const current = await this.get(store, segmentId);
    const draft = await this.validate(raw, store);
    await this.checkConflicts(store, draft, current.id);
    const segment = await this.writeGuarded(draft, () => this.prisma.$transaction(async (tx) => {
      const updated = await tx.segment.update({
        where: { id: current.id },
        data: {
          name: draft.name,
          ...(draft.description !== undefined ? { description: draft.description } : {}),
          ...(draft.active !== undefined ? { active: draft.active } : {}),
        },
      });
      if (draft.parts) {
        await tx.segmentPart.deleteMany({ where: { segmentId: current.id } });
        await writeParts(tx, current.id, draft.parts);
      }
      return updated;
    }));
    await this.changed(segment, current.active ? 'updated' : 'activated');
    return segment;
  }

  /** Refuses (in_use, one error per resource) while a campaign, reward or achievement targets it. */
  async delete(store: Store, segmentId: string): Promise<string> {
    const segment = await this.get(store, segmentId);
    const users = await this.deleteGuard?.(store.id, segment.id);
    if (users?.length)
      throw new ValidationFailed(
        users.map(({ kind, resource }) =>
          fieldError('segmentId', 'in_use', `The segment is targeted by ${kind} "${resource.name}".`, {
            kind,
            id: resource.id,
            name: resource.name,
          }),
        ),
      );
    // Its memberships too (they have no foreign keys), after a running recalculation of
    // it, which holds the segment's row until it commits its new membership.
    await this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT "id"::text FROM "Segment" WHERE "id" = ${segment.id}::uuid FOR UPDATE`;
      await tx.$executeRaw(deleteSegmentMembersSql(segment.id));
      await tx.segment.delete({ where: { id: segment.id } });
    }, { timeout: 10 * 60_000, maxWait: 60_000 });
    return segment.id;
  }

  async setActive(store: Store, segmentId: string, active: boolean): Promise<Segment> {
    const segment = await this.get(store, segmentId);
    if (segment.active === active) return segment;
    const updated = await this.prisma.segment.update({ where: { id: segment.id }, data: { active } });
    if (active) await this.changed(updated, 'activated');
    return updated;
  }

  /** Shape and ranges first; then the referenced ids, which need the database. */
  private async validate(raw: unknown, store: Store): Promise<SegmentDraft> {
    const { draft, errors } = validateSegmentInput(raw, store.timezone);
    if (!draft) throw new ValidationFailed(errors);
    const missing = await resolveReferences(this.prisma, store, draft);
    if (missing.length) throw new ValidationFailed(missing);
    return draft;
  }

  /**
   * checkConflicts runs before the write, so two concurrent requests can both pass it; the
   * database's unique constraints then refuse one, which is the same `not_unique`, not a 500.
   */
  private async writeGuarded<T>(draft: SegmentDraft, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') throw error;
      const nameClash = JSON.stringify(error.meta ?? {}).includes('"name"');
      throw new ValidationFailed([
        nameClash
          ? fieldError('name', 'not_unique', 'A segment with this name already exists.', { name: draft.name })
          : fieldError('parts', 'not_unique', 'A part or criterion id is already used.'),
      ]);
    }
  }

  /** Names are unique per store; client-chosen ids must not belong to another segment. */
  private async checkConflicts(store: Store, draft: SegmentDraft, segmentId: string | undefined) {
    const errors: FieldError[] = [];
    const sameName = await this.prisma.segment.findFirst({
      where: { storeId: store.id, name: draft.name, ...(segmentId ? { NOT: { id: segmentId } } : {}) },
      select: { id: true },
    });
    if (sameName) errors.push(fieldError('name', 'not_unique', 'A segment with this name already exists.', { name: draft.name }));

    const parts = draft.parts ?? [];
    const partIds = parts.flatMap((part) => (part.segmentPartId ? [part.segmentPartId] : []));
    const criterionIds = parts.flatMap((part) => part.criteria.flatMap((c) => (c.criterionId ? [c.criterionId] : [])));
    const notThisSegment = segmentId ? { NOT: { segmentId } } : {};
    const [takenParts, takenCriteria] = await Promise.all([
      partIds.length
        ? this.prisma.segmentPart.findMany({ where: { id: { in: partIds }, ...notThisSegment }, select: { id: true } })
        : [],
      criterionIds.length
        ? this.prisma.criterion.findMany({
            where: { id: { in: criterionIds }, ...(segmentId ? { part: { NOT: { segmentId } } } : {}) },
            select: { id: true },
          })
        : [],
    ]);
    const taken = new Set([...takenParts, ...takenCriteria].map((row) => row.id));
    parts.forEach((part, p) => {
      if (part.segmentPartId && taken.has(part.segmentPartId))
        errors.push(idTaken(`parts[${p}].segmentPartId`, part.segmentPartId));
      part.criteria.forEach((criterion, c) => {
        if (criterion.criterionId && taken.has(criterion.criterionId))
          errors.push(idTaken(`parts[${p}].criteria[${c}].criterionId`, criterion.criterionId));
      });
    });
    if (errors.length) throw new ValidationFailed(errors);
  }
}

function idTaken(path: string, id: string): FieldError {
  return fieldError(path, 'not_unique', 'This id belongs to another segment.', { id });
}

async function writeParts(tx: Prisma.TransactionClient, segmentId: string, parts: PartDraft[]) {
  if (!parts.length) return;
  const rows = parts.map((part, position) => ({ id: part.segmentPartId ?? randomUUID(), segmentId, position }));
  await tx.segmentPart.createMany({ data: rows });
  await tx.criterion.createMany({
    data: parts.flatMap((part, p) =>
      part.criteria.map((criterion, position) => ({
        id: criterion.criterionId ?? randomUUID(),
        partId: rows[p].id,
        position,
        type: criterion.type,
        params: criterion.params as Prisma.InputJsonValue,
      })),
    ),
  });
}
