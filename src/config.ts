import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Everything the service reads from the environment, read once. */
export interface AppConfig {
  /** `postgresql://...` to use a PostgreSQL server; undefined to use the embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data folder, or `memory://` for a throw-away database. */
  dataDir: string;
  port: number;
  production: boolean;
  jwtSecret: string;
  /** Lifetime of an access token, in seconds. */
  jwtTtlSeconds: number;
  refreshTtlSeconds: number;
  adminUsername?: string;
  adminPassword?: string;
  /** Failed logins for one username allowed within the window before it is refused (429). */
  loginMaxFailures: number;
  loginWindowSeconds: number;
  /** Largest request body accepted, in bytes (413 past it). */
  bodyLimitBytes: number;
  /** `redis://...`: subscription events shared by every instance. Without it, in memory. */
  redisUrl?: string;
  /** How recalculation jobs reach workers: pg-boss on PostgreSQL, or in this process. */
  jobQueue: 'pg-boss' | 'in-process';
  /** Every active segment is recalculated this often; 0 turns the schedule off. */
  scheduleMinutes: number;
  /** A running job's lease: another instance takes the job over when it lapses. */
  jobLeaseSeconds: number;
  /** How often each instance sweeps for abandoned, undelivered and dirty work. */
  jobSweepSeconds: number;
  /** Whether this instance runs jobs (an instance may only serve requests). */
  runJobs: boolean;
  /**
   * Members evaluated per step of a recalculation (one RUNNING progress event per step). A step
   * costs about a scan of Member and MemberStats, so steps are large: see DEFAULT_CHUNK_SIZE in
   * src/services/recalculation-service.ts.
   */
  recalculationChunkSize: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const production = env.NODE_ENV === 'production';
  if (production && !env.JWT_SECRET) {
    throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production');
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || path.resolve('data'),
    port: env.PORT ? Number(env.PORT) : 4000,
    production,
    // Outside production a per-process secret is fine: tokens simply do not survive a restart.
    jwtSecret: env.JWT_SECRET || randomBytes(32).toString('hex'),
    jwtTtlSeconds: Number(env.JWT_TTL_SECONDS || 3600),
    refreshTtlSeconds: Number(env.REFRESH_TTL_SECONDS || 30 * 24 * 3600),
    adminUsername: env.ADMIN_USERNAME || undefined,
    adminPassword: env.ADMIN_PASSWORD || undefined,
    loginMaxFailures: Number(env.LOGIN_MAX_FAILURES || 5),
    loginWindowSeconds: Number(env.LOGIN_WINDOW_SECONDS || 300),
    bodyLimitBytes: 1024 * 1024,
    redisUrl: env.REDIS_URL || undefined,
    jobQueue: env.JOB_QUEUE === 'in-process' || !env.DATABASE_URL ? 'in-process' : 'pg-boss',
    scheduleMinutes: Number(env.RECALCULATION_SCHEDULE_MINUTES ?? 10),
    jobLeaseSeconds: Number(env.JOB_LEASE_SECONDS || 30),
    jobSweepSeconds: Number(env.JOB_SWEEP_SECONDS || 5),
    runJobs: env.RUN_JOBS !== 'false',
    recalculationChunkSize: positiveInteger(env, 'RECALCULATION_CHUNK_SIZE', 1_000_000),
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer, not "${raw}"`);
  return value;
}
