import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';

const id = (n: number) => `20000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describeEachDatabase('associations and delete protection', (kind) => {
  let t: TestApp;
  let token: string;
  let targeted: string;
  let free: string;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    const segment = async (name: string) =>
      (await t.request('POST', '/api/DEFAULT/segment', { token, body: { segment: { name } } })).body.segmentId as string;
    targeted = await segment('Targeted');
    free = await segment('Free');
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const summary = await t.app.services.ingest.importRecords(store, [
      ...Array.from({ length: 12 }, (_, i) => ({
        kind: 'campaign',
        id: id(i),
        name: `Campaign ${String(i).padStart(2, '0')}`,
        active: i % 2 === 0,
        segmentIds: [targeted],
        attributes: { type: 'direct', activeFrom: '2024-01-01T00:00:00Z' },
      })),
      { kind: 'reward', id: id(100), name: 'Free coffee', segmentIds: [targeted, free], attributes: { rewardType: 'material', points: 10 } },
      { kind: 'achievement', id: id(200), name: 'Ten purchases', segmentIds: [free] },
    ]);
    expect(summary.failed).toBe(0);
  });
  afterAll(() => t?.close());

  it('lists the campaigns targeting a segment, paged, with string additionalData', async () => {
    const first = await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/campaign`, { token });
    expect(first.status).toBe(200);
    expect(first.body.total).toEqual({ all: 12, estimated: false });
    expect(first.body.items).toHaveLength(10);
    expect(first.body.items[0]).toEqual({
      id: id(0),
      name: 'Campaign 00',
      active: true,
      additionalData: { type: 'direct', activeFrom: '2024-01-01T00:00:00Z' },
    });
    const second = await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/campaign?_page=2&_itemsOnPage=10`, { token });
    expect(second.body.items.map((item: { name: string }) => item.name)).toEqual(['Campaign 10', 'Campaign 11']);
    const rewards = await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/reward`, { token });
    expect(rewards.body.items).toEqual([{ id: id(100), name: 'Free coffee', active: true, additionalData: { rewardType: 'material', points: '10' } }]);
    const none = await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/achievement`, { token });
    expect(none.body).toEqual({ items: [], total: { all: 0, estimated: false } });
  });

  it('answers 404 for an unknown resource name or segment, 400 for bad paging', async () => {
    expect((await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/coupon`, { token })).status).toBe(404);
    expect((await t.request('GET', `/api/DEFAULT/segment/${id(999)}/association/campaign`, { token })).status).toBe(404);
    const bad = await t.request('GET', `/api/DEFAULT/segment/${targeted}/association/campaign?_itemsOnPage=51`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ path: '_itemsOnPage', code: 'out_of_range' });
  });

  it('walks both ways in GraphQL', async () => {
    const response = await t.graphql(
      `query($id: ID!) { segment(storeCode: "DEFAULT", segmentId: $id) { ... on Segment {
         campaigns(itemsOnPage: 2) { name segments { name } } rewards { name additionalData } achievements { name } } } }`,
      { id: targeted },
      token,
    );
    expect(response.body.data.segment).toEqual({
      campaigns: [
        { name: 'Campaign 00', segments: [{ name: 'Targeted' }] },
        { name: 'Campaign 01', segments: [{ name: 'Targeted' }] },
      ],
      rewards: [{ name: 'Free coffee', additionalData: { rewardType: 'material', points: '10' } }],
      achievements: [],
    });
  });

  it('refuses to delete a targeted segment: 400 in_use, one error per resource', async () => {
    const response = await t.request('DELETE', `/api/DEFAULT/segment/${free}`, { token });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { code: string; parameters: unknown }) => [e.code, e.parameters])).toEqual([
      ['in_use', { kind: 'reward', id: id(100), name: 'Free coffee' }],
      ['in_use', { kind: 'achievement', id: id(200), name: 'Ten purchases' }],
    ]);
    expect((await t.request('GET', `/api/DEFAULT/segment/${free}`, { token })).status).toBe(200);
    const graphql = await t.graphql(
      `mutation($id: ID!) { deleteSegment(storeCode: "DEFAULT", segmentId: $id) { __typename ... on ValidationError { errors { code } } } }`,
      { id: free },
      token,
    );
    expect(graphql.body.data.deleteSegment).toEqual({ __typename: 'ValidationError', errors: [{ code: 'in_use' }, { code: 'in_use' }] });
  });

  it('deletes a segment nothing targets', async () => {
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    await t.app.services.ingest.importRecords(store, [
      { kind: 'reward', id: id(100), name: 'Free coffee', segmentIds: [targeted] },
      { kind: 'achievement', id: id(200), name: 'Ten purchases', segmentIds: [] },
    ]);
    expect((await t.request('DELETE', `/api/DEFAULT/segment/${free}`, { token })).status).toBe(204);
    expect((await t.request('GET', `/api/DEFAULT/segment/${free}`, { token })).status).toBe(404);
  });
});
