/**
 * Read throughput of the GraphQL API and of the REST layer, beside a floor measured in the same run.
 *
 *   npm run bench:graphql -- [--duration 10] [--connections 10] [--warmup 2] [--rounds 3]
 *                            [--members 200] [--cpu-prof DIR]
 *
 * 1. Creates a fresh database bench_graphql_<random> on TEST_DATABASE_URL's server (default
 *    postgresql://postgres@127.0.0.1:5432/postgres), builds the app on it with `buildApp` (jobs in
 *    process, no schedule, no sweep) and fills it: 50 segments of 2 parts, N members (40 per
 *    segment, each member in 50·40/N segments), a campaign per segment, a reward per segment
 *    (targeting it and the next one), the memberships (written directly), and an admin whose token
 *    the load sends.
 * 2. App: the issue's query (50 segments with their parts, campaigns, rewards, first 20 members and
 *    those members' segments) POSTed to the real HTTP server (`createHttpServer`) on 127.0.0.1.
 * 3. Floor: a minimal graphql-yoga server (no Pothos, auth, armor or REST plugin) on the same
 *    database, answering the same query with a handful of batched SQL queries through `pg`.
 *    Before measuring, both answers must be equal (deep-equal after sorting every list).
 * 4. REST: GET /api/DEFAULT/segment?_itemsOnPage=50 against the GraphQL document that route runs
 *    (segmentGetList, same variables) POSTed to /graphql, both on the app. Before measuring, the
 *    route's shaping of the GraphQL answer must equal the REST answer.
 * 5. Drops the database.
 *
 * Every load is autocannon in a child process (scripts/bench-load.mjs) for a fixed duration after
 * a warm-up; the next load starts once the servers have answered every request. The targets of a
 * comparison run back to back, in alternating order, once per round; the summary gives medians
 * over rounds, and ratios taken per round. Besides requests per second, each load reports the CPU
 * time per request of the server process and of the database's PostgreSQL backends (from /proc,
 * when the server is local): on a shared machine those hold better than throughput does.
 * The npm script runs with NODE_ENV=production (graphql-js skips its development checks), as a
 * deployment would. With --cpu-prof DIR the server process is profiled during each load (V8 CPU
 * profiles in DIR, one per target and round).
 */
import { adminQuery, backendPids, benchDatabaseUrl, cpuMsOf } from './bench-support.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSchema, createYoga } from 'graphql-yoga';
import pg from 'pg';
import { buildApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createHttpServer } from '../src/http-server.ts';
import { routes } from '../src/rest/routes.ts';
import { MEMBERSHIP_BLOCKS, insertMemberships } from '../src/services/memberships.ts';

const SEGMENTS = 50;
const MEMBERS_PER_SEGMENT = 40;
/** Targets of the issue: the app at 70% of the floor or better, REST within 15% of GraphQL. */
const APP_TARGET = 0.7;
const REST_TARGET = 0.15;

const USAGE =
  'Usage: npm run bench:graphql -- [--duration S] [--connections N] [--warmup S] [--rounds N] [--members N] [--cpu-prof DIR]';
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    members: { type: 'string', default: '200' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);
const memberCount = Number(values.members);
const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
if (
  values.help ||
  !positiveInt(duration) ||
  !positiveInt(connections) ||
  !(Number.isInteger(warmup) && warmup >= 0) ||
  !positiveInt(rounds) ||
  !(Number.isInteger(memberCount) && memberCount >= MEMBERS_PER_SEGMENT)
) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const profileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;

/** The query of the issue (test/query-count.test.ts counts its SQL statements). */
const ISSUE_QUERY = `{
  segments(storeCode: "DEFAULT", itemsOnPage: 50) {
    ... on SegmentPage {
      items {
        name customersCount
        parts { criteria { type } }
        campaigns { name }
        rewards { name }
        members(first: 20) { customerId segments { name } }
      }
    }
  }
}`;

const uuid = (prefix: number, n: number) => `${prefix}0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;


// ---------------------------------------------------------------------------------------------
// Data

async function fill(app: App, username: string, password: string) {
  const { services, database } = app;
  const store = await services.stores.ensure({ code: 'DEFAULT', name: 'Default store' });
  await services.auth.ensureBootstrapAdmin();
  const token = (await services.auth.adminLogin(username, password)).token;

  // Inactive: creating an active segment queues its recalculation, which would replace the
  // memberships written below.
  const segmentIds: string[] = [];
  for (let s = 0; s < SEGMENTS; s++) {
    const segment = await services.segments.create(store, {
      name: `Segment ${String(s).padStart(2, '0')}`,
      active: false,
      parts: [
        { criteria: [{ type: 'transaction_count', min: 0, max: 5 + s }] },
        {
          criteria: [
            { type: 'gender', genders: ['female'] },
            { type: 'city', cities: [`City ${s}`] },
          ],
        },
      ],
    });
    segmentIds.push(segment.id);
  }

  const records: unknown[] = [];
  for (let m = 0; m < memberCount; m++)
    records.push({ kind: 'member', customerId: uuid(3, m), firstName: `First${m}`, lastName: `Last${m}`, email: `m${m}@example.com` });
  segmentIds.forEach((segmentId, s) => {
    records.push({ kind: 'campaign', id: uuid(4, s), name: `Campaign ${s}`, segmentIds: [segmentId] });
    records.push({ kind: 'reward', id: uuid(5, s), name: `Reward ${s}`, segmentIds: [segmentId, segmentIds[(s + 1) % SEGMENTS]] });
  });
  const summary = await services.ingest.importRecords(store, records);
  if (summary.failed) throw new Error(`import failed: ${JSON.stringify(summary.errors.slice(0, 3))}`);

  // Memberships written directly (as test/query-count.test.ts does); distinct joinedAt instants
  // so that every ordered list has one order.
  const base = Date.UTC(2024, 0, 1);
  const memberships = segmentIds.map((segmentId, s) => {
    const ids = new Set(Array.from({ length: MEMBERS_PER_SEGMENT }, (_, k) => uuid(3, (s * 4 + k) % memberCount)));
    return [...ids].map((memberId, k) => ({ segmentId, memberId, joinedAt: new Date(base + (s * MEMBERS_PER_SEGMENT + k) * 1000) }));
  });
  await insertMemberships(database.prisma, memberships.flat());
  for (const [s, segmentId] of segmentIds.entries()) {
    const count = memberships[s].length;
    await database.prisma.segment.update({ where: { id: segmentId }, data: { customersCount: count, calculatedAt: new Date() } });
  }
  return token;
}

// ---------------------------------------------------------------------------------------------
// Floor: graphql-yoga + hand-written SQL

const FLOOR_TYPE_DEFS = /* GraphQL */ `
  type Query {
    segments(storeCode: String!, itemsOnPage: Int, page: Int): SegmentsResult!
  }
  union SegmentsResult = SegmentPage | NotFoundError
  type NotFoundError { message: String! }
  type SegmentPage { items: [Segment!]! }
  type Segment {
    name: String!
    customersCount: Int!
    parts: [SegmentPart!]!
    campaigns: [Named!]!
    rewards: [Named!]!
    members(first: Int = 20): [Member!]!
  }
  type SegmentPart { criteria: [Criterion!]! }
  type Criterion { type: String! }
  type Named { name: String! }
  type Member { customerId: ID! segments: [Named!]! }
`;

interface FloorSegment {
  id: string;
  name: string;
  customersCount: number;
  batch: FloorBatch;
}
interface FloorMember {
  customerId: string;
  batch: FloorBatch;
}

/**
 * The page's segments and, loaded once for the whole page when a field first asks (one query per
 * level of the selection, as a dataloader would), their parts, targeting resources and members.
 */
class FloorBatch {
  private memo = new Map<string, Promise<Map<string, unknown[]>>>();
  readonly memberIds = new Set<string>();
  constructor(
    private readonly pool: pg.Pool,
    readonly storeId: string,
    readonly segmentIds: string[],
  ) {}

  private once(key: string, load: () => Promise<Map<string, unknown[]>>) {
    let found = this.memo.get(key);
    if (!found) this.memo.set(key, (found = load()));
    return found;
  }

  private async grouped(sql: string, params: unknown[], key: string, shape: (row: any) => unknown) {
    const { rows } = await this.pool.query(sql, params);
    const groups = new Map<string, unknown[]>();
    for (const row of rows) {
      let group = groups.get(row[key]);
      if (!group) groups.set(row[key], (group = []));
      group.push(shape(row));
    }
    return groups;
  }

  parts() {
    return this.once('parts', async () => {
      const { rows } = await this.pool.query(
        `SELECT p."segmentId", p.id AS "partId", upper(c.type) AS type
         FROM "SegmentPart" p LEFT JOIN "Criterion" c ON c."partId" = p.id
         WHERE p."segmentId" = ANY($1::uuid[])
         ORDER BY p."segmentId", p.position, c.position`,
        [this.segmentIds],
      );
      const groups = new Map<string, unknown[]>();
      let last: { criteria: { type: string }[] } | undefined;
      let lastId: string | undefined;
      for (const row of rows) {
        if (row.partId !== lastId) {
          lastId = row.partId;
          last = { criteria: [] };
          let group = groups.get(row.segmentId);
          if (!group) groups.set(row.segmentId, (group = []));
          group.push(last);
        }
        if (row.type) last!.criteria.push({ type: row.type });
      }
      return groups;
    });
  }

  /** The first page (10, by name) of a kind of resource targeting each segment. */
  targeting(table: 'Campaign' | 'Reward') {
    return this.once(table, () =>
      this.grouped(
        `SELECT x."segmentId", x.name FROM (
           SELECT s.seg::text AS "segmentId", r.name,
                  row_number() OVER (PARTITION BY s.seg ORDER BY r.name, r.id) AS rn
           FROM "${table}" r CROSS JOIN LATERAL unnest(r."segmentIds") AS s(seg)
           WHERE r."storeId" = $1::uuid AND s.seg = ANY($2::uuid[])
         ) x WHERE x.rn <= 10 ORDER BY x."segmentId", x.rn`,
        [this.storeId, this.segmentIds],
        'segmentId',
        (row) => ({ name: row.name }),
      ),
    );
  }

  members(first: number) {
    return this.once(`members:${first}`, () =>
      this.grouped(
        `SELECT x."segmentId", x."memberId" FROM (
           SELECT b."segmentId", sm."memberId",
                  row_number() OVER (PARTITION BY b."segmentId" ORDER BY sm."joinedAt", sm."memberId") AS rn
           FROM "SegmentMemberBlock" b CROSS JOIN LATERAL unnest(b."memberIds", b."joinedAt") AS sm("memberId", "joinedAt")
           WHERE b."segmentId" = ANY($1::uuid[])
         ) x WHERE x.rn <= $2 ORDER BY x."segmentId", x.rn`,
        [this.segmentIds, first],
        'segmentId',
        (row) => {
          this.memberIds.add(row.memberId);
          return { customerId: row.memberId, batch: this } satisfies FloorMember;
        },
      ),
    );
  }

  /** Every segment of every member loaded so far, in the order the member joined them. */
  memberSegments() {
    return this.once('memberSegments', () =>
      this.grouped(
        `SELECT m.id AS "memberId", s.name FROM unnest($1::uuid[]) AS m(id)
         JOIN "Segment" s ON s."storeId" = $2::uuid
         JOIN "SegmentMemberBlock" b ON b."segmentId" = s.id AND b."block" = (uuid_hash(m.id) & ${MEMBERSHIP_BLOCKS - 1})
         CROSS JOIN LATERAL (SELECT array_position(b."memberIds", m.id) AS position) p
         WHERE p.position IS NOT NULL ORDER BY m.id, b."joinedAt"[p.position]`,
        [[...this.memberIds], this.storeId],
        'memberId',
        (row) => ({ name: row.name }),
      ),
    );
  }
}

function floorYoga(pool: pg.Pool) {
  const schema = createSchema({
    typeDefs: FLOOR_TYPE_DEFS,
    resolvers: {
      Query: {
        segments: async (_: unknown, args: { storeCode: string; itemsOnPage?: number | null; page?: number | null }) => {
          const take = Math.min(Math.max(args.itemsOnPage ?? 10, 1), 50);
          const skip = ((args.page ?? 1) - 1) * take;
          const { rows } = await pool.query(
            `SELECT s.id, s."storeId", s.name, s."customersCount"
             FROM "Segment" s JOIN "Store" st ON st.id = s."storeId"
             WHERE st.code = $1 ORDER BY s."createdAt", s.id LIMIT $2 OFFSET $3`,
            [args.storeCode, take, skip],
          );
          if (!rows.length) return { __typename: 'SegmentPage', items: [] };
          const batch = new FloorBatch(pool, rows[0].storeId, rows.map((row) => row.id));
          return {
            __typename: 'SegmentPage',
            items: rows.map((row): FloorSegment => ({ id: row.id, name: row.name, customersCount: row.customersCount, batch })),
          };
        },
      },
      SegmentsResult: { __resolveType: (value: { __typename: string }) => value.__typename },
      Segment: {
        parts: async (segment: FloorSegment) => (await segment.batch.parts()).get(segment.id) ?? [],
        campaigns: async (segment: FloorSegment) => (await segment.batch.targeting('Campaign')).get(segment.id) ?? [],
        rewards: async (segment: FloorSegment) => (await segment.batch.targeting('Reward')).get(segment.id) ?? [],
        members: async (segment: FloorSegment, args: { first: number }) =>
          (await segment.batch.members(Math.min(Math.max(args.first, 1), 100))).get(segment.id) ?? [],
      },
      Member: {
        segments: async (member: FloorMember) => (await member.batch.memberSegments()).get(member.customerId) ?? [],
      },
    },
  });
  return createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, graphiql: false });
}

// ---------------------------------------------------------------------------------------------
// Load and measurement

interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  bytesPerSecond: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU time (user + system) the server process spent per request answered, warm-up included. */
  serverCpuMs: number;
  /** The same for the database's PostgreSQL backends, when the server runs here (else null). */
  databaseCpuMs: number | null;
}

interface Target {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

const LOAD_SCRIPT = fileURLToPath(new URL('./bench-load.mjs', import.meta.url));

/**
 * Requests the servers have not finished handling. The last ones of a load may outlive the load
 * process; a handler can also hang for good on a response its client hung up on (a write that
 * never drains), so a request whose client left more than ABANDONED_MS ago no longer counts.
 */
const pending = new Map<object, { closedAt?: number }>();
const ABANDONED_MS = 5000;
let answered = 0;
function track(server: Server) {
  // Counted around the handler: a response's 'close' fires as soon as the client hangs up,
  // while the handler may still be running (and querying) for a while.
  const handlers = server.listeners('request') as ((request: unknown, response: unknown) => unknown)[];
  server.removeAllListeners('request');
  server.on('request', async (request, response) => {
    const entry: { closedAt?: number } = {};
    pending.set(request, entry);
    response.on('close', () => (entry.closedAt = Date.now()));
    try {
      for (const handler of handlers) await handler(request, response);
    } finally {
      pending.delete(request);
      answered++;
    }
  });
}
async function idle() {
  const busy = () => [...pending.values()].some(({ closedAt }) => closedAt === undefined || Date.now() - closedAt < ABANDONED_MS);
  while (busy()) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * Runs autocannon against the target in a child process and returns its summary, once the
 * servers have answered everything (so that no work spills into the next measurement).
 */
async function load(target: Target): Promise<LoadResult> {
  const [cpu, backends, before] = [process.cpuUsage(), backendCpu(), answered];
  const result = await runLoad(target);
  await idle();
  const used = process.cpuUsage(cpu);
  const count = Math.max(1, answered - before);
  const after = backendCpu();
  const database = after && backends && [...after].reduce((sum, [pid, ms]) => sum + ms - (backends.get(pid) ?? 0), 0);
  return { ...result, serverCpuMs: (used.user + used.system) / 1000 / count, databaseCpuMs: database === null ? null : database / count };
}

/** CPU time (ms) used so far by each PostgreSQL backend of the bench database, read from /proc. */
function backendCpu(): Map<string, number> | null {
  const pids = backendPids(dbName);
  return pids.length ? cpuMsOf(pids) : null;
}

function runLoad(target: Target): Promise<Omit<LoadResult, 'serverCpuMs'>> {
  const options = { url: target.url, method: target.method, headers: target.headers, body: target.body, connections, duration, warmup };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_SCRIPT, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill(), (warmup + duration + 60) * 1000);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load process exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!));
      } catch (error) {
        reject(new Error(`unreadable load result: ${out}`, { cause: error }));
      }
    });
  });
}

let profiler: Session | undefined;
async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!profileDir) return run();
  if (!profiler) {
    mkdirSync(profileDir, { recursive: true });
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
  }
  await profiler.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await profiler.post('Profiler.stop');
    const file = path.join(profileDir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    console.log(`  profile: ${file}`);
  }
}

async function request(target: Target) {
  const response = await fetch(target.url, { method: target.method, headers: target.headers, body: target.body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${target.name}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Every array sorted (by its items' canonical JSON) and every object's keys sorted, recursively. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map(canonical)
      .map((item) => [JSON.stringify(item), item] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => item);
  }
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  return value;
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const fmt = (n: number, digits = 0) => n.toFixed(digits);
const perRequest = (ms: number | null) => (ms === null ? '?' : fmt(ms, 1));

/** One target's rounds, summed up by medians. */
interface Summary {
  rounds: LoadResult[];
  rps: number;
  p99: number;
  serverCpuMs: number;
  databaseCpuMs: number | null;
}

/**
 * Loads each target once per round, alternating their order from round to round so that neither
 * always runs first; the two sides of a comparison run back to back, so a ratio is taken per round.
 */
async function measure(targets: Target[]): Promise<Map<string, Summary>> {
  const results = new Map<string, LoadResult[]>(targets.map((target) => [target.name, []]));
  for (let round = 1; round <= rounds; round++) {
    const ordered = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of ordered) {
      const result = await profiled(`${target.name.replace(/\W+/g, '-')}-${round}`, () => load(target));
      if (result.errors || result.timeouts || result.non2xx)
        throw new Error(`${target.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
      console.log(
        `  round ${round}  ${target.name.padEnd(26)} ${fmt(result.rps, 1).padStart(7)} req/s   p50 ${fmt(result.latency.p50).padStart(5)} ms` +
          `   p99 ${fmt(result.latency.p99).padStart(5)} ms   CPU/request: server ${perRequest(result.serverCpuMs)} ms, database ${perRequest(result.databaseCpuMs)} ms`,
      );
      results.get(target.name)!.push(result);
    }
  }
  return new Map(
    [...results].map(([name, list]) => {
      const database = list.map((r) => r.databaseCpuMs);
      return [
        name,
        {
          rounds: list,
          rps: median(list.map((r) => r.rps)),
          p99: median(list.map((r) => r.latency.p99)),
          serverCpuMs: median(list.map((r) => r.serverCpuMs)),
          databaseCpuMs: database.every((ms) => ms !== null) ? median(database as number[]) : null,
        },
      ];
    }),
  );
}

/** The median over rounds of a per-round ratio (both sides of a round ran back to back). */
const roundRatio = (a: Summary, b: Summary, ratio: (a: LoadResult, b: LoadResult) => number) =>
  median(a.rounds.map((result, i) => ratio(result, b.rounds[i])));

// ---------------------------------------------------------------------------------------------

const dbName = `bench_graphql_${randomBytes(6).toString('hex')}`;

async function main() {
  const url = new URL(benchDatabaseUrl(dbName));
  const databaseUrl = url.toString();
  const username = 'bench';
  const password = randomBytes(12).toString('hex');

  console.log(
    `GraphQL read benchmark: ${SEGMENTS} segments, ${memberCount} members, ${connections} connections, ` +
      `${warmup} s warm-up + ${duration} s per load, ${rounds} round(s); database ${dbName}`,
  );
  await adminQuery(`CREATE DATABASE ${dbName}`);
  let app: App | undefined;
  let appServer: ReturnType<typeof createHttpServer> | undefined;
  let floorServer: Server | undefined;
  let pool: pg.Pool | undefined;
  try {
    const config = {
      ...loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: databaseUrl,
        JWT_SECRET: randomBytes(32).toString('hex'),
        ADMIN_USERNAME: username,
        ADMIN_PASSWORD: password,
        JOB_QUEUE: 'in-process',
        RECALCULATION_SCHEDULE_MINUTES: '0',
      }),
      // No sweep during the loads: its queries would land in one measurement and not the other.
      jobSweepSeconds: 3600,
    };
    app = await buildApp(config);
    const started = performance.now();
    const token = await fill(app, username, password);
    console.log(`Data ready in ${fmt((performance.now() - started) / 1000, 1)} s`);

    appServer = createHttpServer(app);
    const appPort = await appServer.listen(0, '127.0.0.1');
    track(appServer.server);
    pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    floorServer = createServer(floorYoga(pool));
    track(floorServer);
    await new Promise<void>((resolve) => floorServer!.listen(0, '127.0.0.1', resolve));
    const floorPort = (floorServer.address() as AddressInfo).port;

    const json = { 'content-type': 'application/json' };
    const auth = { authorization: `Bearer ${token}` };
    const issueBody = JSON.stringify({ query: ISSUE_QUERY });
    const appGraphql: Target = { name: 'app GraphQL', url: `http://127.0.0.1:${appPort}/graphql`, method: 'POST', headers: { ...json, ...auth }, body: issueBody };
    const floor: Target = { name: 'floor GraphQL (yoga + pg)', url: `http://127.0.0.1:${floorPort}/graphql`, method: 'POST', headers: json, body: issueBody };

    const route = routes.find((r) => r.operationId === 'segmentGetList')!;
    const restQuery = '_itemsOnPage=50';
    const restVariables = route.variables({ params: { storeCode: 'DEFAULT' }, query: new URLSearchParams(restQuery), body: {} });
    const rest: Target = { name: 'REST segment list', url: `http://127.0.0.1:${appPort}/api/DEFAULT/segment?${restQuery}`, method: 'GET', headers: auth };
    const restGraphql: Target = {
      name: 'GraphQL segmentGetList',
      url: `http://127.0.0.1:${appPort}/graphql`,
      method: 'POST',
      headers: { ...json, ...auth },
      body: JSON.stringify({ query: route.document, variables: restVariables }),
    };

    // Same answers before any measurement.
    const appAnswer = await request(appGraphql);
    const floorAnswer = await request(floor);
    assert.equal(appAnswer.errors, undefined, `app errors: ${JSON.stringify(appAnswer.errors)}`);
    const items = appAnswer.data.segments.items;
    assert.equal(items.length, SEGMENTS);
    assert.ok(items.every((item: { members: unknown[] }) => item.members.length === 20), 'every segment has 20 members');
    assert.deepEqual(canonical(floorAnswer), canonical(appAnswer), 'the floor and the app answer the query differently');
    const restAnswer = await request(rest);
    const restGraphqlAnswer = await request(restGraphql);
    assert.equal(restGraphqlAnswer.errors, undefined, `GraphQL errors: ${JSON.stringify(restGraphqlAnswer.errors)}`);
    assert.equal(restAnswer.items.length, SEGMENTS);
    assert.deepEqual(route.respond(restGraphqlAnswer.data.result).body, restAnswer, 'REST is not the shaped GraphQL answer');
    console.log(
      `Answers checked: app = floor (${fmt(Buffer.byteLength(JSON.stringify(appAnswer)) / 1024)} KiB), ` +
        `REST = shaped segmentGetList (${fmt(Buffer.byteLength(JSON.stringify(restAnswer)) / 1024)} KiB)`,
    );

    console.log('\n1. The issue query: app vs floor');
    const graphql = await measure([appGraphql, floor]);
    console.log('\n2. REST vs the GraphQL document it runs (both on the app)');
    const restResults = await measure([rest, restGraphql]);

    const a = graphql.get(appGraphql.name)!;
    const f = graphql.get(floor.name)!;
    const r = restResults.get(rest.name)!;
    const g = restResults.get(restGraphql.name)!;
    const ratio = roundRatio(a, f, (x, y) => x.rps / y.rps);
    const cpuRatio = roundRatio(a, f, (x, y) => y.serverCpuMs / x.serverCpuMs);
    const overhead = roundRatio(r, g, (x, y) => 1 - x.rps / y.rps);
    const cpuOverhead = roundRatio(r, g, (x, y) => x.serverCpuMs / y.serverCpuMs - 1);
    const line = (name: string, result: Summary) =>
      `  ${name.padEnd(26)} ${fmt(result.rps, 1).padStart(7)} req/s   p99 ${fmt(result.p99).padStart(5)} ms   ` +
      `CPU/request: server ${perRequest(result.serverCpuMs)} ms, database ${perRequest(result.databaseCpuMs)} ms`;
    const pct = (n: number) => `${fmt(n * 100)}%`;
    console.log(
      `\nSummary: medians over ${rounds} round(s) of ${duration} s, ${connections} connections ` +
        `(${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)} at the end)`,
    );
    console.log(line(appGraphql.name, a));
    console.log(line(floor.name, f));
    console.log(
      `  app / floor: ${pct(ratio)} of the floor's throughput (target >= ${pct(APP_TARGET)}: ${ratio >= APP_TARGET ? 'met' : 'NOT MET'}); ` +
        `${pct(cpuRatio)} by server CPU per request`,
    );
    console.log(line(rest.name, r));
    console.log(line(restGraphql.name, g));
    console.log(
      `  REST overhead: ${fmt(overhead * 100, 1)}% of throughput (target < ${pct(REST_TARGET)}: ${overhead < REST_TARGET ? 'met' : 'NOT MET'}); ` +
        `${fmt(cpuOverhead * 100, 1)}% by server CPU per request`,
    );
  } finally {
    await appServer?.close();
    floorServer?.closeAllConnections();
    await new Promise((resolve) => (floorServer ? floorServer.close(resolve) : resolve(undefined)));
    await pool?.end();
    await app?.close();
    await profiler?.post('Profiler.disable');
    profiler?.disconnect();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

await main();
