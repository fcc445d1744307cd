import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { ValidationFailed, fieldError } from './errors.ts';
import { createServices } from './services/index.ts';

const USAGE = `Usage: npm run cli -- <command> [options]

  store:create <code> --name <name> [--currency EUR] [--timezone UTC]
  admin:create <username> --password <password> [--stores CODE,CODE]
  apikey:create <username> [--name <label>]     prints the key once
  apikey:revoke <apiKeyId>

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
  const [command, subject] = positionals;
  if (values.help || !command || !subject) {
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
      default:
        out(USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof ValidationFailed) {
      out(error.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
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
