import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { NotFound, ValidationFailed, fieldError } from './errors.ts';
import { openNdjsonFile } from './ingest/ndjson-file.ts';
import { createServices, type Services } from './services/index.ts';

const USAGE = `Usage: npm run cli -- <command> [options]

  store:create <code> --name <name> [--currency EUR] [--timezone UTC]
  admin:create <username> --password <password> [--stores CODE,CODE]
  apikey:create <username> [--name <label>]     prints the key once
  apikey:revoke <apiKeyId>
  import <storeCode> <file.ndjson>               imports member data (DOMAIN.md section 3), one record
                                                a line; exit code 1 if any line failed
  recalculate <storeCode> <segmentId>           recalculates a segment now and prints the result

Uses DATABASE_URL, or the embedded database in DATA_DIR (default ./data). The embedded database
is opened by one process at a time: stop the server first, or use the GraphQL mutations.`;

export async function runCli(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      currency: { type: 'string' },
      timezone: { type: 'string' },
      password: { type: 'string' },
      stores: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, subject, file] = positionals;
  if (values.help || !command || !subject || (command === 'import' && !file)) {
    out(USAGE);
    return command ? 2 : 0;
  }
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const services = createServices(database.prisma, config);
  try {
    switch (command) {
      case 'store:create': {
        const store = await services.stores.create({
          code: subject,
          name: values.name ?? subject,
          currency: values.currency,
          timezone: values.timezone,
        });
        out(`Created store ${store.code} (${store.currency}, ${store.timezone})`);
        return 0;
      }
      case 'admin:create': {
        if (!values.password) throw new ValidationFailed([fieldError('password', 'required', '--password is required.')]);
        const admin = await services.auth.createAdmin({
          username: subject,
          password: values.password,
          storeCodes: values.stores?.split(',').map((code) => code.trim()).filter(Boolean),
        });
        out(`Created admin ${admin.username}${admin.allStores ? ' (all stores)' : ` (stores: ${values.stores})`}`);
        return 0;
      }
      case 'apikey:create': {
        const { key, apiKey } = await services.auth.createApiKeyForUsername(subject, values.name ?? 'cli');
        out(`API key ${apiKey.id} for ${subject} (send as X-AUTH-TOKEN; shown once):`);
        out(key);
        return 0;
      }
      case 'apikey:revoke': {
        const revoked = await services.auth.revokeApiKey(undefined, subject);
        out(revoked ? `Revoked ${subject}` : `No active API key ${subject}`);
        return revoked ? 0 : 1;
      }
      case 'import':
        return await importFile(services, subject, file, out);
      case 'recalculate': {
        if (!file) {
          out(USAGE);
          return 2;
        }
        const store = await services.stores.getByCode(subject);
        const segment = await services.segments.get(store, file);
        const result = await services.recalculation.recalculate(segment.id);
        if (!result.recalculated) {
          out(`Segment ${segment.name} is inactive: not recalculated (only active segments are).`);
          return 1;
        }
        const { customersCount, averageTransactions, averageTransactionAmount, averageClv } = result.statistics;
        out(`Recalculated ${segment.name}: ${result.matched} members (+${result.added}, -${result.removed})`);
        out(`averageTransactions ${averageTransactions}, averageTransactionAmount ${averageTransactionAmount}, averageClv ${averageClv}, customersCount ${customersCount}`);
        return 0;
      }
      default:
        out(USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof ValidationFailed) {
      out(error.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
      return 1;
    }
    if (error instanceof NotFound) {
      out(error.message);
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}

/** Number of reported errors printed after an import. */
const PRINTED_ERRORS = 20;

async function importFile(services: Services, storeCode: string, path: string, out: (line: string) => void): Promise<number> {
  const store = await services.stores.getByCode(storeCode);
  const file = await openNdjsonFile(path);
  // Drawn on stderr, and only on a terminal: `out` receives the summary alone.
  const bar = new cliProgress.SingleBar(
    {
      format: 'Importing |{bar}| {percentage}% {value}/{total} MB | {lines} lines, {failed} failed | {eta_formatted}',
      formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? (value / 1e6).toFixed(1) : String(value)),
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(file.size, 0, { lines: 0, failed: 0 });
  const started = performance.now();
  let summary;
  try {
    summary = await services.ingest.importLines(store, file.lines, (progress) =>
      bar.update(Math.min(file.bytesRead(), file.size), { lines: progress.lines, failed: progress.failed }),
    );
    bar.update(file.size, { lines: summary.lines, failed: summary.failed });
  } finally {
    bar.stop();
  }
  // As the REST import does: the store's segments are recalculated at the next job sweep.
  if (summary.touchedMemberIds.size) await services.segments.markDirty(store.id);
  const seconds = (performance.now() - started) / 1000;
  const kinds = Object.entries(summary.byKind).map(([kind, count]) => `${kind} ${count}`);
  out(`Imported ${path} into ${store.code}: ${summary.lines} lines in ${seconds.toFixed(1)} s`);
  out(`  imported: ${summary.imported}${kinds.length ? ` (${kinds.join(', ')})` : ''}`);
  out(`  failed: ${summary.failed}`);
  for (const error of summary.errors.slice(0, PRINTED_ERRORS)) out(`  line ${error.line}: ${error.reason}`);
  if (summary.failed > PRINTED_ERRORS) out(`  ... and ${summary.failed - PRINTED_ERRORS} more failed lines`);
  return summary.failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
