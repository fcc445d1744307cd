/**
 * Subscription fan-out: many WebSocket subscribers to one segment while it recalculates, beside
 * two floors measured in the same run, all with the same load generator and the same clock.
 *
 *   npm run bench:subscriptions -- [--subscribers 1000] [--members 10000] [--chunk 100]
 *     [--client-processes 2] [--progress-interval MS] [--pglite] [--redis] [--profile DIR] [--timeout 600]
 *
 * 1. App. This process creates a fresh database bench_subs_<random> on TEST_DATABASE_URL's server
 *    (default postgresql://postgres@127.0.0.1:5432/postgres) and imports `members` members, half
 *    of them women (with --pglite: the embedded database, imported in the server process). A server
 *    process builds the service on it (buildApp: in-process job delivery; events in memory, or
 *    through Redis with --redis, default REDIS_URL or redis://127.0.0.1:6379), creates an active
 *    segment of the women, lets its first run finish, and listens on 127.0.0.1
 *    (createHttpServer: graphql-ws, JWT per socket). The subscribers subscribe to the segment's
 *    segmentRecalculation with the dashboard's selection (the segment's statistics on COMPLETED);
 *    probe events are published until every subscription is live. Then one recalculateSegment
 *    runs in chunks of `chunk` members: members / chunk progress reports, which the app coalesces
 *    into the RUNNING events it publishes.
 * 2. Floor "ws broadcast": a bare `ws` server speaking just enough graphql-transport-ws that the
 *    same clients subscribe to it; it sends one pre-serialised message, byte for byte what the
 *    app sends, to every socket. The transport's own cost: nothing can be cheaper.
 * 3. Floor "graphql-ws": graphql-ws's useServer over graphql-js with the same output type and a
 *    trivial pub/sub, no yoga, no auth, no database: what graphql-ws itself costs per delivery.
 * Both floors replay the app's published events at the same offsets to the same number of
 * subscribers.
 *
 * Load generator: `client-processes` processes (not the server's), each holding its share of the
 * sockets as plain `ws` clients of the graphql-transport-ws protocol whose message handler only
 * stamps the receipt time and keeps the raw message; messages are parsed after the run.
 * Clock: performance.timeOrigin + performance.now() (sub-millisecond, one clock for every process
 * of the machine), taken by the server when it publishes an event (for the app: the call to the
 * pub/sub's publish, after coalescing) and by the client when the message arrives.
 *
 * Per phase: events published and received by each subscriber (every published event must reach
 * every subscriber, in order, with the same status and counts; any difference is a loss); latency
 * p50/p99/max over all deliveries, p99 for progress events and for the COMPLETED event, and the
 * median fan-out time (publish to the last subscriber's receipt); server memory per connection
 * (RSS, and V8 heap + external, after GC, (after all subscriptions - before) / connections); CPU
 * time of the server and of the clients per delivery (one event to one subscriber).
 * Target: app p99 under 100 ms. Bounded: at most 20,000 subscribers, every wait has a deadline,
 * the whole run stops after --timeout seconds; everything listens on loopback only. Exits 1 on
 * any loss or error. --profile DIR writes a V8 CPU profile of each server process into DIR;
 * --events lists each event's latencies; --progress-interval MS overrides the app's coalescing of
 * RUNNING counts (0: one event per chunk, to load the per-delivery path as before coalescing).
 */
import { adminQuery, benchDatabaseUrl } from './bench-support.ts';
import type { RecalculationEvent } from '../src/jobs/events.ts';
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';

const SELF = fileURLToPath(import.meta.url);
const TARGET_P99_MS = 100;
const PROBE = 'probe';
const PROTOCOL = 'graphql-transport-ws';

const SUBSCRIPTION = /* GraphQL */ `
  subscription Recalculation($segmentId: ID!) {
    segmentRecalculation(segmentId: $segmentId) {
      jobId segmentId status processed total matched added removed message at
      segment { segmentId customersCount averageTransactions averageTransactionAmount averageClv calculatedAt }
    }
  }`;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
const now = () => performance.timeOrigin + performance.now();

/** An event as the app publishes it. */
type Published = RecalculationEvent;

/** A run as a server published it: each event, when (now()), and its offset from the first. */
interface PublishedRun {
  events: Published[];
  times: number[];
  offsets: number[];
  /** App only: progress reports of the recalculation (before coalescing). */
  reports?: number;
}

/** What a server process says (IPC). */
type ServerMessage =
  | { type: 'ready'; url: string; token: string; segmentId: string; storeId: string; database: string }
  | { type: 'memory'; rss: number; heap: number; cpu: number }
  | ({ type: 'published' } & PublishedRun);

/** What a client process says (IPC). */
type ClientMessage =
  | { type: 'status'; live: number; failed: number; errors: string[]; cpu: number }
  | { type: 'results'; subscribers: { keys: string[]; times: number[] }[]; errors: string[]; cpu: number };

const keyOf = (e: { status: string; processed?: number | null; total?: number | null }) => `${e.status} ${e.processed ?? '-'}/${e.total ?? '-'}`;

// ---------------------------------------------------------------------------------------------
// Orchestrator

let dropDatabase: (() => Promise<unknown>) | undefined;

async function orchestrate() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '1000' },
      members: { type: 'string', default: '10000' },
      chunk: { type: 'string', default: '100' },
      'client-processes': { type: 'string', default: '2' },
      'progress-interval': { type: 'string' },
      pglite: { type: 'boolean', default: false },
      redis: { type: 'boolean', default: false },
      profile: { type: 'string' },
      events: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
    allowPositionals: true,
  });
  const subscribers = Number(values.subscribers);
  const members = Number(values.members);
  const chunk = Number(values.chunk);
  const clientProcesses = Number(values['client-processes']);
  const timeout = Number(values.timeout);
  if (![subscribers, members, chunk, timeout, clientProcesses].every((n) => Number.isInteger(n) && n > 0) || subscribers > 20_000 || clientProcesses > 16) {
    console.log('Usage: npm run bench:subscriptions -- [--subscribers N<=20000] [--members N] [--chunk N] [--client-processes N<=16] [--pglite] [--redis] [--profile DIR] [--timeout S]');
    process.exit(2);
  }
  const progressInterval = values['progress-interval'] ?? 'default';
  if (progressInterval !== 'default' && !(Number(progressInterval) >= 0)) {
    console.log('--progress-interval: milliseconds >= 0');
    process.exit(2);
  }
  const redisUrl = values.redis ? process.env.REDIS_URL || 'redis://127.0.0.1:6379' : 'none';
  const children = new Set<ChildProcess>();
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  const deadline = setTimeout(async () => {
    console.error(`Stopped after ${timeout} s (--timeout).`);
    stopAll();
    await dropDatabase?.().catch(() => undefined);
    process.exit(1);
  }, timeout * 1000);
  process.on('exit', stopAll);

  const spawn = (args: string[], server = false) => {
    const profile = server && values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}/${args[0]}`] : [];
    const child = fork(SELF, args, { execArgv: ['--expose-gc', ...profile, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const spawnClients = (ready: { url: string; token: string; segmentId: string }) =>
    Array.from({ length: clientProcesses }, (_, i) => {
      const share = Math.floor(subscribers / clientProcesses) + (i < subscribers % clientProcesses ? 1 : 0);
      return spawn(['clients', ready.url, ready.token, ready.segmentId, String(share)]);
    });

  console.log(`${subscribers} WebSocket subscribers (${clientProcesses} client processes) to one segment; ${members} members, recalculated in chunks of ${chunk}` +
    `${values.redis ? `; events through Redis (${redisUrl})` : ''}` +
    `${progressInterval === 'default' ? '' : `; RUNNING counts coalesced to one per ${progressInterval} ms instead of the app's default`}.`);
  const load = () => loadavg()[0].toFixed(1);
  const loadAtStart = load();
  const prepared = values.pglite ? undefined : await prepareDatabase(members);
  dropDatabase = prepared?.drop;
  let app: PhaseResult;
  try {
    app = await phase('app', spawn(['app-server', String(members), String(chunk), prepared?.url ?? 'pglite', redisUrl, progressInterval], true), spawnClients, subscribers);
  } finally {
    stopAll();
    await prepared?.drop();
    dropDatabase = undefined;
  }
  const wsFloor = await phase('floor: ws broadcast', spawn(['ws-floor-server'], true), spawnClients, subscribers, app.published);
  const gqlFloor = await phase('floor: bare graphql-ws', spawn(['graphql-ws-floor-server'], true), spawnClients, subscribers, app.published);
  clearTimeout(deadline);

  const rows = [
    ['', 'published', 'received/sub', 'lost', 'p50 ms', 'p99 ms', 'max ms', 'fan-out ms', 'RSS KiB/conn', 'heap+ext KiB/conn', 'server CPU ms', 'server CPU µs/delivery', 'client CPU µs/delivery'],
    row(wsFloor),
    row(gqlFloor),
    row(app, `app (${app.database}${values.redis ? ', Redis' : ''})`),
    ratioRow('ratio app/ws broadcast', app, wsFloor),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  console.log();
  for (const r of rows) console.log(r.map((cell, i) => (i ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]))).join('  '));
  const run = app.published;
  const duration = run.offsets.at(-1)! / 1000;
  const running = run.events.filter((e) => e.status === 'RUNNING').length;
  console.log(`\nThe run: ${run.reports} progress reports (chunks) published as ${running} RUNNING events; ${run.events.length} events in all in ${duration.toFixed(2)} s ` +
    `(${((run.events.length * subscribers) / Math.max(duration, 0.001)).toFixed(0)} deliveries/s). The floors replay them at the same offsets.`);
  if (values.events) {
    console.log('\nPer event (--events): offset from the first, then p50/p99/max ms for the ws broadcast floor, bare graphql-ws, app:');
    app.published.events.forEach((event, k) => {
      const cells = [wsFloor, gqlFloor, app].map((r) => r.perEvent[k].map(fmt).join('/'));
      console.log(`  ${String(k).padStart(3)} ${keyOf(event).padEnd(24)} +${(app.published.offsets[k] / 1000).toFixed(3)} s  ${cells.join('   ')}`);
    });
    console.log();
  }
  for (const r of [wsFloor, gqlFloor, app]) console.log(`${r.name}: p99 of QUEUED/RUNNING events ${fmt(r.progressP99)} ms; p99 of the COMPLETED event ${fmt(r.completedP99)} ms`);
  console.log(`Machine: ${availableParallelism()} CPUs shared by the server, the client processes, PostgreSQL and whatever else runs; 1-minute load average ${loadAtStart} at the start, ${load()} at the end ` +
    '(latencies mean little when the load exceeds the CPUs; the CPU figures hold).');
  console.log('Latency: from the server\'s publish call to the subscriber\'s receipt, one clock. Fan-out: median over events of publish to the last receipt. ' +
    'CPU: from the run\'s start to the last receipt, in all and per event delivered to one subscriber; the app\'s includes the recalculation itself.');
  console.log();
  for (const result of [wsFloor, gqlFloor, app]) {
    if (result.lost.length) console.log(`${result.name}: LOSS: ${result.lost.slice(0, 5).join('; ')}${result.lost.length > 5 ? ` (${result.lost.length} subscribers)` : ''}`);
    else console.log(`${result.name}: every subscriber received all ${result.published.events.length} published events, in order.`);
    if (result.errors.length) console.log(`${result.name}: errors: ${result.errors.slice(0, 5).join('; ')}`);
  }
  console.log(`Target p99 < ${TARGET_P99_MS} ms: ${app.p99 < TARGET_P99_MS ? 'met' : 'NOT met'} (app p99 ${fmt(app.p99)} ms, ws broadcast floor p99 ${fmt(wsFloor.p99)} ms in the same run).`);
  stopAll();
  const failed = [app, wsFloor, gqlFloor].some((r) => r.lost.length || r.errors.length);
  process.exit(failed ? 1 : 0);
}

interface PhaseResult {
  name: string;
  subscribers: number;
  database: string;
  published: PublishedRun;
  receivedMin: number;
  receivedMax: number;
  lost: string[];
  errors: string[];
  p50: number;
  p99: number;
  max: number;
  fanOut: number;
  progressP99: number;
  completedP99: number;
  kibPerConnection: number;
  heapKibPerConnection: number;
  serverUs: number;
  clientUs: number;
  /** p50, p99, max latency of each published event. */
  perEvent: number[][];
}

async function phase(
  name: string,
  server: ChildProcess,
  spawnClients: (ready: { url: string; token: string; segmentId: string }) => ChildProcess[],
  subscribers: number,
  replay?: PublishedRun,
): Promise<PhaseResult> {
  const ready = await receive<ServerMessage & { type: 'ready' }>(server, 'ready', 300_000);
  const before = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  const clients = spawnClients(ready);
  // Probes until every subscription is live on the server (then no event of the run is missed).
  const started = Date.now();
  let statuses: (ClientMessage & { type: 'status' })[];
  for (;;) {
    server.send({ type: 'probe' });
    await sleep(50);
    statuses = await Promise.all(clients.map((client) => ask<ClientMessage & { type: 'status' }>(client, { type: 'status' }, 'status')));
    const live = statuses.reduce((sum, s) => sum + s.live, 0);
    const failed = statuses.reduce((sum, s) => sum + s.failed, 0);
    if (live + failed >= subscribers) {
      if (failed) console.log(`${name}: ${failed} subscriptions failed: ${statuses.flatMap((s) => s.errors).slice(0, 3).join('; ')}`);
      break;
    }
    if (Date.now() - started > 180_000) throw new Error(`${name}: only ${live} of ${subscribers} subscriptions live after 180 s`);
    await sleep(100);
  }
  await sleep(500); // late probes drain
  const after = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  await sleep(500); // the forced GC's concurrent work ends before the run starts
  const clientCpuBefore = (await Promise.all(clients.map((client) => ask<ClientMessage & { type: 'status' }>(client, { type: 'status' }, 'status'))))
    .reduce((sum, s) => sum + s.cpu, 0);
  const published = await ask<ServerMessage & { type: 'published' }>(server, { type: 'run', replay }, 'published', 300_000);
  const jobId = published.events[0].jobId;
  const results = await Promise.all(clients.map((client) => ask<ClientMessage & { type: 'results' }>(client, { type: 'collect', jobId }, 'results', 300_000)));
  const end = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  // They stop on their own (the app closes its server and database); killed if they take too long.
  await Promise.all([server, ...clients].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'exit' });
  })));

  const expected = published.events.map(keyOf);
  const lost: string[] = [];
  const all: number[] = [];
  const progress: number[] = [];
  const completed: number[] = [];
  const lastReceipt = published.times.map(() => 0);
  const byEvent: number[][] = published.times.map(() => []);
  const counts: number[] = [];
  results.flatMap((r) => r.subscribers).forEach((s, i) => {
    counts.push(s.keys.length);
    const mismatch = s.keys.findIndex((key, k) => key !== expected[k]);
    if (s.keys.length !== expected.length || mismatch >= 0) {
      lost.push(`subscriber ${i}: ${s.keys.length} of ${expected.length} events${mismatch >= 0 ? `, #${mismatch} is ${s.keys[mismatch]}, not ${expected[mismatch]}` : ''}`);
    }
    s.times.forEach((t, k) => {
      if (k >= expected.length || s.keys[k] !== expected[k]) return;
      const latency = t - published.times[k];
      all.push(latency);
      (published.events[k].status === 'COMPLETED' ? completed : progress).push(latency);
      lastReceipt[k] = Math.max(lastReceipt[k], t);
      byEvent[k].push(latency);
    });
  });
  const sorted = (xs: number[]) => xs.sort((x, y) => x - y);
  sorted(all);
  const fanOuts = sorted(lastReceipt.map((t, k) => t - published.times[k]));
  const deliveries = published.events.length * subscribers;
  return {
    name,
    subscribers,
    database: ready.database,
    published,
    receivedMin: Math.min(...counts),
    receivedMax: Math.max(...counts),
    lost,
    errors: results.flatMap((r) => r.errors),
    p50: percentile(all, 0.5),
    p99: percentile(all, 0.99),
    max: all.at(-1) ?? NaN,
    fanOut: percentile(fanOuts, 0.5),
    progressP99: percentile(sorted(progress), 0.99),
    completedP99: percentile(sorted(completed), 0.99),
    kibPerConnection: (after.rss - before.rss) / 1024 / subscribers,
    heapKibPerConnection: (after.heap - before.heap) / 1024 / subscribers,
    // CPU time per event delivered to one subscriber, from the start of the run to the last receipt.
    serverUs: (end.cpu - after.cpu) / deliveries,
    clientUs: (results.reduce((sum, r) => sum + r.cpu, 0) - clientCpuBefore) / deliveries,
    perEvent: byEvent.map((latencies) => {
      sorted(latencies);
      return [percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.at(-1) ?? NaN];
    }),
  };
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const fmt = (ms: number) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : ms.toFixed(0)) : '-');

function row(r: PhaseResult, label = r.name) {
  const received = r.receivedMin === r.receivedMax ? String(r.receivedMin) : `${r.receivedMin}-${r.receivedMax}`;
  return [label, r.published.events.length, received, r.lost.length, fmt(r.p50), fmt(r.p99), fmt(r.max), fmt(r.fanOut), r.kibPerConnection.toFixed(1), r.heapKibPerConnection.toFixed(1), ((r.serverUs * r.published.events.length * r.subscribers) / 1000).toFixed(0), r.serverUs.toFixed(1), r.clientUs.toFixed(1)];
}

function ratioRow(label: string, app: PhaseResult, floor: PhaseResult) {
  return [label, '', '', '', ratio(app.p50, floor.p50), ratio(app.p99, floor.p99), ratio(app.max, floor.max), ratio(app.fanOut, floor.fanOut),
    ratio(app.kibPerConnection, floor.kibPerConnection), ratio(app.heapKibPerConnection, floor.heapKibPerConnection), ratio(app.serverUs, floor.serverUs), ratio(app.serverUs, floor.serverUs), ratio(app.clientUs, floor.clientUs)];
}

const ratio = (x: number, y: number) => (y > 0 ? `${(x / y).toFixed(1)}x` : x > 0 ? 'inf' : '1.0x');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function receive<T>(child: ChildProcess, type: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "${type}" from a child after ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type: string }) => message.type === type && done(undefined, message as T);
    const onExit = (code: number | null) => done(new Error(`a child exited (${code}) before "${type}"`));
    function done(error?: Error, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function ask<T>(child: ChildProcess, message: object, type: string, timeoutMs?: number): Promise<T> {
  const answer = receive<T>(child, type, timeoutMs);
  child.send(message);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Servers

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return { type: 'memory' as const, rss: usage.rss, heap: usage.heapUsed + usage.external, cpu: cpuNow() };
}

const cpuNow = () => {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
};
const send = (message: ServerMessage | ClientMessage) => process.send!(message);

/** Members alternately women and men, imported in batches. */
async function importMembers(prisma: import('../src/generated/prisma/client.ts').PrismaClient, members: number) {
  const { IngestService } = await import('../src/services/ingest-service.ts');
  const { StoreService } = await import('../src/services/store-service.ts');
  const store = await new StoreService(prisma).ensure({ code: 'DEFAULT', name: 'Default store' });
  const ingest = new IngestService(prisma);
  const records = Array.from({ length: members }, (_, i) => ({ kind: 'member', customerId: randomUUID(), gender: i % 2 ? 'male' : 'female' }));
  for (let i = 0; i < records.length; i += 5000) {
    const summary = await ingest.importRecords(store, records.slice(i, i + 5000));
    if (summary.failed) throw new Error(`import failed: ${JSON.stringify(summary.errors.slice(0, 3))}`);
  }
}

/** A fresh PostgreSQL database with the members already imported (so the app process's RSS starts clean). */
async function prepareDatabase(members: number) {
  const { openDatabase } = await import('../src/db/database.ts');
  const name = `bench_subs_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = benchDatabaseUrl(name);
  const drop = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    const database = await openDatabase({ url });
    await importMembers(database.prisma, members).finally(() => database.close());
  } catch (error) {
    await drop();
    throw error;
  }
  return { url, drop };
}

async function appServer() {
  const [members, chunk, where, redisUrl, progressInterval] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5], process.argv[6], process.argv[7]];
  const { buildApp } = await import('../src/app.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { openDatabase } = await import('../src/db/database.ts');
  const { createHttpServer } = await import('../src/http-server.ts');
  const url = where === 'pglite' ? undefined : where;
  const database = await openDatabase(url ? { url } : { dataDir: 'memory://' });
  if (!url) await importMembers(database.prisma, members);
  const admin = { username: 'bench', password: 'bench-password' };
  const app = await buildApp(
    {
      ...loadConfig({ NODE_ENV: 'test', JWT_SECRET: randomBytes(16).toString('hex'), ADMIN_USERNAME: admin.username, ADMIN_PASSWORD: admin.password }),
      jobQueue: 'in-process',
      scheduleMinutes: 0,
      jobSweepSeconds: 3600,
      recalculationChunkSize: chunk,
      redisUrl: redisUrl === 'none' ? undefined : redisUrl,
    },
    { database },
  );
  const cleanup = () => app.close().catch(() => undefined);
  // --progress-interval: the jobs' options object, as services/index.ts built it.
  if (progressInterval !== 'default') (app.services.jobs as unknown as { options: { progressIntervalMs?: number } }).options.progressIntervalMs = Number(progressInterval);
  try {
    const store = await app.services.stores.getByCode('DEFAULT');
    await app.services.auth.ensureBootstrapAdmin();
    const call = async (path: string, body: unknown, token?: string) => {
      const response = await app.yoga.fetch(`http://bench${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return (await response.json()) as any;
    };
    const { token } = await call('/api/admin/login_check', admin);
    const created = await call('/api/DEFAULT/segment', { segment: { name: 'Women', active: true, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] } }, token);
    const segmentId: string = created.segmentId;
    await app.services.jobs.drain();

    // The instant of each publish call for the segment (after the app's coalescing), and the
    // progress reports the recalculation makes (before it).
    let recording: { events: Published[]; times: number[]; done: () => void } | undefined;
    const events = app.services.events;
    const publish = events.publish.bind(events);
    events.publish = ((...args: unknown[]) => {
      const [channel, id, event] = args as [string, string, Published];
      if (recording && channel === 'segmentRecalculation' && id === segmentId && event.jobId !== PROBE) {
        recording.times.push(now());
        recording.events.push(event);
        if (event.status === 'COMPLETED' || event.status === 'FAILED') recording.done();
      }
      return (publish as (...all: unknown[]) => void)(...args);
    }) as typeof publish;
    let reports = 0;
    const recalculation = app.services.recalculation;
    const recalculate = recalculation.recalculate.bind(recalculation);
    recalculation.recalculate = ((segment: string, options: Parameters<typeof recalculate>[1] = {}) =>
      recalculate(segment, { ...options, onProgress: (processed: number, total: number) => {
        reports++;
        options.onProgress?.(processed, total);
      } })) as typeof recalculate;

    const http = createHttpServer(app);
    const port = await http.listen(0, '127.0.0.1');
    send({ type: 'ready', url: `ws://127.0.0.1:${port}/graphql`, token, segmentId, storeId: store.id, database: url ? 'PostgreSQL' : 'PGlite' });

    process.on('message', async (message: { type: string }) => {
      if (message.type === 'memory') send(memory());
      else if (message.type === 'probe') {
        app.services.events.publish('segmentRecalculation', segmentId, { jobId: PROBE, segmentId, storeId: store.id, status: 'QUEUED', at: new Date().toISOString() });
      } else if (message.type === 'run') {
        reports = 0;
        const finished = new Promise<void>((done) => (recording = { events: [], times: [], done }));
        const answer = await call('/graphql', { query: `mutation($id: ID!) { recalculateSegment(storeCode: "DEFAULT", segmentId: $id) { ... on RecalculationJob { id } } }`, variables: { id: segmentId } }, token);
        if (!answer.data?.recalculateSegment?.id) throw new Error(`recalculateSegment failed: ${JSON.stringify(answer)}`);
        await finished;
        const { events: published, times } = recording!;
        recording = undefined;
        send({ type: 'published', events: published, times, offsets: times.map((t) => t - times[0]), reports });
      } else if (message.type === 'exit') {
        await http.close();
        await cleanup();
        process.exit(0);
      }
    });
  } catch (error) {
    console.error(error);
    await cleanup();
    process.exit(1);
  }
}

/** Replays a run at its offsets through `publish`, restamped with this run's job and times. */
async function replayRun(run: PublishedRun, segmentId: string, storeId: string, publish: (event: Published) => void) {
  const jobId = randomUUID();
  const start = now();
  const events: Published[] = [];
  const times: number[] = [];
  for (let i = 0; i < run.events.length; i++) {
    const wait = start + run.offsets[i] - now();
    if (wait > 0) await sleep(wait);
    const event = { ...run.events[i], jobId, segmentId, storeId, at: new Date().toISOString() };
    times.push(now());
    publish(event);
    events.push(event);
  }
  send({ type: 'published', events, times, offsets: run.offsets });
}

/** The app's response to the subscription for an event (the selection's fields, in its order). */
function response(event: Published, segmentId: string) {
  return {
    segmentRecalculation: {
      jobId: event.jobId, segmentId: event.segmentId, status: event.status,
      processed: event.processed ?? null, total: event.total ?? null, matched: event.matched ?? null,
      added: event.added ?? null, removed: event.removed ?? null, message: event.message ?? null, at: event.at,
      segment: event.status === 'COMPLETED'
        ? { segmentId, customersCount: 5000, averageTransactions: 0, averageTransactionAmount: 0, averageClv: 0, calculatedAt: event.at }
        : null,
    },
  };
}

/**
 * The transport's floor: `ws` and just enough graphql-transport-ws for the clients (ack the
 * connection, remember the subscription), then one serialised message per event and id, sent to
 * every subscribed socket.
 */
async function wsFloorServer() {
  const segmentId = randomUUID();
  const storeId = randomUUID();
  const server = createServer((_, res) => res.writeHead(404).end());
  const sockets = new WebSocketServer({ server, path: '/graphql', handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false) });
  const subscribed = new Map<WebSocket, string>();
  sockets.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack' }));
      else if (message.type === 'subscribe') subscribed.set(socket, message.id);
      else if (message.type === 'complete') subscribed.delete(socket);
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    });
    socket.on('close', () => subscribed.delete(socket));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  send({ type: 'ready', url: `ws://127.0.0.1:${port}/graphql`, token: 'unused', segmentId, storeId, database: 'none' });
  const broadcast = (event: Published) => {
    const encoded = new Map<string, Buffer>();
    for (const [socket, id] of subscribed) {
      let message = encoded.get(id);
      if (!message) encoded.set(id, (message = Buffer.from(JSON.stringify({ id, type: 'next', payload: { data: response(event, segmentId) } }))));
      socket.send(message, { binary: false });
    }
  };
  process.on('message', async (message: { type: string; replay?: PublishedRun }) => {
    if (message.type === 'memory') send(memory());
    else if (message.type === 'probe') broadcast({ jobId: PROBE, segmentId, storeId, status: 'QUEUED', at: new Date().toISOString() });
    else if (message.type === 'run') await replayRun(message.replay!, segmentId, storeId, broadcast);
    else if (message.type === 'exit') process.exit(0);
  });
}

/** A trivial in-memory pub/sub: one queue per subscription, one set of subscriptions per topic. */
function trivialPubSub<T>() {
  const topics = new Map<string, Set<(value: T) => void>>();
  return {
    publish(topic: string, value: T) {
      for (const push of topics.get(topic) ?? []) push(value);
    },
    subscribe(topic: string): AsyncIterableIterator<T> {
      const queue: T[] = [];
      let wake: ((result: IteratorResult<T>) => void) | undefined;
      const push = (value: T) => {
        if (wake) {
          const resolve = wake;
          wake = undefined;
          resolve({ value, done: false });
        } else queue.push(value);
      };
      const subscribers = topics.get(topic) ?? new Set();
      topics.set(topic, subscribers.add(push));
      const iterator: AsyncIterableIterator<T> = {
        next: () => (queue.length ? Promise.resolve({ value: queue.shift()!, done: false }) : new Promise((resolve) => (wake = resolve))),
        return: () => {
          subscribers.delete(push);
          wake?.({ value: undefined, done: true });
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
  };
}

/** graphql-ws's own cost: useServer over graphql-js, the app's output type, no yoga, auth or database. */
async function graphqlWsFloorServer() {
  const schema = buildSchema(/* GraphQL */ `
    enum RecalculationStatus { QUEUED RUNNING COMPLETED FAILED }
    type Segment { segmentId: ID! customersCount: Int! averageTransactions: Float! averageTransactionAmount: Float! averageClv: Float! calculatedAt: String }
    type RecalculationProgress {
      jobId: ID! segmentId: ID! status: RecalculationStatus! processed: Int total: Int matched: Int added: Int removed: Int
      message: String at: String! segment: Segment
    }
    type Query { ok: Boolean }
    type Subscription { segmentRecalculation(segmentId: ID!): RecalculationProgress! }
  `);
  const pubsub = trivialPubSub<ReturnType<typeof response>>();
  const segmentId = randomUUID();
  const storeId = randomUUID();
  const server = createServer((_, res) => res.writeHead(404).end());
  const sockets = new WebSocketServer({ server, path: '/graphql' });
  useServer({ schema, roots: { subscription: { segmentRecalculation: ({ segmentId: id }: { segmentId: string }) => pubsub.subscribe(id) } } }, sockets);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  send({ type: 'ready', url: `ws://127.0.0.1:${port}/graphql`, token: 'unused', segmentId, storeId, database: 'none' });
  const publish = (event: Published) => pubsub.publish(segmentId, response(event, segmentId));
  process.on('message', async (message: { type: string; replay?: PublishedRun }) => {
    if (message.type === 'memory') send(memory());
    else if (message.type === 'probe') publish({ jobId: PROBE, segmentId, storeId, status: 'QUEUED', at: new Date().toISOString() });
    else if (message.type === 'run') await replayRun(message.replay!, segmentId, storeId, publish);
    else if (message.type === 'exit') process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Subscribers: plain `ws` clients of graphql-transport-ws; the handler stamps and keeps the raw
// message, parsed only when asked for status (before the run) or results (after it).

async function clients() {
  const [url, token, segmentId, count] = [process.argv[3], process.argv[4], process.argv[5], Number(process.argv[6])];
  const errors: string[] = [];
  let failed = 0;
  interface State {
    socket: WebSocket;
    live: boolean;
    times: number[];
    raw: Buffer[];
    parsedUpTo: number;
  }
  const states: State[] = [];
  const subscribe = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { segmentId } } });
  for (let i = 0; i < count; i += 50) {
    // Connections in waves of 50, so the accept backlog never overflows.
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => new Promise<void>((resolve) => {
      const socket = new WebSocket(url, PROTOCOL, { perMessageDeflate: false });
      const state: State = { socket, live: false, times: [], raw: [], parsedUpTo: 0 };
      states.push(state);
      let acknowledged = false;
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } })));
      socket.on('message', (data: Buffer) => {
        if (acknowledged) {
          state.times.push(now());
          state.raw.push(data);
          return;
        }
        const message = JSON.parse(String(data));
        if (message.type === 'connection_ack') {
          acknowledged = true;
          socket.send(subscribe);
          resolve();
        }
      });
      socket.on('error', (error) => errors.push(String(error)));
      socket.on('close', (code) => {
        if (!acknowledged || state.live) failed++;
        errors.push(`closed ${code}`);
        resolve();
      });
    })));
  }

  /** The subscription's events in order; anything else (errors, completion) goes to `errors`. */
  const parse = (data: Buffer) => {
    const message = JSON.parse(String(data));
    if (message.type === 'next' && message.payload?.data?.segmentRecalculation) return message.payload.data.segmentRecalculation as Published;
    if (message.type !== 'ping' && message.type !== 'pong') errors.push(String(data).slice(0, 200));
    return undefined;
  };

  process.on('message', async (message: { type: string; jobId?: string }) => {
    if (message.type === 'status') {
      for (const state of states) {
        // Before the run: probes only; once live, what was received so far is dropped.
        for (const data of state.raw) if (parse(data)?.jobId === PROBE) state.live = true;
        state.raw = [];
        state.times = [];
      }
      send({ type: 'status', live: states.filter((s) => s.live).length, failed, errors: errors.slice(0, 10), cpu: cpuNow() });
    } else if (message.type === 'collect') {
      // Until each subscriber has the run's last event, or 30 s pass without any message.
      const terminal = (data: Buffer | undefined) => !!data && (data.includes('"COMPLETED"') || data.includes('"FAILED"')) && data.includes(message.jobId!);
      let lastTotal = -1;
      let idleSince = Date.now();
      for (;;) {
        if (states.every((s) => terminal(s.raw.at(-1)) || s.socket.readyState !== WebSocket.OPEN)) break;
        const total = states.reduce((sum, s) => sum + s.raw.length, 0);
        if (total !== lastTotal) {
          lastTotal = total;
          idleSince = Date.now();
        } else if (Date.now() - idleSince > 30_000) break;
        await sleep(20);
      }
      const cpu = cpuNow();
      const subscribers = states.map((state) => {
        const keys: string[] = [];
        const times: number[] = [];
        state.raw.forEach((data, i) => {
          const event = parse(data);
          if (!event || event.jobId !== message.jobId) return;
          keys.push(keyOf(event));
          times.push(state.times[i]);
        });
        return { keys, times };
      });
      send({ type: 'results', subscribers, errors: errors.slice(0, 10), cpu });
    } else if (message.type === 'exit') {
      for (const state of states) state.socket.close(1000);
      await sleep(200);
      process.exit(0);
    }
  });
}

// Last, once every declaration above is initialised: which part this process plays.
const role = process.argv[2];
if (role === 'app-server') void appServer();
else if (role === 'ws-floor-server') void wsFloorServer();
else if (role === 'graphql-ws-floor-server') void graphqlWsFloorServer();
else if (role === 'clients') void clients();
else void orchestrate();
