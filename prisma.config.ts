import { existsSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// The Prisma CLI downloads a native schema engine that these machines cannot fetch; the shared
// stand-in drives the WASM engine instead. Only set when present, so the project works without it.
const engineStandIn = new URL('../shared/tools/prisma-schema-engine-wasm.mjs', import.meta.url).pathname;
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync(engineStandIn)) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = engineStandIn;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    // Used by the CLI only (migrate dev/diff); the service picks its database in src/db.
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
