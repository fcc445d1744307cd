import { isUuid } from '../criteria/params.ts';
import { NotFound, ValidationFailed, fieldError } from '../errors.ts';
import { Prisma, type PrismaClient, type Store } from '../generated/prisma/client.ts';
import { memberRecord, transactionRecord } from '../ingest/records.ts';
import type { IngestService } from './ingest-service.ts';
import { recomputeAggregates } from './ingest-service.ts';
import { checkPaging, filtersToWhere, type ListQuery } from './list-query.ts';
import type { SegmentService } from './segment-service.ts';

export const SEGMENT_MEMBER_FILTER_FIELDS = ['customerId', 'firstName', 'lastName', 'email', 'phone'] as const;
export const SEGMENT_MEMBER_ORDER_FIELDS = [
  'customerId',
  'firstName',
  'lastName',
  'email',
  'phone',
  'gender',
  'birthDate',
  'createdAt',
  'calculatedAt',
] as const;
export type SegmentMemberField = (typeof SEGMENT_MEMBER_ORDER_FIELDS)[number];

/** zod issues -> the documented error items, with the field path a client would write. */
function zodErrors(issues: { path: PropertyKey[]; message: string; code: string }[]) {
  return issues.map((issue) =>
    fieldError(
      issue.path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join(''),
      issue.code === 'invalid_type' ? 'invalid_type' : issue.code === 'unrecognized_keys' ? 'unknown_field' : 'invalid_format',
      issue.message,
    ),
  );
}

/** Members of a store: single upserts and removals (bulk goes through IngestService), and lists. */
export class MemberService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ingest: IngestService,
    private readonly segments: SegmentService,
  ) {}

  async get(store: Store, customerId: string) {
    const member = isUuid(customerId)
      ? await this.prisma.member.findFirst({ where: { id: customerId.toLowerCase(), storeId: store.id } })
      : null;
    if (!member) throw new NotFound(`Member ${customerId} not found.`);
    return member;
  }

  /** Creates or replaces one member, through the same path as a one-line import. */
  async upsert(store: Store, raw: Record<string, unknown>) {
    const parsed = memberRecord.safeParse({ ...raw, kind: 'member' });
    if (!parsed.success) throw new ValidationFailed(zodErrors(parsed.error.issues));
    await this.importOne(store, { ...raw, kind: 'member' });
    return this.get(store, parsed.data.customerId);
  }

  async upsertTransaction(store: Store, raw: Record<string, unknown>) {
    const parsed = transactionRecord.safeParse({ ...raw, kind: 'transaction' });
    if (!parsed.success) throw new ValidationFailed(zodErrors(parsed.error.issues));
    await this.importOne(store, { ...raw, kind: 'transaction' });
    return this.prisma.transaction.findFirstOrThrow({ where: { id: parsed.data.transactionId, storeId: store.id } });
  }

  private async importOne(store: Store, record: Record<string, unknown>) {
    const summary = await this.ingest.importRecords(store, [record]);
    if (summary.touchedMemberIds.size) await this.segments.markDirty(store.id);
    if (summary.failed) {
      const reason = summary.errors[0]?.reason ?? 'rejected';
      const [field, ...rest] = reason.split(': ');
      throw new ValidationFailed([
        rest.length
          ? fieldError(field, reason.includes('unknown member') ? 'not_found' : 'not_unique', rest.join(': '))
          : fieldError('', 'invalid_format', reason),
      ]);
    }
  }

  /** Removes a member and the activity recorded for it; its transactions stay as unmatched sales. */
  async remove(store: Store, customerId: string): Promise<string> {
    const member = await this.get(store, customerId);
    await this.prisma.$transaction(async (tx) => {
      await tx.transaction.updateMany({ where: { customerId: member.id, storeId: store.id }, data: { customerId: null } });
      for (const table of [
        'CustomEvent',
        'CampaignCompletion',
        'AchievementCompletion',
        'AchievementProgress',
        'ChallengeCompletion',
        'MilestoneProgress',
      ])
        await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "customerId" = $1::uuid`, member.id);
      for (const table of ['MemberChannelStats', 'MemberDailyAmount'])
        await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "memberId" = $1::uuid`, member.id);
      await tx.member.delete({ where: { id: member.id } });
    });
    await this.segments.markDirty(store.id);
    return member.id;
  }

  async removeTransaction(store: Store, transactionId: string): Promise<string> {
    const transaction = isUuid(transactionId)
      ? await this.prisma.transaction.findFirst({ where: { id: transactionId.toLowerCase(), storeId: store.id } })
      : null;
    if (!transaction) throw new NotFound(`Transaction ${transactionId} not found.`);
    await this.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`DELETE FROM "TransactionItemLabel" WHERE "transactionId" = $1::uuid`, transaction.id);
      await tx.transaction.delete({ where: { id: transaction.id } });
      if (transaction.customerId) await recomputeAggregates(tx, store, [transaction.customerId]);
    });
    if (transaction.customerId) await this.segments.markDirty(store.id);
    return transaction.id;
  }

  /** customerId is a uuid column: text that is no uuid matches nobody; [like] matches its text form. */
  private async customerIdCondition(store: Store, operator: string, value: string): Promise<Prisma.MemberWhereInput> {
    if (operator === 'eq') return isUuid(value) ? { id: value.toLowerCase() } : { id: { in: [] } };
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM "Member" WHERE "storeId" = ${store.id}::uuid AND id::text ILIKE ${`%${value.replace(/[\\%_]/g, '\\$&')}%`}`;
    return { id: { in: rows.map((row) => row.id) } };
  }

  /** A segment's members with the date each joined (DOMAIN.md section 7, SegmentCustomer). */
  async listSegmentMembers(store: Store, segmentId: string, query: ListQuery<SegmentMemberField>) {
    const segment = await this.segments.get(store, segmentId);
    const errors: ReturnType<typeof fieldError>[] = [];
    const { skip, take } = checkPaging(query, errors);
    if (errors.length) throw new ValidationFailed(errors);
    const memberWhere: Prisma.MemberWhereInput[] = [];
    for (const filter of query.filters ?? []) {
      if (filter.field !== 'customerId') memberWhere.push(...(filtersToWhere([filter]) as Prisma.MemberWhereInput[]));
      else memberWhere.push(await this.customerIdCondition(store, filter.operator, String(filter.value)));
    }
    const base: Prisma.SegmentMemberWhereInput = { segmentId: segment.id };
    const where: Prisma.SegmentMemberWhereInput = memberWhere.length
      ? { ...base, member: { AND: memberWhere } }
      : base;
    const orderBy: Prisma.SegmentMemberOrderByWithRelationInput[] = [
      ...(query.orderBy ?? []).map(({ field, direction }) =>
        field === 'calculatedAt'
          ? { joinedAt: direction }
          : { member: { [field === 'customerId' ? 'id' : field]: direction } },
      ),
      { joinedAt: 'asc' },
      { memberId: 'asc' },
    ];
    const [items, all, filtered] = await Promise.all([
      this.prisma.segmentMember.findMany({ where, orderBy, skip, take, include: { member: true } }),
      this.prisma.segmentMember.count({ where: base }),
      memberWhere.length ? this.prisma.segmentMember.count({ where }) : undefined,
    ]);
    return { items, total: { all, filtered: filtered ?? all, estimated: false } };
  }
}
