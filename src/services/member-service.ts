import { isUuid } from '../criteria/params.ts';
import { NotFound, ValidationFailed, fieldError } from '../errors.ts';
import { Prisma, type PrismaClient, type Store } from '../generated/prisma/client.ts';
import { memberRecord, transactionRecord } from '../ingest/records.ts';
import type { IngestService } from './ingest-service.ts';
import { lockAggregates, recomputeAggregates } from './ingest-service.ts';
import { membershipsOf, removeMemberSql } from './memberships.ts';
import { lockStoreMemberships } from './recalculation-service.ts';
import { checkPaging, type ListFilter, type ListQuery } from './list-query.ts';
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
      await lockAggregates(tx, store.id, 'exclusive');
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
      for (const table of ['MemberStats', 'MemberChannelStats', 'MemberDailyAmount'])
        await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "memberId" = $1::uuid`, member.id);
      // Its memberships (they have no foreign keys), once no recalculation of the store runs:
      // one that read the member before this commits could otherwise still add it.
      await lockStoreMemberships(tx, store.id, 'exclusive');
      await tx.$executeRaw(removeMemberSql(store.id, member.id));
      await tx.member.delete({ where: { id: member.id } });
    }, { timeout: 10 * 60_000, maxWait: 60_000 }); // it may wait for the store's running recalculations
    await this.segments.markDirty(store.id);
    return member.id;
  }

  async removeTransaction(store: Store, transactionId: string): Promise<string> {
    const transaction = isUuid(transactionId)
      ? await this.prisma.transaction.findFirst({ where: { id: transactionId.toLowerCase(), storeId: store.id } })
      : null;
    if (!transaction) throw new NotFound(`Transaction ${transactionId} not found.`);
    await this.prisma.$transaction(async (tx) => {
      await lockAggregates(tx, store.id, 'exclusive');
      await tx.transaction.delete({ where: { id: transaction.id } });
      if (transaction.customerId) await recomputeAggregates(tx, store, [transaction.customerId]);
    });
    if (transaction.customerId) await this.segments.markDirty(store.id);
    return transaction.id;
  }

  /**
   * A segment's members with the date each joined (DOMAIN.md section 7, SegmentCustomer).
   * Memberships have no relation to Member in the schema (no foreign keys, see the model), so
   * the page is chosen in SQL (filters and order on the member's columns) and its members are
   * then read by id.
   */
  async listSegmentMembers(store: Store, segmentId: string, query: ListQuery<SegmentMemberField>) {
    const segment = await this.segments.get(store, segmentId);
    const errors: ReturnType<typeof fieldError>[] = [];
    const { skip, take } = checkPaging(query, errors);
    if (errors.length) throw new ValidationFailed(errors);
    const conditions = (query.filters ?? []).map((filter) => memberFilterSql(filter));
    const memberships = membershipsOf(Prisma.sql`${segment.id}::uuid`);
    const base = Prisma.sql`FROM ${memberships} sm`;
    const filtered = Prisma.sql`FROM ${memberships} sm JOIN "Member" m ON m."id" = sm."memberId"
      ${conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}`;
    const orderBy = Prisma.join(
      [
        ...(query.orderBy ?? []).map(({ field, direction }) => Prisma.sql`${MEMBER_LIST_COLUMN[field]} ${direction === 'desc' ? Prisma.raw('DESC') : Prisma.raw('ASC')}`),
        Prisma.sql`sm."joinedAt" ASC`,
        Prisma.sql`sm."memberId" ASC`,
      ],
      ', ',
    );
    const count = async (from: Prisma.Sql) => (await this.prisma.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS "count" ${from}`)[0].count;
    const [page, all, filteredCount] = await Promise.all([
      this.prisma.$queryRaw<{ segmentId: string; memberId: string; joinedAt: Date }[]>`
        SELECT ${segment.id}::text AS "segmentId", sm."memberId"::text AS "memberId", sm."joinedAt"
        ${filtered} ORDER BY ${orderBy} OFFSET ${skip} LIMIT ${take}`,
      count(base),
      conditions.length ? count(filtered) : undefined,
    ]);
    const members = new Map(
      (await this.prisma.member.findMany({ where: { id: { in: page.map((row) => row.memberId) } } })).map((member) => [member.id, member]),
    );
    const items = page.flatMap((row) => {
      const member = members.get(row.memberId);
      return member ? [{ ...row, member }] : [];
    });
    return { items, total: { all, filtered: filteredCount ?? all, estimated: false } };
  }
}

/** The column of each order field in listSegmentMembers' query (`m` the member, `sm` the membership). */
const MEMBER_LIST_COLUMN: Record<SegmentMemberField, Prisma.Sql> = {
  customerId: Prisma.sql`m."id"`,
  firstName: Prisma.sql`m."firstName"`,
  lastName: Prisma.sql`m."lastName"`,
  email: Prisma.sql`m."email"`,
  phone: Prisma.sql`m."phone"`,
  gender: Prisma.sql`m."gender"`,
  birthDate: Prisma.sql`m."birthDate"`,
  createdAt: Prisma.sql`m."createdAt"`,
  calculatedAt: Prisma.sql`sm."joinedAt"`,
};

const COMPARISON = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/**
 * One filter of listSegmentMembers as SQL, with filtersToWhere's meaning: `eq` exact, `like` a
 * case-insensitive substring (its wildcards matched literally). customerId is a uuid column:
 * text that is no uuid equals nobody, and [like] (or any other operator) matches its text form.
 */
function memberFilterSql({ field, operator, value }: ListFilter<SegmentMemberField>): Prisma.Sql {
  const text = String(value);
  const like = (column: Prisma.Sql) => Prisma.sql`${column}::text ILIKE ${`%${text.replace(/[\\%_]/g, '\\$&')}%`}`;
  if (field === 'customerId') {
    if (operator !== 'eq') return like(Prisma.sql`m."id"`);
    return isUuid(text) ? Prisma.sql`m."id" = ${text.toLowerCase()}::uuid` : Prisma.sql`FALSE`;
  }
  const column = MEMBER_LIST_COLUMN[field];
  if (operator === 'like') return like(column);
  return Prisma.sql`${column} ${Prisma.raw(COMPARISON[operator])} ${text}`;
}
