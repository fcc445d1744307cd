import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { freshDatabase, type DatabaseKind } from './databases.ts';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** The app built by the same factory as production, on a fresh database, called in-process. */
export class TestApp {
  private constructor(
    public readonly app: App,
    public readonly kind: DatabaseKind,
  ) {}

  static async start(
    kind: DatabaseKind,
    overrides: Partial<AppConfig> = {},
    options: { onQuery?: (sql: string) => void } = {},
  ): Promise<TestApp> {
    const config = {
      ...loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'test-secret', ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }),
      // No schedule and no periodic sweep in-process: tests trigger and await work explicitly,
      // and a sweep landing mid-test would add queries to the counts some tests assert.
      scheduleMinutes: 0,
      jobSweepSeconds: 3600,
      ...overrides,
    };
    const app = await buildApp(config, { database: await freshDatabase(kind, options) });
    await app.services.stores.ensure({ code: 'DEFAULT', name: 'Default store' });
    await app.services.auth.ensureBootstrapAdmin();
    return new TestApp(app, kind);
  }

  async close() {
    await this.app.close();
  }

  /** Any HTTP request; `body` objects are sent as JSON, strings as they are. */
  async request(
    method: string,
    path: string,
    options: { token?: string; apiKey?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<TestResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.apiKey) headers['x-auth-token'] = options.apiKey;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.app.yoga.fetch(`http://test${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, headers: response.headers, text };
  }

  /** A GraphQL operation over HTTP POST /graphql. */
  async graphql<T = any>(query: string, variables: Record<string, unknown> = {}, token?: string) {
    return this.request('POST', '/graphql', { token, body: { query, variables } }) as Promise<
      TestResponse<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>
    >;
  }

  async login(username = ADMIN.username, password = ADMIN.password): Promise<string> {
    const response = await this.request('POST', '/api/admin/login_check', { body: { username, password } });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
    return response.body.token;
  }
}
