import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { runCli } from '../src/cli.ts';
import { ConfigError, loadConfig } from '../src/config.ts';

/**
 * Configuration read from the environment, the real server's start-up (production refuses to
 * start without JWT_SECRET; development bootstraps an admin once), and the CLI.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SPAWN_TIMEOUT_MS = 90_000;

const tempDirs: string[] = [];
function tempDir(label: string) {
  const dir = mkdtempSync(path.join(tmpdir(), `sg-${label}-`));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** The parent's environment without anything that would configure the service. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['JWT_SECRET', 'DATABASE_URL', 'ADMIN_USERNAME', 'ADMIN_PASSWORD', 'DATA_DIR', 'PORT', 'NODE_ENV']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('VITEST') || name === 'TEST') delete env[name];
  return { ...env, ...extra };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a command to its end (killed after the timeout), collecting its output. */
function runToExit(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, timeout: SPAWN_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The real server (src/server.ts) as one child process, so that SIGTERM reaches it directly. */
class ServerProcess {
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk) => (this.stdout += chunk));
    this.child.stderr!.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves once stdout matches, rejects when the process exits first or the wait times out. */
  async waitFor(pattern: RegExp, timeoutMs = SPAWN_TIMEOUT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} from the server:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGTERM, then the exit code (SIGKILL if it does not stop). */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

describe('loadConfig', () => {
  it('throws a ConfigError naming JWT_SECRET in production without one', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: '' })).toThrow(ConfigError);
  });

  it('accepts production with a JWT_SECRET', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-production-secret' });
    expect(config.production).toBe(true);
    expect(config.jwtSecret).toBe('a-production-secret');
  });

  it('has the documented defaults outside production', () => {
    const config = loadConfig({});
    expect(config.production).toBe(false);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.port).toBe(4000);
    expect(config.loginMaxFailures).toBe(5);
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
    // A per-process secret: two loads never share one.
    expect(loadConfig({}).jwtSecret).not.toBe(config.jwtSecret);
  });

  it('reads the environment', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://somewhere/db',
      DATA_DIR: '/tmp/somewhere',
      PORT: '4100',
      LOGIN_MAX_FAILURES: '3',
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: 'root-password',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://somewhere/db',
      dataDir: '/tmp/somewhere',
      port: 4100,
      loginMaxFailures: 3,
      adminUsername: 'root',
      adminPassword: 'root-password',
    });
  });
});

describe('the server process', () => {
  it(
    'refuses to start in production without JWT_SECRET, with a clear message',
    async () => {
      const result = await runToExit('npx', ['tsx', 'src/server.ts'], cleanEnv({ NODE_ENV: 'production', DATA_DIR: tempDir('prod'), PORT: '0' }));
      expect(result.signal, 'killed by the timeout').toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('JWT_SECRET must be set when NODE_ENV=production');
      // The message, not a stack trace.
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).not.toMatch(/Segment gateway on/);
    },
    SPAWN_TIMEOUT_MS + 10_000,
  );

  describe('in development without ADMIN_USERNAME/ADMIN_PASSWORD', () => {
    let dataDir: string;
    let server: ServerProcess | undefined;

    beforeAll(() => {
      dataDir = tempDir('dev');
    });
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    async function start() {
      const port = await freePort();
      server = new ServerProcess(cleanEnv({ NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port) }));
      await server.waitFor(/Segment gateway on http:\/\/localhost:\d+\/graphql/);
      return { server, base: `http://127.0.0.1:${port}` };
    }

    const login = (base: string, password: string) =>
      fetch(`${base}/api/admin/login_check`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });

    let generated: string;

    it(
      'prints a generated admin password once, and it logs in',
      async () => {
        const { server, base } = await start();
        const match = server.stdout.match(/Created admin "admin" with password: (\S+)/);
        expect(match, server.stdout).not.toBeNull();
        generated = match![1];
        expect(generated.length).toBeGreaterThanOrEqual(12);
        expect(server.stdout.split(generated).length - 1).toBe(1);
        expect(server.stderr).not.toContain(generated);

        const response = await login(base, generated);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { token: string; refresh_token: string };
        expect(body.token).toEqual(expect.any(String));
        const me = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${body.token}` },
          body: JSON.stringify({ query: '{ me { username allStores } }' }),
        });
        expect(await me.json()).toEqual({ data: { me: { username: 'admin', allStores: true } } });
        // The embedded default store exists.
        const list = await fetch(`${base}/api/DEFAULT/segment`, { headers: { authorization: `Bearer ${body.token}` } });
        expect(list.status).toBe(200);

        expect(await server.stop()).toBe(0);
      },
      2 * SPAWN_TIMEOUT_MS,
    );

    it(
      'does not print a new password on a second start on the same data dir; the first still logs in',
      async () => {
        expect(generated, 'the first start must have run').toBeTruthy();
        const { server, base } = await start();
        expect(server.stdout).not.toMatch(/password/i);
        expect((await login(base, generated)).status).toBe(200);
        expect(await server.stop()).toBe(0);
      },
      2 * SPAWN_TIMEOUT_MS,
    );
  });
});

describe('the CLI (runCli)', () => {
  let dataDir: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    dataDir = tempDir('cli');
    for (const name of ['DATA_DIR', 'DATABASE_URL', 'JWT_SECRET', 'ADMIN_USERNAME', 'ADMIN_PASSWORD']) saved[name] = process.env[name];
    process.env.DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
    delete process.env.ADMIN_USERNAME;
    delete process.env.ADMIN_PASSWORD;
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function cli(...argv: string[]) {
    const lines: string[] = [];
    const code = await runCli(argv, (line) => lines.push(line));
    return { code, output: lines.join('\n'), lines };
  }

  /** An app on the CLI's data dir, for one request; closed at once (PGlite is single-process). */
  async function requestWithKey(pathname: string, key: string) {
    const app = await buildApp(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'cli-test-secret', DATA_DIR: dataDir }));
    try {
      const response = await app.yoga.fetch(`http://test${pathname}`, { headers: { 'x-auth-token': key } });
      return { status: response.status, body: await response.json() };
    } finally {
      await app.close();
    }
  }

  let keyId: string;
  let key: string;

  it('prints its usage without a command, and refuses an unknown one', async () => {
    const none = await cli();
    expect(none.code).toBe(0);
    expect(none.output).toMatch(/Usage/);
    const unknown = await cli('frobnicate', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.output).toMatch(/Usage/);
  });

  it('store:create creates stores, and refuses a duplicate code', async () => {
    const created = await cli('store:create', 'SHOP1', '--name', 'Shop one', '--currency', 'usd', '--timezone', 'Europe/Paris');
    expect(created.code, created.output).toBe(0);
    expect(created.output).toContain('Created store SHOP1 (USD, Europe/Paris)');
    expect((await cli('store:create', 'SHOP2', '--name', 'Shop two')).code).toBe(0);
    const again = await cli('store:create', 'SHOP1', '--name', 'Again');
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/^code: /m);
  });

  it('admin:create creates an admin limited to --stores, and validates', async () => {
    const created = await cli('admin:create', 'shopkeeper', '--password', 'shopkeeper-password', '--stores', 'SHOP1');
    expect(created.code, created.output).toBe(0);
    expect(created.output).toContain('Created admin shopkeeper (stores: SHOP1)');

    const noPassword = await cli('admin:create', 'nopass');
    expect(noPassword.code).toBe(1);
    expect(noPassword.output).toMatch(/^password: /m);
    const unknownStore = await cli('admin:create', 'lost', '--password', 'lost-password-1', '--stores', 'NOPE');
    expect(unknownStore.code).toBe(1);
    expect(unknownStore.output).toMatch(/^storeCodes: .*NOPE/m);
    const full = await cli('admin:create', 'boss', '--password', 'boss-password-1');
    expect(full.code).toBe(0);
    expect(full.output).toContain('Created admin boss (all stores)');
  });

  it('apikey:create prints a key once that authenticates, within the admin’s stores', async () => {
    const created = await cli('apikey:create', 'shopkeeper', '--name', 'ci');
    expect(created.code, created.output).toBe(0);
    expect(created.lines).toHaveLength(2);
    keyId = created.lines[0].match(/API key (\S+) for shopkeeper/)![1];
    key = created.lines[1];
    expect(key.length).toBeGreaterThanOrEqual(32);

    const own = await requestWithKey('/api/SHOP1/segment', key);
    expect(own.status).toBe(200);
    expect(own.body.total.all).toBe(0);
    const other = await requestWithKey('/api/SHOP2/segment', key);
    expect(other.status).toBe(403);

    const unknownAdmin = await cli('apikey:create', 'nobody');
    expect(unknownAdmin.code).toBe(1);
  });

  it('apikey:revoke revokes the key, after which it is refused', async () => {
    expect(key, 'apikey:create must have run').toBeTruthy();
    const revoked = await cli('apikey:revoke', keyId);
    expect(revoked.code, revoked.output).toBe(0);
    expect(revoked.output).toContain(`Revoked ${keyId}`);
    const refused = await requestWithKey('/api/SHOP1/segment', key);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ code: 401, message: expect.any(String) });

    const again = await cli('apikey:revoke', keyId);
    expect(again.code).toBe(1);
    expect(again.output).toContain('No active API key');
  });

  it('apikey:revoke with a malformed id says there is no such key (exit 1), without crashing', async () => {
    const result = await cli('apikey:revoke', 'not-a-uuid');
    expect(result.code).toBe(1);
    expect(result.output).toContain('No active API key');
  });
});
