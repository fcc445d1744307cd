import { AccessError, NotFound, ValidationFailed } from '../../errors.ts';
import { requireAdmin } from '../../services/store-service.ts';
import { builder } from '../builder.ts';

const TokenPair = builder.simpleObject('TokenPair', {
  description: 'A short-lived JWT and a refresh token that works once.',
  fields: (t) => ({ token: t.string(), refresh_token: t.string() }),
});

const ApiKeyType = builder.prismaObject('ApiKey', {
  description: 'An API key sent as X-AUTH-TOKEN. Only its hash is stored.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'First characters of the key, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedApiKey = builder.simpleObject('CreatedApiKey', {
  fields: (t) => ({
    key: t.string({ description: 'The key itself: shown this once, never again.' }),
    apiKey: t.field({ type: ApiKeyType }),
  }),
});

const AdminType = builder.prismaObject('Admin', {
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    allStores: t.exposeBoolean('allStores', { description: 'False when limited to `stores`.' }),
    storeCodes: t.stringList({
      select: { stores: { select: { store: { select: { code: true } } } } },
      resolve: (admin) => admin.stores.map((link) => link.store.code),
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'Admin',
    description: 'The admin the credentials belong to.',
    resolve: (query, _, __, ctx) =>
      ctx.prisma.admin.findUniqueOrThrow({ ...query, where: { id: requireAdmin(ctx.viewer).adminId } }),
  }),
  apiKeys: t.prismaField({
    type: ['ApiKey'],
    description: 'The calling admin’s API keys, revoked ones included.',
    resolve: (query, _, __, ctx) =>
      ctx.prisma.apiKey.findMany({ ...query, where: { adminId: requireAdmin(ctx.viewer).adminId }, orderBy: { createdAt: 'asc' } }),
  }),
}));

builder.mutationFields((t) => ({
  adminLogin: t.field({
    type: TokenPair,
    description: 'Exchanges an admin username and password for tokens (REST: POST /api/admin/login_check).',
    args: { username: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: (_, args, ctx) => ctx.services.auth.adminLogin(args.username, args.password),
  }),
  refreshToken: t.field({
    type: TokenPair,
    description: 'Spends a refresh token for a new pair (REST: POST /api/token/refresh).',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_, args, ctx) => ctx.services.auth.refresh(args.refreshToken),
  }),
  memberLogin: t.field({
    type: TokenPair,
    errors: { types: [NotFound], directResult: true },
    description: 'Member login by email, phone or loyalty card number (REST: POST /api/{storeCode}/member/login_check).',
    args: {
      storeCode: t.arg.string({ required: true }),
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_, args, ctx) => {
      const store = await ctx.services.stores.getByCode(args.storeCode);
      return ctx.services.auth.memberLogin(store.id, args.username, args.password);
    },
  }),
  memberRefreshToken: t.field({
    type: TokenPair,
    errors: { types: [NotFound], directResult: true },
    description: 'Spends a member refresh token (REST: POST /api/{storeCode}/token/refresh).',
    args: { storeCode: t.arg.string({ required: true }), refreshToken: t.arg.string({ required: true }) },
    resolve: async (_, args, ctx) => {
      const store = await ctx.services.stores.getByCode(args.storeCode);
      return ctx.services.auth.refresh(args.refreshToken, { kind: 'member', storeId: store.id });
    },
  }),
  createApiKey: t.field({
    type: CreatedApiKey,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_, args, ctx) => ctx.services.auth.createApiKey(requireAdmin(ctx.viewer).adminId, args.name),
  }),
  revokeApiKey: t.field({
    type: 'Boolean',
    errors: { types: [NotFound] },
    args: { apiKeyId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => {
      const revoked = await ctx.services.auth.revokeApiKey(requireAdmin(ctx.viewer).adminId, String(args.apiKeyId));
      if (!revoked) throw new NotFound('No such active API key.');
      return true;
    },
  }),
  createAdmin: t.field({
    type: AdminType,
    description: 'Creates an admin; with storeCodes the admin is limited to those stores.',
    errors: { types: [ValidationFailed], directResult: true },
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      storeCodes: t.arg.stringList(),
    },
    resolve: async (_, args, ctx) => {
      // An admin limited to some stores must not mint an admin with more reach than its own.
      if (!requireAdmin(ctx.viewer).allStores) throw new AccessError(403, 'Only an unrestricted admin can create admins.');
      return ctx.services.auth.createAdmin({ ...args, storeCodes: args.storeCodes ?? undefined });
    },
  }),
}));
