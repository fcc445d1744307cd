import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { evaluationEnv } from '../src/criteria/definitions.ts';
import { criterionMatches } from '../src/engine/reference.ts';
import { snapshotsFromRecords } from '../src/engine/reference.ts';
import type { PrismaClient, Store } from '../src/generated/prisma/client.ts';
import { DEFAULT_NOW, generateLines, generateRecords, type WireRecord } from '../src/ingest/generator.ts';
import { linesOf as splitLines } from '../src/ingest/lines.ts';
import { INGEST_KINDS, fastActivity, fastMember, fastTransaction, ingestRecord, itemsTextOf, parseRecord } from '../src/ingest/records.ts';
import { criterion } from './engine/support.ts';
import { describeEachDatabase, freshDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER, copyStreamOf, itemFacts } from '../src/ingest/transaction-copy.ts';
import { IngestService } from '../src/services/ingest-service.ts';
import { postgresUrlOf } from '../src/db/database.ts';

/** Member ids are global (one table for every store): each test takes its own. */
const member = (n: number) => `0a000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const CHANNEL_WEB = '0c000000-0000-4000-8000-000000000001';
const CHANNEL_POS = '0c000000-0000-4000-8000-000000000002';
const tx = (n: number) => `0d000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const MEMBER_TABLES = [
  'Channel', 'Level', 'TierSet', 'Tier', 'Campaign', 'Reward', 'Achievement', 'Challenge',
  'Member', 'MemberTier', 'MemberLabel', 'MemberCustomField',
  'Transaction',
  'CustomEvent', 'CampaignCompletion', 'AchievementCompletion', 'AchievementProgress', 'ChallengeCompletion', 'MilestoneProgress',
  'MemberStats', 'MemberChannelStats', 'MemberDailyAmount',
];

/** Row count and a digest of every row's text, per table: equal snapshots mean equal contents. */
async function snapshot(prisma: PrismaClient) {
  const result: Record<string, { rows: number; digest: string }> = {};
  for (const table of MEMBER_TABLES) {
    const [row] = await prisma.$queryRawUnsafe<{ rows: number; digest: string | null }[]>(
      `SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM "${table}" t`,
    );
    result[table] = { rows: row.rows, digest: row.digest ?? '' };
  }
  return result;
}

/**
 * Where each row's current version lies, which transaction wrote it and which last locked it
 * (xmax), per table: equal when no row was rewritten or locked.
 */
async function versions(prisma: PrismaClient) {
  const result: Record<string, string> = {};
  for (const table of MEMBER_TABLES) {
    const [row] = await prisma.$queryRawUnsafe<{ digest: string | null }[]>(
      `SELECT md5(string_agg(ctid::text || xmin::text || ' ' || xmax::text, ',' ORDER BY ctid)) AS digest FROM "${table}"`,
    );
    result[table] = row.digest ?? '';
  }
  return result;
}

async function aggregates(prisma: PrismaClient, memberIds: string[]) {
  const stats = await prisma.$queryRawUnsafe<{ memberId: string; purchaseCount: number; sellAmount: string; returnAmount: string; lastPurchaseAt: string | null }[]>(
    `SELECT "memberId"::text, "purchaseCount", "sellAmount"::text, "returnAmount"::text,
            to_char("lastPurchaseAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastPurchaseAt"
     FROM "MemberStats" WHERE "memberId" = ANY($1::uuid[]) ORDER BY 1`,
    `{${memberIds.join(',')}}`,
  );
  const channels = await prisma.$queryRawUnsafe<{ memberId: string; channelId: string; purchaseCount: number }[]>(
    `SELECT "memberId"::text, "channelId"::text, "purchaseCount" FROM "MemberChannelStats"
     WHERE "memberId" = ANY($1::uuid[]) AND "purchaseCount" > 0 ORDER BY 1, 2`,
    `{${memberIds.join(',')}}`,
  );
  const days = await prisma.$queryRawUnsafe<{ memberId: string; day: string; amount: string }[]>(
    `SELECT "memberId"::text, to_char("day", 'YYYY-MM-DD') AS day, "amount"::text FROM "MemberDailyAmount"
     WHERE "memberId" = ANY($1::uuid[]) ORDER BY 1, 2`,
    `{${memberIds.join(',')}}`,
  );
  return { stats, channels, days };
}

/** What the aggregates must be, computed in plain TypeScript from the records (latest line per id wins). */
function expectedAggregates(records: WireRecord[], timezone: string) {
  const latest = new Map<string, Extract<WireRecord, { kind: 'transaction' }>>();
  for (const record of records) if (record.kind === 'transaction') latest.set(record.transactionId, record);
  const cents = (value: number | undefined) => Math.round((value ?? 0) * 100);
  const money = (c: number) => (c / 100).toFixed(2);
  const stats = new Map<string, { count: number; sell: number; ret: number; last: string | null }>();
  const channels = new Map<string, number>();
  const days = new Map<string, number>();
  for (const t of latest.values()) {
    if (!t.customerId) continue;
    const s = stats.get(t.customerId) ?? { count: 0, sell: 0, ret: 0, last: null };
    const at = new Date(t.purchasedAt).toISOString();
    if (t.documentType === 'sell') {
      s.count++;
      s.sell += cents(t.grossValue);
      if (!s.last || at > s.last) s.last = at;
      if (t.channelId) channels.set(`${t.customerId} ${t.channelId}`, (channels.get(`${t.customerId} ${t.channelId}`) ?? 0) + 1);
    } else s.ret += cents(t.grossValue);
    stats.set(t.customerId, s);
    const day = DateTime.fromISO(t.purchasedAt, { setZone: true }).setZone(timezone).toISODate();
    const key = `${t.customerId} ${day}`;
    days.set(key, (days.get(key) ?? 0) + (t.documentType === 'sell' ? 1 : -1) * cents(t.grossValue));
  }
  return {
    stats: [...stats]
      .map(([memberId, s]) => ({ memberId, purchaseCount: s.count, sellAmount: money(s.sell), returnAmount: money(s.ret), lastPurchaseAt: s.last }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId)),
    channels: [...channels]
      .map(([key, purchaseCount]) => ({ memberId: key.split(' ')[0], channelId: key.split(' ')[1], purchaseCount }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId) || a.channelId.localeCompare(b.channelId)),
    days: [...days]
      .map(([key, amount]) => ({ memberId: key.split(' ')[0], day: key.split(' ')[1], amount: money(amount) }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId) || a.day.localeCompare(b.day)),
  };
}

async function* linesOf(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

describeEachDatabase('ingest', (kind) => {
  let t: TestApp;
  let prisma: PrismaClient;
  let storeSeq = 0;
  const newStore = (timezone = 'UTC') => t.app.services.stores.create({ code: `ING${++storeSeq}`, name: `Ingest ${storeSeq}`, timezone });

  beforeAll(async () => {
    t = await TestApp.start(kind);
    prisma = t.app.database.prisma;
  });
  afterAll(() => t?.close());

  it('imports generated data of every kind; re-importing the same file changes nothing', async () => {
    const store = await newStore('Europe/Warsaw');
    const lines = [...generateLines({ members: 60, seed: 11 })];
    const first = await t.app.services.ingest.importLines(store, linesOf(lines));
    expect(first.errors).toEqual([]);
    expect(first.imported).toBe(lines.length);
    expect(Object.keys(first.byKind).sort()).toEqual([...INGEST_KINDS].sort());
    const before = await snapshot(prisma);
    expect(before.MemberDailyAmount.rows).toBeGreaterThan(0);

    const rowVersions = await versions(prisma);
    const second = await t.app.services.ingest.importLines(store, linesOf(lines));
    expect(second.errors).toEqual([]);
    expect(second.byKind).toEqual(first.byKind);
    expect(await snapshot(prisma)).toEqual(before);
    // Not even rewritten as they were, nor locked: no row has a new version or a new locker.
    expect(await versions(prisma)).toEqual(rowVersions);
  });

  it('keeps aggregates equal to a plain recomputation when members are touched by many batches', async () => {
    const store = await newStore('Europe/Warsaw');
    const records = [...generateRecords({ members: 40, seed: 3 })];
    // Small imports, so that a member's transactions arrive over several batches.
    for (const chunk of chunks(records, 97)) expect((await t.app.services.ingest.importRecords(store, chunk)).errors).toEqual([]);
    const members = records.flatMap((r) => (r.kind === 'member' ? [r.customerId] : []));
    expect(await aggregates(prisma, members)).toEqual(expectedAggregates(records, 'Europe/Warsaw'));
  });

  it('reports bad lines with their number and reason and imports the good ones', async () => {
    const store = await newStore();
    const lines = [
      JSON.stringify({ kind: 'channel', id: CHANNEL_WEB, name: 'Web' }),
      '{"kind": "member", "customerId": ',
      JSON.stringify({ kind: 'spaceship', id: member(1) }),
      JSON.stringify({ kind: 'member', customerId: member(2), email: 'not-an-email' }),
      JSON.stringify({ kind: 'transaction', transactionId: tx(1), customerId: member(2), documentType: 'sell', purchasedAt: '2026-01-01T10:00:00Z', grossValue: 5 }),
      JSON.stringify({ kind: 'member', customerId: member(1), email: 'a@example.com' }),
      '',
      JSON.stringify({ kind: 'transaction', transactionId: tx(2), customerId: member(1), documentType: 'sell', purchasedAt: '2026-01-01T10:00:00Z', channelId: CHANNEL_WEB, grossValue: 10.5 }),
      // Valid for the schema, refused by the database (numeric(14,2) overflow).
      JSON.stringify({ kind: 'transaction', transactionId: tx(3), customerId: member(1), documentType: 'sell', purchasedAt: '2026-01-02T10:00:00Z', grossValue: 1e15 }),
      JSON.stringify({ kind: 'transaction', transactionId: tx(4), customerId: member(1), documentType: 'sell', purchasedAt: '2026-01-03T10:00:00Z', grossValue: 1.25, items: [{ sku: 'X', quantity: -1 }] }),
    ];
    const summary = await t.app.services.ingest.importLines(store, linesOf(lines));
    expect(summary.lines).toBe(10);
    expect(summary.imported).toBe(3);
    expect(summary.byKind).toEqual({ channel: 1, member: 1, transaction: 1 });
    expect(summary.failed).toBe(6);
    expect(summary.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 9, 10]);
    const reason = (line: number) => summary.errors.find((e) => e.line === line)?.reason;
    expect(reason(2)).toBe('not valid JSON');
    expect(reason(3)).toMatch(/^unknown kind/);
    expect(reason(4)).toMatch(/^email: /);
    expect(reason(5)).toBe(`customerId: unknown member ${member(2)}`);
    expect(reason(9)).toMatch(/^rejected by the database: /);
    expect(reason(10)).toMatch(/^items\.0\.quantity: /);
    const stored = await prisma.transaction.findMany({ where: { storeId: store.id }, select: { id: true } });
    expect(stored.map((row) => row.id)).toEqual([tx(2)]);
    expect(await prisma.member.count({ where: { storeId: store.id } })).toBe(1);
  });

  it('refuses ids that belong to another store and leaves that store’s rows unchanged', async () => {
    const owner = await newStore();
    const other = await newStore();
    const event = '0e000000-0000-4000-8000-000000000001';
    const ownerSummary = await t.app.services.ingest.importRecords(owner, [
      { kind: 'channel', id: CHANNEL_POS, name: 'Owner POS' },
      { kind: 'member', customerId: member(3), firstName: 'Owner', email: 'owner@example.com' },
      { kind: 'transaction', transactionId: tx(10), customerId: member(3), documentType: 'sell', purchasedAt: '2026-02-01T10:00:00Z', channelId: CHANNEL_POS, grossValue: 20, items: [{ sku: 'OWN', labels: [{ key: 'k', value: 'v' }] }] },
      { kind: 'customEvent', id: event, customerId: member(3), type: 'login', eventDate: '2026-02-01T10:00:00Z' },
    ]);
    expect(ownerSummary.errors).toEqual([]);
    const before = await snapshot(prisma);

    const summary = await t.app.services.ingest.importRecords(other, [
      { kind: 'channel', id: CHANNEL_POS, name: 'Stolen' },
      { kind: 'member', customerId: member(3), firstName: 'Thief', email: 'thief@example.com' },
      { kind: 'member', customerId: member(4), firstName: 'Own member' },
      { kind: 'transaction', transactionId: tx(10), customerId: null, documentType: 'return', purchasedAt: '2026-02-02T10:00:00Z', grossValue: 1 },
      { kind: 'transaction', transactionId: tx(10), customerId: member(4), documentType: 'sell', purchasedAt: '2026-02-02T10:00:00Z', grossValue: 1 },
      { kind: 'customEvent', id: event, customerId: member(4), type: 'stolen', eventDate: '2026-02-02T10:00:00Z' },
    ]);
    expect(summary.byKind).toEqual({ member: 1 });
    expect(summary.errors).toEqual([
      { line: 1, reason: `id ${CHANNEL_POS} belongs to another store` },
      { line: 2, reason: `id ${member(3)} belongs to another store` },
      { line: 4, reason: `id ${tx(10)} belongs to another store` },
      { line: 5, reason: `id ${tx(10)} belongs to another store` },
      { line: 6, reason: `id ${event} belongs to another store` },
    ]);
    const after = await snapshot(prisma);
    // Only the other store's own member (and nothing of the owner's) was added.
    expect(after.Member.rows).toBe(before.Member.rows + 1);
    for (const table of MEMBER_TABLES.filter((name) => name !== 'Member')) expect(after[table], table).toEqual(before[table]);
    const kept = await prisma.member.findUniqueOrThrow({ where: { id: member(3) } });
    expect([kept.storeId, kept.firstName, kept.email]).toEqual([owner.id, 'Owner', 'owner@example.com']);
  });

  it('keeps aggregates right through sells, returns, moved transactions and changed documents', async () => {
    const store = await newStore('Europe/Warsaw');
    const ingest = (records: object[]) => t.app.services.ingest.importRecords(store, records);
    const sell = (n: number, customerId: string | null, purchasedAt: string, grossValue: number, channelId: string | null = CHANNEL_WEB, documentType = 'sell') =>
      ({ kind: 'transaction', transactionId: tx(n), customerId, documentType, purchasedAt, channelId, grossValue });
    expect((await ingest([
      { kind: 'member', customerId: member(5) },
      { kind: 'member', customerId: member(6) },
      sell(21, member(5), '2026-03-01T10:00:00Z', 100),
      // 23:30 UTC on 1 March is 2 March in Warsaw.
      sell(22, member(5), '2026-03-01T23:30:00Z', 50.5, CHANNEL_POS),
      sell(23, member(5), '2026-03-02T12:00:00Z', 30, null, 'return'),
      sell(24, member(6), '2026-03-05T09:00:00Z', 20),
    ])).errors).toEqual([]);
    expect(await aggregates(prisma, [member(5), member(6)])).toEqual({
      stats: [
        { memberId: member(5), purchaseCount: 2, sellAmount: '150.50', returnAmount: '30.00', lastPurchaseAt: '2026-03-01T23:30:00.000Z' },
        { memberId: member(6), purchaseCount: 1, sellAmount: '20.00', returnAmount: '0.00', lastPurchaseAt: '2026-03-05T09:00:00.000Z' },
      ],
      channels: [
        { memberId: member(5), channelId: CHANNEL_WEB, purchaseCount: 1 },
        { memberId: member(5), channelId: CHANNEL_POS, purchaseCount: 1 },
        { memberId: member(6), channelId: CHANNEL_WEB, purchaseCount: 1 },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId) || a.channelId.localeCompare(b.channelId)),
      days: [
        { memberId: member(5), day: '2026-03-01', amount: '100.00' },
        { memberId: member(5), day: '2026-03-02', amount: '20.50' },
        { memberId: member(6), day: '2026-03-05', amount: '20.00' },
      ],
    });

    // The late sell moves to B, the return becomes unmatched, B's sell becomes a return.
    const summary = await ingest([
      sell(22, member(6), '2026-03-01T23:30:00Z', 50.5, CHANNEL_POS),
      sell(23, null, '2026-03-02T12:00:00Z', 30, null, 'return'),
      sell(24, member(6), '2026-03-05T09:00:00Z', 20, CHANNEL_WEB, 'return'),
    ]);
    expect(summary.errors).toEqual([]);
    expect([...summary.touchedMemberIds].sort()).toEqual([member(5), member(6)].sort());
    expect(await aggregates(prisma, [member(5), member(6)])).toEqual({
      stats: [
        { memberId: member(5), purchaseCount: 1, sellAmount: '100.00', returnAmount: '0.00', lastPurchaseAt: '2026-03-01T10:00:00.000Z' },
        { memberId: member(6), purchaseCount: 1, sellAmount: '50.50', returnAmount: '20.00', lastPurchaseAt: '2026-03-01T23:30:00.000Z' },
      ],
      channels: [
        { memberId: member(5), channelId: CHANNEL_WEB, purchaseCount: 1 },
        { memberId: member(6), channelId: CHANNEL_POS, purchaseCount: 1 },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId) || a.channelId.localeCompare(b.channelId)),
      days: [
        { memberId: member(5), day: '2026-03-01', amount: '100.00' },
        { memberId: member(6), day: '2026-03-02', amount: '50.50' },
        { memberId: member(6), day: '2026-03-05', amount: '-20.00' },
      ],
    });

    // All of A's transactions move away: A has no aggregates left.
    expect((await ingest([sell(21, member(6), '2026-03-01T10:00:00Z', 100)])).errors).toEqual([]);
    const { stats, channels, days } = await aggregates(prisma, [member(5)]);
    expect([stats, channels, days]).toEqual([[], [], []]);
  });

  it('writes item texts with quotes, backslashes, tabs, line breaks, braces and non-ASCII unchanged', async () => {
    const store = await newStore();
    const odd = ['Tab\there', 'quote"d', 'back\\slash', '{brace},comma', 'new\nline\r', 'NULL', '\\N', 'Zażółć 🍺', '"', '\\'];
    const items = odd.map((text, i) => ({
      sku: `${text}-${i}`,
      name: text,
      maker: text,
      labels: [{ key: `k${text}`, value: text }, { key: 'plain', value: `v${i}` }],
    }));
    const record = { kind: 'transaction', transactionId: tx(40), customerId: null, documentType: 'sell', purchasedAt: '2026-04-01T10:00:00.5+02:00', grossValue: 12.3, items };
    const summary = await t.app.services.ingest.importRecords(store, [record]);
    expect(summary.errors).toEqual([]);
    const parsed = parseRecord(record);
    if (!('record' in parsed) || parsed.record.kind !== 'transaction') throw new Error('expected a transaction');
    const stored = await prisma.transaction.findUniqueOrThrow({ where: { id: tx(40) } });
    expect({ skus: stored.skus, makers: stored.makers, itemLabels: stored.itemLabels }).toEqual(itemFacts(parsed.record.items));
    expect(stored.items).toEqual(JSON.parse(JSON.stringify(parsed.record.items)));
    expect(stored.purchasedAt.toISOString()).toBe('2026-04-01T08:00:00.500Z');
    expect(stored.grossValue.toString()).toBe('12.3');
    // The same record again changes nothing.
    expect((await t.app.services.ingest.importRecords(store, [record])).errors).toEqual([]);
    expect(await prisma.transaction.findUniqueOrThrow({ where: { id: tx(40) } })).toEqual(stored);
  });

  it('stores amounts and instants exactly, at the edges of their binary forms', async () => {
    const store = await newStore();
    const amounts = [0, 0.01, 0.5, 1, 99.9, 9999.99, 10000, 10000.01, 123456789, 999999999999.99, 1e12, 1e300];
    const instants = ['1970-01-01T00:00:00Z', '1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00Z', '2000-01-01T00:00:00.001+01:00', '2096-02-29T23:59:59.5-12:00'];
    const records = [
      ...amounts.map((grossValue, i) => ({ kind: 'transaction', transactionId: tx(600 + i), customerId: null, documentType: 'sell', purchasedAt: '2026-01-01T00:00:00Z', grossValue })),
      ...instants.map((purchasedAt, i) => ({ kind: 'transaction', transactionId: tx(700 + i), customerId: null, documentType: 'return', purchasedAt, grossValue: 1 })),
    ];
    const summary = await t.app.services.ingest.importRecords(store, records);
    // Over numeric(14,2): refused, each on its own line.
    expect(summary.errors.map((e) => [e.line, e.reason.replace(/:.*/, '')])).toEqual([[11, 'rejected by the database'], [12, 'rejected by the database']]);
    const rows = await prisma.$queryRawUnsafe<{ id: string; amount: string; at: string }[]>(
      `SELECT id::text, "grossValue"::text AS amount, to_char("purchasedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS at
       FROM "Transaction" WHERE "storeId" = $1::uuid ORDER BY id`,
      store.id,
    );
    expect(rows.filter((r) => r.id < tx(700)).map((r) => r.amount)).toEqual(amounts.slice(0, 10).map((a) => a.toFixed(2)));
    expect(rows.filter((r) => r.id >= tx(700)).map((r) => r.at)).toEqual(instants.map((i) => new Date(i).toISOString().slice(0, 23)));
  });

  it('stores the items of a line as the line writes them when that means the parsed items', async () => {
    const store = await newStore();
    const odd = ['Tab\there', 'quote"d', 'back\\slash', '{brace},comma', 'new\nline', '\\N', 'Zażółć 🍺', '"items":[]}'];
    const items = odd.map((text, i) => ({ sku: `${text}-${i}`, name: text, quantity: 1.5, grossValue: 2, maker: text, labels: [{ key: 'k', value: text }] }));
    const head = (id: number) => `{"kind":"transaction","transactionId":"${tx(id)}","customerId":null,"documentType":"sell","purchasedAt":"2026-04-01T10:00:00Z","grossValue":1,`;
    const lines = [
      `${head(50)}"items":${JSON.stringify(items)}}`,
      // JSON whitespace, escapes and number forms that JSON.stringify would write otherwise.
      `${head(51)}"items": [ {"sku":"A\u00e9","name":null,"quantity":1.50,"grossValue":2e0,"maker":"M","labels":[]} ]}`,
      `${head(52)}"items":[\t{"sku":"B","name":null,"quantity":1,"grossValue":2,"maker":"M","labels":[]}]}`,
      // The key twice: JSON.parse keeps the last.
      `${head(53)}"items":[{"sku":"C","name":null,"quantity":1,"grossValue":2,"maker":"M","labels":[]}],"items":[]}`,
    ];
    const summary = await t.app.services.ingest.importLines(store, linesOf(lines));
    expect(summary.errors.filter((e) => e.line !== 4)).toEqual([]);
    for (const [index, line] of lines.entries()) {
      const stored = await prisma.transaction.findUnique({ where: { id: tx(50 + index) } });
      if (index === 3 && !stored) continue; // refused rather than stored wrong
      const parsed = parseRecord(JSON.parse(line)) as { record: { items: unknown } };
      expect(stored?.items).toEqual(parsed.record.items);
    }
  });

  it('checks every batch’s members, whether written earlier in the import, stored before it, or another store’s', async () => {
    const store = await newStore();
    const other = await newStore();
    const sell = (id: number, customer: string) =>
      JSON.stringify({ kind: 'transaction', transactionId: tx(id), customerId: customer, documentType: 'sell', purchasedAt: '2026-02-01T10:00:00Z', grossValue: 3 });
    expect((await t.app.services.ingest.importLines(other, linesOf([JSON.stringify({ kind: 'member', customerId: member(40) })]))).errors).toEqual([]);
    expect((await t.app.services.ingest.importLines(store, linesOf([JSON.stringify({ kind: 'member', customerId: member(41) })]))).errors).toEqual([]);
    // Batches of two lines: the member written in the first, then its transactions batch after batch.
    const lines = [
      JSON.stringify({ kind: 'member', customerId: member(42) }),
      JSON.stringify({ kind: 'member', customerId: member(43), email: 'not-an-email' }),
      sell(401, member(42)), sell(402, member(41)),
      sell(403, member(40)), sell(404, member(43)),
      sell(405, member(42)), sell(406, member(41)),
    ];
    const summary = await new IngestService(prisma, { batchSize: 2 }).importLines(store, linesOf(lines));
    expect(summary.errors).toEqual([
      { line: 2, reason: expect.stringMatching(/^email: /) },
      { line: 5, reason: `customerId: unknown member ${member(40)}` },
      { line: 6, reason: `customerId: unknown member ${member(43)}` },
    ]);
    const stored = await prisma.transaction.findMany({ where: { storeId: store.id }, select: { id: true }, orderBy: { id: 'asc' } });
    expect(stored.map((row) => row.id)).toEqual([tx(401), tx(402), tx(405), tx(406)].sort());
  });

  it('keeps aggregates and activity right with small batches written side by side, ids repeated across batches and re-imports', async () => {
    const store = await newStore('Europe/Warsaw');
    const records = [...generateRecords({ members: 40, seed: 5 })];
    const ingest = new IngestService(prisma, { batchSize: 23 });
    // Some transactions, events and progress again 20-60 lines later (the same batch, the next or
    // the one after, which may be written while the first is) with another value: the later line wins.
    const changed = (r: WireRecord): WireRecord | undefined =>
      r.kind === 'transaction' ? { ...r, grossValue: Number(r.grossValue) + 1 }
        : r.kind === 'customEvent' ? { ...r, eventDate: new Date(Date.parse(String(r.eventDate)) + 86_400_000).toISOString() }
          : r.kind === 'achievementProgress' ? { ...r, value: Number(r.value) + 1 }
            : undefined;
    const withRepeats: string[] = [];
    const due = new Map<number, string[]>();
    records.forEach((r, i) => {
      withRepeats.push(JSON.stringify(r), ...(due.get(i) ?? []));
      const again = changed(r);
      if (again && i % (r.kind === 'transaction' ? 7 : 3) === 0) {
        const later = i + 20 + (i % 41);
        due.set(later, [...(due.get(later) ?? []), JSON.stringify(again)]);
      }
    });
    const winner = new Map<string, WireRecord>();
    for (const line of withRepeats) {
      const r = JSON.parse(line) as WireRecord;
      winner.set(r.kind === 'transaction' ? r.transactionId : 'id' in r ? `${r.kind}:${r.id}` : line, r);
    }
    const expectedRecords = [...winner.values()];
    expect(withRepeats.length - records.length).toBeGreaterThan(40);
    const first = await ingest.importLines(store, linesOf(withRepeats));
    expect(first.errors).toEqual([]);
    const members = records.flatMap((r) => (r.kind === 'member' ? [r.customerId] : []));
    expect(await aggregates(prisma, members)).toEqual(expectedAggregates(expectedRecords, 'Europe/Warsaw'));
    const storedActivity = async () => ({
      events: (await prisma.customEvent.findMany({ where: { storeId: store.id } })).map((e) => `${e.id} ${e.eventDate.toISOString()}`).sort(),
      progress: (await prisma.achievementProgress.findMany({ where: { storeId: store.id } })).map((p) => `${p.id} ${Number(p.value)}`).sort(),
    });
    expect(await storedActivity()).toEqual({
      events: expectedRecords.flatMap((r) => (r.kind === 'customEvent' ? [`${r.id} ${new Date(String(r.eventDate)).toISOString()}`] : [])).sort(),
      progress: expectedRecords.flatMap((r) => (r.kind === 'achievementProgress' ? [`${r.id} ${Number(r.value)}`] : [])).sort(),
    });
    const before = await snapshot(prisma);
    expect((await ingest.importLines(store, linesOf(withRepeats))).errors).toEqual([]);
    expect(await snapshot(prisma)).toEqual(before);
  });
  it('counts a corrected transaction once when the batch next to it adds new ones for the same members', async () => {
    // Batches alternate: one of new transactions on new days for a few members, then one that
    // corrects (re-sends with another value) a transaction of each of them stored by an earlier
    // import. A correction recomputes the member's aggregates, which must not interleave with
    // the neighbouring batch's increments (each day's amount could then count twice or not at
    // all). Whether they would interleave depends on timing; a batch that upserts takes the
    // store's aggregates lock exclusively (lockAggregates), and this checks the result.
    const store = await newStore();
    const members = Array.from({ length: 4 }, (_, i) => member(900 + i));
    await t.app.services.ingest.importRecords(store, members.map((customerId) => ({ kind: 'member', customerId })));
    const transaction = (n: number, customerId: string, day: number, grossValue: number) => ({
      kind: 'transaction', transactionId: tx(1000 + n), customerId, documentType: 'sell',
      purchasedAt: new Date(Date.UTC(2026, 0, 1 + day, 12)).toISOString(), grossValue,
    }) as WireRecord;
    const stored = members.map((customerId, i) => transaction(i, customerId, 0, 10));
    expect((await t.app.services.ingest.importRecords(store, stored)).errors).toEqual([]);
    // Batches of 200: 200 new transactions of those members, then their corrections and 196 new
    // transactions of other members (so both batches take about as long to write).
    const others = Array.from({ length: 4 }, (_, i) => member(910 + i));
    await t.app.services.ingest.importRecords(store, others.map((customerId) => ({ kind: 'member', customerId })));
    const lines: WireRecord[] = [];
    let n = 100;
    for (let round = 1; round <= 10; round++) {
      for (let k = 0; k < 200; k++) lines.push(transaction(n++, members[k % 4], 1 + ((n * 7) % 700), 1));
      members.forEach((customerId, i) => lines.push(transaction(i, customerId, 0, 10 + round)));
      for (let k = 0; k < 196; k++) lines.push(transaction(n++, others[k % 4], 1 + ((n * 7) % 700), 1));
    }
    const ingest = new IngestService(prisma, { batchSize: 200 });
    expect((await ingest.importLines(store, linesOf(lines.map((line) => JSON.stringify(line))))).errors).toEqual([]);
    expect(await aggregates(prisma, [...members, ...others])).toEqual(expectedAggregates([...stored, ...lines], 'UTC'));
  });

  it('upserts a batch tried as new when some of its transactions are stored', async () => {
    // A batch of nothing but transactions is first written as new (COPY, then increments): two
    // of these are stored (one changed, one not), so the COPY fails on the key, and the batch is
    // upserted instead, with nothing counted twice.
    const store = await newStore();
    const [first, second] = [member(950), member(951)];
    await t.app.services.ingest.importRecords(store, [first, second].map((customerId) => ({ kind: 'member', customerId })));
    const transaction = (n: number, customerId: string, grossValue: number) => ({
      kind: 'transaction', transactionId: tx(90_000 + n), customerId, documentType: 'sell',
      purchasedAt: new Date(Date.UTC(2026, 2, 1 + n, 12)).toISOString(), grossValue,
    }) as WireRecord;
    const stored = [transaction(0, first, 10), transaction(1, first, 20)];
    expect((await t.app.services.ingest.importRecords(store, stored)).errors).toEqual([]);
    // Large enough to be tried as new without a lookup (smaller ones are looked up first).
    const batch = [transaction(0, first, 10), transaction(1, second, 25)];
    for (let n = 2; n < 150; n++) batch.push(transaction(n, n % 2 ? first : second, n % 7));
    const ingest = new IngestService(prisma);
    const tried: boolean[] = [];
    const copyNew = (ingest as unknown as { copyNewTransactions: (...args: unknown[]) => Promise<boolean> }).copyNewTransactions.bind(ingest);
    (ingest as unknown as { copyNewTransactions: unknown }).copyNewTransactions = async (...args: unknown[]) => {
      const written = await copyNew(...args);
      tried.push(written);
      return written;
    };
    const summary = await ingest.importLines(store, linesOf(batch.map((line) => JSON.stringify(line))));
    expect(summary).toMatchObject({ imported: 150, failed: 0, errors: [] });
    expect(tried).toEqual(kind === 'pglite' ? [] : [false]);
    expect(await prisma.transaction.count({ where: { storeId: store.id } })).toBe(150);
    // A few, one of them stored: looked up, upserted without a failing COPY.
    const few = [transaction(3, first, 99), transaction(150, second, 1)];
    expect((await ingest.importLines(store, linesOf(few.map((line) => JSON.stringify(line))))).errors).toEqual([]);
    expect(tried).toEqual(kind === 'pglite' ? [] : [false]);
    batch[3] = few[0];
    batch.push(few[1]);
    expect(await aggregates(prisma, [first, second])).toEqual(expectedAggregates(batch, 'UTC'));
  });

  it('fails an import whose batch fails, once, without an unhandled rejection from the batches beside it', async () => {
    const store = await newStore();
    const lines = Array.from({ length: 40 }, (_, n) =>
      JSON.stringify({ kind: 'transaction', transactionId: tx(70_000 + n), customerId: null, documentType: 'sell', purchasedAt: '2026-04-01T10:00:00Z', grossValue: 1 }),
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let reports = 0;
      const failing = () => {
        if (reports++ === 0) throw new Error('progress sink failed');
      };
      await expect(new IngestService(prisma, { batchSize: 5 }).importLines(store, linesOf(lines), failing)).rejects.toThrow('progress sink failed');
      // Let the batches still in flight end, and any rejection be reported.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('replaces a re-imported transaction’s items and labels', async () => {
    const store = await newStore();
    const record = (items: object[]) => ({ kind: 'transaction', transactionId: tx(30), customerId: null, documentType: 'sell', purchasedAt: '2026-04-01T10:00:00Z', grossValue: 9, items });
    await t.app.services.ingest.importRecords(store, [
      record([{ sku: 'A', maker: 'Acme', labels: [{ key: 'Color', value: 'Red' }, { key: 'color', value: 'red ' }] }, { sku: 'B' }]),
    ]);
    const facts = () =>
      prisma.transaction.findUniqueOrThrow({ where: { id: tx(30) }, select: { skus: true, makers: true, itemLabels: true, items: true } });
    expect(await facts()).toEqual({
      skus: ['a', 'b'],
      makers: ['acme'],
      itemLabels: ['["color","red"]'],
      items: [
        { sku: 'A', maker: 'Acme', quantity: 1, grossValue: 0, labels: [{ key: 'Color', value: 'Red' }, { key: 'color', value: 'red' }] },
        { sku: 'B', quantity: 1, grossValue: 0, labels: [] },
      ],
    });
    const summary = await t.app.services.ingest.importRecords(store, [record([{ sku: 'C', labels: [{ key: 'size', value: 'XL' }] }])]);
    expect(summary.errors).toEqual([]);
    expect(await facts()).toEqual({
      skus: ['c'],
      makers: [],
      itemLabels: ['["size","xl"]'],
      items: [{ sku: 'C', quantity: 1, grossValue: 0, labels: [{ key: 'size', value: 'XL' }] }],
    });
  });

  it.skipIf(kind !== 'postgresql')('tries the batches of a file imported again as new only until one holds stored transactions', async () => {
    const store = await newStore();
    // A client that counts the COPYs into Transaction: each is a batch tried as new.
    let copies = 0;
    class CountingClient extends pg.Client {
      query(...args: any[]): any {
        const text: unknown = typeof args[0] === 'string' ? args[0] : args[0]?.text;
        if (typeof text === 'string' && text.startsWith('COPY "Transaction"')) copies++;
        return (super.query as any)(...args);
      }
    }
    const ingest = new IngestService(prisma, { batchSize: 150, postgres: { connectionString: postgresUrlOf(prisma), Client: CountingClient } });
    const sell = (n: number) =>
      JSON.stringify({ kind: 'transaction', transactionId: tx(300_000 + n), customerId: member(70), documentType: 'sell', purchasedAt: '2026-03-01T10:00:00Z', grossValue: 1 });
    const stored = Array.from({ length: 1800 }, (_, i) => sell(i)); // 12 batches
    expect((await ingest.importLines(store, linesOf([JSON.stringify({ kind: 'member', customerId: member(70) }), ...stored]))).errors).toEqual([]);
    expect(copies).toBeGreaterThanOrEqual(12);
    copies = 0;
    // Again, then 450 new ones (3 batches): at most the batches in flight when the first failed
    // are tried as new, then each is looked up until one holds none stored.
    const again = await ingest.importLines(store, linesOf([...stored, ...Array.from({ length: 450 }, (_, i) => sell(1800 + i))]));
    expect(again.errors).toEqual([]);
    expect(copies).toBeLessThanOrEqual(6);
    expect(await prisma.transaction.count({ where: { storeId: store.id } })).toBe(2250);
    expect(await prisma.memberStats.findUnique({ where: { memberId: member(70) }, select: { purchaseCount: true } })).toEqual({ purchaseCount: 2250 });
  });

  it('keeps a re-imported member’s password and dates when the line does not give them', async () => {
    const store = await newStore();
    const line = { kind: 'member', customerId: member(60), email: 'keeps@example.org', firstName: 'Kim' };
    expect((await t.app.services.ingest.importRecords(store, [{ ...line, password: 'first-password' }])).errors).toEqual([]);
    const stored = () => prisma.member.findUniqueOrThrow({ where: { id: member(60) }, select: { passwordHash: true, createdAt: true, registeredAt: true, firstName: true } });
    const first = await stored();
    expect(first.passwordHash).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await t.app.services.ingest.importRecords(store, [{ ...line, firstName: 'Kimberly' }])).errors).toEqual([]);
    expect(await stored()).toEqual({ ...first, firstName: 'Kimberly' });
    // Dates given are taken; a new password replaces the old one.
    const at = '2020-01-02T03:04:05.000Z';
    await t.app.services.ingest.importRecords(store, [{ ...line, createdAt: at, password: 'second-password' }]);
    const third = await stored();
    expect([third.createdAt.toISOString(), third.registeredAt.toISOString()]).toEqual([at, first.registeredAt.toISOString()]);
    expect(third.passwordHash).not.toBe(first.passwordHash);
  });

  it('rewrites nothing of a member imported again unchanged, and only what changed otherwise', async () => {
    const store = await newStore();
    const records = [...generateRecords({ members: 30, seed: 21 })];
    const lines = records.map((r) => JSON.stringify(r));
    expect((await t.app.services.ingest.importLines(store, linesOf(lines))).errors).toEqual([]);
    const members = records.flatMap((r) => (r.kind === 'member' ? [r] : []));
    expect(members.length).toBeGreaterThan(5);
    // A row rewritten gets a new xmin (the id of the transaction that wrote it).
    const versions = async () => {
      const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(
        `SELECT 'Member ' || id || ' ' || xmin AS row FROM "Member" WHERE "storeId" = $1::uuid
         UNION ALL SELECT 'MemberTier ' || "memberId" || ' ' || "tierId" || ' ' || l.xmin FROM "MemberTier" l JOIN "Member" m ON m.id = l."memberId" WHERE m."storeId" = $1::uuid
         UNION ALL SELECT 'MemberLabel ' || "memberId" || ' ' || key || ' ' || value || ' ' || l.xmin FROM "MemberLabel" l JOIN "Member" m ON m.id = l."memberId" WHERE m."storeId" = $1::uuid
         UNION ALL SELECT 'MemberCustomField ' || "memberId" || ' ' || key || ' ' || l.xmin FROM "MemberCustomField" l JOIN "Member" m ON m.id = l."memberId" WHERE m."storeId" = $1::uuid`,
        store.id,
      );
      return rows.map((r) => r.row).sort();
    };
    const before = await versions();
    const again = await t.app.services.ingest.importLines(store, linesOf(members.map((r) => JSON.stringify(r))));
    expect(again.errors).toEqual([]);
    expect(again.imported).toBe(members.length);
    expect(await versions()).toEqual(before);

    // One member changes a tier only, another a label only: just those rows are written.
    const tiered = members.find((m) => m.tierIds?.length)!;
    const labelled = members.find((m) => m !== tiered)!;
    const otherTier = records.find((r) => r.kind === 'tier' && !tiered.tierIds!.includes(r.id)) as { id: string };
    const changed = [
      { ...tiered, tierIds: [tiered.tierIds![0], otherTier.id] },
      { ...labelled, labels: [...(labelled.labels ?? []), { key: 'Extra', value: 'Yes' }] },
    ];
    expect((await t.app.services.ingest.importRecords(store, changed)).errors).toEqual([]);
    const after = await versions();
    const gone = before.filter((row) => !after.includes(row));
    const added = after.filter((row) => !before.includes(row));
    const rowsOf = (id: string, rows: string[]) => rows.filter((row) => row.split(' ')[1] === id);
    expect(gone.every((row) => row.split(' ')[1] === tiered.customerId || row.split(' ')[1] === labelled.customerId)).toBe(true);
    expect(added.every((row) => row.split(' ')[1] === tiered.customerId || row.split(' ')[1] === labelled.customerId)).toBe(true);
    expect(rowsOf(tiered.customerId, added).filter((row) => row.startsWith('MemberTier ')).map((row) => row.split(' ')[2])).toEqual([otherTier.id]);
    expect(rowsOf(tiered.customerId, added).some((row) => row.startsWith('Member '))).toBe(false);
    expect(rowsOf(labelled.customerId, added).filter((row) => row.startsWith('MemberLabel ')).map((row) => row.split(' ').slice(2, 4).join(' '))).toEqual(['extra yes']);
    expect(await prisma.memberTier.count({ where: { memberId: tiered.customerId } })).toBe(2);
  });
});

describeEachDatabase('ingest statistics', (kind) => {
  /** reltuples: what the planner believes a table holds (-1 until its first ANALYZE). */
  const plannerRows = async (prisma: PrismaClient, table: string) =>
    (await prisma.$queryRawUnsafe<{ rows: number }[]>(`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = '"${table}"'::regclass`))[0].rows;

  it('refreshes the statistics of the tables an import changed by enough rows, and only those', async () => {
    const database = await freshDatabase(kind);
    try {
      const { prisma } = database;
      const store = await prisma.store.create({ data: { code: 'STATS', name: 'Stats', timezone: 'UTC' } });
      const ingest = new IngestService(prisma);
      const memberLine = (n: number) => JSON.stringify({ kind: 'member', customerId: member(n) });
      const sell = (n: number) =>
        JSON.stringify({ kind: 'transaction', transactionId: tx(n), customerId: member(n % 50), documentType: 'sell', purchasedAt: '2026-02-01T10:00:00Z', grossValue: 3 });
      const events = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) =>
          JSON.stringify({ kind: 'customEvent', id: tx(900_000 + from + i), customerId: member(0), type: 'visit', eventDate: '2026-02-01T10:00:00Z' }));
      const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
      const before = await plannerRows(prisma, 'CustomEvent');

      // 1,200 transactions: past the threshold. 50 members and 20 events: not.
      const first = await ingest.importLines(store, linesOf([...range(0, 50).map(memberLine), ...range(1, 1200).map(sell), ...events(0, 20)]));
      expect(first.errors).toEqual([]);
      expect(await plannerRows(prisma, 'Transaction')).toBe(1200);
      expect(await plannerRows(prisma, 'MemberStats')).toBe(50);
      expect(await plannerRows(prisma, 'MemberDailyAmount')).toBe(50);
      expect(await plannerRows(prisma, 'CustomEvent')).toBe(before);

      // 1,000 more: the threshold, and over a tenth of 1,200.
      await ingest.importLines(store, linesOf(range(1201, 1000).map(sell)));
      expect(await plannerRows(prisma, 'Transaction')).toBe(2200);
      // 1,100 events: the event table is refreshed; the transactions' tables are not.
      await ingest.importLines(store, linesOf(events(20, 1100)));
      expect(await plannerRows(prisma, 'CustomEvent')).toBe(1120);
      expect(await plannerRows(prisma, 'Transaction')).toBe(2200);
    } finally {
      await database.close();
    }
  });

  it('leaves alone a large table an import changed by under a tenth, until imports together change a tenth', async () => {
    const database = await freshDatabase(kind);
    try {
      const { prisma } = database;
      const store = await prisma.store.create({ data: { code: 'STATS', name: 'Stats', timezone: 'UTC' } });
      const ingest = new IngestService(prisma);
      const sell = (n: number) =>
        JSON.stringify({ kind: 'transaction', transactionId: tx(n), customerId: member(1), documentType: 'sell', purchasedAt: '2026-02-01T10:00:00Z', grossValue: 3 });
      await ingest.importLines(store, linesOf([JSON.stringify({ kind: 'member', customerId: member(1) })]));
      await ingest.importLines(store, linesOf(Array.from({ length: 12_000 }, (_, i) => sell(i + 1))));
      expect(await plannerRows(prisma, 'Transaction')).toBe(12_000);
      // 1,100 rows: past the threshold, but under a tenth of 12,000.
      await ingest.importLines(store, linesOf(Array.from({ length: 1100 }, (_, i) => sell(20_000 + i))));
      expect(await prisma.transaction.count()).toBe(13_100);
      expect(await plannerRows(prisma, 'Transaction')).toBe(12_000);
      // As many again: together they are over a tenth, which the table's growth since its last ANALYZE shows.
      await ingest.importLines(store, linesOf(Array.from({ length: 1100 }, (_, i) => sell(30_000 + i))));
      expect(await plannerRows(prisma, 'Transaction')).toBe(14_200);
    } finally {
      await database.close();
    }
  });
});

describe('line splitter', () => {
  it('splits bytes into lines across chunk boundaries, inside multi-byte characters and CRLF', async () => {
    const text = 'first\r\nZażółć 🍺 line\n\n{"a":"ü"}\r\nlast without newline';
    const bytes = Buffer.from(text, 'utf8');
    for (const size of [1, 2, 3, 5, 7, 64]) {
      // Plain Uint8Arrays (as a web ReadableStream gives) cut at every `size` bytes.
      const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => new Uint8Array(bytes.subarray(i * size, (i + 1) * size)));
      const lines: string[] = [];
      for await (const line of splitLines((async function* () { yield* chunks; })())) lines.push(line);
      expect(lines).toEqual(['first', 'Zażółć 🍺 line', '', '{"a":"ü"}', 'last without newline']);
    }
  });
});

describe('item facts', () => {
  const item = (sku: string | null, maker: string | null, labels: { key: string; value: string }[] = []) =>
    ({ sku, name: null, quantity: 1, grossValue: 0, maker, labels });
  it('are normalised and distinct, the same however often a text was seen before', () => {
    const items = [
      item(' SKU-1 ', 'Acme', [{ key: ' Color', value: 'Red ' }, { key: 'color', value: 'red' }]),
      item('sku-1', ' ACME ', [{ key: 'Size', value: 'M' }]),
      item(null, null, [{ key: 'quote"d', value: 'back\\slash' }]),
      // Longer than the texts remembered.
      item(` ${'Long-SKU-'.repeat(10)}`, null, [{ key: 'Note', value: ` ${'Very long value '.repeat(6)}` }]),
    ];
    const expected = {
      skus: ['sku-1', 'long-sku-'.repeat(10)],
      makers: ['acme'],
      itemLabels: ['["color","red"]', '["size","m"]', '["quote\\"d","back\\\\slash"]', `["note","${'very long value '.repeat(6).trim()}"]`],
    };
    expect(itemFacts(items)).toEqual(expected);
    // Enough other texts to empty the cache of normalised texts more than once, then the same items.
    for (let i = 0; i < 50_000; i++) itemFacts([item(`SKU-${i}`, `Maker ${i}`, [{ key: `K${i}`, value: 'V' }])]);
    expect(itemFacts([item(' Sku-49999', null)])).toEqual({ skus: ['sku-49999'], makers: [], itemLabels: [] });
    expect(itemFacts(items)).toEqual(expected);
  });
});

describe('binary COPY stream', () => {
  it('holds the rows in their order, whether they lie end to end in one Buffer or not', () => {
    const one = Buffer.from('abcdefghij');
    const two = Buffer.from('KLMNOP');
    const cases = [
      [one.subarray(0, 3), one.subarray(3, 5), one.subarray(5, 10)],
      [one.subarray(0, 3), one.subarray(5, 10), one.subarray(3, 5)],
      [one.subarray(0, 2), one.subarray(2, 4), two.subarray(0, 3), two.subarray(3, 6), one.subarray(4, 6)],
      [one.subarray(8, 10), two.subarray(0, 2)],
      [],
    ];
    for (const rows of cases)
      expect(copyStreamOf(rows).toString('latin1')).toBe(Buffer.concat([BINARY_COPY_HEADER, ...rows, BINARY_COPY_TRAILER]).toString('latin1'));
  });
});

/**
 * Checks a fast parser against the zod schema on these records (each through JSON, as a line
 * would bring it): whatever it accepts the schema accepts, with an equal result, and it accepts
 * every record of its kinds that the schema does (`ownKind`). Answers how many it accepted.
 */
function expectSameAsSchema(fast: (raw: unknown) => unknown, records: unknown[], ownKind: (raw: unknown, kind: string) => boolean): number {
  let accepted = 0;
  for (const raw of records.map((value) => JSON.parse(JSON.stringify(value ?? null)))) {
    const parsed = fast(raw);
    const reference = ingestRecord.safeParse(raw);
    if (parsed) {
      accepted++;
      expect(reference.success).toBe(true);
      expect(parsed).toStrictEqual(reference.data);
    }
    // and is not a slow path for valid records of its kinds.
    if (reference.success && ownKind(raw, reference.data.kind)) expect(parsed).toBeDefined();
  }
  return accepted;
}

describe('fast transaction parser', () => {
  const base = {
    kind: 'transaction', transactionId: 'E52A5DAC-F150-4893-8939-1FFEB1BA0024', customerId: 'b1f184e9-de73-41b4-9da9-a091a7ac754b',
    documentType: 'sell', purchasedAt: '2024-11-25T14:25:28.303+02:00', channelId: '8b66f1c5-b298-4193-b9df-97b031ee5daf', grossValue: 495.27,
    items: [{ sku: ' SKU-1 ', name: 'Lite', quantity: 2, grossValue: 192.64, maker: 'Acme ', labels: [{ key: ' Color', value: 'Red ' }] }, { sku: null }],
  };
  const item = (change: object) => ({ ...base, items: [{ ...base.items[0], ...change }] });
  const label = (change: object) => item({ labels: [change] });
  const without = (key: string) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));
  // Items with every key and nothing to trim are kept as given: each way one can be invalid.
  const full = { sku: 'SKU-1', name: 'Lite', quantity: 2, grossValue: 192.64, maker: 'Acme', labels: [{ key: 'color', value: 'red' }] };
  const given = (change: object) => ({ ...base, items: [{ ...full, ...change }] });
  const variants: unknown[] = [
    given({}), given({ sku: null, maker: null, labels: [] }), given({ quantity: -1 }), given({ quantity: '2' }), given({ grossValue: 1.234 }),
    given({ sku: 5 }), given({ name: ' Lite' }), given({ labels: [{ key: '', value: 'x' }] }), given({ labels: [{ key: 'a ', value: 'x' }] }),
    given({ labels: [{ value: 'x', key: 'a' }] }), given({ labels: [{ key: 'a', value: 'x', c: 1 }] }), given({ labels: [{ key: 'a', value: 2 }] }),
    given({ labels: [{ key: 'a', value: ' x' }] }), given({ labels: {} }), given({ labels: [null] }), given({ extra: 1 }),
    { ...base, items: [full, { ...full, sku: ' x' }] }, { ...base, items: [full, null] }, { ...base, items: [full, full] },
    base, without('channelId'), without('items'), without('customerId'), without('grossValue'), without('purchasedAt'),
    { ...base, channelId: null }, { ...base, customerId: null }, { ...base, customerId: 'nope' }, { ...base, transactionId: 42 },
    { ...base, documentType: 'SELL' }, { ...base, documentType: 'return' }, { ...base, purchasedAt: '2024-11-25 14:25' },
    { ...base, purchasedAt: '2024-02-30T10:00:00Z' }, { ...base, purchasedAt: '2024-11-25T14:25:28Z' }, { ...base, grossValue: -1 },
    { ...base, grossValue: 1.005 }, { ...base, grossValue: '12' }, { ...base, grossValue: 0 }, { ...base, extra: 1 }, { ...base, items: {} },
    { ...base, items: [] }, { ...base, items: [null] }, { ...base, kind: 'member' }, item({ quantity: -1 }), item({ quantity: 0.5 }),
    item({ quantity: undefined }), item({ grossValue: undefined }), item({ grossValue: 1.234 }), item({ sku: 5 }), item({ name: null }),
    item({ maker: undefined }), item({ labels: undefined }), item({ labels: 'x' }), item({ other: true }), label({ key: '  ', value: 'x' }),
    label({ key: 'a' }), label({ key: 'a', value: 'b', c: 1 }), label({ key: 'a', value: 1 }), label({ key: 'a', value: '' }),
    JSON.parse('{"kind":"transaction","__proto__":{"x":1},"transactionId":"e52a5dac-f150-4893-8939-1ffeb1ba0024","customerId":null,"documentType":"sell","purchasedAt":"2024-11-25T14:25:28Z","grossValue":1}'),
    null, [], 'transaction',
  ];

  it('takes items text from a line only where it means the parsed items', () => {
    const head = '{"kind":"transaction","transactionId":"e52a5dac-f150-4893-8939-1ffeb1ba0024","customerId":null,"documentType":"sell","purchasedAt":"2026-04-01T10:00:00Z","grossValue":1,';
    const full = '{"sku":"A","name":"N","quantity":1,"grossValue":2,"maker":"M","labels":[{"key":"k","value":"v"}]}';
    const textOf = (line: string) => itemsTextOf(line, (parseRecord(JSON.parse(line)) as { record: any }).record);
    expect(textOf(`${head}"items":[${full}]}`)).toBe(`[${full}]`);
    expect(textOf(`${head}"items":[]}`)).toBe('[]');
    // A default filled, a text trimmed, a label trimmed, items not last.
    expect(textOf(`${head}"items":[{"sku":"A","name":"N","grossValue":2,"maker":"M","labels":[]}]}`)).toBeUndefined();
    expect(textOf(`${head}"items":[${full.replace('"A"', '" A"')}]}`)).toBeUndefined();
    expect(textOf(`${head}"items":[${full.replace('"v"', '"v "')}]}`)).toBeUndefined();
    expect(textOf(`${head.replace('"grossValue":1,', '')}"items":[${full}],"grossValue":1}`)).toBeUndefined();
  });

  it('accepts only what the schema accepts, and returns what the schema returns', () => {
    const generated = [...generateRecords({ members: 200, seed: 7 })].filter((record) => record.kind === 'transaction');
    const fast = expectSameAsSchema(fastTransaction, [...variants, ...generated], (_, kind) => kind === 'transaction');
    expect(fast).toBeGreaterThan(generated.length);
  });
});

describe('fast activity parser', () => {
  const id = 'E52A5DAC-F150-4893-8939-1FFEB1BA0024';
  const customerId = 'b1f184e9-de73-41b4-9da9-a091a7ac754b';
  const bases: Record<string, Record<string, unknown>> = {
    customEvent: { kind: 'customEvent', id, customerId, type: ' Visit ', eventDate: '2024-11-25T14:25:28.303+02:00' },
    campaignCompletion: { kind: 'campaignCompletion', id, customerId, campaignId: id, completedAt: '2024-11-25T14:25:28Z' },
    achievementCompletion: { kind: 'achievementCompletion', id, customerId, achievementId: id, completedAt: '2024-11-25T14:25:28Z' },
    challengeCompletion: { kind: 'challengeCompletion', id, customerId, challengeId: id, completedAt: '2024-11-25T14:25:28Z' },
    achievementProgress: { kind: 'achievementProgress', id, customerId, achievementId: id, ruleId: id, value: 2.5, recordedAt: '2024-11-25T14:25:28Z' },
    challengeProgress: { kind: 'challengeProgress', id, customerId, challengeId: id, milestoneId: id, value: 0, recordedAt: '2024-11-25T14:25:28Z' },
  };
  // Each field of each kind: missing, null, of another type, and invalid in its own way; and an extra key.
  const variants: unknown[] = Object.values(bases).flatMap((base) => [
    base, { ...base, extra: 1 }, { ...base, kind: 'Member' },
    ...Object.keys(base).filter((key) => key !== 'kind').flatMap((key) => [
      Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)),
      { ...base, [key]: null }, { ...base, [key]: 42 }, { ...base, [key]: '' }, { ...base, [key]: '  ' }, { ...base, [key]: 'nope' },
      { ...base, [key]: -1 }, { ...base, [key]: '2024-02-30T10:00:00Z' }, { ...base, [key]: '2024-11-25 14:25' }, { ...base, [key]: [] },
    ]),
  ]);
  variants.push(
    JSON.parse(`{"kind":"customEvent","__proto__":{"x":1},"id":"${id}","customerId":"${customerId}","type":"a","eventDate":"2024-11-25T14:25:28Z"}`),
    { kind: 'toString' }, { kind: '__proto__' }, null, [], 'customEvent',
  );

  it('accepts only what the schema accepts, and returns what the schema returns', () => {
    const generated = [...generateRecords({ members: 200, seed: 7 })].filter((record) => record.kind in bases);
    const fast = expectSameAsSchema(fastActivity, [...variants, ...generated], (_, kind) => kind in bases);
    expect(fast).toBeGreaterThan(generated.length);
    expect(new Set(generated.map((record) => record.kind))).toEqual(new Set(Object.keys(bases)));
  });
});

describe('fast member parser', () => {
  const base = {
    kind: 'member', customerId: 'E52A5DAC-F150-4893-8939-1FFEB1BA0024', active: false, firstName: ' Ann ', lastName: 'Lee', email: 'Ann.Lee@Example.org',
    phone: ' +48 123 ', gender: 'female', birthDate: '2000-02-29', createdAt: '2024-11-25T14:25:28.303+02:00', registeredAt: '2024-11-25T14:25:28Z',
    address: { city: ' Warsaw', province: 'Mazowieckie', country: 'pl', postal: '00-001 ' }, loyaltyCardNumber: ' 7004 ',
    levelId: '8B66F1C5-B298-4193-B9DF-97B031EE5DAF', tierIds: ['8B66F1C5-B298-4193-B9DF-97B031EE5DAF'], labels: [{ key: ' VIP', value: 'Yes ' }],
    customFields: { store: 'Soho', visits: 3, newsletter: true }, password: 'secret',
  };
  const bad = [null, 42, '', '  ', 'nope', -1, true, [], {}, '2024-02-30', '2024-11-25 14:25', 'a@b', 'PLN'];
  // Each field missing, and each of a row of wrong values; the address's and the lists' insides.
  const variants: unknown[] = [
    base, { ...base, extra: 1 }, { kind: 'member', customerId: base.customerId },
    ...Object.keys(base).filter((key) => key !== 'kind').flatMap((key) => [
      Object.fromEntries(Object.entries(base).filter(([k]) => k !== key)),
      ...bad.map((value) => ({ ...base, [key]: value })),
    ]),
    ...['city', 'province', 'country', 'postal'].flatMap((key) => [
      { ...base, address: Object.fromEntries(Object.entries(base.address).filter(([k]) => k !== key)) },
      ...bad.map((value) => ({ ...base, address: { ...base.address, [key]: value } })),
    ]),
    { ...base, address: { ...base.address, street: 'x' } }, { ...base, address: { country: 'DE' } },
    { ...base, tierIds: [] }, { ...base, tierIds: ['nope'] }, { ...base, tierIds: [null] },
    { ...base, labels: [] }, { ...base, labels: [{ key: '', value: 'x' }] }, { ...base, labels: [{ key: 'a' }] }, { ...base, labels: [{ key: 'a', value: 'b', c: 1 }] },
    { ...base, customFields: {} }, { ...base, customFields: { a: null } }, { ...base, customFields: { a: {} } }, { ...base, customFields: { a: [] } },
    { ...base, customFields: { a: 1.5e21, b: -0, c: false } }, { ...base, email: ' ann@example.org' }, { ...base, email: 'ANN@EXAMPLE.ORG' },
    { ...base, gender: 'not_disclosed' }, { ...base, gender: 'Male' }, { ...base, birthDate: '2001-02-29' }, { ...base, active: true },
    JSON.parse(`{"kind":"member","customerId":"${base.customerId}","customFields":{"__proto__":"x"}}`),
    JSON.parse(`{"kind":"member","__proto__":{"x":1},"customerId":"${base.customerId}"}`),
    { ...base, kind: 'transaction' }, null, [], 'member',
  ];

  it('accepts only what the schema accepts, and returns what the schema returns', () => {
    const generated = [...generateRecords({ members: 200, seed: 7 })].filter((record) => record.kind === 'member');
    // A top-level `__proto__` key aside: zod decides those.
    const fast = expectSameAsSchema(fastMember, [...variants, ...generated], (raw, kind) => kind === 'member' && !JSON.stringify(raw).includes('__proto__'));
    expect(fast).toBeGreaterThan(generated.length);
  });
});

describe('generator', () => {
  const records = [...generateRecords({ members: 400, seed: 42 })];

  it('is deterministic: the same seed gives the same records, another seed others', () => {
    const again = [...generateLines({ members: 400, seed: 42 })];
    expect(again).toEqual(records.map((record) => JSON.stringify(record)));
    const other = [...generateLines({ members: 400, seed: 43 })];
    expect(other).not.toEqual(again);
    expect(other.length).toBeGreaterThan(0);
    // The clock moves the data, nothing else does.
    const later = [...generateLines({ members: 5, seed: 42, now: '2027-01-01T00:00:00Z' })];
    expect(later).not.toEqual([...generateLines({ members: 5, seed: 42 })]);
  });

  it('produces valid records of every kind, reference data first, members before their activity', () => {
    for (const record of records) expect(parseRecord(record), JSON.stringify(record)).not.toHaveProperty('error');
    const kinds = records.map((record) => record.kind);
    expect(new Set(kinds)).toEqual(new Set(INGEST_KINDS));
    const reference = ['channel', 'level', 'tierSet', 'tier', 'campaign', 'reward', 'achievement', 'challenge'];
    const lastReference = Math.max(...reference.map((kind) => kinds.lastIndexOf(kind as never)));
    expect(lastReference).toBeLessThan(kinds.indexOf('member'));
    expect(kinds.lastIndexOf('member')).toBeLessThan(Math.min(...kinds.flatMap((kind, i) => (kind !== 'member' && !reference.includes(kind) ? [i] : []))));
  });

  it('gives members unique identifiers and the variety the criteria need', () => {
    const members = records.filter((record) => record.kind === 'member');
    const transactions = records.filter((record) => record.kind === 'transaction');
    expect(members).toHaveLength(400);
    for (const field of ['customerId', 'email', 'loyaltyCardNumber'] as const) expect(new Set(members.map((m) => m[field])).size).toBe(400);
    const phones = members.flatMap((m) => (m.phone ? [m.phone] : []));
    expect(new Set(phones).size).toBe(phones.length);
    const inactive = members.filter((m) => m.active === false).length;
    expect(inactive).toBeGreaterThan(5);
    expect(inactive).toBeLessThan(45);
    expect(members.some((m) => m.birthDate?.endsWith('-02-29'))).toBe(true);
    expect(members.some((m) => !m.birthDate)).toBe(true);
    expect(transactions.length / members.length).toBeGreaterThan(7);
    expect(transactions.length / members.length).toBeLessThan(13);
    expect(transactions.some((t) => t.customerId === null)).toBe(true);
    const returns = transactions.filter((t) => t.documentType === 'return').length;
    expect(returns / transactions.length).toBeGreaterThan(0.02);
    expect(returns / transactions.length).toBeLessThan(0.08);
    const now = Date.parse(DEFAULT_NOW);
    for (const t of transactions) {
      expect(Date.parse(t.purchasedAt as string)).toBeLessThanOrEqual(now);
      expect(Date.parse(t.purchasedAt as string)).toBeGreaterThan(now - 760 * 86_400_000);
    }
  });

  it('is lazy: the first records of a huge data set come without building it', () => {
    const iterator = generateRecords({ members: 1_000_000_000, seed: 1 });
    const first: WireRecord[] = [];
    for (const record of iterator) {
      first.push(record);
      if (first.length === 100) break;
    }
    expect(first.filter((record) => record.kind === 'member')).toHaveLength(100 - first.findIndex((r) => r.kind === 'member'));
  });

  it('has, for each of the 39 criterion types, active members who match and active members who don’t', () => {
    const timezone = 'UTC';
    const env = evaluationEnv(new Date(DEFAULT_NOW), timezone);
    const members = snapshotsFromRecords(records).filter((member) => member.active);
    const of = <K extends WireRecord['kind']>(kind: K) => records.filter((r): r is Extract<WireRecord, { kind: K }> => r.kind === kind);
    const [web] = of('channel');
    const callCentre = of('channel').find((c) => c.name === 'Call centre')!;
    const gold = of('level').find((l) => l.name === 'Gold')!;
    const tier = of('tier')[0];
    const [campaign] = of('campaign');
    const achievements = of('achievement');
    const [challenge] = of('challenge');
    const someone = of('member').filter((m) => m.active !== false).slice(0, 2);
    const day = (days: number) => new Date(Date.parse(DEFAULT_NOW) - days * 86_400_000);
    const instant = (days: number) => day(days).toISOString().replace(/\.\d+Z$/, '+00:00');
    const date = (days: number) => day(days).toISOString().slice(0, 10);
    const criteria: Record<string, unknown>[] = [
      { type: 'bought_through_channel', channelIds: [callCentre.id] },
      { type: 'transaction_count', min: 5, max: 15 },
      { type: 'average_transaction_amount', fromAmount: 50, toAmount: 150 },
      { type: 'transaction_percent_in_channel', channelId: web.id, percent: 60 },
      { type: 'purchase_period', fromDate: instant(60), toDate: instant(0) },
      { type: 'bought_labels', labels: [{ key: 'category', value: 'shoes' }] },
      { type: 'bought_makers', makers: ['Acme'] },
      { type: 'anniversary', anniversaryType: 'birthday', days: 30 },
      { type: 'anniversary', anniversaryType: 'registration', days: 30 },
      { type: 'last_purchase_n_days_before', days: 30 },
      { type: 'last_transaction_between_days', fromDays: 31, toDays: 180 },
      { type: 'last_custom_event_n_days_before', eventType: 'app_login', days: 30 },
      { type: 'last_custom_event_between_days', eventType: 'store_visit', fromDays: 30, toDays: 365 },
      { type: 'bought_skus', skuIds: ['SKU-SHO-0100', 'SKU-ELE-0105'] },
      { type: 'transaction_amount', fromAmount: 500, toAmount: 2000 },
      { type: 'transaction_amount_each_day_in_period', fromDate: date(10), toDate: date(2), fromAmount: 1, toAmount: 100000 },
      { type: 'transaction_amount_in_period', fromDate: instant(365), toDate: instant(0), fromAmount: 100, toAmount: 1000 },
      { type: 'transaction_count_in_period', fromDate: instant(365), toDate: instant(0), min: 3, max: 10 },
      { type: 'transaction_amount_each_day_in_last_n_days', days: 7, fromAmount: 1, toAmount: 100000 },
      { type: 'transaction_amount_in_last_n_days', days: 90, fromAmount: 100, toAmount: 100000 },
      { type: 'customer_in_level', levelIds: [gold.id] },
      { type: 'customer_has_labels', labels: [{ key: 'vip' }] },
      { type: 'customer_with_labels_values', labels: [{ key: 'interest', value: 'running' }] },
      { type: 'customer_list', customers: [someone[0].customerId, someone[1].customerId] },
      { type: 'gender', genders: ['not_disclosed'] },
      { type: 'city', cities: ['Warsaw'] },
      { type: 'province', provinces: ['England'] },
      { type: 'country', countries: ['DE'] },
      { type: 'postal', postalCodes: ['00-001'] },
      { type: 'age', fromAge: 30, toAge: 40 },
      { type: 'campaign_completion', campaignIds: [campaign.id] },
      { type: 'customer_csv_list', customers: [someone[0].customerId] },
      { type: 'achievement_completion_count', achievementId: achievements[0].id, minCount: 2 },
      { type: 'achievement_rule_progress', achievementId: achievements[1].id, ruleId: achievements[1].ruleIds![0], minProgress: 20 },
      { type: 'customer_in_tiers', tierIds: [tier.id] },
      { type: 'member_registration_date', fromDate: instant(730), toDate: instant(0) },
      { type: 'member_custom_field_value', key: 'preferredContact', values: ['sms'] },
      { type: 'member_loyalty_card_number', loyaltyCardNumbers: [someone[0].loyaltyCardNumber] },
      { type: 'challenge_campaign_completion_count', challengeId: challenge.id, minCount: 1 },
      { type: 'challenge_campaign_milestone_progress', challengeId: challenge.id, milestoneId: challenge.milestoneIds![0], minProgress: 10 },
    ];
    expect(new Set(criteria.map((c) => c.type)).size).toBe(39);
    const counts = Object.fromEntries(
      criteria.map((raw) => {
        const stored = criterion(raw, timezone);
        const key = raw.type === 'anniversary' ? `anniversary ${raw.anniversaryType}` : String(raw.type);
        return [key, members.filter((member) => criterionMatches(stored, member, env)).length];
      }),
    );
    const none = Object.entries(counts).filter(([, n]) => n === 0);
    const all = Object.entries(counts).filter(([, n]) => n === members.length);
    expect({ none, all }).toEqual({ none: [], all: [] });
  });
});

describe('cli import', () => {
  let dir: string;
  const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cli-import-'));
    process.env.DATA_DIR = path.join(dir, 'data');
    delete process.env.DATABASE_URL;
    expect(await runCli(['store:create', 'CLI', '--name', 'CLI store'], () => undefined)).toBe(0);
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[]) => {
    const out: string[] = [];
    const code = await runCli(args, (line) => out.push(line));
    return { code, text: out.join('\n') };
  };

  it('imports a file, prints a summary by kind and exits 0 when no line failed', async () => {
    const file = path.join(dir, 'good.ndjson');
    const lines = [...generateLines({ members: 5, seed: 9 })];
    writeFileSync(file, lines.join('\n') + '\n');
    const { code, text } = await run(['import', 'CLI', file]);
    expect(text).toContain(`${lines.length} lines`);
    expect(text).toMatch(/imported: \d+ \(channel 4, level 4, .*member 5, transaction \d+/);
    expect(text).toContain('failed: 0');
    expect(code).toBe(0);
  });

  it('prints the failed lines with their numbers and exits 1', async () => {
    const file = path.join(dir, 'bad.ndjson');
    writeFileSync(
      file,
      [
        JSON.stringify({ kind: 'channel', id: CHANNEL_WEB, name: 'Web' }),
        'nonsense',
        JSON.stringify({ kind: 'transaction', transactionId: tx(40), customerId: member(7), documentType: 'sell', purchasedAt: '2026-01-01T00:00:00Z', grossValue: 1 }),
      ].join('\n'),
    );
    const { code, text } = await run(['import', 'CLI', file]);
    expect(text).toContain('3 lines');
    expect(text).toContain('imported: 1 (channel 1)');
    expect(text).toContain('failed: 2');
    expect(text).toContain('line 2: not valid JSON');
    expect(text).toContain(`line 3: customerId: unknown member ${member(7)}`);
    expect(code).toBe(1);
  });

  it('refuses an unknown store and shows the usage without a file', async () => {
    const file = path.join(dir, 'good.ndjson');
    expect(await run(['import', 'NOPE', file])).toEqual({ code: 1, text: 'Store NOPE not found.' });
    const usage = await run(['import', 'CLI']);
    expect(usage.code).toBe(2);
    expect(usage.text).toContain('import <storeCode> <file.ndjson>');
  });

  it('recalculate recalculates an active segment now and prints the result', async () => {
    // A segment made through the service on the same data dir (the CLI's own database).
    const { loadConfig } = await import('../src/config.ts');
    const { openDatabase } = await import('../src/db/database.ts');
    const { createServices } = await import('../src/services/index.ts');
    const database = await openDatabase({ dataDir: process.env.DATA_DIR });
    const services = createServices(database.prisma, loadConfig());
    const store = await services.stores.getByCode('CLI');
    const active = await services.segments.create(store, { name: 'Everyone female', active: true, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] });
    const inactive = await services.segments.create(store, { name: 'Draft' });
    const expected = await database.prisma.member.count({ where: { storeId: store.id, active: true, gender: 'female' } });
    await database.close();
    const done = await run(['recalculate', 'CLI', active.id]);
    expect(done.code).toBe(0);
    expect(done.text).toContain(`Recalculated Everyone female: ${expected} members (+${expected}, -0)`);
    expect((await run(['recalculate', 'CLI', inactive.id])).code).toBe(1);
    expect(await run(['recalculate', 'CLI', '00000000-0000-4000-8000-000000000000'])).toEqual({ code: 1, text: 'Segment 00000000-0000-4000-8000-000000000000 not found.' });
  });
});
