import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

const MS_PER_TICK = 1000 / clockTicksPerSecond();
/** The unit of /proc's CPU times; Linux's usual 100 when getconf cannot tell. */
function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 100;
  } catch {
    return 100;
  }
}

/**
 * The pids of the local server's processes serving database `dbName`, read from /proc: a pgrep
 * would fork the calling process and hold its event loop meanwhile (in bench:ingest's import
 * process, that cost a fifth of the throughput it measured).
 */
export function backendPids(dbName: string): string[] {
  const pids: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // A backend's title: "postgres: [<cluster>: ]<user> <database> <client> <state>".
      const title = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (title.startsWith('postgres: ') && title.split(' ').includes(dbName)) pids.push(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** CPU time (ms, user + system) each of these processes has used so far; ended ones are left out. */
export function cpuMsOf(pids: string[]): Map<string, number> {
  const used = new Map<string, number>();
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      used.set(pid, (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK);
    } catch {
      // the process ended meanwhile
    }
  }
  return used;
}
