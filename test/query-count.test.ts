import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';
import { insertMemberships } from '../src/services/memberships.ts';

const id = (prefix: number, n: number) => `${prefix}0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The query of issue 5: segments with their parts, counts, associations and members' segments. */
const QUERY = `query($n: Int!) {
  segments(storeCode: "DEFAULT", itemsOnPage: $n) {
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

describeEachDatabase('SQL queries per request do not grow with rows', (kind) => {
  let t: TestApp;
  let token: string;
  let counting = false;
  let queries: string[] = [];

  beforeAll(async () => {
    t = await TestApp.start(kind, {}, { onQuery: (sql) => counting && queries.push(sql) });
    token = await t.login();
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const segmentIds: string[] = [];
    for (let s = 0; s < 50; s++) {
      const created = await t.request('POST', '/api/DEFAULT/segment', {
        token,
        body: { segment: { name: `Segment ${String(s).padStart(2, '0')}`, parts: [{ criteria: [{ type: 'transaction_count', min: 0, max: 5 }] }, { criteria: [{ type: 'gender', genders: ['female'] }] }] } },
      });
      segmentIds.push(created.body.segmentId);
    }
    const records: unknown[] = [];
    for (let m = 0; m < 30; m++) records.push({ kind: 'member', customerId: id(3, m), firstName: `M${m}` });
    segmentIds.forEach((segmentId, s) => {
      records.push({ kind: 'campaign', id: id(4, s), name: `Campaign ${s}`, segmentIds: [segmentId] });
      records.push({ kind: 'reward', id: id(5, s), name: `Reward ${s}`, segmentIds: [segmentId, segmentIds[(s + 1) % 50]] });
    });
    expect((await t.app.services.ingest.importRecords(store, records)).failed).toBe(0);
    await insertMemberships(
      t.app.database.prisma,
      segmentIds.flatMap((segmentId, s) =>
        Array.from({ length: 25 }, (_, m) => ({ segmentId, memberId: id(3, (m + s) % 30), joinedAt: new Date(Date.UTC(2024, 0, 1, 0, m)) })),
      ),
    );
  });
  afterAll(() => t?.close());

  async function count(n: number) {
    await t.app.services.jobs.drain(); // background recalculations would add their own queries
    queries = [];
    counting = true;
    const response = await t.graphql(QUERY, { n }, token);
    counting = false;
    if (process.env.PRINT_QUERIES) console.log(n, queries.map((q) => q.slice(0, 110)).join('\n'));
    expect(response.body.errors).toBeUndefined();
    const items = response.body.data.segments.items;
    expect(items).toHaveLength(n);
    expect(items[0].members).toHaveLength(20);
    expect(items[0].members[0].segments.length).toBeGreaterThan(0);
    expect(items[0].campaigns).toHaveLength(1);
    return queries.length;
  }

  it('issues the same number of SQL queries for 5 and for 50 segments', async () => {
    const five = await count(5);
    const fifty = await count(50);
    expect({ five, fifty }).toEqual({ five: EXPECTED_QUERIES, fifty: EXPECTED_QUERIES });
  });
});

// Written out so a change is a decision: the admin and its store links (2), the store (1), the
// page and its total (2), then one batched query per level of the selection: the page's parts and
// their criteria (loaded with the page), campaigns, rewards, the first memberships of each segment,
// those members, the members’ memberships and those segments (8).
const EXPECTED_QUERIES = 13;
