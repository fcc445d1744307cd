import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { dec, ratioHalfUp2 } from '../../src/criteria/decimal.ts';
import type { Database } from '../../src/db/database.ts';
import { NotFound } from '../../src/errors.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { RecalculationService, lockStoreMemberships } from '../../src/services/recalculation-service.ts';
import { SegmentService } from '../../src/services/segment-service.ts';
import { describeEachDatabase, freshDatabase } from '../support/databases.ts';
import { TestApp } from '../support/test-app.ts';
import { Scenario } from './support.ts';
import { membershipsOfSegment } from '../support/memberships.ts';

/** A settable clock that records every reading; `failOnReading(n)` makes the n-th next reading throw. */
class TestClock {
  readings: Date[] = [];
  private failIn: number | null = null;
  /** `stepMs`: how far the clock moves after each reading. */
  constructor(
    private current: string,
    private readonly stepMs = 0,
  ) {}
  set(iso: string) {
    this.current = iso;
  }
  failOnReading(n: number) {
    this.failIn = n;
  }
  now = (): Date => {
    if (this.failIn !== null && --this.failIn === 0) {
      this.failIn = null;
      throw new Error('clock failure injected by the test');
    }
    const reading = new Date(this.current);
    this.readings.push(reading);
    this.current = new Date(reading.getTime() + this.stepMs).toISOString();
    return reading;
  };
}

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'test-secret' });

describe('statistics rounding', () => {
  it('rounds half-up to 2 decimals, exactly, and gives 0.00 for an empty denominator', () => {
    expect(ratioHalfUp2(dec('2.01'), dec(2))).toBe('1.01'); // 1.005: a float toFixed(2) gives 1.00
    expect(ratioHalfUp2(dec(1), dec(8))).toBe('0.13'); // 0.125: banker's rounding gives 0.12
    expect(ratioHalfUp2(dec(2), dec(3))).toBe('0.67');
    expect(ratioHalfUp2(dec(1), dec(3))).toBe('0.33');
    expect(ratioHalfUp2(dec('100.00'), dec(1))).toBe('100.00');
    expect(ratioHalfUp2(dec(0), dec(0))).toBe('0.00');
    expect(ratioHalfUp2(dec(5), dec(0))).toBe('0.00');
  });
});

describeEachDatabase('recalculation', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await freshDatabase(kind);
  });
  afterAll(() => database?.close());

  /** Members a..d with purchases chosen so that the averages need half-up rounding. */
  async function world() {
    const s = new Scenario(database);
    s.member('a').member('b').member('c').member('d').member('inactive', { active: false });
    s.sell('a', '2024-01-01T10:00:00Z', 20);
    s.sell('b', '2024-01-01T10:00:00Z', 1).sell('b', '2024-01-02T10:00:00Z', 0.01);
    s.sell('c', '2024-01-01T10:00:00Z', 1);
    s.sell('d', '2024-01-01T10:00:00Z', 1).return('d', '2024-01-02T10:00:00Z', 5); // lifetime amount 0
    await s.load();
    return s;
  }
  const list = (s: Scenario, ...names: string[]) => [{ criteria: [{ type: 'customer_list', customers: names.map((n) => s.id(n)) }] }];

  const nameOf = (s: Scenario, id: string) => ['a', 'b', 'c', 'd', 'inactive'].find((n) => s.id(n) === id) ?? id;
  /** The segment's membership rows: member name -> joinedAt. */
  async function membership(segmentId: string, s: Scenario) {
    const rows = await membershipsOfSegment(database.prisma, segmentId);
    return Object.fromEntries(rows.map((row) => [nameOf(s, row.memberId), row.joinedAt.toISOString()]));
  }

  describe('RecalculationService', () => {
    it('replaces membership: stayers keep their row and joinedAt, newcomers get the run time, leavers go', async () => {
      const s = await world();
      const clock = new TestClock('2024-03-01T09:00:00Z');
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: clock.now });
      const segment = await segments.create(s.store, { name: 'Replace', active: true, parts: list(s, 'a', 'b', 'inactive') });

      const first = await recalculation.recalculate(segment.id);
      expect(first).toMatchObject({ recalculated: true, matched: 2, added: 2, removed: 0 });
      expect(await membership(segment.id, s)).toEqual({ a: '2024-03-01T09:00:00.000Z', b: '2024-03-01T09:00:00.000Z' });

      await segments.update(s.store, segment.id, { name: 'Replace', parts: list(s, 'b', 'c', 'd') });
      clock.set('2024-03-02T09:00:00Z');
      const second = await recalculation.recalculate(segment.id);
      expect(second).toMatchObject({ recalculated: true, matched: 3, added: 2, removed: 1 });
      expect(await membership(segment.id, s)).toEqual({
        b: '2024-03-01T09:00:00.000Z',
        c: '2024-03-02T09:00:00.000Z',
        d: '2024-03-02T09:00:00.000Z',
      });

      const third = await recalculation.recalculate(segment.id);
      expect(third).toMatchObject({ matched: 3, added: 0, removed: 0 });
      expect(await membership(segment.id, s)).toEqual({
        b: '2024-03-01T09:00:00.000Z',
        c: '2024-03-02T09:00:00.000Z',
        d: '2024-03-02T09:00:00.000Z',
      });
    });

    it('computes the statistics over the new member set, rounded half-up, with calculatedAt the finish time', async () => {
      const s = await world();
      const clock = new TestClock('2024-03-01T09:00:00Z', 1000);
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: clock.now });
      const segment = await segments.create(s.store, { name: 'Stats', active: true, parts: list(s, 'b', 'c') });
      const readings = clock.readings.length;
      const result = await recalculation.recalculate(segment.id);
      // The run read the clock at its start (joinedAt) and at its end (calculatedAt).
      expect(clock.readings.length).toBe(readings + 2);
      expect(await membership(segment.id, s)).toEqual({ b: '2024-03-01T09:00:00.000Z', c: '2024-03-01T09:00:00.000Z' });
      // b: 2 purchases, 1.01; c: 1 purchase, 1.00. Amount 2.01 over 2 members and 3 purchases.
      expect(result.statistics).toEqual({
        customersCount: 2,
        averageTransactions: '1.50',
        averageTransactionAmount: '0.67',
        averageClv: '1.01',
        calculatedAt: new Date('2024-03-01T09:00:01Z'),
      });
      const stored = await database.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } });
      expect(stored.customersCount).toBe(2);
      expect(stored.averageTransactions.toFixed(2)).toBe('1.50');
      expect(stored.averageTransactionAmount.toFixed(2)).toBe('0.67');
      expect(stored.averageClv.toFixed(2)).toBe('1.01');
      expect(stored.calculatedAt).toEqual(new Date('2024-03-01T09:00:01Z'));

      // a (20.00, 1 purchase) and d (lifetime amount clamped to 0, 1 purchase).
      await segments.update(s.store, segment.id, { name: 'Stats', parts: list(s, 'a', 'd') });
      clock.set('2024-03-05T00:00:00Z');
      const next = await recalculation.recalculate(segment.id, { now: new Date('2024-03-04T00:00:00Z') });
      // An explicit run time is both the evaluation clock and calculatedAt.
      expect(next.statistics).toEqual({
        customersCount: 2,
        averageTransactions: '1.00',
        averageTransactionAmount: '10.00',
        averageClv: '10.00',
        calculatedAt: new Date('2024-03-04T00:00:00Z'),
      });
      expect(await membership(segment.id, s)).toEqual({ a: '2024-03-04T00:00:00.000Z', d: '2024-03-04T00:00:00.000Z' });
    });

    it('gives all statistics 0 when nobody matches (no parts), and removes everyone', async () => {
      const s = await world();
      const recalculation = new RecalculationService(database.prisma, { now: new TestClock('2024-03-01T09:00:00Z').now });
      const segments = new SegmentService(database.prisma);
      const segment = await segments.create(s.store, { name: 'Empty', active: true, parts: list(s, 'a', 'b') });
      await recalculation.recalculate(segment.id);
      await segments.update(s.store, segment.id, { name: 'Empty', parts: [] });
      const result = await recalculation.recalculate(segment.id);
      expect(result).toMatchObject({ matched: 0, added: 0, removed: 2 });
      expect(result.statistics).toMatchObject({ customersCount: 0, averageTransactions: '0.00', averageTransactionAmount: '0.00', averageClv: '0.00' });
      expect(await membership(segment.id, s)).toEqual({});
    });

    it('a run that fails after evaluating leaves the old membership and statistics in place', async () => {
      const s = await world();
      const clock = new TestClock('2024-03-01T09:00:00Z');
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: clock.now });
      const segment = await segments.create(s.store, { name: 'Atomic', active: true, parts: list(s, 'a', 'b') });
      await recalculation.recalculate(segment.id);
      const statistics = async () => {
        const row = await database.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } });
        return [row.customersCount, row.averageTransactions, row.averageTransactionAmount, row.averageClv, row.calculatedAt].map(String);
      };
      const before = await statistics();

      await segments.update(s.store, segment.id, { name: 'Atomic', parts: list(s, 'c') });
      clock.set('2024-03-02T09:00:00Z');
      // A run reads the clock at its start, and again for calculatedAt once the membership
      // statement has run inside the transaction: that second reading fails.
      clock.failOnReading(2);
      await expect(recalculation.recalculate(segment.id)).rejects.toThrow('clock failure injected by the test');
      expect(await membership(segment.id, s)).toEqual({ a: '2024-03-01T09:00:00.000Z', b: '2024-03-01T09:00:00.000Z' });
      expect(await statistics()).toEqual(before);

      const retried = await recalculation.recalculate(segment.id);
      expect(retried).toMatchObject({ matched: 1, added: 1, removed: 2 });
      expect(await membership(segment.id, s)).toEqual({ c: '2024-03-02T09:00:00.000Z' });
    });

    it('a first run that fails leaves the segment without members and statistics', async () => {
      const s = await world();
      const clock = new TestClock('2024-03-01T09:00:00Z');
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: clock.now });
      const segment = await segments.create(s.store, { name: 'Atomic first run', active: true, parts: list(s, 'a', 'b') });
      // The first run writes its members; the reading of the clock for calculatedAt fails after that.
      clock.failOnReading(2);
      await expect(recalculation.recalculate(segment.id)).rejects.toThrow('clock failure injected by the test');
      expect(await membership(segment.id, s)).toEqual({});
      const row = await database.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } });
      expect([row.customersCount, row.calculatedAt]).toEqual([0, null]);
      expect(await recalculation.recalculate(segment.id)).toMatchObject({ matched: 2, added: 2, removed: 0 });
    });

    it('evaluates in chunks as in one statement: the first run adds the members matched, later ones the differences', async () => {
      const s = await world();
      const segments = new SegmentService(database.prisma);
      const whole = new RecalculationService(database.prisma, { now: new TestClock('2024-03-01T09:00:00Z').now });
      const clock = new TestClock('2024-03-01T09:00:00Z');
      const inChunks = new RecalculationService(database.prisma, { now: clock.now, chunkSize: 2 });
      const parts = list(s, 'a', 'b', 'c', 'd', 'inactive');
      const reference = await segments.create(s.store, { name: 'One statement', active: true, parts });
      const chunked = await segments.create(s.store, { name: 'Chunks of two', active: true, parts });
      const expected = await whole.recalculate(reference.id, { collectChanges: true });
      const progress: [number, number][] = [];
      const first = await inChunks.recalculate(chunked.id, { collectChanges: true, onProgress: (done, total) => progress.push([done, total]) });
      expect(progress).toEqual([[0, 4], [2, 4], [4, 4]]);
      expect(first).toMatchObject({ matched: 4, added: 4, removed: 0, left: [] });
      expect(first.statistics).toEqual(expected.statistics);
      expect([...first.joined!].sort()).toEqual([...expected.joined!].sort());
      expect(Object.keys(await membership(chunked.id, s)).sort()).toEqual(['a', 'b', 'c', 'd']);

      await segments.update(s.store, chunked.id, { name: 'Chunks of two', parts: list(s, 'b', 'c') });
      clock.set('2024-03-02T09:00:00Z');
      const second = await inChunks.recalculate(chunked.id, { collectChanges: true });
      expect(second).toMatchObject({ matched: 2, added: 0, removed: 2, joined: [] });
      expect([...second.left!].sort()).toEqual([s.id('a'), s.id('d')].sort());
      expect(await membership(chunked.id, s)).toEqual({ b: '2024-03-01T09:00:00.000Z', c: '2024-03-01T09:00:00.000Z' });
    });

    it('member removal waits for a running recalculation of its store, then deletes the memberships', async () => {
      const s = await world();
      const services = createServices(database.prisma, config, { now: new TestClock('2024-03-01T09:00:00Z').now });
      const segment = await new SegmentService(database.prisma).create(s.store, { name: 'Removal', active: true, parts: list(s, 'a', 'b') });
      await new RecalculationService(database.prisma, { now: new TestClock('2024-03-01T09:00:00Z').now }).recalculate(segment.id);
      // A transaction holding the lock a recalculation holds while it runs.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const holding = new Promise<void>((resolve) => (locked = resolve));
      const run = database.prisma.$transaction(async (tx) => {
        await lockStoreMemberships(tx, s.store.id, 'shared');
        locked();
        await released;
      });
      await holding;
      let removed = false;
      const removal = services.members.remove(s.store, s.id('a')).then(() => (removed = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(removed).toBe(false);
      release();
      await run;
      await removal;
      expect(await membership(segment.id, s)).toEqual({ b: '2024-03-01T09:00:00.000Z' });
    });

    it('does not recalculate an inactive segment: its last membership and statistics stay frozen', async () => {
      const s = await world();
      const clock = new TestClock('2024-03-01T09:00:00Z');
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: clock.now });

      const never = await segments.create(s.store, { name: 'Never active', parts: list(s, 'a') });
      const skipped = await recalculation.recalculate(never.id);
      expect(skipped).toMatchObject({ recalculated: false, matched: 0, added: 0, removed: 0 });
      expect(skipped.statistics.calculatedAt).toBeNull();
      expect(await membership(never.id, s)).toEqual({});

      const frozen = await segments.create(s.store, { name: 'Frozen', active: true, parts: list(s, 'a', 'b') });
      await recalculation.recalculate(frozen.id);
      const snapshot = await database.prisma.segment.findUniqueOrThrow({ where: { id: frozen.id } });
      await segments.setActive(s.store, frozen.id, false);
      await segments.update(s.store, frozen.id, { name: 'Frozen', parts: list(s, 'c') });
      clock.set('2024-04-01T00:00:00Z');
      const result = await recalculation.recalculate(frozen.id);
      expect(result).toMatchObject({ recalculated: false, matched: 2, added: 0, removed: 0 });
      expect(await membership(frozen.id, s)).toEqual({ a: '2024-03-01T09:00:00.000Z', b: '2024-03-01T09:00:00.000Z' });
      const after = await database.prisma.segment.findUniqueOrThrow({ where: { id: frozen.id } });
      expect({ ...after, updatedAt: null }).toEqual({ ...snapshot, active: false, updatedAt: null });
    });

    it('unknown or malformed segment ids are NotFound', async () => {
      const recalculation = new RecalculationService(database.prisma);
      await expect(recalculation.recalculate('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFound);
      await expect(recalculation.recalculate('not-a-uuid')).rejects.toBeInstanceOf(NotFound);
    });

    it('concurrent runs of one segment converge: each member is added once', async () => {
      const s = await world();
      const segments = new SegmentService(database.prisma);
      const recalculation = new RecalculationService(database.prisma, { now: new TestClock('2024-03-01T09:00:00Z').now });
      const segment = await segments.create(s.store, { name: 'Concurrent', active: true, parts: list(s, 'a', 'b', 'c') });
      const results = await Promise.all([1, 2, 3].map(() => recalculation.recalculate(segment.id)));
      expect(results.map((r) => r.matched)).toEqual([3, 3, 3]);
      expect(results.reduce((sum, r) => sum + r.added, 0)).toBe(3);
      expect(Object.keys(await membership(segment.id, s)).sort()).toEqual(['a', 'b', 'c']);
    });
  });

  describe('triggers', () => {
    let services: Services;
    let clock: TestClock;
    beforeAll(async () => {
      clock = new TestClock('2024-03-01T09:00:00Z');
      services = createServices(database.prisma, config, { now: clock.now });
      await services.jobs.start();
    });
    afterAll(() => services.jobs.stop());

    it('recalculates on create-active, activate and update-while-active, not otherwise', async () => {
      const s = await world();
      const state = async (id: string) => ({
        // Triggers queue a background job; wait for the queue to empty before looking.
        ...(await services.jobs.drain(), {}),
        members: Object.keys(await membership(id, s)).sort(),
        calculatedAt: (await database.prisma.segment.findUniqueOrThrow({ where: { id } })).calculatedAt?.toISOString() ?? null,
      });

      clock.set('2024-03-01T09:00:00Z');
      const active = await services.segments.create(s.store, { name: 'Created active', active: true, parts: list(s, 'a') });
      expect(await state(active.id)).toEqual({ members: ['a'], calculatedAt: '2024-03-01T09:00:00.000Z' });

      const inactive = await services.segments.create(s.store, { name: 'Created inactive', parts: list(s, 'b') });
      expect(await state(inactive.id)).toEqual({ members: [], calculatedAt: null });

      clock.set('2024-03-02T09:00:00Z');
      await services.segments.update(s.store, inactive.id, { name: 'Created inactive', parts: list(s, 'b', 'c') });
      expect(await state(inactive.id)).toEqual({ members: [], calculatedAt: null });

      await services.segments.setActive(s.store, inactive.id, true);
      expect(await state(inactive.id)).toEqual({ members: ['b', 'c'], calculatedAt: '2024-03-02T09:00:00.000Z' });

      clock.set('2024-03-03T09:00:00Z');
      await services.segments.update(s.store, active.id, { name: 'Created active', parts: list(s, 'a', 'd') });
      expect(await state(active.id)).toEqual({ members: ['a', 'd'], calculatedAt: '2024-03-03T09:00:00.000Z' });

      // Activated through an update of an inactive segment.
      clock.set('2024-03-04T09:00:00Z');
      await services.segments.setActive(s.store, active.id, false);
      expect(await state(active.id)).toEqual({ members: ['a', 'd'], calculatedAt: '2024-03-03T09:00:00.000Z' });
      await services.segments.update(s.store, active.id, { name: 'Created active', active: true, parts: list(s, 'b') });
      expect(await state(active.id)).toEqual({ members: ['b'], calculatedAt: '2024-03-04T09:00:00.000Z' });
    });
  });
});

describeEachDatabase('recalculateSegment mutation', (kind) => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
  });
  afterAll(() => t?.close());

  const MUTATION = /* GraphQL */ `
    mutation Recalculate($segmentId: ID!) {
      recalculateSegment(storeCode: "DEFAULT", segmentId: $segmentId) {
        __typename
        ... on RecalculationJob { id segmentId status reason }
        ... on NotFoundError { message }
      }
    }`;
  const JOB = /* GraphQL */ `
    query Job($id: ID!) { recalculationJob(jobId: $id) { ... on RecalculationJob { status matched added removed } } }`;
  const SEGMENT = /* GraphQL */ `
    query Segment($id: ID!) { segment(storeCode: "DEFAULT", segmentId: $id) {
      ... on Segment { customersCount averageTransactions averageTransactionAmount averageClv calculatedAt } } }`;

  it('queues a job, returns at once, and the job recalculates counts and statistics', async () => {
    const store = await t.app.services.stores.getByCode('DEFAULT');
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const summary = await t.app.services.ingest.importRecords(store, [
      { kind: 'member', customerId: ids[0], gender: 'female' },
      { kind: 'member', customerId: ids[1], gender: 'male' },
      { kind: 'transaction', transactionId: '33333333-3333-4333-8333-333333333333', customerId: ids[0], documentType: 'sell', purchasedAt: '2024-01-01T00:00:00Z', grossValue: 12.5 },
    ]);
    expect(summary.errors).toEqual([]);
    const created = await t.request('POST', '/api/DEFAULT/segment', {
      token,
      body: { segment: { name: 'Women', active: false, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] } },
    });
    expect(created.status).toBe(200);
    const segmentId = created.body.segmentId;

    // An inactive segment: the job runs but leaves it frozen.
    const inactive = await t.graphql(MUTATION, { segmentId }, token);
    expect(inactive.body.data?.recalculateSegment).toMatchObject({ __typename: 'RecalculationJob', segmentId, status: 'QUEUED', reason: 'request' });
    await t.app.services.jobs.drain();
    expect((await t.graphql(SEGMENT, { id: segmentId }, token)).body.data.segment).toMatchObject({ customersCount: 0, calculatedAt: null });

    await t.request('POST', `/api/DEFAULT/segment/${segmentId}/activate`, { token });
    await t.app.services.jobs.drain();
    // Activation recalculated it already: an explicit run adds and removes nobody.
    const response = await t.graphql(MUTATION, { segmentId }, token);
    expect(response.body.errors).toBeUndefined();
    const job = response.body.data?.recalculateSegment;
    await t.app.services.jobs.drain();
    expect((await t.graphql(JOB, { id: job.id }, token)).body.data.recalculationJob).toEqual({ status: 'COMPLETED', matched: 1, added: 0, removed: 0 });
    const segment = (await t.graphql(SEGMENT, { id: segmentId }, token)).body.data.segment;
    expect(segment).toMatchObject({ customersCount: 1, averageTransactions: 1, averageTransactionAmount: 12.5, averageClv: 12.5 });
    expect(segment.calculatedAt).toEqual(expect.any(String));
  });

  it('is NotFoundError for an unknown segment', async () => {
    const response = await t.graphql(MUTATION, { segmentId: '00000000-0000-4000-8000-000000000000' }, token);
    expect(response.body.data?.recalculateSegment.__typename).toBe('NotFoundError');
  });
});
