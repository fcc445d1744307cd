/**
 * Import throughput into PostgreSQL, beside baselines measured in the same run.
 *
 *   npm run bench:ingest -- [--transactions 200000] [--seed 1] [--keep]
 *
 * 1. Generates, with the synthetic generator, NDJSON of ~N transactions (members = N / 10, with
 *    their reference data, events, completions and progress), and the same transactions as COPY
 *    text: the rows the importer writes (with their item facts and items), and their core columns.
 * 2. Creates a fresh database bench_ingest_<random> on TEST_DATABASE_URL's server (default
 *    postgresql://postgres@127.0.0.1:5432/postgres), migrates it, and streams the NDJSON file
 *    through IngestService.importLines in a process of its own, as `npm run cli -- import` does
 *    (in this process, the generator's calls would have trained the JIT on other shapes of the
 *    same functions, and its leftovers would count in the import's memory). Reports transactions
 *    per second (over the transaction part of the file, and over the whole file), peak RSS and
 *    heap, and the CPU time Node and the PostgreSQL backends spent per transaction (figures that
 *    hold when other processes compete for the machine; backends are read from /proc when the
 *    server is local).
 * 3. Baseline: the same transaction rows loaded with a plain `COPY ... FROM STDIN` in text format into a bare
 *    table with the Transaction table's columns (no keys, no indexes); and, as in earlier runs
 *    before the item facts moved onto Transaction, only their 7 core columns.
 * 4. Floor for this schema: the same rows COPYed into a table identical to Transaction (same
 *    columns, keys and indexes) as the importer writes them (binary COPY rows from its encoder),
 *    without parsing, validation, upserts or aggregates.
 * 5. Drops the database (and the temp files unless --keep).
 */
import { adminQuery, backendPids, benchDatabaseUrl, cpuMsOf } from './bench-support.ts';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openDatabase } from '../src/db/database.ts';
import { generateRecords } from '../src/ingest/generator.ts';
import { LineWriter, openNdjsonFile } from '../src/ingest/ndjson-file.ts';
import { parseRecord, type RecordOf } from '../src/ingest/records.ts';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER, itemFacts, TRANSACTION_COPY_COLUMNS, TransactionCopyRows } from '../src/ingest/transaction-copy.ts';
import { IngestService } from '../src/services/ingest-service.ts';

const TARGET = 50_000;
const SELF = fileURLToPath(import.meta.url);
const IMPORT_CHILD = 'import-child';

const { values } = parseArgs({
  allowPositionals: process.argv[2] === IMPORT_CHILD,
  options: {
    transactions: { type: 'string', default: '200000' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const wanted = Number(values.transactions);
const seed = Number(values.seed);
if (!Number.isInteger(wanted) || wanted < 1 || !Number.isInteger(seed)) {
  console.log('Usage: npm run bench:ingest -- [--transactions N] [--seed S] [--keep]');
  process.exit(2);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const norm = (value: string | null | undefined) => (value == null ? null : value.trim().toLowerCase());


/** A COPY text-format row: tabs between fields, \N for null, backslash escapes. */
function copyRow(fields: unknown[]): string {
  return fields
    .map((field) =>
      field === null || field === undefined
        ? '\\N'
        : String(field).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!),
    )
    .join('\t');
}

/** A PostgreSQL array literal, every element quoted. */
const arrayLiteral = (values: string[]) => `{${values.map((value) => `"${value.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

async function generate(dir: string, storeId: string) {
  const files = {
    ndjson: new LineWriter(path.join(dir, 'data.ndjson')),
    transactions: new LineWriter(path.join(dir, 'transactions.copy')),
    core: new LineWriter(path.join(dir, 'core.copy')),
  };
  // The floor's rows as the importer writes them: binary, from its encoder.
  const floorPath = path.join(dir, 'transactions.bin');
  const floorFile = createWriteStream(floorPath);
  const floorRows = new TransactionCopyRows();
  let floorChunk: Buffer[] = [BINARY_COPY_HEADER];
  const writeFloor = async (rows: Buffer[]) => {
    if (!floorFile.write(Buffer.concat(rows))) await once(floorFile, 'drain');
  };
  const counts: Record<string, number> = {};
  const members = Math.max(1, Math.round(wanted / 10));
  for (const record of generateRecords({ members, seed })) {
    counts[record.kind] = (counts[record.kind] ?? 0) + 1;
    await files.ndjson.add(JSON.stringify(record));
    if (record.kind !== 'transaction') continue;
    const t = record;
    const core = [t.transactionId, storeId, t.customerId, t.documentType, t.purchasedAt, t.channelId, Number(t.grossValue).toFixed(2)];
    await files.core.add(copyRow(core));
    // Transaction's columns in table order: the core ones, then itemLabels, items, makers, skus.
    const items = (t.items ?? []) as RecordOf<'transaction'>['items'];
    const facts = itemFacts(items);
    await files.transactions.add(copyRow([...core, arrayLiteral(facts.itemLabels), JSON.stringify(items), arrayLiteral(facts.makers), arrayLiteral(facts.skus)]));
    const parsed = parseRecord(t);
    if (!('record' in parsed) || parsed.record.kind !== 'transaction') throw new Error(`generated an invalid transaction: ${JSON.stringify(parsed)}`);
    floorChunk.push(floorRows.add(parsed.record, storeId).row);
    if (floorChunk.length >= 1000) {
      await writeFloor(floorChunk);
      floorChunk = [];
    }
  }
  floorChunk.push(BINARY_COPY_TRAILER);
  await writeFloor(floorChunk);
  floorFile.end();
  await once(floorFile, 'close');
  for (const file of Object.values(files)) await file.close();
  const paths = { ...(Object.fromEntries(Object.entries(files).map(([name, file]) => [name, file.path])) as Record<keyof typeof files, string>), floor: floorPath };
  // Written to disk now, so that the kernel's writeback of these files does not compete with the import.
  for (const file of Object.values(paths)) {
    const fd = openSync(file, 'r');
    fsyncSync(fd);
    closeSync(fd);
  }
  return { paths, counts, members };
}

/**
 * CPU time (ms) used so far by this database's server processes, when the server runs on this
 * machine (read from /proc; the process list is refreshed now and then, not at every reading).
 */
class BackendCpu {
  private pids: string[] = [];
  private readings = 0;
  constructor(private readonly dbName: string) {}
  read(): number | null {
    if (!this.pids.length || this.readings++ % 10 === 0) this.pids = backendPids(this.dbName);
    if (!this.pids.length) return null;
    let ms = 0;
    for (const used of cpuMsOf(this.pids).values()) ms += used;
    return ms;
  }
}

/** What the import process reports to this one. */
interface ImportResult {
  summary: { lines: number; failed: number; errors: unknown[] };
  importMs: number;
  phaseMs: number;
  loadAtStart: string;
  rssBefore: number;
  peakRss: number;
  heapBefore: number;
  peakHeap: number;
  nodeCpuMs: number;
  pgCpuMs: number | null;
}

/** Runs the import in a new process (this script, IMPORT_CHILD) and answers what it measured. */
async function importInChild(url: string, storeId: string, ndjson: string, dbName: string): Promise<ImportResult> {
  const child = fork(SELF, [IMPORT_CHILD, url, storeId, ndjson, dbName], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let result: ImportResult | undefined;
  child.once('message', (message) => (result = message as ImportResult));
  // Its result arrives before it exits; without one (it failed) the run fails, it does not wait.
  const [code] = await once(child, 'close');
  if (code !== 0 || !result) throw new Error(`the import process exited with ${code}${result ? '' : ', without a result'}`);
  return result;
}

/** The import process: streams the file through IngestService.importLines, sampling RSS and CPU. */
async function importChild([url, storeId, ndjson, dbName]: string[]) {
  const database = await openDatabase({ url });
  try {
    const store = await database.prisma.store.findUniqueOrThrow({ where: { id: storeId } });
    (globalThis as { gc?: () => void }).gc?.();
    const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
    let peakRss = rssBefore;
    let peakHeap = heapBefore;
    const sample = () => {
      const { rss, heapUsed } = process.memoryUsage();
      peakRss = Math.max(peakRss, rss);
      peakHeap = Math.max(peakHeap, heapUsed);
    };
    const sampler = setInterval(sample, 25);
    const file = await openNdjsonFile(ndjson);
    const marks: { at: number; cpu: number; pg: number | null; transactions: number }[] = [];
    const backends = new BackendCpu(dbName);
    const mark = (count: number) => {
      const cpu = process.cpuUsage();
      marks.push({ at: performance.now(), cpu: (cpu.user + cpu.system) / 1000, pg: backends.read(), transactions: count });
    };
    const loadAtStart = loadavg()[0].toFixed(1);
    const started = performance.now();
    mark(0);
    const summary = await new IngestService(database.prisma).importLines(store, file.lines, (progress) => mark(progress.byKind.transaction ?? 0));
    const importMs = performance.now() - started;
    clearInterval(sampler);
    sample();
    // The transaction part of the file: from the last progress report before any transaction
    // to the first that has them all (reports come after every batch).
    const total = summary.byKind.transaction ?? 0;
    const from = marks.filter((m) => m.transactions === 0).at(-1)!;
    const to = marks.find((m) => m.transactions === total)!;
    const result: ImportResult = {
      summary: { lines: summary.lines, failed: summary.failed, errors: summary.errors.slice(0, 5) },
      importMs,
      phaseMs: to.at - from.at,
      loadAtStart,
      rssBefore,
      peakRss,
      heapBefore,
      peakHeap,
      nodeCpuMs: to.cpu - from.cpu,
      pgCpuMs: to.pg !== null && from.pg !== null ? to.pg - from.pg : null,
    };
    process.send!(result);
  } finally {
    await database.close();
  }
}

async function copyInto(client: pg.Client, table: string, file: string, options = '') {
  await pipeline(createReadStream(file), client.query(copyFrom(`COPY ${table} FROM STDIN ${options}`)));
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-ingest-'));
  const dbName = `bench_ingest_${randomBytes(5).toString('hex')}`;
  const url = new URL(benchDatabaseUrl(dbName));
  let created = false;
  try {
    await adminQuery(`CREATE DATABASE ${dbName}`);
    created = true;
    const database = await openDatabase({ url: url.toString() });
    try {
      const store = await database.prisma.store.create({ data: { code: 'BENCH', name: 'Bench', timezone: 'Europe/Warsaw' } });

      let started = performance.now();
      const { paths, counts, members } = await generate(dir, store.id);
      const transactions = counts.transaction ?? 0;
      const records = Object.values(counts).reduce((a, b) => a + b, 0);
      console.log(
        `Generated ${records} records: ${members} members, ${transactions} transactions (${mb(statSync(paths.ndjson).size)} of NDJSON) in ${seconds(performance.now() - started)}`,
      );
      console.log(`  ${Object.entries(counts).map(([kind, n]) => `${kind} ${n}`).join(', ')}`);

      const imported = await importInChild(url.toString(), store.id, paths.ndjson, dbName);
      const { summary, importMs, phaseMs, loadAtStart, rssBefore, peakRss, heapBefore, peakHeap, nodeCpuMs, pgCpuMs } = imported;
      if (summary.failed) throw new Error(`import failed on ${summary.failed} lines: ${JSON.stringify(summary.errors.slice(0, 5))}`);
      const [{ count: stored }] = await database.prisma.$queryRawUnsafe<{ count: number }[]>(`SELECT count(*)::int AS count FROM "Transaction"`);
      if (stored !== transactions) throw new Error(`expected ${transactions} transactions stored, found ${stored}`);

      // Baselines on a separate connection.
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      let copyMs: number;
      let coreMs: number;
      let floorMs: number;
      try {
        const { rows: columns } = await client.query<{ name: string }>(
          `SELECT attname AS name FROM pg_attribute WHERE attrelid = '"Transaction"'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        );
        const expected = ['id', 'storeId', 'customerId', 'documentType', 'purchasedAt', 'channelId', 'grossValue', 'itemLabels', 'items', 'makers', 'skus'];
        if (columns.map((c) => c.name).join() !== expected.join()) throw new Error(`Transaction's columns changed: ${columns.map((c) => c.name).join()}`);
        await client.query(`CREATE TABLE bench_bare (LIKE "Transaction")`);
        started = performance.now();
        await copyInto(client, 'bench_bare', paths.transactions);
        copyMs = performance.now() - started;

        await client.query(
          `CREATE TABLE bench_core AS SELECT id, "storeId", "customerId", "documentType", "purchasedAt", "channelId", "grossValue" FROM "Transaction" WITH NO DATA`,
        );
        started = performance.now();
        await copyInto(client, 'bench_core', paths.core);
        coreMs = performance.now() - started;

        await client.query(`CREATE SCHEMA floor`);
        await client.query(`CREATE TABLE floor."Transaction" (LIKE public."Transaction" INCLUDING ALL)`);
        started = performance.now();
        await copyInto(client, `floor."Transaction" (${TRANSACTION_COPY_COLUMNS})`, paths.floor, 'WITH (FORMAT binary)');
        floorMs = performance.now() - started;
        for (const table of ['bench_bare', 'bench_core', 'floor."Transaction"']) {
          const { rows } = await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
          if (rows[0].count !== transactions) throw new Error(`COPY loaded ${rows[0].count} rows into ${table}, expected ${transactions}`);
        }
      } finally {
        await client.end();
      }

      const importRate = perSecond(transactions, phaseMs);
      const copyRate = perSecond(transactions, copyMs);
      const coreRate = perSecond(transactions, coreMs);
      const floorRate = perSecond(transactions, floorMs);
      const micros = (ms: number) => `${Math.round((ms * 1000) / transactions)} µs`;
      console.log('');
      console.log(`Import through IngestService.importLines, streaming the NDJSON file (${transactions} transactions):`);
      console.log(`  transaction part of the file: ${seconds(phaseMs)} -> ${importRate} transactions/s`);
      console.log(`  whole file: ${summary.lines} records in ${seconds(importMs)} -> ${perSecond(summary.lines, importMs)} records/s`);
      console.log(
        `  CPU per transaction (transaction part): Node ${micros(nodeCpuMs)}` +
          (pgCpuMs !== null ? `, PostgreSQL backend ${micros(pgCpuMs)}` : ', PostgreSQL backend not measurable (server not local)'),
      );
      console.log(`  RSS of the import process: ${mb(rssBefore)} before the import, ${mb(peakRss)} at its peak during it`);
      console.log(`  heap used: ${mb(heapBefore)} before the import, ${mb(peakHeap)} at its peak during it`);
      console.log(`Baseline, COPY ... FROM STDIN of the same transaction rows, in text format, into a bare table: ${seconds(copyMs)} -> ${copyRate} rows/s`);
      console.log(`  ratio import / COPY: ${(importRate / copyRate).toFixed(3)} (COPY ${(copyRate / importRate).toFixed(1)}x faster)`);
      console.log(`Baseline of earlier runs, COPY of the 7 core columns only into a bare table: ${seconds(coreMs)} -> ${coreRate} rows/s`);
      console.log(`  ratio import / core COPY: ${(importRate / coreRate).toFixed(3)}`);
      console.log(
        `Floor for this schema, COPY of the same rows (binary, as the importer sends them) into a table identical to Transaction (keys, indexes): ${seconds(floorMs)} -> ${floorRate} transactions/s`,
      );
      console.log(`  ratio import / floor: ${(importRate / floorRate).toFixed(3)}`);
      console.log(`Target ${TARGET} transactions/s: ${importRate >= TARGET ? 'met' : 'not met'}`);
      console.log(
        `Machine: ${availableParallelism()} CPUs; 1-minute load average ${loadAtStart} when the import started, ${loadavg()[0].toFixed(1)} at the end (this run included)`,
      );
    } finally {
      await database.close();
    }
  } finally {
    if (created) await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    if (values.keep) console.log(`Files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === IMPORT_CHILD ? importChild(process.argv.slice(3)) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
