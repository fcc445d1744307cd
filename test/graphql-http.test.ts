import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp } from './support/test-app.ts';

/**
 * GraphQL-over-HTTP conformance (graphql-http's server audits) against a real listening server,
 * with the admin's JWT injected into every request the audits make.
 */
describeEachDatabase('GraphQL over HTTP conformance', (kind) => {
  let t: TestApp;
  let server: Server;
  let url = '';
  let token = '';

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    server = createServer(t.app.yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await t?.close();
  });

  const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };

  const audits = serverAudits({ url: () => url, fetchFn });

  it('the fetchFn the audits use authenticates as the admin', async () => {
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ me { username } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: { username: 'admin' } } });
  });

  it('has MUST audits to run', () => {
    expect(audits.filter((audit) => audit.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });

  for (const audit of audits.filter((a) => a.name.startsWith('MUST'))) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      if (result.status !== 'ok') {
        const body = await result.response.text().catch(() => '<unreadable body>');
        console.error(`graphql-http audit failed: ${audit.name}\n  reason: ${result.reason}\n  status: ${result.response.status}\n  body: ${body.slice(0, 500)}`);
        expect.fail(`${audit.name}: ${result.reason}`);
      }
      expect(result.status).toBe('ok');
    });
  }
});
