import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.ts';
import { applyMigrations, type SqlRunner } from './migrations.ts';

export type DatabaseKind = 'pglite' | 'postgresql';

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgresql://...`; without it the embedded PGlite is used. */
  url?: string;
  /** PGlite folder (created if missing) or `memory://`. */
  dataDir?: string;
  /** Called with every SQL statement Prisma sends (tests count them to catch N+1 queries). */
  onQuery?: (sql: string) => void;
}

/** Opens the configured database, applies pending migrations, and returns a Prisma client on it. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.onQuery) : openPglite(options.dataDir ?? 'memory://', options.onQuery);
}

async function openPglite(dataDir: string, onQuery?: (sql: string) => void): Promise<Database> {
  const pglite = await PGlite.create(dataDir);
  await applyMigrations({
    exec: async (script) => {
      await pglite.exec(script);
    },
    query: async (sql, params) => (await pglite.query(sql, params)).rows as never[],
  });
  const prisma = withQueryLog(new PrismaClient({ adapter: new PrismaPGlite(pglite), ...queryLog(onQuery) }), onQuery);
  return {
    kind: 'pglite',
    prisma,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

async function openPostgres(url: string, onQuery?: (sql: string) => void): Promise<Database> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await applyMigrations(pgRunner(client));
  } finally {
    await client.end();
  }
  const prisma = withQueryLog(new PrismaClient({ adapter: new PrismaPg({ connectionString: url }), ...queryLog(onQuery) }), onQuery);
  postgresUrls.set(prisma, url);
  return { kind: 'postgresql', prisma, close: () => prisma.$disconnect() };
}

const postgresUrls = new WeakMap<PrismaClient, string>();

/**
 * The PostgreSQL server a client opened here talks to (undefined on PGlite): for the few paths
 * that write through `pg` directly (bulk ingestion), bypassing Prisma's query layer.
 */
export function postgresUrlOf(prisma: PrismaClient): string | undefined {
  return postgresUrls.get(prisma);
}

export function pgRunner(client: pg.Client): SqlRunner {
  return {
    exec: async (script) => {
      await client.query(script);
    },
    query: async (sql, params) => (await client.query(sql, params)).rows,
  };
}

const queryLog = (onQuery?: (sql: string) => void) =>
  onQuery ? { log: [{ emit: 'event' as const, level: 'query' as const }] } : {};

function withQueryLog(prisma: PrismaClient, onQuery?: (sql: string) => void): PrismaClient {
  if (onQuery) (prisma as PrismaClient<'query'>).$on('query', (event) => onQuery(event.query));
  return prisma;
}
