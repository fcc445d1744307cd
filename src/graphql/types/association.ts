import { NotFound, ValidationFailed } from '../../errors.ts';
import { ASSOCIATION_RESOURCES, additionalData, type TargetingResource } from '../../services/association-service.ts';
import type { Segment } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import { managedStore, type Context } from '../context.ts';
import { SegmentType } from './segment.ts';

/** Campaigns, rewards and achievements: what targets segments (DOMAIN.md section 8). */
const resourceFields = (t: PothosSchemaTypes.ObjectFieldBuilder<any, TargetingResource>) => ({
  id: t.exposeID('id'),
  name: t.exposeString('name'),
  active: t.exposeBoolean('active'),
  additionalData: t.field({
    type: 'JSONObject',
    description: 'String facts about the resource (type, validity dates, ...).',
    resolve: (resource: TargetingResource) => additionalData(resource),
  }),
  segments: t.field({
    type: [SegmentType],
    description: 'The segments this resource targets.',
    resolve: async (resource: TargetingResource, _: unknown, ctx: Context) =>
      (await ctx.loaders.segmentsById.loadMany(resource.segmentIds)).filter(
        (segment): segment is Segment => segment !== null && !(segment instanceof Error),
      ),
  }),
});

const CampaignType = builder.prismaObject('Campaign', { fields: (t) => resourceFields(t as never) });
const RewardType = builder.prismaObject('Reward', { fields: (t) => resourceFields(t as never) });
const AchievementType = builder.prismaObject('Achievement', { fields: (t) => resourceFields(t as never) });

const AssociationResourceEnum = builder.enumType('AssociationResource', {
  values: Object.fromEntries(ASSOCIATION_RESOURCES.map((name) => [name.toUpperCase(), { value: name }])) as Record<
    'CAMPAIGN' | 'REWARD' | 'ACHIEVEMENT',
    { value: (typeof ASSOCIATION_RESOURCES)[number] }
  >,
});

const AssociatedResource = builder.objectRef<TargetingResource>('AssociatedResource').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    active: t.exposeBoolean('active'),
    additionalData: t.field({ type: 'JSONObject', resolve: (resource) => additionalData(resource) }),
  }),
});
const AssociationTotal = builder.simpleObject('AssociationTotal', {
  fields: (t) => ({ all: t.int(), estimated: t.boolean() }),
});
const AssociationPage = builder
  .objectRef<{ items: TargetingResource[]; total: { all: number; estimated: boolean } }>('AssociationPage')
  .implement({
    fields: (t) => ({
      items: t.field({ type: [AssociatedResource], complexity: { field: 1, multiplier: 1 }, resolve: (page) => page.items }),
      total: t.field({ type: AssociationTotal, resolve: (page) => page.total }),
    }),
  });

// Segment -> what targets it, one paged list per kind.
for (const [field, resource, type] of [
  ['campaigns', 'campaign', CampaignType],
  ['rewards', 'reward', RewardType],
  ['achievements', 'achievement', AchievementType],
] as const) {
  builder.prismaObjectField('Segment', field, (t) =>
    t.field({
      type: [type as typeof CampaignType],
      description: `The ${field} that target this segment, by name.`,
      args: { page: t.arg.int({ defaultValue: 1 }), itemsOnPage: t.arg.int({ defaultValue: 10 }) },
      complexity: (args) => ({ field: 1, multiplier: args.itemsOnPage ?? 10 }),
      resolve: (segment, args, ctx) => {
        const { skip, take } = ctx.services.associations.paging(args.page, args.itemsOnPage);
        return ctx.loaders.associations.load({ storeId: segment.storeId, resource, segmentId: segment.id, skip, take }) as never;
      },
    }),
  );
}

const store = managedStore;

builder.queryFields((t) => ({
  segmentAssociations: t.field({
    type: AssociationPage,
    errors: { types: [ValidationFailed, NotFound], directResult: true },
    description: 'Resources of one kind targeting a segment (REST: GET .../association/{resourceName}).',
    args: {
      storeCode: t.arg.string({ required: true }),
      segmentId: t.arg.id({ required: true }),
      resource: t.arg({ type: AssociationResourceEnum, required: true }),
      page: t.arg.int(),
      itemsOnPage: t.arg.int(),
    },
    resolve: async (_, args, ctx) =>
      ctx.services.associations.list(await store(ctx, args.storeCode), String(args.segmentId), args.resource, {
        page: args.page ?? undefined,
        itemsOnPage: args.itemsOnPage ?? undefined,
      }),
  }),
}));
