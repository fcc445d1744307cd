import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { hashPassword } from '../auth/passwords.ts';
import { postgresUrlOf } from '../db/database.ts';
import { advisoryLockSql, type LockMode } from '../db/locks.ts';
import { Prisma, type PrismaClient, type Store } from '../generated/prisma/client.ts';
import { itemsTextOf, parseRecord, type IngestKind, type IngestRecord, type RecordOf } from '../ingest/records.ts';
import { CONTRIBUTION_COPY_COLUMNS, copyStreamOf, itemFacts, TRANSACTION_COPY_COLUMNS, TransactionCopyRows } from '../ingest/transaction-copy.ts';

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

/**
 * A transaction as a batch holds it: already in the form its statement sends (validated records
 * with their item objects are 3-5 times larger; held across a batch they all reach V8's old
 * generation, which then grows to hundreds of MB between collections).
 */
interface EncodedTransaction {
  kind: 'transaction';
  transactionId: string;
  customerId: string | null;
  /**
   * Through Prisma: documentType, purchasedAt, channelId, grossValue, skus, makers, itemLabels
   * (array literals), items (JSON). On PostgreSQL: instead, the whole row (the columns of
   * Transaction, as the staging table has them too) as a binary COPY row, held outside V8's
   * heap (see TransactionCopyRows).
   */
  columns?: (string | null)[];
  row?: Buffer;
  /** On PostgreSQL: what it adds to its member's aggregates, as a binary COPY row (see copyNewTransactions). */
  contribution?: Buffer;
}

/** What a batch holds: records as validated, transactions encoded. */
type Pending = Exclude<IngestRecord, { kind: 'transaction' }> | EncodedTransaction;
type PendingOf<K extends IngestKind> = Extract<Pending, { kind: K }>;

/** `line`: the NDJSON line the record was read from. */
function encodeTransaction(t: RecordOf<'transaction'>, line: string, copy: { storeId: string; rows: TransactionCopyRows } | undefined): EncodedTransaction {
  if (copy) {
    const { row, contribution } = copy.rows.add(t, copy.storeId, itemsTextOf(line, t));
    return { kind: 'transaction', transactionId: t.transactionId, customerId: t.customerId, row, contribution };
  }
  const facts = itemFacts(t.items);
  return {
    kind: 'transaction',
    transactionId: t.transactionId,
    customerId: t.customerId,
    columns: [
      t.documentType, t.purchasedAt.toISOString(), t.channelId ?? null, t.grossValue.toFixed(2),
      bindArray(facts.skus) as string, bindArray(facts.makers) as string, bindArray(facts.itemLabels) as string, JSON.stringify(t.items),
    ],
  };
}

interface Numbered<R extends Pending = Pending> {
  line: number;
  record: R;
}

/** Lines read since the last write: valid records, and the lines that failed validation. */
interface Batch {
  records: Numbered[];
  errors: ImportError[];
}

const emptyBatch = (): Batch => ({ records: [], errors: [] });

/** What an import has learnt so far, that its later batches act on. */
interface ImportContext {
  members: KnownMembers;
  /** The last batch of transactions held some stored already (a file imported again): the next look theirs up first. */
  reimporting: boolean;
}

/** How many member ids an import remembers as stored (about 100 bytes each). */
const KNOWN_MEMBERS_HELD = 200_000;

/**
 * Ids of the store's members that an import wrote or found stored, so that the records referring
 * to them are not checked again batch after batch (feeds come grouped by member, or members
 * first). Bounded: when full it starts over, and the next batches look their members up again.
 * Members are never deleted by an import, so an id once seen stays valid for its duration.
 */
class KnownMembers {
  private ids = new Set<string>();
  has(id: string) {
    return this.ids.has(id);
  }
  add(id: string) {
    if (this.ids.size >= KNOWN_MEMBERS_HELD) this.ids = new Set();
    this.ids.add(id);
  }
}

export const MAX_REPORTED_ERRORS = 1000;
/**
 * An import refreshes the planner statistics of a table it changed by at least this many rows
 * and at least STALE_FRACTION of the table: autovacuum's rule for ANALYZE, applied at once.
 */
const ANALYZE_AFTER = 1000;
const STALE_FRACTION = 0.1;
/** PostgreSQL's SQLSTATE for a duplicate key. */
const UNIQUE_VIOLATION = '23505';
/** Fewer transactions than this are looked up before they are tried as new (see writeTransactions). */
const LOOKED_UP_BELOW = 100;
/**
 * Valid records per write: large enough that per-statement and per-round-trip costs vanish and
 * that a batch's new transactions share their members' aggregate rows, small enough for flat
 * memory (a batch of transactions holds about 1 KB a record; at most four exist at a time).
 */
const BATCH_SIZE = 5000;
/** Batches written at once, at most (side by side when they can be, see importLines). */
const WRITTEN_AT_ONCE = 3;
/** Through Prisma (PGlite) array parameters pass its query compiler, whose memory grows with them. */
const PRISMA_BATCH_SIZE = 2000;

type Tx = Prisma.TransactionClient;

/**
 * Interactive transactions of one batch: Prisma's default 5 s timeout is too short for a large
 * batch on a busy server (it would abort and split the batch instead of finishing it).
 */
const TRANSACTION = { maxWait: 60_000, timeout: 600_000 };
type Column = { name: string; type: string };

/**
 * Bulk upsert through `unnest` of one array parameter per column, keyed by id: one statement per
 * batch and table. A row stored already is rewritten only when something changed (an unchanged
 * row is not even locked, as ON CONFLICT DO UPDATE would); a row whose id exists in another store
 * is not touched. Answers the ids that are this store's now (written or unchanged), not those of
 * another store's. Table and column names come from this file, never from input.
 */
async function upsertRows(tx: Exec, table: string, columns: Column[], rows: unknown[][]): Promise<string[]> {
  if (!rows.length) return [];
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const others = columns.filter((c) => c.name !== 'id' && c.name !== 'storeId').map((c) => `"${c.name}"`);
  const unnest = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const sql = `
    WITH input AS MATERIALIZED (SELECT * FROM unnest(${unnest}) AS i(${names})),
    ours AS MATERIALIZED (
      SELECT i.id, (${others.map((c) => `t.${c}`).join(', ')}) IS NOT DISTINCT FROM (${others.map((c) => `i.${c}`).join(', ')}) AS same
      FROM input i JOIN "${table}" t ON t.id = i.id AND t."storeId" = i."storeId"),
    written AS (
      INSERT INTO "${table}" AS t (${names}) SELECT * FROM input i WHERE i.id NOT IN (SELECT id FROM ours WHERE same)
      ON CONFLICT (id) DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')} WHERE t."storeId" = EXCLUDED."storeId"
      RETURNING t.id)
    -- (IN: hashed subplans, whatever the planner guesses of the CTEs' sizes.)
    SELECT i.id::text AS id FROM input i WHERE i.id IN (SELECT id FROM ours) OR i.id IN (SELECT id FROM written)`;
  const params = columns.map((_, i) => rows.map((row) => row[i]));
  const result = await tx.query<{ id: string }>(sql, params);
  return result.map((row) => row.id);
}

/**
 * Members by `unnest` of one array parameter per column. A member already stored is rewritten
 * only when something changed (and not locked otherwise), and keeps what the line does not give:
 * its password, creation and registration dates (a new member is created and registered now
 * unless the line says when). A member of another store is not touched. Answers every input id,
 * with whether it is another store's.
 */
const MEMBER_FIELDS = [
  'active', 'firstName', 'lastName', 'email', 'phone', 'gender', 'birthDate', 'createdAt', 'registeredAt',
  'city', 'province', 'country', 'postal', 'loyaltyCardNumber', 'levelId', 'labels', 'customFields', 'passwordHash',
];
const quoted = (names: string[]) => names.map((name) => `"${name}"`).join(', ');
const UPSERT_MEMBERS = `
  WITH input AS MATERIALIZED (
    SELECT * FROM unnest($3::uuid[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::date[],
                         $11::timestamptz[], $12::timestamptz[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
                         $18::uuid[], $19::jsonb[], $20::jsonb[], $21::text[])
      AS i(id, ${quoted(MEMBER_FIELDS)})),
  -- Each member as it will be, beside its stored row when this store has it.
  resolved AS MATERIALIZED (
    SELECT i.id, e.id IS NOT NULL AS ours,
           i.active, i."firstName", i."lastName", i.email, i.phone, i.gender, i."birthDate",
           COALESCE(i."createdAt", e."createdAt", $2::timestamptz) AS "createdAt",
           COALESCE(i."registeredAt", e."registeredAt", i."createdAt", $2::timestamptz) AS "registeredAt",
           i.city, i.province, i.country, i.postal, i."loyaltyCardNumber", i."levelId", i.labels, i."customFields",
           COALESCE(i."passwordHash", e."passwordHash") AS "passwordHash",
           ${MEMBER_FIELDS.map((name) => `e."${name}" AS "stored ${name}"`).join(', ')}
    FROM input i LEFT JOIN "Member" e ON e.id = i.id AND e."storeId" = $1::uuid),
  written AS (
    INSERT INTO "Member" AS m (id, "storeId", ${quoted(MEMBER_FIELDS)})
    SELECT id, $1::uuid, ${quoted(MEMBER_FIELDS)} FROM resolved
    WHERE NOT (ours AND (${quoted(MEMBER_FIELDS.map((name) => `stored ${name}`))}) IS NOT DISTINCT FROM (${quoted(MEMBER_FIELDS)}))
    ON CONFLICT (id) DO UPDATE SET ${MEMBER_FIELDS.map((name) => `"${name}" = EXCLUDED."${name}"`).join(', ')}
    WHERE m."storeId" = EXCLUDED."storeId"
    RETURNING m.id)
  -- Neither this store's already nor written: another store's (perhaps inserted meanwhile).
  -- (IN: a hashed subplan, whatever the planner guesses of the CTE's size.)
  SELECT id::text AS id, NOT (ours OR id IN (SELECT id FROM written)) AS foreign FROM resolved`;

/**
 * Makes the rows of `table` that belong to `memberIds` exactly `rows` (columns `columns`, unique
 * on `key`, none null): deletes the others, inserts the new ones, updates those whose other
 * columns changed, and leaves the rest alone, not even locked. Rows deleted and rows written never
 * share a key.
 */
async function syncRows(tx: Exec, table: string, columns: Column[], key: string[], memberIds: string[], rows: unknown[][]) {
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const others = columns.filter((c) => !key.includes(c.name)).map((c) => `"${c.name}"`);
  const conflict = others.length
    ? `DO UPDATE SET ${others.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
       WHERE (${others.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${others.map((c) => `EXCLUDED.${c}`).join(', ')})`
    : 'DO NOTHING';
  await execute(
    tx,
    `WITH wanted AS (SELECT * FROM unnest(${columns.map((c, i) => `$${i + 2}::${c.type}[]`).join(', ')}) AS w(${names})),
     removed AS (
       DELETE FROM "${table}" t WHERE t."memberId" = ANY($1::uuid[])
         AND NOT EXISTS (SELECT 1 FROM wanted w WHERE ${key.map((k) => `w."${k}" = t."${k}"`).join(' AND ')}))
     INSERT INTO "${table}" AS t (${names})
     SELECT * FROM wanted w
     WHERE NOT EXISTS (SELECT 1 FROM "${table}" t WHERE ${columns.map((c) => `t."${c.name}" = w."${c.name}"`).join(' AND ')})
     ON CONFLICT (${key.map((k) => `"${k}"`).join(', ')}) ${conflict}`,
    memberIds,
    ...columns.map((_, i) => rows.map((row) => row[i])),
  );
}

/**
 * Where the importer's statements go. Array parameters travel as PostgreSQL array literals
 * built here (`bindArray`): the drivers' own conversion of JS arrays costs several microseconds
 * an element, which dominated the importer's time in Node.
 */
interface Exec {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs `work` in one database transaction on one connection. */
  transaction<T>(work: (tx: Exec) => Promise<T>): Promise<T>;
  /** `COPY ... FROM STDIN` of the data, a whole stream (PostgreSQL only; within `transaction`). */
  copy?(sql: string, data: Buffer): Promise<void>;
}

/** Through Prisma: PGlite, or any adapter other than @prisma/adapter-pg. */
function prismaExec(db: Tx | PrismaClient): Exec {
  return {
    query: <T>(sql: string, params: unknown[] = []) => db.$queryRawUnsafe<T[]>(sql, ...params.map(bindArray)),
    transaction: (work) =>
      '$transaction' in db ? db.$transaction((tx) => work(prismaExec(tx)), TRANSACTION) : work(prismaExec(db)),
  };
}

/**
 * Straight to PostgreSQL through `pg`, beside Prisma's pool. Prisma 7 sends every raw query's
 * parameters through its query compiler (WebAssembly, whose memory only grows) and parses the
 * results row by row: with batches of several MB of parameters that cost the importer hundreds
 * of MB of RSS and much of its time. This pool holds at most WRITTEN_AT_ONCE + 1 connections
 * and lets them go when idle.
 */
function pgExec(pool: pg.Pool, client?: pg.PoolClient): Exec {
  return {
    copy: async (sql, data) => {
      if (!client) throw new Error('COPY runs within a transaction');
      const stream = client.query(copyFrom(sql));
      stream.end(data);
      await finished(stream);
    },
    query: async <T>(sql: string, params: unknown[] = []) =>
      (await (client ?? pool).query(sql, params.map(bindArray))).rows as T[],
    transaction: async (work) => {
      if (client) return work(pgExec(pool, client));
      const connection = await pool.connect();
      let broken: Error | undefined;
      try {
        await connection.query('BEGIN');
        const result = await work(pgExec(pool, connection));
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        connection.release(broken);
      }
    },
  };
}

function query<T>(db: Exec, sql: string, ...params: unknown[]): Promise<T> {
  return db.query(sql, params) as Promise<T>;
}

async function execute(db: Exec, sql: string, ...params: unknown[]): Promise<void> {
  await db.query(sql, params);
}


const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIALS = /["\\]/g;

/** `['a', null, 'b"c']` -> `{"a",NULL,"b\"c"}`: every element quoted, so any text is safe. */
function bindArray(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  let literal = '{';
  for (let i = 0; i < value.length; i++) {
    const element = value[i];
    if (i) literal += ',';
    if (element === null || element === undefined) literal += 'NULL';
    else {
      const text = String(element);
      literal += ARRAY_SPECIAL.test(text) ? `"${text.replace(ARRAY_SPECIALS, '\\$&')}"` : `"${text}"`;
    }
  }
  return literal + '}';
}

const norm = (value: string | null | undefined) => (value == null ? null : value.trim().toLowerCase());
const iso = (date: Date | undefined | null) => (date ? date.toISOString() : null);

/** Keeps the last record for each id: a later line wins, as if the file were applied in order. */
function lastById<R extends Pending>(items: Numbered<R>[], id: (record: R) => string): Numbered<R>[] {
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

/** The tables the criteria read that records of each kind write (reference data is looked up by id only). */
const TABLES_WRITTEN: Partial<Record<IngestKind, string[]>> = {
  member: ['Member', 'MemberLabel', 'MemberCustomField', 'MemberTier'],
  transaction: ['Transaction', 'MemberStats', 'MemberChannelStats', 'MemberDailyAmount'],
  ...Object.fromEntries(Object.entries(ACTIVITY_TABLES).map(([kind, table]) => [kind, [table]])),
};

/**
 * Imports member and activity data. Records are validated one by one (a bad line is reported
 * with its number and reason and the others are still imported), written in batches with bulk
 * upserts, and the per-member aggregates that criteria read are kept right for the members a
 * batch touched: new transactions are added to them, members whose transactions changed or
 * moved are recomputed from their transactions.
 */
export class IngestService {
  private readonly db: Exec;

  /**
   * On PostgreSQL (a client from openDatabase on a server, or `options.postgres`) the importer writes
   * through its own small `pg` pool; elsewhere (PGlite) through Prisma.
   */
  constructor(
    prisma: PrismaClient,
    options: { postgres?: pg.PoolConfig | false; /** Valid records per write (tests use small ones). */ batchSize?: number } = {},
  ) {
    const url = postgresUrlOf(prisma);
    const postgres = options.postgres === false ? undefined : (options.postgres ?? (url ? { connectionString: url } : undefined));
    if (postgres) {
      // Batches written side by side, and the member lookup of the next one.
      const pool = new pg.Pool({ ...postgres, max: WRITTEN_AT_ONCE + 1, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      // An idle connection ended by the server (restart, database dropped) is replaced on next use.
      pool.on('error', () => undefined);
      this.db = pgExec(pool);
    } else this.db = prismaExec(prisma);
    this.copy = Boolean(this.db.copy);
    this.batchSize = options.batchSize ?? (this.copy ? BATCH_SIZE : PRISMA_BATCH_SIZE);
  }

  /** Transactions travel by COPY through a staging table (PostgreSQL), else as array parameters. */
  private readonly copy: boolean;
  private readonly batchSize: number;

  /**
   * Imports NDJSON lines as they stream in: memory stays flat whatever the file size (batches
   * at most WRITTEN_AT_ONCE being written and the one being read). Reading and validating a batch
   * overlaps with writing the previous ones, so the database and Node work side by side; on
   * PostgreSQL, consecutive batches of transactions and activity are written on several connections at once
   * (three: measured at a million transactions on 2 cores, 46.8-48.0k tx/s against 45.3-46.4k
   * with two, and 44.8-45.8k with four).
   */
  async importLines(
    store: Store,
    lines: AsyncIterable<string>,
    onProgress?: (summary: ImportSummary) => void,
  ): Promise<ImportSummary> {
    const summary = emptySummary();
    const context: ImportContext = { members: new KnownMembers(), reimporting: false };
    const copy = this.copy ? { storeId: store.id, rows: new TransactionCopyRows() } : undefined;
    let batch = emptyBatch();
    /**
     * The batches being written (or waiting to be), oldest first, each with the ids of its records
     * when it holds nothing but transactions and activity. The next batch is read meanwhile.
     */
    const writing: { done: Promise<void>; ids: Set<string> | undefined }[] = [];
    const submit = async () => {
      const current = batch;
      batch = emptyBatch();
      const ids = this.copy ? sideBySideIdsOf(current) : undefined;
      while (writing.length >= WRITTEN_AT_ONCE) await writing.shift()!.done;
      const earlier = Promise.all(writing.map(({ done }) => done)).then(() => undefined);
      // A side-by-side batch awaits it only if it falls back to upserting; an earlier batch's
      // failure is reported by that batch's own `done`.
      earlier.catch(() => undefined);
      // On PostgreSQL a batch's transactions are first tried as new (COPY, then increments of
      // their members' aggregates, taken in one order); when one is stored already the batch's
      // transactions are upserted instead, alone (see lockAggregates) and after the batches before
      // it. Batches of nothing but transactions and activity (events, completions, progress),
      // without an id in common, are written side by side on as many connections, each kind in
      // one database transaction. Anything else waits for the batches before it (members are
      // committed before the records that refer to them).
      const sideBySide =
        ids !== undefined && writing.length > 0 && writing.every((other) => other.ids !== undefined && !sharesAny(ids, other.ids));
      const write = async () => {
        if (!sideBySide) await earlier;
        await this.flush(store, current, summary, context, earlier);
        onProgress?.(summary);
      };
      const done = write();
      // Awaited before a later batch or at the end; until then a failure must not count as unhandled.
      done.catch(() => undefined);
      writing.push({ done, ids });
    };
    for await (const text of lines) {
      const line = ++summary.lines;
      if (!text.trim()) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        batch.errors.push({ line, reason: 'not valid JSON' });
        continue;
      }
      const parsed = parseRecord(raw);
      if ('error' in parsed) batch.errors.push({ line, reason: parsed.error });
      else batch.records.push({ line, record: parsed.record.kind === 'transaction' ? encodeTransaction(parsed.record, text, copy) : parsed.record });
      if (batch.records.length >= this.batchSize) await submit();
      // Let the batch being written send its next statement while this one is read.
      else if (writing.length && line % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await submit();
    for (const { done } of writing) await done;
    summary.errors.sort((a, b) => a.line - b.line);
    await this.refreshStatistics(summary.byKind);
    return summary;
  }

  /** Whether none of these transaction ids is stored yet (in any store). */
  private async noneStored(ids: string[]): Promise<boolean> {
    const found = await this.db.query(`SELECT 1 FROM "Transaction" WHERE "id" = ANY($1::uuid[]) LIMIT 1`, [ids]);
    return found.length === 0;
  }

  /**
   * Refreshes the planner's statistics of the member-data tables this import changed enough to
   * matter. PGlite never runs autovacuum, and PostgreSQL's may lag: without it the first
   * recalculation after a bulk import can pick a plan orders of magnitude slower (measured: 104 s
   * instead of 0.2 s on 10k members). Tables barely changed are left alone (ANALYZE reads up to
   * 30,000 pages of a table however few rows were imported), and those refreshed are in one
   * database transaction: one commit to wait for, not one per table, which on a disk busy with
   * the import's checkpoint cost seconds each.
   */
  private async refreshStatistics(byKind: ImportSummary['byKind']) {
    const written = new Map<string, number>();
    for (const [kind, count] of Object.entries(byKind) as [IngestKind, number][])
      for (const table of TABLES_WRITTEN[kind] ?? []) written.set(table, (written.get(table) ?? 0) + count);
    if (!written.size) return;
    // reltuples and relpages are as of the table's last ANALYZE (reltuples -1 before the first);
    // the pages it has grown by since then count the rows earlier imports added, each too few alone.
    const tables = await query<{ table: string; rows: number; pages: number; analyzedPages: number }[]>(
      this.db,
      `SELECT c.relname AS table, c.reltuples::float8 AS rows, c.relpages::float8 AS "analyzedPages",
              (pg_relation_size(c.oid) / current_setting('block_size')::int)::float8 AS pages
       FROM pg_class c WHERE c.oid IN (SELECT to_regclass(format('%I', name)) FROM unnest($1::text[]) AS name)
       ORDER BY c.relname`,
      [...written.keys()],
    );
    const stale = tables.filter(({ table, rows, pages, analyzedPages }) => {
      const grown = analyzedPages > 0 && rows > 0 ? ((pages - analyzedPages) * rows) / analyzedPages : 0;
      const changed = Math.max(written.get(table) ?? 0, grown);
      return changed >= ANALYZE_AFTER && changed >= STALE_FRACTION * rows;
    });
    if (!stale.length) return;
    // In name order: imports ending at once take the tables' locks in one order, never in a cycle.
    await this.db.transaction(async (tx) => {
      for (const { table } of stale) await execute(tx, `ANALYZE "${table}"`);
    });
  }

  /** Imports already-parsed records (line numbers are their positions, from 1). */
  async importRecords(store: Store, records: unknown[]): Promise<ImportSummary> {
    return this.importLines(store, toLines(records));
  }

  private fail(summary: ImportSummary, line: number, reason: string) {
    summary.failed++;
    if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ line, reason });
  }

  /**
   * `after`: the batches before this one, which must have ended before this one upserts transactions.
   */
  private async flush(store: Store, { records: batch, errors }: Batch, summary: ImportSummary, context: ImportContext, after?: Promise<void>) {
    const { members } = context;
    for (const error of errors) this.fail(summary, error.line, error.reason);
    if (!batch.length) return;
    const byKind = new Map<IngestKind, Numbered[]>();
    for (const item of batch) {
      const list = byKind.get(item.record.kind) ?? [];
      list.push(item);
      byKind.set(item.record.kind, list);
    }
    const of = <K extends IngestKind>(kind: K) => (byKind.get(kind) ?? []) as Numbered<PendingOf<K>>[];
    // Reference data first, then members, then what refers to members.
    for (const kind of ['channel', 'level', 'tierSet', 'tier', 'campaign', 'reward', 'achievement', 'challenge'] as const)
      await this.guarded(of(kind), summary, (items) => this.writeReference(store, kind, items));
    await this.guarded(of('member'), summary, (items) => this.writeMembers(store, items, summary, members));
    await this.lookUpMembers(store, batch, members);
    const withMember = <R extends Pending & { customerId: string | null }>(items: Numbered<R>[]) =>
      items.filter((item) => {
        if (item.record.customerId === null || members.has(item.record.customerId)) return true;
        this.fail(summary, item.line, `customerId: unknown member ${item.record.customerId}`);
        return false;
      });
    await this.guarded(withMember(of('transaction')), summary, (items) => this.writeTransactions(store, items, summary, context, after));
    for (const kind of Object.keys(ACTIVITY_TABLES) as (keyof typeof ACTIVITY_TABLES)[])
      await this.guarded(withMember(of(kind)), summary, (items) => this.writeActivity(store, kind, items, summary));
  }

  /**
   * Runs a batch writer in one transaction. If the database refuses the batch, it is split in
   * halves and each retried, down to single records, so that only the offending lines fail, each
   * with the database's reason (a few bad lines cost a few retries each, not one per record).
   * The writer returns the lines it could not write (e.g. an id owned by another store).
   */
  private async guarded<R extends Pending>(
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
      const half = Math.ceil(items.length / 2);
      await this.guarded(items.slice(0, half), summary, write);
      await this.guarded(items.slice(half), summary, write);
    }
  }

  /** Adds to `members` those of the batch's references to members that are stored, when not known yet. */
  private async lookUpMembers(store: Store, batch: Numbered[], members: KnownMembers) {
    const unknown = new Set<string>();
    for (const { record } of batch)
      if (record.kind !== 'member' && 'customerId' in record && record.customerId && !members.has(record.customerId)) unknown.add(record.customerId);
    if (!unknown.size) return;
    const rows = await query<{ id: string }[]>(
      this.db,
      `SELECT id::text FROM "Member" WHERE "storeId" = $1::uuid AND id = ANY($2::uuid[])`,
      store.id,
      [...unknown],
    );
    for (const row of rows) members.add(row.id);
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
        const written = await this.db.transaction(async (tx) => {
          const ids = await upsertRows(tx, table, columns, rows);
          for (const list of lists) {
            await execute(
              tx,
              `UPDATE "${table}" t SET "${list}" = v.ids
               FROM (SELECT v.id, ARRAY(SELECT jsonb_array_elements_text(v.list::jsonb))::uuid[] AS ids
                     FROM unnest($1::uuid[], $2::text[]) AS v(id, list)) AS v
               WHERE t.id = v.id AND t."storeId" = $3::uuid AND t."${list}" IS DISTINCT FROM v.ids`,
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
    const written = await this.db.transaction((tx) => upsertRows(tx, table, columns, rows));
    return rejectedElsewhere(items, written, (record) => (record as { id: string }).id);
  }

  private async writeMembers(store: Store, items: Numbered<RecordOf<'member'>>[], summary: ImportSummary, members: KnownMembers) {
    const rejected = new Map<number, string>();
    const latest = lastById(items, (record) => record.customerId);
    // Email and loyalty card number are unique per store: refuse lines that would take another
    // member's, instead of letting the database fail the whole batch.
    const conflicts = await query<{ id: string; email: string | null; loyaltyCardNumber: string | null }[]>(
      this.db,
      `SELECT id::text, email, "loyaltyCardNumber" FROM "Member"
       WHERE "storeId" = $1::uuid AND (email = ANY($2::text[]) OR "loyaltyCardNumber" = ANY($3::text[]))`,
      store.id,
      latest.flatMap((i) => (i.record.email ? [i.record.email] : [])),
      latest.flatMap((i) => (i.record.loyaltyCardNumber ? [i.record.loyaltyCardNumber] : [])),
    );
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
    const [ids, active, firstNames, lastNames, emails, phones, genders, birthDates, createdAts, registeredAts, cities, provinces, countries, postals, cards, levels, labels, customFields] =
      columns(18, accepted.length);
    accepted.forEach(({ record: m }, i) => {
      ids[i] = m.customerId;
      active[i] = m.active;
      firstNames[i] = m.firstName ?? null;
      lastNames[i] = m.lastName ?? null;
      emails[i] = m.email ?? null;
      phones[i] = m.phone ?? null;
      genders[i] = m.gender ?? null;
      birthDates[i] = m.birthDate ?? null;
      createdAts[i] = iso(m.createdAt);
      registeredAts[i] = iso(m.registeredAt);
      cities[i] = m.address?.city ?? null;
      provinces[i] = m.address?.province ?? null;
      countries[i] = m.address?.country ?? null;
      postals[i] = m.address?.postal ?? null;
      cards[i] = m.loyaltyCardNumber ?? null;
      levels[i] = m.levelId ?? null;
      labels[i] = JSON.stringify(m.labels);
      customFields[i] = JSON.stringify(m.customFields);
    });
    const rows = await this.db.transaction(async (tx) => {
      const rows = await query<{ id: string; foreign: boolean }[]>(
        tx,
        UPSERT_MEMBERS,
        store.id, iso(new Date()), ids, active, firstNames, lastNames, emails, phones, genders, birthDates, createdAts, registeredAts,
        cities, provinces, countries, postals, cards, levels, labels, customFields, passwords,
      );
      const foreign = new Set(rows.filter((row) => row.foreign).map((row) => row.id));
      await this.syncChildren(tx, accepted.map(({ record }) => record).filter((record) => !foreign.has(record.customerId)));
      return rows;
    });
    const written = rows.filter((row) => !row.foreign).map((row) => row.id);
    for (const id of written) {
      summary.touchedMemberIds.add(id);
      members.add(id);
    }
    for (const [line, reason] of rejectedElsewhere(accepted, written, (record) => record.customerId)) rejected.set(line, reason);
    // Lines superseded by a later line for the same member count as imported.
    return rejected;
  }

  /**
   * Makes the tiers, labels and custom fields of these members the imported ones: rows no longer
   * there are deleted, new ones inserted, the others left as they are (a member imported again
   * unchanged rewrites nothing).
   */
  private async syncChildren(tx: Exec, members: RecordOf<'member'>[]) {
    if (!members.length) return;
    const ids = members.map((m) => m.customerId);
    const tiers = members.flatMap((m) => [...new Set(m.tierIds)].map((tierId) => [m.customerId, tierId]));
    const labels = uniqueRows(members.flatMap((m) => m.labels.map((l) => [m.customerId, norm(l.key), norm(l.value)])));
    const fields = uniqueRows(
      members.flatMap((m) => Object.entries(m.customFields).map(([key, value]) => [m.customerId, norm(key), norm(value)])),
      2,
    );
    const kv: Column[] = [{ name: 'memberId', type: 'uuid' }, { name: 'key', type: 'text' }, { name: 'value', type: 'text' }];
    await syncRows(tx, 'MemberTier', [{ name: 'memberId', type: 'uuid' }, { name: 'tierId', type: 'uuid' }], ['memberId', 'tierId'], ids, tiers);
    await syncRows(tx, 'MemberLabel', kv, ['memberId', 'key', 'value'], ids, labels);
    await syncRows(tx, 'MemberCustomField', kv, ['memberId', 'key'], ids, fields);
  }

  /**
   * Upserts transactions, and keeps the aggregates of the members concerned right. One statement
   * per batch writes the transactions (a row imported again unchanged is not rewritten), adds
   * the new transactions to their members' aggregates, and answers the few rows that need more:
   * ids owned by another store, and transactions whose member, type, date, channel or value
   * changed (their members, before and after, are recomputed from their transactions).
   */
  private async writeTransactions(
    store: Store,
    items: Numbered<EncodedTransaction>[],
    summary: ImportSummary,
    context: ImportContext,
    after?: Promise<void>,
  ) {
    const latest = lastById(items, (record) => record.transactionId);
    const n = latest.length;
    let input: string;
    let params: unknown[];
    let stage: Buffer | undefined;
    if (latest[0].record.row !== undefined) {
      // PostgreSQL: the batch goes by COPY (cheaper on both sides than large array parameters),
      // straight into Transaction when it is all new, else to a staging table that one statement moves.
      const rows: Buffer[] = new Array(n);
      const contributions: Buffer[] = new Array(n);
      for (let i = 0; i < n; i++) {
        rows[i] = latest[i].record.row!;
        contributions[i] = latest[i].record.contribution!;
      }
      stage = copyStreamOf(rows);
      // A few transactions (a GraphQL upsert, a small feed) are looked up first, rather than let
      // a COPY fail on a stored one (each failure is an error in the server's log, and WAL written
      // for the rows before it); a batch is written as new at once (its ids would cost PostgreSQL
      // a lookup each), unless an earlier batch of this import held stored ones (a re-import).
      const asNew =
        (n >= LOOKED_UP_BELOW && !context.reimporting) || (await this.noneStored(latest.map(({ record }) => record.transactionId)));
      if (asNew && (await this.copyNewTransactions(store, stage, copyStreamOf(contributions)))) {
        context.reimporting = false;
        for (const { record } of latest) if (record.customerId) summary.touchedMemberIds.add(record.customerId);
        return new Map<number, string>();
      }
      context.reimporting = true;
      // A later line for the same id wins: upsert after the batches before this one.
      await after;
      input = `SELECT id, "customerId", "documentType", "purchasedAt", "channelId", "grossValue", skus, makers, "itemLabels", items
               FROM pg_temp.ingest_transaction`;
      params = [store.id, store.timezone];
    } else {
      const [ids, customers, types, dates, channels, values, skus, makers, labels, details] = columns(10, n);
      for (let i = 0; i < n; i++) {
        const t = latest[i].record;
        ids[i] = t.transactionId;
        customers[i] = t.customerId;
        [types[i], dates[i], channels[i], values[i], skus[i], makers[i], labels[i], details[i]] = t.columns!;
      }
      input = `SELECT i.id, i."customerId", i."documentType", i."purchasedAt", i."channelId", i."grossValue",
                  i.skus::text[] AS skus, i.makers::text[] AS makers, i."itemLabels"::text[] AS "itemLabels", i.items::json AS items
           FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[], $7::uuid[], $8::numeric[], $9::text[], $10::text[], $11::text[],
                       string_to_array($12::text, E'\\n'))
             AS i(id, "customerId", "documentType", "purchasedAt", "channelId", "grossValue", skus, makers, "itemLabels", items)`;
      // Items as JSON texts, one a line: JSON.stringify never writes a raw line break.
      params = [store.id, store.timezone, ids, customers, types, dates, channels, values, skus, makers, labels, details.join('\n')];
    }
    const rows = await this.db.transaction(async (tx) => {
      await lockAggregates(tx, store.id, 'exclusive');
      if (stage !== undefined) {
        await execute(
          tx,
          `CREATE TEMP TABLE IF NOT EXISTS ingest_transaction (
             id uuid, "storeId" uuid, "customerId" uuid, "documentType" text, "purchasedAt" timestamptz(3), "channelId" uuid, "grossValue" numeric(14, 2),
             skus text[], makers text[], "itemLabels" text[], items json) ON COMMIT DELETE ROWS`,
        );
        await tx.copy!(`COPY pg_temp.ingest_transaction (${TRANSACTION_COPY_COLUMNS}) FROM STDIN WITH (FORMAT binary)`, stage);
      }
      const rows = await tx.query<{ id: string; foreign: boolean; before: string | null; after: string | null }>(
        `WITH input AS MATERIALIZED (${input}),
         -- CTEs all see the tables as they were before the statement: the previous versions.
         before AS MATERIALIZED (
           SELECT t.id, t."storeId", t."customerId", t."documentType", t."purchasedAt", t."channelId", t."grossValue"
           FROM "Transaction" t WHERE t.id IN (SELECT id FROM input)),
         written AS (
           INSERT INTO "Transaction" AS t (id, "storeId", "customerId", "documentType", "purchasedAt", "channelId", "grossValue", skus, makers, "itemLabels", items)
           SELECT id, $1::uuid, "customerId", "documentType", "purchasedAt", "channelId", "grossValue", skus, makers, "itemLabels", items FROM input i
           -- A row imported again unchanged is left alone, not even locked (as ON CONFLICT DO UPDATE would).
           WHERE NOT EXISTS (
             SELECT 1 FROM "Transaction" t WHERE t.id = i.id AND t."storeId" = $1::uuid
               AND (t."customerId", t."documentType", t."purchasedAt", t."channelId", t."grossValue", t.skus, t.makers, t."itemLabels", t.items::text)
                   IS NOT DISTINCT FROM (i."customerId", i."documentType", i."purchasedAt", i."channelId", i."grossValue", i.skus, i.makers, i."itemLabels", i.items::text))
           ON CONFLICT (id) DO UPDATE SET "customerId" = EXCLUDED."customerId", "documentType" = EXCLUDED."documentType",
             "purchasedAt" = EXCLUDED."purchasedAt", "channelId" = EXCLUDED."channelId", "grossValue" = EXCLUDED."grossValue",
             skus = EXCLUDED.skus, makers = EXCLUDED.makers, "itemLabels" = EXCLUDED."itemLabels", items = EXCLUDED.items
           WHERE t."storeId" = EXCLUDED."storeId"
             AND (t."customerId", t."documentType", t."purchasedAt", t."channelId", t."grossValue", t.skus, t.makers, t."itemLabels", t.items::text)
                 IS DISTINCT FROM (EXCLUDED."customerId", EXCLUDED."documentType", EXCLUDED."purchasedAt", EXCLUDED."channelId",
                                   EXCLUDED."grossValue", EXCLUDED.skus, EXCLUDED.makers, EXCLUDED."itemLabels", EXCLUDED.items::text)),
         added AS MATERIALIZED (
           SELECT i."customerId", i."documentType", i."purchasedAt", i."channelId", i."grossValue" FROM input i
           WHERE i."customerId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM before b WHERE b.id = i.id)),
         ${ADD_TO_AGGREGATES('added', '$1', '$2')}
         SELECT i.id::text AS id, b."storeId" <> $1::uuid AS foreign, b."customerId"::text AS before, i."customerId"::text AS after
         FROM input i JOIN before b ON b.id = i.id
         WHERE b."storeId" <> $1::uuid
            OR (b."customerId", b."documentType", b."purchasedAt", b."channelId", b."grossValue")
               IS DISTINCT FROM (i."customerId", i."documentType", i."purchasedAt", i."channelId", i."grossValue")`,
        params,
      );
      // Members a changed transaction leaves or joins are recomputed from their transactions.
      const recompute = new Set<string>();
      for (const row of rows)
        if (!row.foreign) {
          if (row.before) recompute.add(row.before);
          if (row.after) recompute.add(row.after);
        }
      await recomputeAggregates(tx, store, [...recompute]);
      return rows;
    });
    const foreign = new Set(rows.filter((row) => row.foreign).map((row) => row.id));
    for (const row of rows) if (!row.foreign && row.before) summary.touchedMemberIds.add(row.before);
    for (const { record } of latest)
      if (record.customerId && !foreign.has(record.transactionId)) summary.touchedMemberIds.add(record.customerId);
    return rejectedElsewhere(items, latest.filter(({ record }) => !foreign.has(record.transactionId)).map(({ record }) => record.transactionId), (record) => record.transactionId);
  }

  /**
   * Writes a batch of transactions as new: by COPY straight into Transaction (no staging table,
   * no conflict checks), then adds them to their members' aggregates, from their contributions
   * (customerId, documentType, purchasedAt, channelId, grossValue) COPYed into a temporary
   * table: reading them back from Transaction by id cost the server more than the COPY of all
   * its indexes but one. Answers false, having written nothing, when one of them is stored: the
   * caller then upserts the batch.
   */
  private async copyNewTransactions(store: Store, rows: Buffer, contributions: Buffer): Promise<boolean> {
    try {
      await this.db.transaction(async (tx) => {
        await lockAggregates(tx, store.id, 'shared');
        await tx.copy!(`COPY "Transaction" (${TRANSACTION_COPY_COLUMNS}) FROM STDIN WITH (FORMAT binary)`, rows);
        await execute(
          tx,
          `CREATE TEMP TABLE IF NOT EXISTS ingest_contribution (
             "customerId" uuid, "documentType" text, "purchasedAt" timestamptz(3), "channelId" uuid, "grossValue" numeric(14, 2))
           ON COMMIT DELETE ROWS`,
        );
        await tx.copy!(`COPY pg_temp.ingest_contribution (${CONTRIBUTION_COPY_COLUMNS}) FROM STDIN WITH (FORMAT binary)`, contributions);
        await execute(
          tx,
          `WITH added AS (SELECT * FROM pg_temp.ingest_contribution WHERE "customerId" IS NOT NULL),
           ${ADD_TO_AGGREGATES('added', '$1', '$2')}
           SELECT 1`,
          store.id,
          store.timezone,
        );
      });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
      throw error;
    }
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
    const written = await this.db.transaction((tx) => upsertRows(tx, table, columns, rows));
    for (const { record } of latest) summary.touchedMemberIds.add(record.customerId);
    return rejectedElsewhere(items, written, (record) => record.id);
  }
}

/**
 * Orders the writers of a store's member aggregates: batches of new transactions only add to
 * them and take this lock shared, so several run side by side; a writer that recomputes a
 * member's aggregates from its transactions (an upserted batch, a removed transaction or member)
 * takes it exclusive, so that no increment of a transaction it cannot see yet overlaps it.
 */
export async function lockAggregates(tx: Tx | Exec, storeId: string, mode: LockMode) {
  const db = '$queryRawUnsafe' in tx ? prismaExec(tx) : tx;
  await query(db, advisoryLockSql(mode), `ingest-aggregates:${storeId.toLowerCase()}`);
}

/**
 * Recomputes MemberStats, MemberChannelStats and MemberDailyAmount of the given members from
 * their transactions. Bounded by those members' histories; never scans the whole table.
 */
export async function recomputeAggregates(tx: Tx | Exec, store: Store, memberIds: string[]) {
  if (!memberIds.length) return;
  const db = '$queryRawUnsafe' in tx ? prismaExec(tx) : tx;
  await execute(
    db,
    `WITH stats AS (DELETE FROM "MemberStats" WHERE "memberId" = ANY($1::uuid[])),
          channels AS (DELETE FROM "MemberChannelStats" WHERE "memberId" = ANY($1::uuid[]))
     DELETE FROM "MemberDailyAmount" WHERE "memberId" = ANY($1::uuid[])`,
    memberIds,
  );
  await execute(
    db,
    `WITH t AS MATERIALIZED (
       SELECT t."customerId", t."documentType", t."purchasedAt", t."channelId", t."grossValue"
       FROM "Transaction" t WHERE t."storeId" = $2::uuid AND t."customerId" = ANY($1::uuid[])),
     ${ADD_TO_AGGREGATES('t', '$2', '$3')}
     SELECT 1`,
    memberIds,
    store.id,
    store.timezone,
  );
}

/**
 * Data-modifying CTEs (to follow other CTEs in a WITH list) that add the contributions of the
 * transactions in CTE `source` (customerId, documentType, purchasedAt, channelId, grossValue;
 * customerId not null) to their members' aggregates. On empty aggregates (just deleted) this is
 * a recomputation; on current ones, an increment for transactions that are new.
 */
const ADD_TO_AGGREGATES = (source: string, storeId: string, timezone: string) => `
     stats AS (
       INSERT INTO "MemberStats" AS s ("memberId", "storeId", "purchaseCount", "sellAmount", "returnAmount", "lastPurchaseAt")
       SELECT "customerId", ${storeId}::uuid,
              count(*) FILTER (WHERE "documentType" = 'sell'),
              COALESCE(sum("grossValue") FILTER (WHERE "documentType" = 'sell'), 0),
              COALESCE(sum("grossValue") FILTER (WHERE "documentType" = 'return'), 0),
              max("purchasedAt") FILTER (WHERE "documentType" = 'sell')
       FROM ${source} GROUP BY "customerId" ORDER BY "customerId"
       ON CONFLICT ("memberId") DO UPDATE SET
         "purchaseCount" = s."purchaseCount" + EXCLUDED."purchaseCount",
         "sellAmount" = s."sellAmount" + EXCLUDED."sellAmount",
         "returnAmount" = s."returnAmount" + EXCLUDED."returnAmount",
         "lastPurchaseAt" = GREATEST(s."lastPurchaseAt", EXCLUDED."lastPurchaseAt")),
     channels AS (
       INSERT INTO "MemberChannelStats" AS c ("memberId", "channelId", "purchaseCount")
       SELECT "customerId", "channelId", count(*) FROM ${source}
       WHERE "documentType" = 'sell' AND "channelId" IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT ("memberId", "channelId") DO UPDATE SET "purchaseCount" = c."purchaseCount" + EXCLUDED."purchaseCount"),
     days AS (
       INSERT INTO "MemberDailyAmount" AS d ("memberId", "day", "amount")
       SELECT "customerId", ("purchasedAt" AT TIME ZONE ${timezone}::text)::date,
              sum(CASE WHEN "documentType" = 'sell' THEN "grossValue" ELSE -"grossValue" END)
       FROM ${source} GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT ("memberId", "day") DO UPDATE SET "amount" = d."amount" + EXCLUDED."amount")`;

/**
 * The ids of a batch's records (an activity record's prefixed by its kind) when it holds nothing
 * but transactions and activity (bad lines aside), else undefined: such batches depend on no
 * batch beside them, only on the members written before.
 */
function sideBySideIdsOf(batch: Batch): Set<string> | undefined {
  if (!batch.records.length) return undefined;
  const ids = new Set<string>();
  for (const { record } of batch.records) {
    if (record.kind === 'transaction') ids.add(record.transactionId);
    else if (record.kind in ACTIVITY_TABLES) ids.add(`${record.kind}:${(record as RecordOf<keyof typeof ACTIVITY_TABLES>).id}`);
    else return undefined;
  }
  return ids;
}

function sharesAny(a: Set<string>, b: Set<string>): boolean {
  for (const id of a) if (b.has(id)) return true;
  return false;
}

/** `count` arrays of `length` slots, one per column of a bulk statement. */
function columns(count: number, length: number): unknown[][] {
  return Array.from({ length: count }, () => new Array(length));
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
function rejectedElsewhere<R extends Pending>(items: Numbered<R>[], written: string[], id: (record: R) => string) {
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
