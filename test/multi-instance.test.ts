import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expectedStatistics, fixtureRecords, fixtures } from './support/run-fixtures.ts';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.ts';
import type { Store } from '../src/generated/prisma/client.ts';
import { IngestService } from '../src/services/ingest-service.ts';
import { StoreService } from '../src/services/store-service.ts';
import {
  bearer,
  MEMBERSHIP_SUBSCRIPTION,
  probeEvent,
  probeMembershipEvent,
  RECALCULATION_SUBSCRIPTION,
  Subscription,
  untilReceived,
  waitUntil,
  wsClient,
  type MembershipEvent,
  type ProgressEvent,
} from './support/subscriptions.ts';
import { memberIdsOfSegment } from './support/memberships.ts';

/**
 * Several service instances as separate processes (`node --import tsx src/server.ts`) on one
 * PostgreSQL database and one Redis, jobs through pg-boss: events of a run on one instance reach
 * subscribers on another, and a run whose instance is killed is taken over by another instance
 * while readers keep seeing the old membership (DOMAIN.md section 5).
 */

const postgresUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = { username: 'admin', password: 'multi-instance-password' };
const CHUNK = 20;
/** DEFAULT: watched across instances. BIG: long enough a run (BIG / CHUNK steps) to kill mid-way. */
const SMALL = 3000;
const BIG = 12_000;

interface Instance {
  name: string;
  process: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output(): string;
}

/** The statistics of a REST segment body (averages may be sent as decimal strings), as numbers. */
function restStatistics(body: Record<string, unknown>) {
  return {
    customersCount: body.customersCount,
    averageTransactions: Number(body.averageTransactions),
    averageTransactionAmount: Number(body.averageTransactionAmount),
    averageClv: Number(body.averageClv),
  };
}

if (!postgresUrl || !redisUrl) {
  describe.skip('multi-instance [set TEST_DATABASE_URL and REDIS_URL to run]', () => {
    it('two processes on one PostgreSQL and one Redis', () => undefined);
  });
} else {
  describe('multi-instance: separate processes on PostgreSQL, Redis and pg-boss', () => {
    const name = `sg_multi_${randomBytes(6).toString('hex')}`;
    const databaseUrl = Object.assign(new URL(postgresUrl), { pathname: `/${name}` }).toString();
    const instances: Instance[] = [];
    let database: Database;
    let redis: Redis;
    let a: Instance;
    let b: Instance;
    let token: string;
    let defaultStore: Store;
    let bigStore: Store;
    const small = fixtures(SMALL);
    const big = fixtures(BIG);
    const closers: (() => unknown)[] = [];

    async function admin(sql: string) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    }

    /** Starts `src/server.ts` in its own process, resolved once it listens (on a port of its choosing). */
    async function start(instance: string, env: Record<string, string>): Promise<Instance> {
      const url = new URL(databaseUrl);
      // Each instance's connections carry its name, so the test can see which one holds a run.
      url.searchParams.set('application_name', `sg-${instance}`);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          NODE_ENV: 'production',
          DATABASE_URL: url.toString(),
          REDIS_URL: redisUrl!,
          PORT: '0',
          JWT_SECRET: 'multi-instance-secret',
          ADMIN_USERNAME: ADMIN.username,
          ADMIN_PASSWORD: ADMIN.password,
          RECALCULATION_SCHEDULE_MINUTES: '0',
          RECALCULATION_CHUNK_SIZE: String(CHUNK),
          JOB_LEASE_SECONDS: '3',
          JOB_SWEEP_SECONDS: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const started: Instance = { name: instance, process: child, url: '', exited, output: () => output };
      instances.push(started);
      const port = await Promise.race([
        waitUntil(`instance ${instance} to listen`, () => /Segment gateway on http:\/\/localhost:(\d+)\//.exec(output)?.[1], 90_000),
        exited.then((code) => {
          throw new Error(`instance ${instance} exited (${code}) before listening:\n${output}`);
        }),
      ]);
      started.url = `http://127.0.0.1:${port}`;
      return started;
    }

    async function kill(instance: Instance) {
      if (instance.process.exitCode === null && instance.process.signalCode === null) instance.process.kill('SIGKILL');
      await instance.exited;
    }

    async function request(instance: Instance, method: string, path: string, body?: unknown) {
      const response = await fetch(`${instance.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
    }

    async function graphql(instance: Instance, query: string, variables: Record<string, unknown>) {
      const response = await request(instance, 'POST', '/graphql', { query, variables });
      expect(response.body.errors, response.text).toBeUndefined();
      return response.body.data;
    }

    /** Names (application_name) of the instances holding a write transaction open for a while: a run. */
    async function runningOn(): Promise<string[]> {
      const rows = await database.prisma.$queryRaw<{ name: string }[]>`
        SELECT DISTINCT application_name AS name FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
          AND xact_start < now() - interval '200 milliseconds'`;
      return rows.map((row) => row.name).sort();
    }

    async function connections(instance: string): Promise<number> {
      const [{ count }] = await database.prisma.$queryRaw<{ count: number }[]>`
        SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name = ${`sg-${instance}`}`;
      return count;
    }

    async function membership(segmentId: string): Promise<string[]> {
      return memberIdsOfSegment(database.prisma, segmentId);
    }

    /** Progress and membership subscriptions on a graphql-ws socket to the instance, live (probed through Redis). */
    async function subscribe(instance: Instance, segmentId: string, storeId: string) {
      const client = wsClient(`${instance.url.replace('http', 'ws')}/graphql`, bearer(token));
      closers.push(() => client.dispose());
      const progress = new Subscription<ProgressEvent>(client, 'segmentRecalculation', RECALCULATION_SUBSCRIPTION, { segmentId });
      const changes = new Subscription<MembershipEvent>(client, 'segmentMembershipChanged', MEMBERSHIP_SUBSCRIPTION, { segmentId });
      await untilReceived('the progress subscription to be live',
        () => redis.publish(`segmentRecalculation:${segmentId}`, JSON.stringify(probeEvent(segmentId, storeId))), () => progress.probed);
      await untilReceived('the membership subscription to be live',
        () => redis.publish(`segmentMembershipChanged:${segmentId}`, JSON.stringify(probeMembershipEvent(segmentId, storeId))), () => changes.probed);
      return { progress, changes };
    }

    async function createSegment(instance: Instance, storeCode: string, segmentName: string, active: boolean) {
      const created = await request(instance, 'POST', `/api/${storeCode}/segment`, {
        segment: { name: segmentName, active, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] },
      });
      expect(created.status, created.text).toBe(200);
      return created.body.segmentId as string;
    }

    async function settled(segmentId: string) {
      await waitUntil('the segment\'s jobs to finish', async () =>
        !(await database.prisma.recalculationJob.count({ where: { segmentId, status: { in: ['QUEUED', 'RUNNING'] } } })));
    }

    const RECALCULATE = /* GraphQL */ `
      mutation Recalculate($storeCode: String!, $segmentId: ID!) {
        recalculateSegment(storeCode: $storeCode, segmentId: $segmentId) { ... on RecalculationJob { id status } ... on NotFoundError { message } }
      }`;

    beforeAll(async () => {
      await admin(`CREATE DATABASE ${name}`);
      redis = new Redis(redisUrl!);
      // A serves requests only; B runs the jobs.
      a = await start('a', { RUN_JOBS: 'false' });
      b = await start('b', { RUN_JOBS: 'true' });
      database = await openDatabase({ url: databaseUrl });
      const stores = new StoreService(database.prisma);
      defaultStore = await stores.getByCode('DEFAULT');
      bigStore = await stores.create({ code: 'BIG', name: 'Big store' });
      const ingest = new IngestService(database.prisma);
      expect((await ingest.importRecords(defaultStore, fixtureRecords(small))).errors).toEqual([]);
      expect((await ingest.importRecords(bigStore, fixtureRecords(big))).errors).toEqual([]);
      const login = await fetch(`${a.url}/api/admin/login_check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      expect(login.status).toBe(200);
      token = ((await login.json()) as { token: string }).token;
    }, 180_000);

    afterAll(async () => {
      for (const close of closers.splice(0)) await Promise.resolve(close()).catch(() => undefined);
      await Promise.all(instances.map(kill));
      redis?.disconnect();
      await database?.close();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }, 60_000);

    it('a subscriber on instance A sees the progress and completion of the run instance B does', async () => {
      const segmentId = await createSegment(a, 'DEFAULT', 'Women (across instances)', false);
      const { progress, changes } = await subscribe(a, segmentId, defaultStore.id);

      // Activated through A, which runs no jobs: B has to run it.
      const holders = new Set<string>();
      const activated = await request(a, 'POST', `/api/DEFAULT/segment/${segmentId}/activate`);
      expect(activated.status, activated.text).toBe(204);
      await waitUntil('the run to complete, seen on A', async () => {
        for (const holder of await runningOn()) holders.add(holder);
        return progress.events.some((event) => event.status === 'COMPLETED');
      }, 90_000, 50);
      expect([...holders]).toEqual(['sg-b']);

      const [queued] = progress.events;
      const run = progress.events.filter((event) => event.jobId === queued.jobId);
      expect(progress.events).toEqual(run);
      const statuses = run.map((event) => event.status);
      expect(statuses[0]).toBe('QUEUED');
      expect(statuses.at(-1)).toBe('COMPLETED');
      expect(statuses.slice(1, -1).every((status) => status === 'RUNNING'), statuses.join(' ')).toBe(true);
      const steps = run.filter((event) => event.status === 'RUNNING' && event.total === SMALL).map((event) => event.processed!);
      // Counts are coalesced to a few per second (ProgressPublisher): the count of members and the
      // first chunk always come, then as many as the run's speed gives, up to the last.
      expect(steps.slice(0, 2)).toEqual([0, CHUNK]);
      expect(steps).toEqual([...steps].sort((x, y) => x - y));
      expect(steps.at(-1)).toBe(SMALL);
      const women = small.filter((m) => m.female);
      expect(run.at(-1)).toMatchObject({ matched: women.length, added: women.length, removed: 0 });
      expect(run.at(-1)!.segment).toMatchObject({ segmentId, ...expectedStatistics(women) });

      await changes.waitFor('every membership batch', (events) => events.length === 2);
      expect(changes.events.flatMap((event) => event.joined).sort()).toEqual(women.map((m) => m.id).sort());
      expect(changes.events.flatMap((event) => event.left)).toEqual([]);
      expect(await membership(segmentId)).toEqual(women.map((m) => m.id).sort());
    }, 120_000);

    it('a run whose instance is killed is taken over by another instance; readers see the old membership meanwhile', async () => {
      const segmentId = await createSegment(a, 'BIG', 'Women (crash)', true);
      await settled(segmentId);
      const oldWomen = big.filter((m) => m.female);
      const oldIds = oldWomen.map((m) => m.id).sort();
      expect(await membership(segmentId)).toEqual(oldIds);
      const oldDetails = (await request(a, 'GET', `/api/BIG/segment/${segmentId}`)).body;
      expect(restStatistics(oldDetails)).toEqual(expectedStatistics(oldWomen));

      // New data: 500 women become men, 300 men women. The next run must move exactly those.
      const leaving = big.filter((m) => m.female).slice(0, 500);
      const joining = big.filter((m) => !m.female).slice(0, 300);
      const summary = await new IngestService(database.prisma).importRecords(bigStore, [
        ...leaving.map((m) => ({ kind: 'member', customerId: m.id, gender: 'male' })),
        ...joining.map((m) => ({ kind: 'member', customerId: m.id, gender: 'female' })),
      ]);
      expect(summary.errors).toEqual([]);
      for (const m of leaving) m.female = false;
      for (const m of joining) m.female = true;
      const newWomen = big.filter((m) => m.female);

      const { progress, changes } = await subscribe(a, segmentId, bigStore.id);
      const job = (await graphql(a, RECALCULATE, { storeCode: 'BIG', segmentId })).recalculateSegment;
      expect(job).toMatchObject({ status: 'QUEUED' });
      await progress.waitFor('B to report progress', (events) =>
        events.some((event) => event.jobId === job.id && event.status === 'RUNNING' && event.processed! > 0), 90_000);
      expect(await waitUntil('the run to show in PostgreSQL', async () => {
        const holders = await runningOn();
        return holders.length ? holders : undefined;
      })).toEqual(['sg-b']);

      // B dies mid-run. PostgreSQL rolls its transaction back when the connection drops.
      await kill(b);
      await waitUntil('B\'s connections to be gone', async () => (await connections('b')) === 0);
      expect(progress.events.some((event) => event.jobId === job.id && event.status !== 'QUEUED' && event.status !== 'RUNNING')).toBe(false);
      const partial = progress.events.filter((event) => event.status === 'RUNNING').at(-1)!;
      expect(partial.processed!).toBeLessThan(BIG);

      // Abandoned: nobody runs jobs now. Readers see the old membership and statistics, whole.
      expect(await database.prisma.recalculationJob.findUnique({ where: { id: job.id } })).toMatchObject({ status: 'RUNNING', attempts: 1 });
      expect(await membership(segmentId)).toEqual(oldIds);
      const details = await request(a, 'GET', `/api/BIG/segment/${segmentId}`);
      expect(details.status).toBe(200);
      expect(details.body).toEqual(oldDetails);
      const members = await request(a, 'GET', `/api/BIG/segment/${segmentId}/members?_itemsOnPage=1`);
      expect(members.body.total.all).toBe(oldWomen.length);

      // C runs jobs: its sweep finds the lapsed lease and runs the job again, to completion.
      await start('c', { RUN_JOBS: 'true' });
      await progress.waitFor('the taken-over run to complete', (events) =>
        events.some((event) => event.jobId === job.id && event.status === 'COMPLETED'), 90_000);
      // One job, two attempts: QUEUED, B's partial run, C's run from the start, COMPLETED.
      const events = progress.events;
      expect(events.every((event) => event.jobId === job.id)).toBe(true);
      const starts = events.flatMap((event, i) => (event.status === 'RUNNING' && event.processed === 0 && event.total === 0 ? [i] : []));
      expect(starts).toHaveLength(2);
      const [killed, takenOver] = [events.slice(0, starts[1]), events.slice(starts[1])];
      expect(killed.map((event) => event.status).filter((status) => status !== 'RUNNING')).toEqual(['QUEUED']);
      expect(Math.max(...killed.map((event) => event.processed ?? 0))).toBeLessThan(BIG);
      expect(takenOver.map((event) => event.status).filter((status) => status !== 'RUNNING')).toEqual(['COMPLETED']);
      const steps = takenOver.filter((event) => event.status === 'RUNNING').map((event) => event.processed!);
      expect(steps).toEqual([...steps].sort((x, y) => x - y));
      expect(steps.at(-1)).toBe(BIG);
      expect(takenOver.at(-1)).toMatchObject({ matched: newWomen.length, added: joining.length, removed: leaving.length });
      expect(takenOver.at(-1)!.segment).toMatchObject({ segmentId, ...expectedStatistics(newWomen) });

      expect(await database.prisma.recalculationJob.findUnique({ where: { id: job.id } })).toMatchObject({
        status: 'COMPLETED', attempts: 2, matched: newWomen.length, added: joining.length, removed: leaving.length,
      });
      expect(await membership(segmentId)).toEqual(newWomen.map((m) => m.id).sort());
      expect(restStatistics((await request(a, 'GET', `/api/BIG/segment/${segmentId}`)).body)).toEqual(expectedStatistics(newWomen));
      expect((await request(a, 'GET', `/api/BIG/segment/${segmentId}/members?_itemsOnPage=1`)).body.total.all).toBe(newWomen.length);
      await changes.waitFor('the membership change', (events) => events.some((event) => event.jobId === job.id));
      const change = changes.events.filter((event) => event.jobId === job.id);
      expect(change.flatMap((event) => event.joined).sort()).toEqual(joining.map((m) => m.id).sort());
      expect(change.flatMap((event) => event.left).sort()).toEqual(leaving.map((m) => m.id).sort());
      await settled(segmentId);
    }, 180_000);
  });
}
