import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';
import { memberIdsOfSegment } from './support/memberships.ts';

const member = (n: number) => `30000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describeEachDatabase('recalculation jobs', (kind) => {
  let t: TestApp;
  let token: string;
  let segmentId: string;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    const created = await t.request('POST', '/api/DEFAULT/segment', {
      token,
      body: { segment: { name: 'Women', active: true, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] } },
    });
    segmentId = created.body.segmentId;
    await t.app.services.jobs.drain();
  });
  afterAll(() => t?.close());

  const jobs = () => t.app.database.prisma.recalculationJob.findMany({ where: { segmentId }, orderBy: { queuedAt: 'asc' } });
  const members = () => memberIdsOfSegment(t.app.database.prisma, segmentId);

  it('queues one job on create-active and runs it in the background', async () => {
    const rows = await jobs();
    expect(rows.map((job) => [job.reason, job.status])).toEqual([['created', 'COMPLETED']]);
  });

  it('marks segments dirty on ingest, and the sweep queues and runs them', async () => {
    await t.graphql(
      `mutation($m: MemberInput!) { upsertMember(storeCode: "DEFAULT", member: $m) { __typename } }`,
      { m: { customerId: member(1), gender: 'FEMALE' } },
      token,
    );
    const marked = await t.app.database.prisma.segment.findUniqueOrThrow({ where: { id: segmentId } });
    expect(marked.dirtySince).not.toBeNull();
    expect(await members()).toEqual([]);
    await t.app.services.jobs.sweep();
    await t.app.services.jobs.drain();
    expect(await members()).toEqual([member(1)]);
    if (process.env.DEBUG_JOBS) console.log(await jobs());
    const last = (await jobs()).at(-1)!;
    expect([last.reason, last.status, last.matched, last.added]).toEqual(['ingest', 'COMPLETED', 1, 1]);
    expect((await t.app.database.prisma.segment.findUniqueOrThrow({ where: { id: segmentId } })).dirtySince).toBeNull();
  });

  it('takes over a job whose instance died (lease lapsed) and completes it', async () => {
    const store = await t.app.services.stores.getByCode('DEFAULT');
    await t.app.services.ingest.importRecords(store, [{ kind: 'member', customerId: member(2), gender: 'female' }]);
    // What a killed instance leaves behind: a RUNNING row whose lease has passed.
    const abandoned = await t.app.database.prisma.recalculationJob.create({
      data: {
        id: randomUUID(),
        segmentId,
        storeId: store.id,
        status: 'RUNNING',
        reason: 'request',
        startedAt: new Date(Date.now() - 60_000),
        leaseUntil: new Date(Date.now() - 1_000),
        attempts: 1,
      },
    });
    await t.app.services.jobs.sweep();
    await t.app.services.jobs.drain();
    const done = await t.app.services.jobs.get(abandoned.id);
    expect([done?.status, done?.attempts]).toEqual(['COMPLETED', 2]);
    expect(await members()).toEqual([member(1), member(2)]);
  });

  it('does not start a second run of a segment while one holds a live lease', async () => {
    const store = await t.app.services.stores.getByCode('DEFAULT');
    const running = await t.app.database.prisma.recalculationJob.create({
      data: { id: randomUUID(), segmentId, storeId: store.id, status: 'RUNNING', reason: 'request', leaseUntil: new Date(Date.now() + 60_000) },
    });
    const queued = await t.app.services.jobs.enqueue(segmentId, 'request');
    // Requests during the run merge into the one follow-up.
    expect((await t.app.services.jobs.enqueue(segmentId, 'request')).id).toBe(queued.id);
    expect((await t.app.services.jobs.enqueue(segmentId, 'schedule')).id).toBe(queued.id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await t.app.services.jobs.get(queued.id))?.status).toBe('QUEUED');
    // The other run ends (its instance releases the lease): the follow-up may start.
    await t.app.database.prisma.recalculationJob.update({ where: { id: running.id }, data: { status: 'COMPLETED', leaseUntil: null } });
    await t.app.services.jobs.drain();
    expect((await t.app.services.jobs.get(queued.id))?.status).toBe('COMPLETED');
  });
});
