import { randomUUID } from 'node:crypto';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { AppConfig } from './config.ts';
import { AccessError, NotFound, ValidationFailed } from './errors.ts';
import { openDatabase, type Database } from './db/database.ts';
import type { Context } from './graphql/context.ts';
import { createLoaders } from './graphql/loaders.ts';
import { schema } from './graphql/schema.ts';
import { armorPlugins, maskError } from './graphql/security.ts';
import { restPlugin } from './rest/plugin.ts';
import { dashboardPlugin } from './dashboard/plugin.ts';
import { createServices, type Services } from './services/index.ts';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import { InProcessDelivery, PgBossDelivery } from './jobs/delivery.ts';
import { createEvents } from './jobs/events.ts';
import { useSharedSubscriptionResults } from './graphql/shared-subscription-results.ts';
import type { Viewer } from './services/auth-service.ts';

/** Per-request server context: the REST layer passes the viewer it already resolved. */
export interface ServerContext {
  viewer?: Viewer | null;
}

export interface App {
  yoga: YogaServerInstance<ServerContext, Context>;
  services: Services;
  database: Database;
  config: AppConfig;
  close(): Promise<void>;
}

/** Builds the whole service (database, services, GraphQL, REST) without listening. */
export async function buildApp(config: AppConfig, options: { database?: Database } = {}): Promise<App> {
  const database = options.database ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  const redis = config.redisUrl ? redisConnections(config.redisUrl) : undefined;
  const services = createServices(database.prisma, config, {
    events: createEvents(redis && createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe })),
    delivery: config.jobQueue === 'pg-boss' && config.databaseUrl ? new PgBossDelivery(config.databaseUrl) : new InProcessDelivery(),
  });
  if (config.runJobs) await services.jobs.start();

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Segment gateway', defaultQuery: GRAPHIQL_QUERY },
    maskedErrors: { maskError: (error) => maskError(error, () => randomUUID()) },
    logging: quietLogger,
    context: async ({ request, viewer }) => ({
      prisma: database.prisma,
      services,
      viewer: viewer !== undefined ? viewer : await services.auth.authenticate(request.headers),
      loaders: createLoaders(database.prisma, services),
      events: services.events,
    }),
    plugins: [
      ...armorPlugins(),
      restPlugin({ services, bodyLimitBytes: config.bodyLimitBytes }),
      dashboardPlugin(),
      // Each subscription event executed once for all subscribers asking the same of it.
      useSharedSubscriptionResults<Context>({ scope: (ctx) => viewerScope(ctx.viewer) }),
    ],
  });

  return {
    yoga,
    services,
    database,
    config,
    /** Stops taking jobs (running ones finish), then closes Redis and the database. */
    close: async () => {
      await services.jobs.stop();
      redis?.publish.disconnect();
      redis?.subscribe.disconnect();
      await database.close();
    },
  };
}

const GRAPHIQL_QUERY = `# Log in with POST /api/admin/login_check, then add the header
#   {"Authorization": "Bearer <token>"}
query Segments {
  segments(storeCode: "DEFAULT", itemsOnPage: 10) {
    ... on SegmentPage {
      total { all filtered }
      items { segmentId name active customersCount parts { criteria { type } } }
    }
  }
}
`;

/** What a subscription's results may depend on besides its document and variables: whose stores. */
function viewerScope(viewer: Viewer | null): string {
  if (!viewer) return 'anonymous';
  if (viewer.kind !== 'admin') return `member:${viewer.memberId}`;
  return viewer.allStores ? 'admin:all' : `admin:${[...viewer.storeIds].sort().join(',')}`;
}

/** Redis needs one connection to publish and another one in subscriber mode. */
function redisConnections(url: string) {
  return { publish: new Redis(url), subscribe: new Redis(url) };
}

/**
 * yoga's logger, without the errors that are answers (bad credentials, not found, invalid
 * input): those are the client's, and logging each would bury the real ones, which maskError
 * logs with their request id.
 */
const quietLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => {
    const expected = args.some(
      (arg) => arg instanceof AccessError || arg instanceof NotFound || arg instanceof ValidationFailed || arg instanceof GraphQLError,
    );
    if (!expected) console.error(...args);
  },
};
