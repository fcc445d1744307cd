import { NotFound, ValidationFailed } from '../../errors.ts';
import type { FilterOperator, ListFilter } from '../../services/list-query.ts';
import { SEGMENT_MEMBER_ORDER_FIELDS, type SegmentMemberField } from '../../services/member-service.ts';
import type { Member } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import { managedStore } from '../context.ts';
import { LabelInput, LabelType, enums } from './criterion.ts';
import { ListTotal, SegmentType, SortDirection, StringFilter, upperSnake } from './segment.ts';

const Address = builder.simpleObject('Address', {
  fields: (t) => ({
    city: t.string({ nullable: true }),
    province: t.string({ nullable: true }),
    country: t.string({ nullable: true, description: 'ISO 3166-1 alpha-2.' }),
    postal: t.string({ nullable: true }),
  }),
});

export const MemberType = builder.prismaObject('Member', {
  description: 'A loyalty programme member of one store.',
  fields: (t) => ({
    customerId: t.exposeID('id'),
    active: t.exposeBoolean('active'),
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    email: t.exposeString('email', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    gender: t.field({ type: enums.Gender, nullable: true, resolve: (member) => member.gender as never }),
    birthDate: t.string({
      nullable: true,
      description: 'Calendar date, YYYY-MM-DD.',
      resolve: (member) => member.birthDate?.toISOString().slice(0, 10) ?? null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    registeredAt: t.expose('registeredAt', { type: 'DateTime' }),
    address: t.field({ type: Address, resolve: (m) => ({ city: m.city, province: m.province, country: m.country, postal: m.postal }) }),
    loyaltyCardNumber: t.exposeString('loyaltyCardNumber', { nullable: true }),
    levelId: t.exposeID('levelId', { nullable: true }),
    tierIds: t.idList({ select: { tiers: { select: { tierId: true } } }, resolve: (m) => m.tiers.map((tier) => tier.tierId) }),
    labels: t.field({ type: [LabelType], resolve: (m) => m.labels as { key: string; value: string }[] }),
    customFields: t.field({ type: 'JSONObject', resolve: (m) => m.customFields as Record<string, unknown> }),
    segments: t.field({
      type: [SegmentType],
      description: 'The segments the member currently belongs to.',
      // By id through per-request loaders (see loaders.ts): shared rows, not one per membership.
      resolve: (m, _, ctx) => ctx.loaders.segmentsOfMember.load(m.id),
    }),
  }),
});

builder.prismaObjectField('Segment', 'members', (t) =>
  t.field({
    type: [MemberType],
    description: 'The first members of the segment, in the order they joined. Use `segmentMembers` to page and filter.',
    args: { first: t.arg.int({ defaultValue: 20, description: '1..100' }) },
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 20, 100) }),
    // Through per-request loaders (see loaders.ts): at most `first` memberships read per segment,
    // and each member's row loaded once however many of the page's segments it is in.
    resolve: (segment, args, ctx) =>
      ctx.loaders.firstMembers.load({ segmentId: segment.id, first: Math.max(1, Math.min(args.first ?? 20, 100)) }),
  }),
);

interface MembershipShape {
  joinedAt: Date;
  member: Member;
}
const SegmentMembership = builder.objectRef<MembershipShape>('SegmentMembership').implement({
  fields: (t) => ({
    calculatedAt: t.field({ type: 'DateTime', description: 'When the member joined the segment.', resolve: (row) => row.joinedAt }),
    member: t.field({ type: MemberType, resolve: (row) => row.member }),
  }),
});

const SegmentMemberPage = builder
  .objectRef<{ items: MembershipShape[]; total: { all: number; filtered: number; estimated: boolean } }>('SegmentMemberPage')
  .implement({
    fields: (t) => ({
      items: t.field({ type: [SegmentMembership], complexity: { field: 1, multiplier: 1 }, resolve: (page) => page.items }),
      total: t.field({ type: ListTotal, resolve: (page) => page.total }),
    }),
  });

const SegmentMemberFilter = builder.inputType('SegmentMemberFilter', {
  fields: (t) => Object.fromEntries(['customerId', 'firstName', 'lastName', 'email', 'phone'].map((field) => [field, t.field({ type: StringFilter })])),
});
const SegmentMemberOrderField = builder.enumType('SegmentMemberOrderField', {
  values: Object.fromEntries(SEGMENT_MEMBER_ORDER_FIELDS.map((field) => [upperSnake(field), { value: field }])),
});
const SegmentMemberOrder = builder.inputType('SegmentMemberOrder', {
  fields: (t) => ({
    field: t.field({ type: SegmentMemberOrderField, required: true }),
    direction: t.field({ type: SortDirection, required: true }),
  }),
});

const AddressInput = builder.inputType('AddressInput', {
  fields: (t) => ({ city: t.string(), province: t.string(), country: t.string(), postal: t.string() }),
});
const MemberInput = builder.inputType('MemberInput', {
  description: 'A member, created or replaced whole (as a `member` import line).',
  fields: (t) => ({
    customerId: t.id({ required: true }),
    active: t.boolean(),
    firstName: t.string(),
    lastName: t.string(),
    email: t.string(),
    phone: t.string(),
    gender: t.field({ type: enums.Gender }),
    birthDate: t.string({ description: 'YYYY-MM-DD' }),
    createdAt: t.field({ type: 'DateTime' }),
    registeredAt: t.field({ type: 'DateTime' }),
    address: t.field({ type: AddressInput }),
    loyaltyCardNumber: t.string(),
    levelId: t.id(),
    tierIds: t.idList(),
    labels: t.field({ type: [LabelInput] }),
    customFields: t.field({ type: 'JSONObject' }),
    password: t.string({ description: 'Lets the member log in; stored hashed.' }),
  }),
});
const DocumentType = builder.enumType('DocumentType', { values: { SELL: { value: 'sell' }, RETURN: { value: 'return' } } as const });
const TransactionItemInput = builder.inputType('TransactionItemInput', {
  fields: (t) => ({
    sku: t.string(),
    name: t.string(),
    quantity: t.float(),
    grossValue: t.float(),
    maker: t.string(),
    labels: t.field({ type: [LabelInput] }),
  }),
});
const TransactionInput = builder.inputType('TransactionInput', {
  fields: (t) => ({
    transactionId: t.id({ required: true }),
    customerId: t.id({ description: 'Null: a sale not matched to a member.' }),
    documentType: t.field({ type: DocumentType, required: true }),
    purchasedAt: t.field({ type: 'DateTime', required: true }),
    channelId: t.id(),
    grossValue: t.float({ required: true }),
    items: t.field({ type: [TransactionItemInput] }),
  }),
});
const TransactionType = builder.prismaObject('Transaction', {
  fields: (t) => ({
    transactionId: t.exposeID('id'),
    customerId: t.exposeID('customerId', { nullable: true }),
    documentType: t.field({ type: DocumentType, resolve: (tx) => tx.documentType as 'sell' | 'return' }),
    purchasedAt: t.expose('purchasedAt', { type: 'DateTime' }),
    channelId: t.exposeID('channelId', { nullable: true }),
    grossValue: t.float({ resolve: (tx) => Number(tx.grossValue) }),
  }),
});
const Removed = builder.simpleObject('Removed', { fields: (t) => ({ id: t.id() }) });

/** GraphQL input -> import record shape: drop absent fields, instants as RFC 3339. */
function toRecord(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input)
      .filter(([, value]) => value !== undefined && value !== null)
      .map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]),
  );
}

const store = managedStore;
const found = () => ({ types: [NotFound], directResult: true as const });
const checked = () => ({ types: [ValidationFailed, NotFound], directResult: true as const });

function toMemberFilters(filter: Record<string, Record<string, unknown> | null> | null | undefined) {
  return Object.entries(filter ?? {}).flatMap(([field, condition]) =>
    Object.entries(condition ?? {})
      .filter(([, value]) => value != null)
      .map(([operator, value]) => ({ field, operator: operator as FilterOperator, value }) as ListFilter<SegmentMemberField>),
  );
}

builder.queryFields((t) => ({
  member: t.field({
    type: MemberType,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), customerId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => ctx.services.members.get(await store(ctx, args.storeCode), String(args.customerId)),
  }),
  segmentMembers: t.field({
    type: SegmentMemberPage,
    errors: checked(),
    description: 'A segment’s members with when each joined: paged, filtered, ordered like the REST list.',
    args: {
      storeCode: t.arg.string({ required: true }),
      segmentId: t.arg.id({ required: true }),
      filter: t.arg({ type: SegmentMemberFilter }),
      orderBy: t.arg({ type: [SegmentMemberOrder] }),
      page: t.arg.int(),
      itemsOnPage: t.arg.int(),
    },
    complexity: (args) => ({ field: 1, multiplier: args.itemsOnPage ?? 10 }),
    resolve: async (_, args, ctx) =>
      ctx.services.members.listSegmentMembers(await store(ctx, args.storeCode), String(args.segmentId), {
        page: args.page ?? undefined,
        itemsOnPage: args.itemsOnPage ?? undefined,
        orderBy: args.orderBy ?? undefined,
        filters: toMemberFilters(args.filter as never),
      }),
  }),
}));

builder.mutationFields((t) => ({
  upsertMember: t.field({
    type: MemberType,
    errors: checked(),
    args: { storeCode: t.arg.string({ required: true }), member: t.arg({ type: MemberInput, required: true }) },
    resolve: async (_, args, ctx) =>
      ctx.services.members.upsert(await store(ctx, args.storeCode), toRecord(args.member as Record<string, unknown>)),
  }),
  removeMember: t.field({
    type: Removed,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), customerId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => ({
      id: await ctx.services.members.remove(await store(ctx, args.storeCode), String(args.customerId)),
    }),
  }),
  upsertTransaction: t.field({
    type: TransactionType,
    errors: checked(),
    args: { storeCode: t.arg.string({ required: true }), transaction: t.arg({ type: TransactionInput, required: true }) },
    resolve: async (_, args, ctx) => {
      const input = toRecord(args.transaction as Record<string, unknown>);
      return ctx.services.members.upsertTransaction(await store(ctx, args.storeCode), {
        customerId: null,
        ...input,
        items: ((input.items as Record<string, unknown>[] | undefined) ?? []).map(toRecord),
      });
    },
  }),
  removeTransaction: t.field({
    type: Removed,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), transactionId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => ({
      id: await ctx.services.members.removeTransaction(await store(ctx, args.storeCode), String(args.transactionId)),
    }),
  }),
}));
