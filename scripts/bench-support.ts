import pg from 'pg';

/**
 * What the benchmark scripts share: each makes a scratch database on the PostgreSQL server of
 * TEST_DATABASE_URL (default: the local server's `postgres` database) and drops it at the end.
 */
export const benchServerUrl = process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

/** One statement on the server's maintenance connection (CREATE / DROP DATABASE). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: benchServerUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the same server. */
export function benchDatabaseUrl(name: string): string {
  const url = new URL(benchServerUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
