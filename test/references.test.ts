import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CHANNEL = id(1);
const LEVEL = id(2);
const TIER = id(3);
const CAMPAIGN = id(4);
const ACHIEVEMENT = id(5);
const RULE = id(6);
const CHALLENGE = id(7);
const MILESTONE = id(8);
const ALICE = id(20);
const BOB = id(21);
const UNKNOWN = id(99);

describeEachDatabase('criterion references', (kind) => {
  let t: TestApp;
  let token: string;
  const create = (criteria: unknown[]) =>
    t.request('POST', '/api/DEFAULT/segment', { token, body: { segment: { name: `s-${Math.random()}`, parts: [{ criteria }] } } });

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const other = await t.app.services.stores.create({ code: 'OTHER', name: 'Other' });
    const summary = await t.app.services.ingest.importRecords(store, [
      { kind: 'channel', id: CHANNEL, name: 'Web' },
      { kind: 'level', id: LEVEL, name: 'Gold' },
      { kind: 'tier', id: TIER, name: 'T1' },
      { kind: 'campaign', id: CAMPAIGN, name: 'Spring' },
      { kind: 'achievement', id: ACHIEVEMENT, name: 'Ten buys', ruleIds: [RULE] },
      { kind: 'challenge', id: CHALLENGE, name: 'Walk', milestoneIds: [MILESTONE] },
      { kind: 'member', customerId: ALICE, email: 'alice@example.com', phone: '+48111', loyaltyCardNumber: 'CARD-1' },
      { kind: 'member', customerId: BOB, email: 'bob@example.com', phone: '+48111' },
    ]);
    expect(summary.failed).toBe(0);
    // A channel of another store is as unknown here as a made-up id.
    await t.app.services.ingest.importRecords(other, [{ kind: 'channel', id: id(50), name: 'Elsewhere' }]);
  });
  afterAll(() => t?.close());

  it('accepts ids that exist in the store', async () => {
    const response = await create([
      { type: 'bought_through_channel', channelIds: [CHANNEL] },
      { type: 'transaction_percent_in_channel', channelId: CHANNEL, percent: 50 },
      { type: 'customer_in_level', levelIds: [LEVEL] },
      { type: 'customer_in_tiers', tierIds: [TIER] },
      { type: 'campaign_completion', campaignIds: [CAMPAIGN] },
      { type: 'achievement_rule_progress', achievementId: ACHIEVEMENT, ruleId: RULE, minProgress: 1 },
      { type: 'challenge_campaign_milestone_progress', challengeId: CHALLENGE, milestoneId: MILESTONE, minProgress: 1 },
    ]);
    expect(response.status).toBe(200);
  });

  it('refuses unknown ids with not_found on each, including ids of another store', async () => {
    const response = await create([
      { type: 'bought_through_channel', channelIds: [CHANNEL, id(50)] },
      { type: 'customer_in_level', levelIds: [UNKNOWN] },
      { type: 'customer_in_tiers', tierIds: [UNKNOWN] },
      { type: 'campaign_completion', campaignIds: [UNKNOWN] },
      { type: 'achievement_completion_count', achievementId: UNKNOWN, minCount: 1 },
      { type: 'achievement_rule_progress', achievementId: ACHIEVEMENT, ruleId: UNKNOWN, minProgress: 1 },
      { type: 'challenge_campaign_completion_count', challengeId: UNKNOWN, minCount: 1 },
      { type: 'challenge_campaign_milestone_progress', challengeId: CHALLENGE, milestoneId: UNKNOWN, minProgress: 1 },
    ]);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { path: string; code: string }) => [e.path, e.code])).toEqual([
      ['parts[0].criteria[0].channelIds[1]', 'not_found'],
      ['parts[0].criteria[1].levelIds[0]', 'not_found'],
      ['parts[0].criteria[2].tierIds[0]', 'not_found'],
      ['parts[0].criteria[3].campaignIds[0]', 'not_found'],
      ['parts[0].criteria[4].achievementId', 'not_found'],
      ['parts[0].criteria[6].challengeId', 'not_found'],
      ['parts[0].criteria[5].ruleId', 'not_found'],
      ['parts[0].criteria[7].milestoneId', 'not_found'],
    ]);
  });

  it('resolves customer_list entries to member ids at save time', async () => {
    const response = await create([{ type: 'customer_list', customers: ['ALICE@example.com', 'CARD-1', BOB] }]);
    expect(response.status).toBe(200);
    const read = await t.request('GET', `/api/DEFAULT/segment/${response.body.segmentId}`, { token });
    expect(read.body.parts[0].criteria[0].customers).toEqual([ALICE, BOB]);
  });

  it('reports unknown (not_found) and ambiguous (not_unique) customer_list entries', async () => {
    const response = await create([{ type: 'customer_list', customers: ['nobody@example.com', '+48111'] }]);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { path: string; code: string }) => [e.path, e.code])).toEqual([
      ['parts[0].criteria[0].customers[0]', 'not_found'],
      ['parts[0].criteria[0].customers[1]', 'not_unique'],
    ]);
  });

  it('keeps what resolves in a customer_csv_list and does not fail on the rest', async () => {
    const response = await create([{ type: 'customer_csv_list', customers: ['alice@example.com', 'nobody@example.com'] }]);
    expect(response.status).toBe(200);
    const read = await t.request('GET', `/api/DEFAULT/segment/${response.body.segmentId}`, { token });
    expect(read.body.parts[0].criteria[0].customers).toEqual([ALICE]);
    // The rows that matched nobody are reported back with the criterion.
    expect(read.body.parts[0].criteria[0].unresolved).toEqual(['nobody@example.com']);

    const graphql = await t.graphql(
      `query ($id: ID!) { segment(storeCode: "DEFAULT", segmentId: $id) {
        ... on Segment { parts { criteria { ... on CustomerCsvListCriterion { customers unresolved } } } } } }`,
      { id: response.body.segmentId },
      token,
    );
    expect(graphql.body.errors).toBeUndefined();
    expect(graphql.body.data.segment.parts[0].criteria[0]).toEqual({ customers: [ALICE], unresolved: ['nobody@example.com'] });

    // A client that sends the criterion back as it read it (GET then PUT) is not refused for the
    // reported field, and a list where every row matches reports nothing.
    const roundTrip = await t.request('PUT', `/api/DEFAULT/segment/${response.body.segmentId}`, {
      token,
      body: { segment: { name: read.body.name, parts: [{ criteria: [{ ...read.body.parts[0].criteria[0], customers: ['CARD-1'] }] }] } },
    });
    expect(roundTrip.body).toEqual({ segmentId: response.body.segmentId });
    const reread = await t.request('GET', `/api/DEFAULT/segment/${response.body.segmentId}`, { token });
    expect(reread.body.parts[0].criteria[0].customers).toEqual([ALICE]);
    expect(reread.body.parts[0].criteria[0]).not.toHaveProperty('unresolved');
  });
});
