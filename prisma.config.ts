import { existsSync } from 'node:fs';
import { defineConfig } from 'prisma/config';

// The Prisma CLI downloads a native schema engine, which machines without internet cannot
// fetch. The shared stand-in drives the WASM engine instead (migrate dev/diff/status).
const engineStandIn = new URL('../shared/tools/prisma-schema-engine-wasm.mjs', import.meta.url).pathname;
if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  if (existsSync(engineStandIn)) process.env.PRISMA_SCHEMA_ENGINE_BINARY = engineStandIn;
  // `prisma generate` (our postinstall) never runs the engine; it only needs the variable to
  // name an existing file. Without the stand-in, name node itself so a fresh clone installs.
  else if (process.argv.includes('generate')) process.env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    // Used by the CLI only (migrate dev/diff); the service picks its database in src/db.
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  },
});
