import type { PrismaClient, Store } from '../generated/prisma/client.ts';
import type { Loaders } from './loaders.ts';
import type { Services } from '../services/index.ts';
import type { Viewer } from '../services/auth-service.ts';

/** What every resolver gets: the database, the services, and who is calling. */
export interface Context {
  prisma: PrismaClient;
  services: Services;
  viewer: Viewer | null;
  /** Subscription events (in memory or through Redis). */
  events: Services['events'];
  /** Per-request batch loaders. */
  loaders: Loaders;
  /**
   * Set by the REST layer (server context, out of clients' reach): the store of the route,
   * already resolved and checked for this viewer before the route's document runs.
   */
  restStore?: Store;
}

/** The store a management operation names, checked for the viewer (once per REST request). */
export function managedStore(ctx: Context, storeCode: string): Promise<Store> {
  if (ctx.restStore && ctx.restStore.code === storeCode) return Promise.resolve(ctx.restStore);
  return ctx.services.stores.requireManaged(ctx.viewer, storeCode);
}
