import { ValidationFailed } from '../../errors.ts';
import { requireAdmin } from '../../services/store-service.ts';
import { AccessError } from '../../errors.ts';
import { builder } from '../builder.ts';

const StoreType = builder.prismaObject('Store', {
  description: 'A tenant: every segment and member belongs to one store, addressed by its code.',
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    currency: t.exposeString('currency', { description: 'ISO 4217.' }),
    timezone: t.exposeString('timezone', { description: 'IANA zone; "today" and day boundaries use it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  stores: t.field({
    type: [StoreType],
    description: 'The stores the caller may manage.',
    resolve: (_, __, ctx) => ctx.services.stores.list(requireAdmin(ctx.viewer)),
  }),
}));

builder.mutationFields((t) => ({
  createStore: t.field({
    type: StoreType,
    errors: { types: [ValidationFailed], directResult: true },
    args: {
      code: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
      currency: t.arg.string({ description: 'Default EUR.' }),
      timezone: t.arg.string({ description: 'Default UTC.' }),
    },
    resolve: (_, args, ctx) => {
      if (!requireAdmin(ctx.viewer).allStores) throw new AccessError(403, 'Only an unrestricted admin can create stores.');
      return ctx.services.stores.create({
        code: args.code,
        name: args.name,
        currency: args.currency ?? undefined,
        timezone: args.timezone ?? undefined,
      });
    },
  }),
}));
