import type { PrismaClient } from '../generated/prisma/client.ts';
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
}
