import path from 'node:path';
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for our
// dependencies (Pothos, yoga); Vite would pick the ESM one for our sources, and two copies
// break `instanceof` ("Cannot use GraphQLObjectType from another realm"). Pin sources to CJS.
const graphqlDir = path.dirname(createRequire(import.meta.url).resolve('graphql'));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^graphql$/, replacement: path.join(graphqlDir, 'index.js') },
      { find: /^graphql\/(.*)$/, replacement: path.join(graphqlDir, '$1.js') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Each file builds its own app and databases; two cores, so two files at a time.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
