import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createHttpServer } from './http-server.ts';

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
  const http = createHttpServer(app);
  const port = await http.listen(config.port);
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  console.log(`Segment gateway on http://localhost:${port}/graphql (${where}); dashboard at /dashboard`);

  // SIGTERM: stop taking work, let running recalculations finish, close sockets, then exit.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    await http.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
