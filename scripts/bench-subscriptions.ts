/**
 * Subscription fan-out: many graphql-ws subscribers to one segment while it recalculates, beside
 * a floor measured in the same run.
 *
 *   npm run bench:subscriptions -- [--subscribers 1000] [--members 10000] [--chunk 100] [--pglite] [--timeout 600]
 *
 * 1. App. This process creates a fresh database bench_subs_<random> on TEST_DATABASE_URL's server
 *    (default postgresql://postgres@127.0.0.1:5432/postgres) and imports `members` members, half
 *    of them women (with --pglite: the embedded database, imported in the server process). A server
 *    process builds the service on it (buildApp: in-process job delivery, in-memory events, no
 *    Redis), creates an active segment of the women, lets its first run finish, and listens on
 *    127.0.0.1 (createHttpServer: graphql-ws, JWT per socket, yoga's envelop per operation).
 *    A client process opens `subscribers` graphql-ws connections, each subscribing to the
 *    segment's segmentRecalculation with the dashboard's selection (the segment's statistics on
 *    COMPLETED); probe events are published until every subscription is live. Then one
 *    recalculateSegment runs in chunks of `chunk` members: about members / chunk RUNNING events.
 * 2. Floor. A bare graphql-ws server (graphql-js, no yoga, no auth, no database) with a trivial
 *    in-memory pub/sub and the same output type, replaying the app's events at the same offsets
 *    to the same number of subscribers from a fresh client process.
 *
 * Per phase: events published; events received per subscriber (any loss or reordering is
 * listed); delivery latency p50/p99/max from the event's `at` (stamped when published) to its
 * receipt (one machine, one clock), overall and split into progress events and the COMPLETED
 * event; server memory per connection, as RSS and as V8 heap + external, after GC, (after all
 * subscriptions - before) / connections; CPU time of the server and of the client per event
 * delivered to one subscriber. Then the app/floor ratios. Target: p99 under 100 ms.
 * Bounded: at most 20,000 subscribers, every wait has a deadline and the whole run stops after
 * --timeout seconds; everything listens on loopback only. Exits 1 on any loss or error.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';

const SELF = fileURLToPath(import.meta.url);
const TARGET_P99_MS = 100;
const PROBE = 'probe';

const SUBSCRIPTION = /* GraphQL */ `
  subscription Recalculation($segmentId: ID!) {
    segmentRecalculation(segmentId: $segmentId) {
      jobId segmentId status processed total matched added removed message at
      segment { segmentId customersCount averageTransactions averageTransactionAmount averageClv calculatedAt }
    }
  }`;

interface Published {
  jobId: string;
  segmentId: string;
  storeId: string;
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  processed?: number;
  total?: number;
  matched?: number;
  added?: number;
  removed?: number;
  at: string;
}

/** What a server process says (IPC). */
type ServerMessage =
  | { type: 'ready'; url: string; token: string; segmentId: string; storeId: string; database: string }
  | { type: 'memory'; rss: number; heap: number; cpu: number }
  | { type: 'published'; events: Published[]; offsets: number[] };

/** What the client process says (IPC). */
type ClientMessage =
  | { type: 'status'; live: number; failed: number; errors: string[]; cpu: number }
  | { type: 'results'; perSubscriber: { count: number; outOfOrder: number; completed: boolean }[]; latencies: number[]; completedLatencies: number[]; errors: string[]; cpu: number };


// ---------------------------------------------------------------------------------------------
// Orchestrator

let dropDatabase: (() => Promise<unknown>) | undefined;

async function orchestrate() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '1000' },
      members: { type: 'string', default: '10000' },
      chunk: { type: 'string', default: '100' },
      pglite: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
  });
  const subscribers = Number(values.subscribers);
  const members = Number(values.members);
  const chunk = Number(values.chunk);
  const timeout = Number(values.timeout);
  if (![subscribers, members, chunk, timeout].every((n) => Number.isInteger(n) && n > 0) || subscribers > 20_000) {
    console.log('Usage: npm run bench:subscriptions -- [--subscribers N<=20000] [--members N] [--chunk N] [--pglite] [--timeout S]');
    process.exit(2);
  }
  const children = new Set<ChildProcess>();
  const stopAll = () => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  const deadline = setTimeout(async () => {
    console.error(`Stopped after ${timeout} s (--timeout).`);
    stopAll();
    await dropDatabase?.().catch(() => undefined);
    process.exit(1);
  }, timeout * 1000);
  process.on('exit', stopAll);

  const spawn = (args: string[]) => {
    const child = fork(SELF, args, { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  console.log(`${subscribers} graphql-ws subscribers to one segment; ${members} members, recalculated in chunks of ${chunk}.`);
  const load = () => loadavg()[0].toFixed(1);
  const loadAtStart = load();
  const prepared = values.pglite ? undefined : await prepareDatabase(members);
  dropDatabase = prepared?.drop;
  let app: PhaseResult;
  try {
    app = await phase('app', spawn(['app-server', String(members), String(chunk), prepared?.url ?? 'pglite']), spawn, subscribers);
  } finally {
    stopAll();
    await prepared?.drop();
    dropDatabase = undefined;
  }
  const floor = await phase('floor', spawn(['floor-server']), spawn, subscribers, app.published);
  clearTimeout(deadline);

  const rows = [
    ['', 'published', 'received/sub', 'lost', 'p50 ms', 'p99 ms', 'max ms', 'RSS KiB/conn', 'heap+ext KiB/conn', 'server CPU µs/delivery', 'client CPU µs/delivery'],
    row('floor (bare graphql-ws)', floor),
    row(`app (${app.database})`, app),
    [
      'ratio app/floor',
      '',
      '',
      '',
      ratio(app.p50, floor.p50),
      ratio(app.p99, floor.p99),
      ratio(app.max, floor.max),
      ratio(app.kibPerConnection, floor.kibPerConnection),
      ratio(app.heapKibPerConnection, floor.heapKibPerConnection),
      ratio(app.serverUs, floor.serverUs),
      ratio(app.clientUs, floor.clientUs),
    ],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  console.log();
  for (const r of rows) console.log(r.map((cell, i) => (i ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]))).join('  '));
  const duration = app.published.offsets.at(-1)! / 1000;
  console.log(`\nThe run: ${app.published.events.length} events in ${duration.toFixed(2)} s (${(app.published.events.length / duration).toFixed(0)} events/s, ` +
    `${((app.published.events.length * subscribers) / duration).toFixed(0)} deliveries/s); the floor replays them at the same offsets.`);
  for (const r of [floor, app]) console.log(`${r.name}: p99 of QUEUED/RUNNING events ${r.progressP99} ms; p99 of the COMPLETED event ${r.completedP99} ms`);
  console.log(`Machine: ${availableParallelism()} CPUs shared by the server, the subscribers and PostgreSQL; 1-minute load average ${loadAtStart} at the start, ${load()} at the end ` +
    '(latencies mean little when the load exceeds the CPUs; the CPU figures hold).');
  console.log('Latency: from the event\'s `at` (stamped when published) to its receipt by the subscriber. CPU: per event delivered to one subscriber.');
  console.log();
  for (const result of [floor, app]) {
    if (result.lost.length) console.log(`${result.name}: LOSS: ${result.lost.join('; ')}`);
    else console.log(`${result.name}: every subscriber received all ${result.published.events.length} events, in order: ${result.inOrder ? 'yes' : 'NO'}`);
    if (result.errors.length) console.log(`${result.name}: errors: ${result.errors.slice(0, 5).join('; ')}`);
  }
  console.log(`Target p99 < ${TARGET_P99_MS} ms: ${app.p99 < TARGET_P99_MS ? 'met' : 'NOT met'} (app p99 ${app.p99} ms).`);
  stopAll();
  process.exit(app.lost.length || floor.lost.length || app.errors.length || floor.errors.length ? 1 : 0);
}

interface PhaseResult {
  name: string;
  database: string;
  published: { events: Published[]; offsets: number[] };
  received: number;
  lost: string[];
  inOrder: boolean;
  errors: string[];
  p50: number;
  p99: number;
  max: number;
  kibPerConnection: number;
  /** p99 over the QUEUED and RUNNING events only, and over the COMPLETED event only. */
  progressP99: number;
  completedP99: number;
  heapKibPerConnection: number;
  serverUs: number;
  clientUs: number;
}

async function phase(
  name: string,
  server: ChildProcess,
  spawn: (args: string[]) => ChildProcess,
  subscribers: number,
  replay?: { events: Published[]; offsets: number[] },
): Promise<PhaseResult> {
  const ready = await receive<ServerMessage & { type: 'ready' }>(server, 'ready', 300_000);
  const before = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  const client = spawn(['clients', ready.url, ready.token, ready.segmentId, String(subscribers)]);
  // Probes until every subscription is live on the server (then no event of the run is missed).
  const started = Date.now();
  let status: ClientMessage & { type: 'status' };
  for (;;) {
    server.send({ type: 'probe' });
    status = await ask<ClientMessage & { type: 'status' }>(client, { type: 'status' }, 'status');
    if (status.live + status.failed >= subscribers) {
      if (status.failed) console.log(`${name}: ${status.failed} subscriptions failed: ${status.errors.slice(0, 3).join('; ')}`);
      break;
    }
    if (Date.now() - started > 180_000) throw new Error(`${name}: only ${status.live} of ${subscribers} subscriptions live after 180 s`);
    await sleep(100);
  }
  const after = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  const published = await ask<ServerMessage & { type: 'published' }>(server, { type: 'run', replay }, 'published', 300_000);
  const jobId = published.events[0].jobId;
  const results = await ask<ClientMessage & { type: 'results' }>(client, { type: 'collect', jobId, expected: published.events.length }, 'results', 300_000);
  const end = await ask<ServerMessage & { type: 'memory' }>(server, { type: 'memory' }, 'memory');
  // Both stop on their own (the app closes its server and database); killed if they take too long.
  await Promise.all([server, client].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'exit' });
  })));

  const lost: string[] = [];
  results.perSubscriber.forEach((s, i) => {
    if (s.count !== published.events.length) lost.push(`subscriber ${i}: ${s.count} of ${published.events.length}`);
  });
  const latencies = [...results.latencies, ...results.completedLatencies].sort((x, y) => x - y);
  const pick = (q: number) => percentile(latencies, q);
  return {
    name,
    database: ready.database,
    published,
    received: results.perSubscriber.reduce((sum, s) => sum + s.count, 0) / subscribers,
    lost,
    inOrder: results.perSubscriber.every((s) => s.outOfOrder === 0),
    errors: results.errors,
    p50: pick(0.5),
    p99: pick(0.99),
    max: latencies.at(-1) ?? NaN,
    progressP99: percentile(results.latencies.sort((x, y) => x - y), 0.99),
    completedP99: percentile(results.completedLatencies.sort((x, y) => x - y), 0.99),
    kibPerConnection: (after.rss - before.rss) / 1024 / subscribers,
    heapKibPerConnection: (after.heap - before.heap) / 1024 / subscribers,
    // CPU time per event delivered to one subscriber, from the start of the run to the last receipt.
    serverUs: (end.cpu - after.cpu) / (published.events.length * subscribers),
    clientUs: (results.cpu - status.cpu) / (published.events.length * subscribers),
  };
}

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

function row(label: string, r: PhaseResult) {
  return [label, r.published.events.length, r.received.toFixed(1), r.lost.length, r.p50, r.p99, r.max, r.kibPerConnection.toFixed(1), r.heapKibPerConnection.toFixed(1), r.serverUs.toFixed(1), r.clientUs.toFixed(1)];
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
  const cpu = process.cpuUsage();
  return { type: 'memory' as const, rss: usage.rss, heap: usage.heapUsed + usage.external, cpu: cpu.user + cpu.system };
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
  const serverUrl = process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `bench_subs_${randomBytes(6).toString('hex')}`;
  const adminQuery = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
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
  const [members, chunk, where] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
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
    },
    { database },
  );
  const cleanup = () => app.close().catch(() => undefined);
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
    const http = createHttpServer(app);
    const port = await http.listen(0, '127.0.0.1');
    send({ type: 'ready', url: `ws://127.0.0.1:${port}/graphql`, token, segmentId, storeId: store.id, database: url ? 'PostgreSQL' : 'PGlite' });

    process.on('message', async (message: { type: string }) => {
      if (message.type === 'memory') send(memory());
      else if (message.type === 'probe') {
        app.services.events.publish('segmentRecalculation', segmentId, { jobId: PROBE, segmentId, storeId: store.id, status: 'QUEUED', at: new Date().toISOString() });
      } else if (message.type === 'run') {
        // Everything the app publishes for the run, as published (the in-process pub/sub).
        const events: Published[] = [];
        const offsets: number[] = [];
        const iterator = app.services.events.subscribe('segmentRecalculation', segmentId)[Symbol.asyncIterator]();
        const start = Date.now();
        const recorded = (async () => {
          for (;;) {
            const { value, done } = await iterator.next();
            if (done) return;
            if (value.jobId === PROBE) continue;
            events.push(value);
            offsets.push(Date.now() - start);
            if (value.status === 'COMPLETED' || value.status === 'FAILED') return;
          }
        })();
        const answer = await call('/graphql', { query: `mutation($id: ID!) { recalculateSegment(storeCode: "DEFAULT", segmentId: $id) { ... on RecalculationJob { id } } }`, variables: { id: segmentId } }, token);
        if (!answer.data?.recalculateSegment?.id) throw new Error(`recalculateSegment failed: ${JSON.stringify(answer)}`);
        await recorded;
        await iterator.return?.();
        send({ type: 'published', events, offsets });
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

async function floorServer() {
  // The app's output type, with the same fields; `segment` is a constant (no database).
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
  const pubsub = trivialPubSub<{ segmentRecalculation: Published & { segment: unknown } }>();
  const segmentId = randomUUID();
  const storeId = randomUUID();
  const server = createServer((_, response) => response.writeHead(404).end());
  const sockets = new WebSocketServer({ server, path: '/graphql' });
  useServer({ schema, roots: { subscription: { segmentRecalculation: ({ segmentId: id }: { segmentId: string }) => pubsub.subscribe(id) } } }, sockets);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  send({ type: 'ready', url: `ws://127.0.0.1:${port}/graphql`, token: 'unused', segmentId, storeId, database: 'none' });
  const publish = (event: Published) =>
    pubsub.publish(segmentId, {
      segmentRecalculation: {
        ...event,
        segment: event.status === 'COMPLETED'
          ? { segmentId, customersCount: 1, averageTransactions: 1, averageTransactionAmount: 1, averageClv: 1, calculatedAt: event.at }
          : null,
      },
    });

  process.on('message', async (message: { type: string; replay?: { events: Published[]; offsets: number[] } }) => {
    if (message.type === 'memory') send(memory());
    else if (message.type === 'probe') publish({ jobId: PROBE, segmentId, storeId, status: 'QUEUED', at: new Date().toISOString() });
    else if (message.type === 'run') {
      // The app's run again, event for event, at the same offsets.
      const { events, offsets } = message.replay!;
      const jobId = randomUUID();
      const start = Date.now();
      const published: Published[] = [];
      for (let i = 0; i < events.length; i++) {
        const wait = start + offsets[i] - Date.now();
        if (wait > 0) await sleep(wait);
        const event = { ...events[i], jobId, segmentId, storeId, at: new Date().toISOString() };
        publish(event);
        published.push(event);
      }
      send({ type: 'published', events: published, offsets });
    } else if (message.type === 'exit') process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Subscribers

async function clients() {
  const [url, token, segmentId, count] = [process.argv[3], process.argv[4], process.argv[5], Number(process.argv[6])];
  const errors: string[] = [];
  let failed = 0;
  interface State {
    live: boolean;
    events: { jobId: string; status: string; processed: number | null }[];
    latencies: number[];
    completedLatencies: number[];
    done: boolean;
  }
  const states: State[] = [];
  const sockets: Client[] = [];
  for (let i = 0; i < count; i += 50) {
    // Connections in waves of 50, so the accept backlog never overflows.
    const wave = Array.from({ length: Math.min(50, count - i) }, () => {
      const state: State = { live: false, events: [], latencies: [], completedLatencies: [], done: false };
      states.push(state);
      const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
      sockets.push(client);
      const connected = new Promise<void>((resolve) => {
        client.on('connected', () => resolve());
        client.on('closed', () => resolve());
      });
      client.subscribe<{ segmentRecalculation: Published }>({ query: SUBSCRIPTION, variables: { segmentId } }, {
        next: (result) => {
          const event = result.data?.segmentRecalculation;
          if (!event) {
            errors.push(JSON.stringify(result.errors));
            return;
          }
          if (event.jobId === PROBE) {
            state.live = true;
            return;
          }
          (event.status === 'COMPLETED' ? state.completedLatencies : state.latencies).push(Date.now() - Date.parse(event.at));
          state.events.push({ jobId: event.jobId, status: event.status, processed: event.processed ?? null });
        },
        error: (error) => {
          failed++;
          errors.push(String((error as { code?: number }).code ?? error));
        },
        complete: () => undefined,
      });
      return connected;
    });
    await Promise.all(wave);
  }

  process.on('message', async (message: { type: string; jobId?: string; expected?: number }) => {
    if (message.type === 'status') {
      send({ type: 'status', live: states.filter((s) => s.live).length, failed, errors: errors.slice(0, 10), cpu: cpuNow() });
    } else if (message.type === 'collect') {
      // Until each subscriber has the run's last event, or 60 s pass without progress.
      let lastTotal = -1;
      let idleSince = Date.now();
      for (;;) {
        const finished = states.filter((s) => s.events.some((e) => e.jobId === message.jobId && (e.status === 'COMPLETED' || e.status === 'FAILED')));
        if (finished.length === states.length) break;
        const total = states.reduce((sum, s) => sum + s.events.length, 0);
        if (total !== lastTotal) {
          lastTotal = total;
          idleSince = Date.now();
        } else if (Date.now() - idleSince > 60_000) break;
        await sleep(50);
      }
      const perSubscriber = states.map((s) => {
        const own = s.events.filter((e) => e.jobId === message.jobId);
        let outOfOrder = 0;
        let last = -1;
        for (const event of own) {
          if (event.status === 'RUNNING') {
            if ((event.processed ?? 0) < last) outOfOrder++;
            last = event.processed ?? 0;
          }
        }
        return { count: own.length, outOfOrder, completed: own.some((e) => e.status === 'COMPLETED') };
      });
      send({ type: 'results', perSubscriber, latencies: states.flatMap((s) => s.latencies), completedLatencies: states.flatMap((s) => s.completedLatencies), errors: errors.slice(0, 10), cpu: cpuNow() });
    } else if (message.type === 'exit') {
      await Promise.all(sockets.map((socket) => socket.dispose()));
      process.exit(0);
    }
  });
}

// Last, once every declaration above is initialised: which part this process plays.
const role = process.argv[2];
if (role === 'app-server') void appServer();
else if (role === 'floor-server') void floorServer();
else if (role === 'clients') void clients();
else void orchestrate();
