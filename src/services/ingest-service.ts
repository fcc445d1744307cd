import { hashPassword } from '../auth/passwords.ts';
import { Prisma, type PrismaClient, type Store } from '../generated/prisma/client.ts';
import { parseRecord, type IngestKind, type IngestRecord, type RecordOf } from '../ingest/records.ts';

export interface ImportError {
  line: number;
  reason: string;
}

export interface ImportSummary {
  lines: number;
  imported: number;
  failed: number;
  byKind: Partial<Record<IngestKind, number>>;
  /** The first MAX_REPORTED_ERRORS errors; `failed` counts them all. */
  errors: ImportError[];
  /** Members whose data changed: their segments may need recalculating. */
  touchedMemberIds: Set<string>;
}

interface Numbered<R extends IngestRecord = IngestRecord> {
  line: number;
  record: R;
}

export const MAX_REPORTED_ERRORS = 1000;
const BATCH_SIZE = 2000;

type Tx = Prisma.TransactionClient;
type Column = { name: string; type: string };

/**
 * Bulk upsert through `unnest` of one array parameter per column: one statement per batch
 * and table. Rows whose id exists in another store are not touched (and not returned).
 * Table and column names come from this file, never from input.
 */
async function upsertRows(
  tx: Tx,
  table: string,
  columns: Column[],
  rows: unknown[][],
  options: { key?: string[]; storeGuard?: boolean; returning?: string } = {},
): Promise<string[]> {
  if (!rows.length) return [];
  const key = options.key ?? ['id'];
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const unnest = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const updates = columns
    .filter((c) => !key.includes(c.name))
    .map((c) => `"${c.name}" = EXCLUDED."${c.name}"`)
    .join(', ');
  const conflict = updates
    ? `DO UPDATE SET ${updates}${options.storeGuard === false ? '' : ` WHERE "${table}"."storeId" = EXCLUDED."storeId"`}`
    : 'DO NOTHING';
  const returning = options.returning ?? key[0];
  const sql = `INSERT INTO "${table}" (${names}) SELECT * FROM unnest(${unnest})
    ON CONFLICT (${key.map((k) => `"${k}"`).join(', ')}) ${conflict} RETURNING "${returning}"::text AS id`;
  const params = columns.map((_, i) => rows.map((row) => row[i]));
  const result = await tx.$queryRawUnsafe<{ id: string }[]>(sql, ...params);
  return result.map((row) => row.id);
}

const norm = (value: string | null | undefined) => (value == null ? null : value.trim().toLowerCase());
const iso = (date: Date | undefined | null) => (date ? date.toISOString() : null);

/** Keeps the last record for each id: a later line wins, as if the file were applied in order. */
function lastById<R extends IngestRecord>(items: Numbered<R>[], id: (record: R) => string): Numbered<R>[] {
  const byId = new Map<string, Numbered<R>>();
  for (const item of items) {
    byId.delete(id(item.record));
    byId.set(id(item.record), item);
  }
  return [...byId.values()];
}

const ACTIVITY_TABLES = {
  customEvent: 'CustomEvent',
  campaignCompletion: 'CampaignCompletion',
  achievementCompletion: 'AchievementCompletion',
  achievementProgress: 'AchievementProgress',
  challengeCompletion: 'ChallengeCompletion',
  challengeProgress: 'MilestoneProgress',
} as const;

/**
 * Imports member and activity data. Records are validated one by one (a bad line is reported
 * with its number and reason and the others are still imported), written in batches with bulk
 * upserts, and the per-member aggregates that criteria read are recomputed for the members a
 * batch touched.
 */
export class IngestService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Imports NDJSON lines as they stream in: memory stays flat whatever the file size. */
  async importLines(
    store: Store,
    lines: AsyncIterable<string>,
    onProgress?: (summary: ImportSummary) => void,
  ): Promise<ImportSummary> {
    const summary = emptySummary();
    let batch: Numbered[] = [];
    for await (const text of lines) {
      const line = ++summary.lines;
      if (!text.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        this.fail(summary, line, 'not valid JSON');
        continue;
      }
      const parsed = parseRecord(raw);
      if ('error' in parsed) {
        this.fail(summary, line, parsed.error);
        continue;
      }
      batch.push({ line, record: parsed.record });
      if (batch.length >= BATCH_SIZE) {
        await this.flush(store, batch, summary);
        batch = [];
        onProgress?.(summary);
      }
    }
    if (batch.length) await this.flush(store, batch, summary);
    onProgress?.(summary);
    return summary;
  }

  /** Imports already-parsed records (line numbers are their positions, from 1). */
  async importRecords(store: Store, records: unknown[]): Promise<ImportSummary> {
    return this.importLines(store, toLines(records));
  }

  private fail(summary: ImportSummary, line: number, reason: string) {
    summary.failed++;
    if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ line, reason });
  }

  private async flush(store: Store, batch: Numbered[], summary: ImportSummary) {
    const byKind = new Map<IngestKind, Numbered[]>();
    for (const item of batch) {
      const list = byKind.get(item.record.kind) ?? [];
      list.push(item);
      byKind.set(item.record.kind, list);
    }
    const of = <K extends IngestKind>(kind: K) => (byKind.get(kind) ?? []) as Numbered<RecordOf<K>>[];
    // Reference data first, then members, then what refers to members.
    for (const kind of ['channel', 'level', 'tierSet', 'tier', 'campaign', 'reward', 'achievement', 'challenge'] as const)
      await this.guarded(of(kind), summary, (items) => this.writeReference(store, kind, items));
    await this.guarded(of('member'), summary, (items) => this.writeMembers(store, items, summary));
    const known = await this.knownMembers(store, batch);
    const withMember = <R extends IngestRecord & { customerId: string | null }>(items: Numbered<R>[]) =>
      items.filter((item) => {
        if (item.record.customerId === null || known.has(item.record.customerId)) return true;
        this.fail(summary, item.line, `customerId: unknown member ${item.record.customerId}`);
        return false;
      });
    await this.guarded(withMember(of('transaction')), summary, (items) => this.writeTransactions(store, items, summary));
    for (const kind of Object.keys(ACTIVITY_TABLES) as (keyof typeof ACTIVITY_TABLES)[])
      await this.guarded(withMember(of(kind)), summary, (items) => this.writeActivity(store, kind, items, summary));
  }

  /**
   * Runs a batch writer in one transaction. If the database refuses the batch, the records are
   * retried one at a time so that only the offending lines fail, each with the database's reason.
   * The writer returns the lines it could not write (e.g. an id owned by another store).
   */
  private async guarded<R extends IngestRecord>(
    items: Numbered<R>[],
    summary: ImportSummary,
    write: (items: Numbered<R>[]) => Promise<Map<number, string>>,
  ) {
    if (!items.length) return;
    const record = (rejected: Map<number, string>, written: Numbered<R>[]) => {
      for (const item of written) {
        const reason = rejected.get(item.line);
        if (reason) this.fail(summary, item.line, reason);
        else {
          summary.imported++;
          summary.byKind[item.record.kind] = (summary.byKind[item.record.kind] ?? 0) + 1;
        }
      }
    };
    try {
      record(await write(items), items);
    } catch (error) {
      if (items.length === 1) {
        this.fail(summary, items[0].line, `rejected by the database: ${databaseReason(error)}`);
        return;
      }
      for (const item of items) await this.guarded([item], summary, write);
    }
  }

  private async knownMembers(store: Store, batch: Numbered[]): Promise<Set<string>> {
    const ids = [
      ...new Set(
        batch.flatMap(({ record }) => ('customerId' in record && record.customerId && record.kind !== 'member' ? [record.customerId] : [])),
      ),
    ];
    if (!ids.length) return new Set();
    const rows = await this.prisma.member.findMany({ where: { storeId: store.id, id: { in: ids } }, select: { id: true } });
    return new Set(rows.map((row) => row.id));
  }

  private async writeReference(
    store: Store,
    kind: 'channel' | 'level' | 'tierSet' | 'tier' | 'campaign' | 'reward' | 'achievement' | 'challenge',
    items: Numbered<RecordOf<typeof kind>>[],
  ): Promise<Map<number, string>> {
    const latest = lastById(items, (record) => record.id);
    const table = { channel: 'Channel', level: 'Level', tierSet: 'TierSet', tier: 'Tier', campaign: 'Campaign', reward: 'Reward', achievement: 'Achievement', challenge: 'Challenge' }[kind];
    const base: Column[] = [
      { name: 'id', type: 'uuid' },
      { name: 'storeId', type: 'uuid' },
      { name: 'name', type: 'text' },
    ];
    let columns = base;
    let rows: unknown[][] = [];
    const rec = (item: Numbered) => item.record as Record<string, unknown> & { id: string; name: string };
    const arrayJson = (value: unknown) => JSON.stringify(value ?? []);
    switch (kind) {
      case 'channel':
      case 'level':
      case 'tierSet':
        rows = latest.map((item) => [rec(item).id, store.id, rec(item).name]);
        break;
      case 'tier':
        columns = [...base, { name: 'tierSetId', type: 'uuid' }];
        rows = latest.map((item) => [rec(item).id, store.id, rec(item).name, rec(item).tierSetId ?? null]);
        break;
      case 'campaign':
      case 'reward':
      case 'achievement':
      case 'challenge': {
        // Arrays of ids travel as JSON text: unnest would flatten a two-dimensional array.
        const lists = kind === 'achievement' ? ['segmentIds', 'ruleIds'] : kind === 'challenge' ? ['milestoneIds'] : ['segmentIds'];
        columns = [...base, { name: 'active', type: 'boolean' }, ...(kind === 'challenge' ? [] : [{ name: 'attributes', type: 'jsonb' }])];
        rows = latest.map((item) => {
          const r = rec(item);
          return [r.id, store.id, r.name, r.active, ...(kind === 'challenge' ? [] : [JSON.stringify(r.attributes ?? {})])];
        });
        const written = await this.prisma.$transaction(async (tx) => {
          const ids = await upsertRows(tx, table, columns, rows);
          for (const list of lists) {
            await tx.$executeRawUnsafe(
              `UPDATE "${table}" t SET "${list}" = ARRAY(SELECT jsonb_array_elements_text(v.list::jsonb))::uuid[]
               FROM unnest($1::uuid[], $2::text[]) AS v(id, list) WHERE t.id = v.id AND t."storeId" = $3::uuid`,
              latest.map((item) => rec(item).id),
              latest.map((item) => arrayJson(rec(item)[list])),
              store.id,
            );
          }
          return ids;
        });
        return rejectedElsewhere(items, written, (record) => (record as { id: string }).id);
      }
    }
    const written = await this.prisma.$transaction((tx) => upsertRows(tx, table, columns, rows));
    return rejectedElsewhere(items, written, (record) => (record as { id: string }).id);
  }

  private async writeMembers(store: Store, items: Numbered<RecordOf<'member'>>[], summary: ImportSummary) {
    const rejected = new Map<number, string>();
    const latest = lastById(items, (record) => record.customerId);
    // Email and loyalty card number are unique per store: refuse lines that would take another
    // member's, instead of letting the database fail the whole batch.
    const conflicts = await this.prisma.member.findMany({
      where: {
        storeId: store.id,
        OR: [
          { email: { in: latest.flatMap((i) => (i.record.email ? [i.record.email] : [])) } },
          { loyaltyCardNumber: { in: latest.flatMap((i) => (i.record.loyaltyCardNumber ? [i.record.loyaltyCardNumber] : [])) } },
        ],
      },
      select: { id: true, email: true, loyaltyCardNumber: true },
    });
    const emailOwner = new Map(conflicts.filter((c) => c.email).map((c) => [c.email!, c.id]));
    const cardOwner = new Map(conflicts.filter((c) => c.loyaltyCardNumber).map((c) => [c.loyaltyCardNumber!, c.id]));
    const accepted = latest.filter(({ line, record }) => {
      const emailTaken = record.email && (emailOwner.get(record.email) ?? record.customerId) !== record.customerId;
      const cardTaken =
        record.loyaltyCardNumber && (cardOwner.get(record.loyaltyCardNumber) ?? record.customerId) !== record.customerId;
      if (emailTaken) rejected.set(line, `email: ${record.email} belongs to another member`);
      else if (cardTaken) rejected.set(line, `loyaltyCardNumber: ${record.loyaltyCardNumber} belongs to another member`);
      else {
        if (record.email) emailOwner.set(record.email, record.customerId);
        if (record.loyaltyCardNumber) cardOwner.set(record.loyaltyCardNumber, record.customerId);
        return true;
      }
      return false;
    });
    const passwords = await Promise.all(accepted.map(({ record }) => (record.password ? hashPassword(record.password) : null)));
    const now = new Date();
    const columns: Column[] = [
      ['id', 'uuid'], ['storeId', 'uuid'], ['active', 'boolean'], ['firstName', 'text'], ['lastName', 'text'],
      ['email', 'text'], ['phone', 'text'], ['gender', 'text'], ['birthDate', 'date'], ['createdAt', 'timestamptz'],
      ['registeredAt', 'timestamptz'], ['city', 'text'], ['province', 'text'], ['country', 'text'], ['postal', 'text'],
      ['loyaltyCardNumber', 'text'], ['levelId', 'uuid'], ['labels', 'jsonb'], ['customFields', 'jsonb'], ['passwordHash', 'text'],
    ].map(([name, type]) => ({ name, type }));
    const rows = accepted.map(({ record: m }, index) => {
      const createdAt = m.createdAt ?? now;
      return [
        m.customerId, store.id, m.active, m.firstName ?? null, m.lastName ?? null, m.email ?? null, m.phone ?? null,
        m.gender ?? null, m.birthDate ?? null, iso(createdAt), iso(m.registeredAt ?? createdAt), m.address?.city ?? null,
        m.address?.province ?? null, m.address?.country ?? null, m.address?.postal ?? null, m.loyaltyCardNumber ?? null,
        m.levelId ?? null, JSON.stringify(m.labels), JSON.stringify(m.customFields), passwords[index],
      ];
    });
    const written = await this.prisma.$transaction(async (tx) => {
      const ids = await upsertRows(tx, 'Member', columns, rows);
      // A re-imported member without a password keeps the one it has.
      await this.replaceChildren(tx, ids, accepted.filter(({ record }) => ids.includes(record.customerId)).map(({ record }) => record));
      return ids;
    });
    for (const id of written) summary.touchedMemberIds.add(id);
    for (const [line, reason] of rejectedElsewhere(accepted, written, (record) => record.customerId)) rejected.set(line, reason);
    // Lines superseded by a later line for the same member count as imported.
    return rejected;
  }

  /** Tiers, labels and custom fields of upserted members are replaced by the imported ones. */
  private async replaceChildren(tx: Tx, ids: string[], members: RecordOf<'member'>[]) {
    if (!ids.length) return;
    for (const table of ['MemberTier', 'MemberLabel', 'MemberCustomField'])
      await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "memberId" = ANY($1::uuid[])`, ids);
    const tiers = members.flatMap((m) => [...new Set(m.tierIds)].map((tierId) => [m.customerId, tierId]));
    const labels = uniqueRows(members.flatMap((m) => m.labels.map((l) => [m.customerId, norm(l.key), norm(l.value)])));
    const fields = uniqueRows(
      members.flatMap((m) => Object.entries(m.customFields).map(([key, value]) => [m.customerId, norm(key), norm(value)])),
      2,
    );
    await upsertRows(tx, 'MemberTier', [{ name: 'memberId', type: 'uuid' }, { name: 'tierId', type: 'uuid' }], tiers, {
      key: ['memberId', 'tierId'],
      storeGuard: false,
    });
    const kv: Column[] = [{ name: 'memberId', type: 'uuid' }, { name: 'key', type: 'text' }, { name: 'value', type: 'text' }];
    await upsertRows(tx, 'MemberLabel', kv, labels, { key: ['memberId', 'key', 'value'], storeGuard: false });
    await upsertRows(tx, 'MemberCustomField', kv, fields, { key: ['memberId', 'key'], storeGuard: false });
  }

  private async writeTransactions(store: Store, items: Numbered<RecordOf<'transaction'>>[], summary: ImportSummary) {
    const latest = lastById(items, (record) => record.transactionId);
    const ids = latest.map(({ record }) => record.transactionId);
    const written = await this.prisma.$transaction(async (tx) => {
      // Members whose transactions move away need their aggregates recomputed too.
      const previous = await tx.$queryRawUnsafe<{ customerId: string | null }[]>(
        `SELECT "customerId"::text FROM "Transaction" WHERE id = ANY($1::uuid[]) AND "storeId" = $2::uuid`,
        ids,
        store.id,
      );
      const columns: Column[] = [
        ['id', 'uuid'], ['storeId', 'uuid'], ['customerId', 'uuid'], ['documentType', 'text'],
        ['purchasedAt', 'timestamptz'], ['channelId', 'uuid'], ['grossValue', 'numeric'],
      ].map(([name, type]) => ({ name, type }));
      const rows = latest.map(({ record: t }) => [
        t.transactionId, store.id, t.customerId, t.documentType, iso(t.purchasedAt), t.channelId ?? null, t.grossValue.toFixed(2),
      ]);
      const done = await upsertRows(tx, 'Transaction', columns, rows);
      const doneSet = new Set(done);
      const mine = latest.filter(({ record }) => doneSet.has(record.transactionId));
      await tx.$executeRawUnsafe(`DELETE FROM "TransactionItem" WHERE "transactionId" = ANY($1::uuid[])`, done);
      await tx.$executeRawUnsafe(`DELETE FROM "TransactionItemLabel" WHERE "transactionId" = ANY($1::uuid[])`, done);
      const itemRows = mine.flatMap(({ record: t }) =>
        t.items.map((item, position) => [
          t.transactionId, position, item.sku ?? null, item.name ?? null, String(item.quantity), item.grossValue.toFixed(2),
          item.maker ?? null, JSON.stringify(item.labels), norm(item.sku), norm(item.maker),
        ]),
      );
      const itemColumns: Column[] = [
        ['transactionId', 'uuid'], ['position', 'int'], ['sku', 'text'], ['name', 'text'], ['quantity', 'numeric'],
        ['grossValue', 'numeric'], ['maker', 'text'], ['labels', 'jsonb'], ['skuNorm', 'text'], ['makerNorm', 'text'],
      ].map(([name, type]) => ({ name, type }));
      await upsertRows(tx, 'TransactionItem', itemColumns, itemRows, { key: ['transactionId', 'position'], storeGuard: false });
      const labelRows = uniqueRows(
        mine.flatMap(({ record: t }) =>
          t.items.flatMap((item, position) => item.labels.map((l) => [t.transactionId, position, norm(l.key), norm(l.value)])),
        ),
      );
      await upsertRows(
        tx,
        'TransactionItemLabel',
        [{ name: 'transactionId', type: 'uuid' }, { name: 'position', type: 'int' }, { name: 'key', type: 'text' }, { name: 'value', type: 'text' }],
        labelRows,
        { key: ['transactionId', 'position', 'key', 'value'], storeGuard: false },
      );
      const affected = [
        ...new Set([
          ...previous.flatMap((row) => (row.customerId ? [row.customerId] : [])),
          ...mine.flatMap(({ record }) => (record.customerId ? [record.customerId] : [])),
        ]),
      ];
      await recomputeAggregates(tx, store, affected);
      for (const id of affected) summary.touchedMemberIds.add(id);
      return done;
    });
    return rejectedElsewhere(items, written, (record) => record.transactionId);
  }

  private async writeActivity(
    store: Store,
    kind: keyof typeof ACTIVITY_TABLES,
    items: Numbered<RecordOf<keyof typeof ACTIVITY_TABLES>>[],
    summary: ImportSummary,
  ) {
    const latest = lastById(items, (record) => record.id);
    const table = ACTIVITY_TABLES[kind];
    const common: Column[] = [{ name: 'id', type: 'uuid' }, { name: 'storeId', type: 'uuid' }, { name: 'customerId', type: 'uuid' }];
    const specific: Record<typeof kind, [string, string, (r: any) => unknown][]> = {
      customEvent: [['type', 'text', (r) => norm(r.type)], ['eventDate', 'timestamptz', (r) => iso(r.eventDate)]],
      campaignCompletion: [['campaignId', 'uuid', (r) => r.campaignId], ['completedAt', 'timestamptz', (r) => iso(r.completedAt)]],
      achievementCompletion: [['achievementId', 'uuid', (r) => r.achievementId], ['completedAt', 'timestamptz', (r) => iso(r.completedAt)]],
      achievementProgress: [
        ['achievementId', 'uuid', (r) => r.achievementId], ['ruleId', 'uuid', (r) => r.ruleId],
        ['value', 'numeric', (r) => String(r.value)], ['recordedAt', 'timestamptz', (r) => iso(r.recordedAt)],
      ],
      challengeCompletion: [['challengeId', 'uuid', (r) => r.challengeId], ['completedAt', 'timestamptz', (r) => iso(r.completedAt)]],
      challengeProgress: [
        ['challengeId', 'uuid', (r) => r.challengeId], ['milestoneId', 'uuid', (r) => r.milestoneId],
        ['value', 'numeric', (r) => String(r.value)], ['recordedAt', 'timestamptz', (r) => iso(r.recordedAt)],
      ],
    };
    const columns = [...common, ...specific[kind].map(([name, type]) => ({ name, type }))];
    const rows = latest.map(({ record }) => [record.id, store.id, record.customerId, ...specific[kind].map(([, , read]) => read(record))]);
    const written = await this.prisma.$transaction((tx) => upsertRows(tx, table, columns, rows));
    for (const { record } of latest) summary.touchedMemberIds.add(record.customerId);
    return rejectedElsewhere(items, written, (record) => record.id);
  }
}

/**
 * Recomputes MemberStats, MemberChannelStats and MemberDailyAmount of the given members from
 * their transactions. Bounded by those members' histories; never scans the whole table.
 */
export async function recomputeAggregates(tx: Tx, store: Store, memberIds: string[]) {
  if (!memberIds.length) return;
  for (const table of ['MemberStats', 'MemberChannelStats', 'MemberDailyAmount'])
    await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE "memberId" = ANY($1::uuid[])`, memberIds);
  await tx.$executeRawUnsafe(
    `INSERT INTO "MemberStats" ("memberId", "storeId", "purchaseCount", "sellAmount", "returnAmount", "lastPurchaseAt")
     SELECT t."customerId", t."storeId",
            count(*) FILTER (WHERE t."documentType" = 'sell'),
            COALESCE(sum(t."grossValue") FILTER (WHERE t."documentType" = 'sell'), 0),
            COALESCE(sum(t."grossValue") FILTER (WHERE t."documentType" = 'return'), 0),
            max(t."purchasedAt") FILTER (WHERE t."documentType" = 'sell')
     FROM "Transaction" t WHERE t."customerId" = ANY($1::uuid[]) GROUP BY t."customerId", t."storeId"`,
    memberIds,
  );
  await tx.$executeRawUnsafe(
    `INSERT INTO "MemberChannelStats" ("memberId", "channelId", "purchaseCount")
     SELECT t."customerId", t."channelId", count(*) FROM "Transaction" t
     WHERE t."customerId" = ANY($1::uuid[]) AND t."documentType" = 'sell' AND t."channelId" IS NOT NULL
     GROUP BY t."customerId", t."channelId"`,
    memberIds,
  );
  await tx.$executeRawUnsafe(
    `INSERT INTO "MemberDailyAmount" ("memberId", "day", "amount")
     SELECT t."customerId", (t."purchasedAt" AT TIME ZONE $2)::date,
            sum(CASE WHEN t."documentType" = 'sell' THEN t."grossValue" ELSE -t."grossValue" END)
     FROM "Transaction" t WHERE t."customerId" = ANY($1::uuid[]) GROUP BY 1, 2`,
    memberIds,
    store.timezone,
  );
}

function emptySummary(): ImportSummary {
  return { lines: 0, imported: 0, failed: 0, byKind: {}, errors: [], touchedMemberIds: new Set() };
}

function uniqueRows(rows: unknown[][], keyLength = rows[0]?.length ?? 0): unknown[][] {
  const seen = new Map<string, unknown[]>();
  for (const row of rows) seen.set(JSON.stringify(row.slice(0, keyLength)), row);
  return [...seen.values()];
}

/** Lines whose id was not written because it belongs to another store. */
function rejectedElsewhere<R extends IngestRecord>(items: Numbered<R>[], written: string[], id: (record: R) => string) {
  const done = new Set(written);
  const rejected = new Map<number, string>();
  for (const item of items)
    if (!done.has(id(item.record))) rejected.set(item.line, `id ${id(item.record)} belongs to another store`);
  return rejected;
}

function databaseReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 300) ?? 'unknown error';
}

async function* toLines(records: unknown[]): AsyncIterable<string> {
  for (const record of records) yield JSON.stringify(record);
}
