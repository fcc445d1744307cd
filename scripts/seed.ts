/**
 * Synthetic member data for demos and load tests.
 *
 *   npm run seed -- --members N [--seed S] [--store CODE] [--now ISO] [--out file.ndjson]
 *
 * With --out, writes NDJSON (import it later with `npm run cli -- import CODE file.ndjson`).
 * Without it, imports into the configured database (DATABASE_URL, or the embedded one in
 * DATA_DIR), creating the store if missing. Same options -> the same data, byte for byte; the
 * data is laid out against --now (default: a fixed date), so pass today's date for relative
 * criteria such as "last purchase in the last 30 days" to match as they would in production.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { DEFAULT_NOW, generateLines } from '../src/ingest/generator.ts';
import { asAsync, writeNdjsonFile } from '../src/ingest/ndjson-file.ts';
import { createServices } from '../src/services/index.ts';

const USAGE = 'Usage: npm run seed -- --members N [--seed S] [--store CODE] [--now ISO-8601] [--out file.ndjson]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      members: { type: 'string' },
      seed: { type: 'string', default: '1' },
      store: { type: 'string', default: 'DEFAULT' },
      now: { type: 'string', default: DEFAULT_NOW },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const members = Number(values.members);
  const seed = Number(values.seed);
  if (values.help || !Number.isInteger(members) || members < 0 || !Number.isInteger(seed) || Number.isNaN(Date.parse(values.now))) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const options = { members, seed, now: values.now };
  const started = performance.now();

  if (values.out) {
    const lines = await writeNdjsonFile(values.out, generateLines(options));
    console.log(`Wrote ${lines} records for ${members} members (seed ${seed}) to ${values.out} in ${elapsed(started)} s`);
    return 0;
  }

  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const services = createServices(database.prisma, config);
    const store = await services.stores.ensure({ code: values.store, name: values.store });
    const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
    console.log(`Seeding ${members} members (seed ${seed}) into store ${store.code} (${where})`);
    let reported = 0;
    const summary = await services.ingest.importLines(store, asAsync(generateLines(options)), (progress) => {
      if (progress.lines - reported < 20_000) return;
      reported = progress.lines;
      const rate = Math.round(progress.lines / Number(elapsed(started)));
      console.log(`  ${progress.lines} records, ${progress.failed} failed, ${rate}/s`);
    });
    if (summary.touchedMemberIds.size) await services.segments.markDirty(store.id);
    const kinds = Object.entries(summary.byKind).map(([kind, count]) => `${kind} ${count}`).join(', ');
    console.log(`Imported ${summary.imported} of ${summary.lines} records in ${elapsed(started)} s: ${kinds}`);
    console.log(`Failed: ${summary.failed}`);
    for (const error of summary.errors.slice(0, 20)) console.log(`  line ${error.line}: ${error.reason}`);
    return summary.failed ? 1 : 0;
  } finally {
    await database.close();
  }
}

function elapsed(started: number) {
  return ((performance.now() - started) / 1000).toFixed(1);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
