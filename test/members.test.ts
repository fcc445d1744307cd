import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';
import { insertMemberships } from '../src/services/memberships.ts';
import { memberIdsOfSegment, segmentIdsHolding } from './support/memberships.ts';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const TX = '33333333-3333-4333-8333-333333333333';

describeEachDatabase('members', (kind) => {
  let t: TestApp;
  let token: string;
  let segmentId: string;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const summary = await t.app.services.ingest.importRecords(store, [
      { kind: 'member', customerId: ALICE, firstName: 'Alice', lastName: 'Smith', email: 'Alice@Example.com', phone: '+48100', gender: 'female', birthDate: '1990-02-28', createdAt: '2024-01-01T00:00:00Z', password: 'alice-secret' },
      { kind: 'member', customerId: BOB, firstName: 'Bob', lastName: 'Brown', email: 'bob@example.com', createdAt: '2024-02-01T00:00:00Z' },
    ]);
    expect(summary.failed).toBe(0);
    const created = await t.request('POST', '/api/DEFAULT/segment', { token, body: { segment: { name: 'Everyone' } } });
    segmentId = created.body.segmentId;
    // Membership as a recalculation would leave it; the engine's own tests cover how it is computed.
    await insertMemberships(t.app.database.prisma, [
      { segmentId, memberId: ALICE, joinedAt: new Date('2024-03-01T00:00:00Z') },
      { segmentId, memberId: BOB, joinedAt: new Date('2024-03-02T00:00:00Z') },
    ]);
  });
  afterAll(() => t?.close());

  it('lists a segment’s members as SegmentCustomer items with the date each joined', async () => {
    const response = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members`, { token });
    expect(response.status).toBe(200);
    expect(response.body.total).toEqual({ all: 2, filtered: 2, estimated: false });
    expect(response.body.items[0]).toEqual({
      customerId: ALICE,
      createdAt: '2024-01-01T00:00:00.000Z',
      firstName: 'Alice',
      lastName: 'Smith',
      phone: '+48100',
      email: 'alice@example.com',
      birthDate: '1990-02-28T00:00:00Z',
      gender: 'female',
      calculatedAt: '2024-03-01T00:00:00.000Z',
    });
    expect(response.body.items[1]).not.toHaveProperty('phone');
  });

  it('filters (exact and [like]), orders and pages the members', async () => {
    const like = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?lastName[like]=BRO`, { token });
    expect(like.body.items.map((m: { customerId: string }) => m.customerId)).toEqual([BOB]);
    expect(like.body.total).toEqual({ all: 2, filtered: 1, estimated: false });
    const exact = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?firstName=alice`, { token });
    expect(exact.body.items).toEqual([]);
    const ordered = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?_orderBy[firstName]=desc&_itemsOnPage=1&_page=2`, { token });
    expect(ordered.body.items.map((m: { firstName: string }) => m.firstName)).toEqual(['Alice']);
    const byId = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?customerId=${BOB}`, { token });
    expect(byId.body.items.map((m: { customerId: string }) => m.customerId)).toEqual([BOB]);
    const badId = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?customerId=nope`, { token });
    expect(badId.status).toBe(200);
    expect(badId.body.items).toEqual([]);
    const bad = await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members?_orderBy[nope]=asc`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ path: '_orderBy[nope]', code: 'invalid_choice' });
  });

  it('answers 404 for an unknown segment and 401 without a token', async () => {
    expect((await t.request('GET', `/api/DEFAULT/segment/${BOB}/members`, { token })).status).toBe(404);
    expect((await t.request('GET', `/api/DEFAULT/segment/${segmentId}/members`)).status).toBe(401);
  });

  it('exposes member(id) and Member.segments in GraphQL', async () => {
    const response = await t.graphql(
      `query($id: ID!) { member(storeCode: "DEFAULT", customerId: $id) { __typename ... on Member { email gender birthDate segments { name } } } }`,
      { id: ALICE },
      token,
    );
    expect(response.body.data.member).toEqual({ __typename: 'Member', email: 'alice@example.com', gender: 'FEMALE', birthDate: '1990-02-28', segments: [{ name: 'Everyone' }] });
    const missing = await t.graphql(`{ member(storeCode: "DEFAULT", customerId: "${TX}") { __typename } }`, {}, token);
    expect(missing.body.data.member.__typename).toBe('NotFoundError');
  });

  it('upserts and removes a member and a transaction through GraphQL, keeping aggregates', async () => {
    const carol = '44444444-4444-4444-8444-444444444444';
    const upsert = await t.graphql(
      `mutation($m: MemberInput!) { upsertMember(storeCode: "DEFAULT", member: $m) { __typename ... on Member { customerId email } ... on ValidationError { errors { path code } } } }`,
      { m: { customerId: carol, email: 'carol@example.com', gender: 'FEMALE', labels: [{ key: 'vip', value: 'yes' }] } },
      token,
    );
    expect(upsert.body.data.upsertMember).toEqual({ __typename: 'Member', customerId: carol, email: 'carol@example.com' });
    const taken = await t.graphql(
      `mutation($m: MemberInput!) { upsertMember(storeCode: "DEFAULT", member: $m) { __typename ... on ValidationError { errors { path code } } } }`,
      { m: { customerId: '55555555-5555-4555-8555-555555555555', email: 'carol@example.com' } },
      token,
    );
    expect(taken.body.data.upsertMember).toEqual({ __typename: 'ValidationError', errors: [{ path: 'email', code: 'not_unique' }] });
    const tx = await t.graphql(
      `mutation($t: TransactionInput!) { upsertTransaction(storeCode: "DEFAULT", transaction: $t) { __typename ... on Transaction { transactionId grossValue } ... on ValidationError { errors { path code } } } }`,
      { t: { transactionId: TX, customerId: carol, documentType: 'SELL', purchasedAt: '2024-05-01T10:00:00Z', grossValue: 42.5, items: [{ sku: 'A1' }] } },
      token,
    );
    expect(tx.body.data.upsertTransaction).toEqual({ __typename: 'Transaction', transactionId: TX, grossValue: 42.5 });
    const stats = await t.app.database.prisma.memberStats.findUniqueOrThrow({ where: { memberId: carol } });
    expect([stats.purchaseCount, Number(stats.sellAmount)]).toEqual([1, 42.5]);
    const unknownMember = await t.graphql(
      `mutation($t: TransactionInput!) { upsertTransaction(storeCode: "DEFAULT", transaction: $t) { __typename ... on ValidationError { errors { path code } } } }`,
      { t: { transactionId: '66666666-6666-4666-8666-666666666666', customerId: '77777777-7777-4777-8777-777777777777', documentType: 'SELL', purchasedAt: '2024-05-01T10:00:00Z', grossValue: 1 } },
      token,
    );
    expect(unknownMember.body.data.upsertTransaction.errors).toEqual([{ path: 'customerId', code: 'not_found' }]);
    const removedTx = await t.graphql(`mutation { removeTransaction(storeCode: "DEFAULT", transactionId: "${TX}") { __typename } }`, {}, token);
    expect(removedTx.body.data.removeTransaction.__typename).toBe('Removed');
    expect(await t.app.database.prisma.memberStats.findUnique({ where: { memberId: carol } })).toBeNull();
    // A purchase again, so that she has aggregates to lose (they have no foreign keys either).
    const again = await t.graphql(
      `mutation($t: TransactionInput!) { upsertTransaction(storeCode: "DEFAULT", transaction: $t) { __typename } }`,
      { t: { transactionId: TX, customerId: carol, documentType: 'SELL', purchasedAt: '2024-05-01T10:00:00Z', grossValue: 3, channelId: null } },
      token,
    );
    expect(again.body.data.upsertTransaction.__typename).toBe('Transaction');
    const aggregatesOfCarol = async () =>
      Promise.all(
        ['MemberStats', 'MemberChannelStats', 'MemberDailyAmount'].map(async (table) =>
          (await t.app.database.prisma.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM "${table}" WHERE "memberId" = $1::uuid`, carol)).length),
      );
    expect((await aggregatesOfCarol())[0]).toBe(1);
    // Carol's membership goes with her (memberships have no foreign keys: the service removes it).
    await insertMemberships(t.app.database.prisma, [{ segmentId, memberId: carol, joinedAt: new Date('2024-03-03T00:00:00Z') }]);
    const removed = await t.graphql(`mutation { removeMember(storeCode: "DEFAULT", customerId: "${carol}") { __typename } }`, {}, token);
    expect(removed.body.data.removeMember.__typename).toBe('Removed');
    expect(await t.app.database.prisma.member.findUnique({ where: { id: carol } })).toBeNull();
    expect(await aggregatesOfCarol()).toEqual([0, 0, 0]);
    expect(await segmentIdsHolding(t.app.database.prisma, carol)).toEqual([]);
    expect(await memberIdsOfSegment(t.app.database.prisma, segmentId)).toEqual([ALICE, BOB]);
  });

  it('logs a member in and refreshes once; the member token opens no management path', async () => {
    const login = await t.request('POST', '/api/DEFAULT/member/login_check', { body: { username: 'alice@example.com', password: 'alice-secret' } });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(['refresh_token', 'token']);
    const wrong = await t.request('POST', '/api/DEFAULT/member/login_check', { body: { username: 'alice@example.com', password: 'nope' } });
    expect(wrong.status).toBe(401);
    const noStore = await t.request('POST', '/api/NOPE/member/login_check', { body: { username: 'alice@example.com', password: 'alice-secret' } });
    expect(noStore.status).toBe(404);
    expect((await t.request('GET', '/api/DEFAULT/segment', { token: login.body.token })).status).toBe(403);
    // A member refresh token is spent on the store's path, once; the admin path refuses it.
    expect((await t.request('POST', '/api/token/refresh', { body: { refresh_token: login.body.refresh_token } })).status).toBe(401);
    const refreshed = await t.request('POST', '/api/DEFAULT/token/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    const again = await t.request('POST', '/api/DEFAULT/token/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(again.status).toBe(401);
  });
});
