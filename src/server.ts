import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

/** The one file that listens. Everything else is built by buildApp(). */
async function main() {
  const config = loadConfig();
  const app = await buildApp(config);
  await app.services.stores.ensure({ code: 'DEFAULT', name: 'Default store' });
  const admin = await app.services.auth.ensureBootstrapAdmin();
  if (admin?.generatedPassword) {
    console.log(`Created admin "${admin.username}" with password: ${admin.generatedPassword}`);
    console.log('It is shown this once; set ADMIN_USERNAME/ADMIN_PASSWORD to choose your own.');
  }
  const server = createServer(app.yoga);
  server.listen(config.port, () => {
    const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
    const { port } = server.address() as AddressInfo;
    console.log(`Segment gateway on http://localhost:${port}/graphql (${where})`);
  });
  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
