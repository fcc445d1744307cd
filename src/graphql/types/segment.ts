import { queryFromInfo } from '@pothos/plugin-prisma';
import { graphqlInputToFlat } from '../../criteria/codec.ts';
import { NotFound, ValidationFailed } from '../../errors.ts';
import type { ListFilter, FilterOperator } from '../../services/list-query.ts';
import { SEGMENT_LIST_FIELDS, type SegmentListField } from '../../services/segment-service.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import { managedStore } from '../context.ts';
import { CriterionInput, CriterionInterface } from './criterion.ts';

export const SegmentType = builder.prismaObject('Segment', {
  description: 'A set of members defined by rules: parts AND-ed, criteria inside a part OR-ed.',
  fields: (t) => ({
    segmentId: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    active: t.exposeBoolean('active'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    customersCount: t.exposeInt('customersCount'),
    averageTransactionAmount: t.float({ resolve: (segment) => Number(segment.averageTransactionAmount) }),
    averageTransactions: t.float({ resolve: (segment) => Number(segment.averageTransactions) }),
    averageClv: t.float({ resolve: (segment) => Number(segment.averageClv) }),
    calculatedAt: t.expose('calculatedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the last recalculation finished; null before the first one.',
    }),
    currency: t.string({
      select: { store: { select: { currency: true } } },
      resolve: (segment) => segment.store.currency,
    }),
    parts: t.relation('parts', { query: { orderBy: { position: 'asc' } } }),
  }),
});

builder.prismaObject('SegmentPart', {
  fields: (t) => ({
    segmentPartId: t.exposeID('id'),
    criteria: t.field({
      type: [CriterionInterface],
      select: { criteria: { orderBy: { position: 'asc' } } },
      resolve: (part) => part.criteria,
    }),
  }),
});

const SegmentPartInput = builder.inputType('SegmentPartInput', {
  fields: (t) => ({
    segmentPartId: t.id({ description: 'Keep or choose the part id; the server makes one when absent.' }),
    criteria: t.field({ type: [CriterionInput], required: true, description: 'OR-ed; at least one.' }),
  }),
});

const segmentInputFields = (t: Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0], update: boolean) => ({
  name: t.string({ required: true, description: 'Unique in the store, 1..255 characters after trimming.' }),
  description: t.string({ description: update ? 'Left out: unchanged; null: cleared.' : undefined }),
  active: t.boolean({ description: update ? 'Left out: unchanged.' : 'Default false.' }),
  parts: t.field({
    type: [SegmentPartInput],
    description: update ? 'Left out: unchanged; otherwise replaces all parts.' : 'AND-ed; none matches nobody.',
  }),
});
const CreateSegmentInput = builder.inputType('CreateSegmentInput', { fields: (t) => segmentInputFields(t, false) });
const UpdateSegmentInput = builder.inputType('UpdateSegmentInput', { fields: (t) => segmentInputFields(t, true) });

/** GraphQL input -> the flat form the service validates (the same form REST bodies have). */
function toDraft(input: Record<string, unknown>): Record<string, unknown> {
  const { parts, ...rest } = input as { parts?: { segmentPartId?: string | null; criteria: Record<string, unknown>[] }[] | null };
  if (parts === undefined) return rest;
  return {
    ...rest,
    parts:
      parts === null
        ? null
        : parts.map((part) => ({
            ...(part.segmentPartId != null ? { segmentPartId: part.segmentPartId } : {}),
            criteria: part.criteria.map(graphqlInputToFlat),
          })),
  };
}

// List arguments: the REST list's filters, operators and ordering, typed.
export const StringFilter = builder.inputType('StringFilter', {
  fields: (t) => ({ eq: t.string({ description: 'Exact, case-sensitive.' }), like: t.string({ description: 'Case-insensitive substring.' }) }),
});
const numberFilter = (name: string, type: 'Int' | 'Float' | 'DateTime') =>
  builder.inputType(name, {
    fields: (t) => ({
      eq: t.field({ type }),
      gt: t.field({ type }),
      gte: t.field({ type }),
      lt: t.field({ type }),
      lte: t.field({ type }),
    }),
  });
const IntFilter = numberFilter('IntFilter', 'Int');
const FloatFilter = numberFilter('FloatFilter', 'Float');
const DateTimeFilter = numberFilter('DateTimeFilter', 'DateTime');

const SegmentFilter = builder.inputType('SegmentFilter', {
  description: 'All given conditions must hold.',
  fields: (t) => ({
    name: t.field({ type: StringFilter }),
    description: t.field({ type: StringFilter }),
    active: t.boolean(),
    customersCount: t.field({ type: IntFilter }),
    averageTransactionAmount: t.field({ type: FloatFilter }),
    averageTransactions: t.field({ type: FloatFilter }),
    averageClv: t.field({ type: FloatFilter }),
    createdAt: t.field({ type: DateTimeFilter }),
  }),
});

export const upperSnake = (field: string) => field.replace(/([A-Z])/g, '_$1').toUpperCase();
const SegmentOrderField = builder.enumType('SegmentOrderField', {
  values: Object.fromEntries(SEGMENT_LIST_FIELDS.map((field) => [upperSnake(field), { value: field }])),
});
export const SortDirection = builder.enumType('SortDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
});
const SegmentOrder = builder.inputType('SegmentOrder', {
  fields: (t) => ({
    field: t.field({ type: SegmentOrderField, required: true }),
    direction: t.field({ type: SortDirection, required: true }),
  }),
});

function toFilters(filter: Record<string, unknown> | null | undefined): ListFilter<SegmentListField>[] {
  if (!filter) return [];
  return Object.entries(filter).flatMap(([field, condition]) => {
    if (condition == null) return [];
    if (typeof condition !== 'object' || condition instanceof Date)
      return [{ field: field as SegmentListField, operator: 'eq' as const, value: condition as boolean }];
    return Object.entries(condition as Record<string, unknown>)
      .filter(([, value]) => value != null)
      .map(([operator, value]) => ({
        field: field as SegmentListField,
        operator: operator as FilterOperator,
        value: value as ListFilter["value"],
      }));
  });
}

export const ListTotal = builder.simpleObject('ListTotal', {
  fields: (t) => ({
    all: t.int({ description: 'Items without filters.' }),
    filtered: t.int({ description: 'Items matching the filters.' }),
    estimated: t.boolean({ description: 'Always false: both counts are exact.' }),
  }),
});

const SegmentPage = builder
  .objectRef<{ items: unknown[]; total: { all: number; filtered: number; estimated: boolean } }>('SegmentPage')
  .implement({
    fields: (t) => ({
      items: t.field({ type: [SegmentType], complexity: { field: 1, multiplier: 1 }, resolve: (page) => page.items as never }),
      total: t.field({ type: ListTotal, resolve: (page) => page.total }),
    }),
  });

const DeletedSegment = builder.simpleObject('DeletedSegment', {
  fields: (t) => ({ segmentId: t.id() }),
});

const store = managedStore;
const found = () => ({ types: [NotFound], directResult: true as const });
const checked = () => ({ types: [ValidationFailed, NotFound], directResult: true as const });

builder.queryFields((t) => ({
  segment: t.field({
    type: SegmentType,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), segmentId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => ctx.services.segments.get(await store(ctx, args.storeCode), String(args.segmentId)),
  }),
  segments: t.field({
    type: SegmentPage,
    errors: checked(),
    complexity: (args) => ({ field: 1, multiplier: args.itemsOnPage ?? 10 }),
    args: {
      storeCode: t.arg.string({ required: true }),
      filter: t.arg({ type: SegmentFilter }),
      orderBy: t.arg({ type: [SegmentOrder], description: 'Applied in order; then by creation, then id.' }),
      page: t.arg.int({ description: 'From 1; default 1.' }),
      itemsOnPage: t.arg.int({ description: '1..50; default 10.' }),
    },
    resolve: async (_, args, ctx, info) => {
      // The relations the query selects on the items (parts and their criteria) come with the
      // page, in the same statement batch, rather than through a re-fetch of every segment.
      const selection = queryFromInfo({ context: ctx, info, typeName: 'Segment', path: [{ name: 'items', type: 'SegmentPage' }] });
      return ctx.services.segments.list(
        await store(ctx, args.storeCode),
        {
          page: args.page ?? undefined,
          itemsOnPage: args.itemsOnPage ?? undefined,
          orderBy: args.orderBy ?? undefined,
          filters: toFilters(args.filter as Record<string, unknown>),
        },
        selection as { include?: Prisma.SegmentInclude },
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  createSegment: t.field({
    type: SegmentType,
    errors: checked(),
    args: { storeCode: t.arg.string({ required: true }), segment: t.arg({ type: CreateSegmentInput, required: true }) },
    resolve: async (_, args, ctx) =>
      ctx.services.segments.create(await store(ctx, args.storeCode), toDraft(args.segment as Record<string, unknown>)),
  }),
  updateSegment: t.field({
    type: SegmentType,
    errors: checked(),
    args: {
      storeCode: t.arg.string({ required: true }),
      segmentId: t.arg.id({ required: true }),
      segment: t.arg({ type: UpdateSegmentInput, required: true }),
    },
    resolve: async (_, args, ctx) =>
      ctx.services.segments.update(
        await store(ctx, args.storeCode),
        String(args.segmentId),
        toDraft(args.segment as Record<string, unknown>),
      ),
  }),
  deleteSegment: t.field({
    type: DeletedSegment,
    errors: checked(),
    args: { storeCode: t.arg.string({ required: true }), segmentId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => ({
      segmentId: await ctx.services.segments.delete(await store(ctx, args.storeCode), String(args.segmentId)),
    }),
  }),
  activateSegment: t.field({
    type: SegmentType,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), segmentId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) =>
      ctx.services.segments.setActive(await store(ctx, args.storeCode), String(args.segmentId), true),
  }),
  deactivateSegment: t.field({
    type: SegmentType,
    errors: found(),
    args: { storeCode: t.arg.string({ required: true }), segmentId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) =>
      ctx.services.segments.setActive(await store(ctx, args.storeCode), String(args.segmentId), false),
  }),
}));
