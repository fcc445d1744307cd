import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';

/** The databases every suite runs against: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export type DatabaseKind = 'pglite' | 'postgresql';

const postgresUrl = process.env.TEST_DATABASE_URL;

export const databaseKinds: DatabaseKind[] = postgresUrl ? ['pglite', 'postgresql'] : ['pglite'];

/**
 * Runs a suite once per database. Without TEST_DATABASE_URL the PostgreSQL run is reported as
 * skipped, so nobody mistakes a PGlite-only run for a full one.
 */
export function describeEachDatabase(name: string, suite: (kind: DatabaseKind) => void) {
  describe.each(databaseKinds)(`${name} [%s]`, (kind) => suite(kind));
  if (!postgresUrl) describe.skip(`${name} [postgresql: set TEST_DATABASE_URL to run]`, () => suite('postgresql'));
}

/** A fresh, migrated database: in-memory PGlite, or a new PostgreSQL database dropped on close. */
export async function freshDatabase(kind: DatabaseKind, options: { onQuery?: (sql: string) => void } = {}): Promise<Database> {
  if (kind === 'pglite') return openDatabase({ dataDir: 'memory://', ...options });
  if (!postgresUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `sg_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), ...options });
  return {
    ...database,
    close: async () => {
      await database.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
