import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signAccessToken } from '../src/auth/tokens.ts';
import { createHttpServer } from '../src/http-server.ts';
import type { Store } from '../src/generated/prisma/client.ts';
import { expectedStatistics, fixtureRecords, fixtures } from './support/run-fixtures.ts';
import { describeEachDatabase } from './support/databases.ts';
import {
  bearer,
  MEMBERSHIP_SUBSCRIPTION,
  probeEvent,
  probeMembershipEvent,
  RECALCULATION_SUBSCRIPTION,
  SseSubscription,
  Subscription,
  untilReceived,
  waitUntil,
  wsClient,
  type MembershipEvent,
  type ProgressEvent,
} from './support/subscriptions.ts';
import { TestApp } from './support/test-app.ts';

/**
 * Subscriptions end to end (DOMAIN.md section 5): a listening server, real graphql-ws and SSE
 * clients, real recalculation jobs over a few thousand members evaluated in small chunks, so a
 * run lasts long enough to be watched and raced.
 */

const MEMBERS = 3000;
const CHUNK = 25;

const RECALCULATE = /* GraphQL */ `
  mutation Recalculate($segmentId: ID!) {
    recalculateSegment(storeCode: "DEFAULT", segmentId: $segmentId) {
      __typename
      ... on RecalculationJob { id segmentId status reason }
      ... on NotFoundError { message }
    }
  }`;

describeEachDatabase('subscriptions', (kind) => {
  let t: TestApp;
  let token: string;
  let store: Store;
  let http: ReturnType<typeof createHttpServer>;
  let base: string;
  let wsUrl: string;
  const closers: (() => unknown)[] = [];
  const members = fixtures(MEMBERS);

  beforeAll(async () => {
    t = await TestApp.start(kind, { recalculationChunkSize: CHUNK });
    token = await t.login();
    store = await t.app.services.stores.getByCode('DEFAULT');
    const summary = await t.app.services.ingest.importRecords(store, fixtureRecords(members));
    expect(summary.errors).toEqual([]);
    http = createHttpServer(t.app);
    const port = await http.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    wsUrl = `ws://127.0.0.1:${port}/graphql`;
  });

  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
    await http?.close();
    await t?.close();
  });

  /** A segment of the women (created inactive unless asked), with any run it caused finished. */
  async function womenSegment(name: string, active: boolean, storeCode = 'DEFAULT', as = token): Promise<string> {
    const created = await t.request('POST', `/api/${storeCode}/segment`, {
      token: as,
      body: { segment: { name, active, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] } },
    });
    expect(created.status, created.text).toBe(200);
    await t.app.services.jobs.drain();
    return created.body.segmentId;
  }

  async function recalculate(segmentId: string) {
    const response = await t.graphql(RECALCULATE, { segmentId }, token);
    expect(response.body.errors).toBeUndefined();
    const job = response.body.data.recalculateSegment;
    expect(job).toMatchObject({ __typename: 'RecalculationJob', segmentId, reason: 'request' });
    return job as { id: string; status: string };
  }

  function client(params: Record<string, unknown> | undefined) {
    const c = wsClient(wsUrl, params);
    closers.push(() => c.dispose());
    return c;
  }

  /** Both subscriptions of a segment on one graphql-ws connection, live before this returns. */
  async function subscribeWs(segmentId: string, as = token, storeId = store.id) {
    const c = client(bearer(as));
    const progress = new Subscription<ProgressEvent>(c, 'segmentRecalculation', RECALCULATION_SUBSCRIPTION, { segmentId });
    const membership = new Subscription<MembershipEvent>(c, 'segmentMembershipChanged', MEMBERSHIP_SUBSCRIPTION, { segmentId });
    closers.push(() => progress.close(), () => membership.close());
    await untilReceived('the progress subscription to be live',
      () => t.app.services.events.publish('segmentRecalculation', segmentId, probeEvent(segmentId, storeId)), () => progress.probed);
    await untilReceived('the membership subscription to be live',
      () => t.app.services.events.publish('segmentMembershipChanged', segmentId, probeMembershipEvent(segmentId, storeId)), () => membership.probed);
    return { progress, membership };
  }

  const women = () => members.filter((m) => m.female);

  /**
   * One run's events in the order received: QUEUED, then RUNNING only (0 of 0 first, then the
   * counts, never going back, up to total), then COMPLETED last. Returns COMPLETED. Counts are
   * coalesced to a few per second (src/jobs/recalculation-jobs.ts, ProgressPublisher, tested in
   * test/jobs-progress.test.ts), so how many a run sends depends on its speed; the start, the
   * count of members, the first chunk and the final count are always sent.
   */
  function expectRun(events: ProgressEvent[], jobId: string, segmentId: string): ProgressEvent {
    const run = events.filter((event) => event.jobId === jobId);
    expect(run.every((event) => event.segmentId === segmentId)).toBe(true);
    const statuses = run.map((event) => event.status);
    expect(statuses[0], statuses.join(' ')).toBe('QUEUED');
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses.slice(1, -1).every((status) => status === 'RUNNING'), statuses.join(' ')).toBe(true);
    const running = run.filter((event) => event.status === 'RUNNING');
    let last = 0;
    for (const event of running) {
      expect(event.processed).toBeGreaterThanOrEqual(last);
      last = event.processed!;
      // The very first RUNNING event precedes the count of members (processed 0 of 0).
      if (event.total !== 0) expect(event.total).toBe(MEMBERS);
      expect(event.processed!).toBeLessThanOrEqual(event.total!);
      expect(event.matched).toBeNull();
    }
    expect(running.slice(0, 3).map((event) => [event.processed, event.total])).toEqual([[0, 0], [0, MEMBERS], [CHUNK, MEMBERS]]);
    expect(running.at(-1)).toMatchObject({ processed: MEMBERS, total: MEMBERS });
    for (const event of run) expect(Number.isNaN(Date.parse(event.at))).toBe(false);
    return run.at(-1)!;
  }

  const completedJob = (events: ProgressEvent[], jobId?: string) =>
    events.find((event) => event.status === 'COMPLETED' && (!jobId || event.jobId === jobId));

  it('streams QUEUED, RUNNING with processed/total and COMPLETED with counts and statistics; membership changes name who joined and left', async () => {
    const segmentId = await womenSegment('Women (events)', false);
    const { progress, membership } = await subscribeWs(segmentId);

    // Activation queues the first run: every woman joins.
    expect((await t.request('POST', `/api/DEFAULT/segment/${segmentId}/activate`, { token })).status).toBe(204);
    await progress.waitFor('the first run to complete', (events) => !!completedJob(events));
    const first = progress.events[0].jobId;
    const completed = expectRun(progress.events, first, segmentId);
    expect(completed).toMatchObject({ matched: MEMBERS / 2, added: MEMBERS / 2, removed: 0 });
    expect(completed.segment).toMatchObject({ segmentId, ...expectedStatistics(women()) });
    expect(completed.segment!.calculatedAt).toEqual(expect.any(String));

    // 1500 joined: two batches of at most 1000, together exactly the women, nobody left.
    await membership.waitFor('both membership batches', (events) => events.filter((e) => e.jobId === first).length === 2);
    const batches = membership.events.filter((event) => event.jobId === first);
    expect(batches.map((b) => [b.batch, b.batches])).toEqual([[1, 2], [2, 2]]);
    expect(batches.flatMap((b) => b.joined).sort()).toEqual(women().map((m) => m.id).sort());
    expect(batches.flatMap((b) => b.left)).toEqual([]);

    // The job row agrees with the events.
    const row = await t.app.services.jobs.get(first);
    expect(row).toMatchObject({ status: 'COMPLETED', reason: 'activated', matched: MEMBERS / 2, added: MEMBERS / 2, removed: 0, processed: MEMBERS, total: MEMBERS });

    // Ten women become men and seven men women; an explicit run moves exactly those.
    const leaving = members.filter((m) => m.female).slice(0, 10);
    const joining = members.filter((m) => !m.female).slice(0, 7);
    for (const m of leaving) m.female = false;
    for (const m of joining) m.female = true;
    const summary = await t.app.services.ingest.importRecords(store, [
      ...leaving.map((m) => ({ kind: 'member', customerId: m.id, gender: 'male' })),
      ...joining.map((m) => ({ kind: 'member', customerId: m.id, gender: 'female' })),
    ]);
    expect(summary.errors).toEqual([]);
    const job = await recalculate(segmentId);
    expect(job.id).not.toBe(first);
    await progress.waitFor('the second run to complete', (events) => !!completedJob(events, job.id));
    const second = expectRun(progress.events, job.id, segmentId);
    expect(second).toMatchObject({ matched: MEMBERS / 2 - 3, added: 7, removed: 10 });
    expect(second.segment).toMatchObject({ segmentId, ...expectedStatistics(women()) });
    await membership.waitFor('the second run\'s membership change', (events) => events.some((e) => e.jobId === job.id));
    const change = membership.events.filter((event) => event.jobId === job.id);
    expect(change).toHaveLength(1);
    expect(change[0]).toMatchObject({ segmentId, batch: 1, batches: 1 });
    expect([...change[0].joined].sort()).toEqual(joining.map((m) => m.id).sort());
    expect([...change[0].left].sort()).toEqual(leaving.map((m) => m.id).sort());

    // Readers see the new membership.
    const list = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?_itemsOnPage=1`, { token });
    expect(list.status).toBe(200);
    expect(list.body.total.all).toBe(MEMBERS / 2 - 3);
    // Only this segment's runs reached these subscribers.
    expect(new Set(progress.events.map((event) => event.jobId))).toEqual(new Set([first, job.id]));
  });

  it('two requests during a run give exactly one follow-up run: one run at a time, the requests merged', async () => {
    const segmentId = await womenSegment('Women (race)', true);
    const { progress } = await subscribeWs(segmentId);

    // Watch the app's own event stream in-process: the moment the run reports its first chunk,
    // two more requests are made, concurrently.
    const watcher = t.app.services.events.subscribe('segmentRecalculation', segmentId);
    let running: string | undefined;
    const race = (async () => {
      for await (const event of watcher) {
        if (event.status === 'RUNNING' && (event.processed ?? 0) > 0) {
          running = event.jobId;
          const answers = await Promise.all([recalculate(segmentId), recalculate(segmentId)]);
          const stillRunning = (await t.app.services.jobs.get(event.jobId))?.status;
          return { answers, stillRunning };
        }
      }
      throw new Error('event stream ended');
    })();
    const first = await recalculate(segmentId);
    const { answers, stillRunning } = await race;
    expect(running).toBe(first.id);
    const [a, b] = answers;
    // Both requests merged into one follow-up job, distinct from the running one.
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(first.id);
    if (kind === 'postgresql') {
      // The requests did not wait for the run (on the embedded PGlite every statement waits for
      // the run's transaction, so only there is this not checked).
      expect(stillRunning).toBe('RUNNING');
    }

    await progress.waitFor('the follow-up to complete', (events) => !!completedJob(events, a.id));
    await t.app.services.jobs.drain();
    const jobs = await t.app.database.prisma.recalculationJob.findMany({
      where: { segmentId, queuedAt: { gte: (await t.app.services.jobs.get(first.id))!.queuedAt } },
      orderBy: { queuedAt: 'asc' },
    });
    expect(jobs.map((job) => [job.id, job.status, job.attempts])).toEqual([
      [first.id, 'COMPLETED', 1],
      [a.id, 'COMPLETED', 1],
    ]);

    const events = progress.events;
    expect(new Set(events.map((event) => event.jobId))).toEqual(new Set([first.id, a.id]));
    for (const jobId of [first.id, a.id]) {
      expect(events.filter((e) => e.jobId === jobId && e.status === 'QUEUED')).toHaveLength(1);
      expect(events.filter((e) => e.jobId === jobId && e.status === 'COMPLETED')).toHaveLength(1);
      expectRun(events, jobId, segmentId);
    }
    // The follow-up started only after the first run completed: never two runs at once.
    const firstDone = events.findIndex((e) => e.jobId === first.id && e.status === 'COMPLETED');
    const followUpStart = events.findIndex((e) => e.jobId === a.id && e.status === 'RUNNING');
    expect(followUpStart).toBeGreaterThan(firstDone);
    if (kind === 'postgresql') {
      // ... and it was queued while the first one ran.
      expect(events.findIndex((e) => e.jobId === a.id && e.status === 'QUEUED')).toBeLessThan(firstDone);
    }
    expect(completedJob(events, a.id)).toMatchObject({ matched: women().length, added: 0, removed: 0 });
  });

  it('refuses a socket without a token, with a bad, tampered, expired or wrongly signed one', async () => {
    const segmentId = await womenSegment('Women (refused)', true);
    const adminId = (jwt.decode(token) as { sub: string }).sub;
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    const cases: [string, Record<string, unknown> | undefined][] = [
      ['no connectionParams', undefined],
      ['no Authorization', {}],
      ['not a JWT', bearer('not-a-jwt')],
      ['tampered signature', bearer(tampered)],
      ['expired', bearer(signAccessToken({ sub: adminId, kind: 'admin', username: 'admin' }, 'test-secret', -60))],
      ['signed with another secret', bearer(signAccessToken({ sub: adminId, kind: 'admin', username: 'admin' }, 'other-secret', 3600))],
      ['token without "Bearer"', { Authorization: token }],
    ];
    for (const [name, params] of cases) {
      const c = client(params);
      const subscription = new Subscription<ProgressEvent>(c, 'segmentRecalculation', RECALCULATION_SUBSCRIPTION, { segmentId });
      await waitUntil(`${name}: the socket to be refused`, () => subscription.error !== undefined || subscription.completed);
      expect((subscription.error as { code?: number })?.code, name).toBe(4403);
      expect(c.closeCodes, name).toEqual([4403]);
      expect(subscription.results, name).toEqual([]);
    }
    // The same socket with the real token is accepted (the refusals are about the credentials).
    const { progress } = await subscribeWs(segmentId);
    expect(progress.error).toBeUndefined();
  });

  it('an admin limited to another store cannot subscribe to this store\'s segment, but can to its own', async () => {
    const segmentId = await womenSegment('Women (DEFAULT only)', true);
    const other = await t.app.services.stores.ensure({ code: 'OTHER', name: 'Other store' });
    await t.app.services.auth.createAdmin({ username: 'other-admin', password: 'other-password-1', storeCodes: ['OTHER'] });
    const otherToken = await t.login('other-admin', 'other-password-1');
    const ownSegment = await womenSegment('Women (OTHER)', true, 'OTHER', otherToken);

    const c = client(bearer(otherToken));
    for (const query of [RECALCULATION_SUBSCRIPTION, MEMBERSHIP_SUBSCRIPTION]) {
      const field = query === RECALCULATION_SUBSCRIPTION ? 'segmentRecalculation' : 'segmentMembershipChanged';
      const refused = new Subscription(c, field, query, { segmentId });
      closers.push(() => refused.close());
      await waitUntil(`${field}: the refusal`, () => refused.completed || refused.error !== undefined);
      const errors = refused.errors.length ? refused.errors : (refused.error as { message: string }[]);
      expect(errors.map((error) => error.message), field).toEqual([`Segment ${segmentId} not found.`]);
      expect(refused.events).toEqual([]);
    }
    // Not a blanket refusal: the same admin's own store's segment can be watched.
    const own = await subscribeWs(ownSegment, otherToken, other.id);
    expect(own.progress.error).toBeUndefined();

    // A full admin watches a run of the DEFAULT segment complete; the limited socket got nothing
    // of it (its refused operations ended, so nothing can arrive for them).
    const full = await subscribeWs(segmentId);
    const job = await recalculate(segmentId);
    await full.progress.waitFor('the run to complete', (events) => !!completedJob(events, job.id));
    expect(own.progress.events).toEqual([]);
  });

  it('serves the same subscription over SSE (POST /graphql, Accept: text/event-stream)', async () => {
    const segmentId = await womenSegment('Women (SSE)', true);
    const sse = new SseSubscription<ProgressEvent>(`${base}/graphql`, 'segmentRecalculation', RECALCULATION_SUBSCRIPTION, { segmentId }, {
      authorization: `Bearer ${token}`,
    });
    closers.push(() => sse.close());
    await untilReceived('the SSE subscription to be live',
      () => t.app.services.events.publish('segmentRecalculation', segmentId, probeEvent(segmentId, store.id)), () => sse.probed);
    expect(sse.status).toBe(200);
    const job = await recalculate(segmentId);
    await sse.waitFor('the run to complete over SSE', (events) => !!completedJob(events, job.id));
    const completed = expectRun(sse.events, job.id, segmentId);
    expect(completed).toMatchObject({ matched: women().length, added: 0, removed: 0 });
    expect(completed.segment).toMatchObject({ segmentId, ...expectedStatistics(women()) });

    // Without credentials, or with a bad token, SSE gives no events either.
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }] as Record<string, string>[]) {
      const refused = new SseSubscription<ProgressEvent>(`${base}/graphql`, 'segmentRecalculation', RECALCULATION_SUBSCRIPTION, { segmentId }, headers);
      closers.push(() => refused.close());
      await waitUntil('the SSE refusal', () => refused.completed || (refused.status !== undefined && refused.status !== 200));
      await refused.close();
      expect(refused.events).toEqual([]);
      expect(refused.results.flatMap((result) => result.errors ?? []).length + (refused.status === 200 ? 0 : 1)).toBeGreaterThan(0);
    }
  });
});
