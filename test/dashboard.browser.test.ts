import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/generated/prisma/client.ts';
import { createHttpServer, type HttpServer } from '../src/http-server.ts';
import { ADMIN, TestApp } from './support/test-app.ts';

/** Debian's chromium (apt-get install chromium); playwright-core drives it, no browser download. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

const member = (n: number) => `0e000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

let t: TestApp;
beforeAll(async () => {
  t = await TestApp.start('pglite');
});
afterAll(() => t?.close());

describe('dashboard files', () => {
  it('serves the page, its script and its style, same-origin only, to GET and HEAD', async () => {
    const page = await t.request('GET', '/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.text).toContain('<script type="module" src="/dashboard/dashboard.js">');
    expect(page.text).toContain('<label for="username">');
    expect(page.text).not.toMatch(/https?:\/\//); // nothing from another host (no fonts, no CDN)

    const script = await t.request('GET', '/dashboard/dashboard.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain('segmentRecalculation(segmentId: $segmentId)');
    expect((await t.request('GET', '/dashboard/dashboard.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    // graphql-ws's browser client, from the installed package (no CDN).
    const client = await t.request('GET', '/dashboard/graphql-ws.js');
    expect(client.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(client.text).toContain('graphqlWs');
    expect(page.text).toContain('<script src="/dashboard/graphql-ws.js" defer>');

    const revalidated = await t.request('GET', '/dashboard/', { headers: { 'if-none-match': page.headers.get('etag')! } });
    expect(revalidated.status).toBe(304);
    const head = await t.request('HEAD', '/dashboard');
    expect([head.status, head.text]).toEqual([200, '']);
    expect((await t.request('POST', '/dashboard', { body: {} })).status).toBe(405);
    expect((await t.request('GET', '/dashboard/other.js')).status).toBe(404);
  });

  it('uses GraphQL documents the server accepts within its limits', async () => {
    // The page's documents as the page sends them: each one passes validation and the armor
    // limits and reaches its resolver (an unknown id gives a not-found answer).
    const script = (await t.request('GET', '/dashboard/dashboard.js')).text;
    const documents = new Map(
      [...script.matchAll(/\/\* GraphQL \*\/ `((query|mutation|subscription) (\w+)[^`]+)`/g)].map((match) => [match[3], match[1]]),
    );
    expect([...documents.keys()]).toEqual([
      'DashboardStores', 'DashboardSegments', 'DashboardRecalculate', 'DashboardJob', 'DashboardProgress', 'DashboardSegment', 'DashboardMembership',
    ]);
    const token = await t.login();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const run = (name: string, variables: Record<string, unknown>) => t.graphql(documents.get(name)!, variables, token);

    expect((await run('DashboardStores', {})).body.data.stores).toContainEqual({ code: 'DEFAULT', name: 'Default store' });
    expect((await run('DashboardSegments', { storeCode: 'DEFAULT', page: 1, itemsOnPage: 50 })).body).toEqual({
      data: { segments: { __typename: 'SegmentPage', total: { filtered: expect.any(Number) }, items: expect.any(Array) } },
    });
    expect((await run('DashboardRecalculate', { storeCode: 'DEFAULT', segmentId: unknown })).body).toEqual({
      data: { recalculateSegment: { __typename: 'NotFoundError', message: expect.stringContaining(unknown) } },
    });
    expect((await run('DashboardJob', { jobId: unknown })).body).toEqual({ data: { recalculationJob: {} } });
    expect((await run('DashboardSegment', { storeCode: 'DEFAULT', segmentId: unknown })).body).toEqual({ data: { segment: {} } });
    for (const name of ['DashboardProgress', 'DashboardMembership']) {
      const stream = await t.request('POST', '/graphql', {
        token,
        headers: { accept: 'text/event-stream' },
        body: { query: documents.get(name), variables: { segmentId: unknown } },
      });
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const next = /event: next\ndata: (.+)\n/.exec(stream.text);
      expect(JSON.parse(next![1]).errors.map((error: { extensions: { code: string } }) => error.extensions.code)).toEqual(['NOT_FOUND']);
    }
  });
});

const browserSuite = existsSync(CHROMIUM)
  ? 'dashboard in headless Chromium'
  : `dashboard in headless Chromium (skipped: ${CHROMIUM} is not installed; apt-get install chromium)`;

describe.skipIf(!existsSync(CHROMIUM))(browserSuite, () => {
  let http: HttpServer;
  let base: string;
  let browser: Browser;
  let store: Store;

  beforeAll(async () => {
    http = createHttpServer(t.app);
    base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    store = await t.app.services.stores.getByCode('DEFAULT');
  });
  afterAll(async () => {
    await browser?.close();
    await http?.close();
  });

  it('logs in, lists the segments and follows a recalculation live to COMPLETED', { timeout: 90_000 }, async () => {
    // Two women and a man; a segment of women, created active and calculated once.
    const imported = await t.app.services.ingest.importRecords(store, [
      { kind: 'member', customerId: member(1), firstName: 'Ada', gender: 'female' },
      { kind: 'member', customerId: member(2), firstName: 'Bea', gender: 'female' },
      { kind: 'member', customerId: member(3), firstName: 'Cid', gender: 'male' },
    ]);
    expect(imported.errors).toEqual([]);
    const token = await t.login();
    const created = await t.request('POST', '/api/DEFAULT/segment', {
      token,
      body: { segment: { name: 'Women', active: true, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] } },
    });
    expect(created.status).toBe(200);
    const inactive = await t.request('POST', '/api/DEFAULT/segment', {
      token,
      body: { segment: { name: 'Men (draft)', active: false, parts: [{ criteria: [{ type: 'gender', genders: ['male'] }] }] } },
    });
    expect(inactive.status).toBe(200);
    await t.app.services.jobs.drain();
    // Then the data changes: two more women, and Bea is now recorded as a man. No job runs
    // by itself here (no sweep in tests): the page's button is what recalculates.
    expect(
      (
        await t.app.services.ingest.importRecords(store, [
          { kind: 'member', customerId: member(4), firstName: 'Dot', gender: 'female' },
          { kind: 'member', customerId: member(5), firstName: 'Eve', gender: 'female' },
          { kind: 'member', customerId: member(2), firstName: 'Bea', gender: 'male' },
        ])
      ).errors,
    ).toEqual([]);

    const page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    // The wrong password below is answered 401, which Chromium logs as a failed resource.
    const problems = collectProblems(page, '/api/admin/login_check');
    await page.goto(`${base}/dashboard`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/invalid|credentials|password/i);

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Women', exact: true }) });
    await row.waitFor();
    expect(await page.getByLabel('Store').inputValue()).toBe('DEFAULT');
    expect(await page.getByRole('rowheader').allTextContents()).toEqual(['Men (draft)', 'Women']);
    expect(await row.locator('.customers').textContent()).toBe('2');
    expect(await row.locator('.active').textContent()).toBe('Yes');
    expect(await row.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    const draft = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Men (draft)' }) });
    expect(await draft.locator('time').textContent()).toBe('never');

    // Record every status text the row shows, in order.
    await row.locator('.run-status').evaluate((status) => {
      const seen: string[] = ((window as unknown as { statuses: string[] }).statuses = []);
      new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) seen.push(node.textContent ?? '');
      }).observe(status, { childList: true });
    });
    await page.getByRole('button', { name: 'Recalculate Women' }).click();

    const status = row.locator('.run-status');
    await status.filter({ hasText: /COMPLETED|FAILED|stopped/ }).waitFor({ timeout: 60_000 });
    expect(await status.textContent()).toBe('COMPLETED: 3 matched, 2 added, 1 removed');
    // The button comes back when the run is over, its membership batches included; joined/left
    // only come from the segmentMembershipChanged subscription.
    await page.getByRole('button', { name: 'Recalculate Women' }).and(page.locator(':enabled')).waitFor();
    expect(await row.locator('.membership').textContent()).toBe('2 joined, 1 left');
    expect(await row.locator('.customers').textContent()).toBe('3');
    const progress = page.getByRole('progressbar', { name: 'Recalculation of Women' });
    expect(await progress.evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([1, 1]);

    const statuses = await page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
    const phases = statuses.map((text) => text.split(/[ :…]/)[0]).filter((phase, i, all) => phase !== all[i - 1]);
    // The job's QUEUED may come from its event or from the mutation's answer, whichever is first.
    expect(phases).toEqual(['Starting', 'QUEUED', 'RUNNING', 'COMPLETED']);
    expect(statuses.filter((text) => text.startsWith('RUNNING'))).toContain('RUNNING 5 / 5');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    // The database agrees with what the page shows.
    const segment = await t.app.database.prisma.segment.findUniqueOrThrow({ where: { id: created.body.segmentId } });
    expect(segment.customersCount).toBe(3);
    expect(problems).toEqual([]);
    await logOut(page);
  });

  it('switches stores, renews an expired token, follows three runs at once and shows runs started elsewhere', { timeout: 90_000 }, async () => {
    await t.app.services.stores.ensure({ code: 'EU', name: 'Europe' });
    const token = await t.login();
    const names = ['Live A', 'Live B', 'Live C'];
    const genders = [['female'], ['male'], ['female', 'male']];
    for (const [i, name] of names.entries()) {
      const created = await t.request('POST', '/api/DEFAULT/segment', {
        token,
        body: { segment: { name, active: true, parts: [{ criteria: [{ type: 'gender', genders: genders[i] }] }] } },
      });
      expect(created.status).toBe(200);
    }
    await t.app.services.jobs.drain();

    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    // The token spoilt below is answered 401 once (then renewed), which Chromium logs.
    const problems = collectProblems(page, '/graphql');
    await page.goto(`${base}/dashboard`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('rowheader', { name: 'Live A' }).waitFor();

    // The store selector lists the stores the admin manages; EU has no segments.
    const select = page.getByLabel('Store');
    expect(await select.locator('option').allTextContents()).toEqual(['Default store (DEFAULT)', 'Europe (EU)']);
    await select.selectOption('EU');
    await page.getByRole('status').filter({ hasText: 'Store EU has no segments yet.' }).waitFor();
    expect(await page.getByRole('rowheader').count()).toBe(0);

    // An expired access token: the page trades the refresh token for a new pair and carries on.
    const spoilt = await page.evaluate(() => {
      const key = 'segments-dashboard.auth';
      const auth = JSON.parse(sessionStorage.getItem(key)!);
      sessionStorage.setItem(key, JSON.stringify({ ...auth, token: 'expired' }));
      return auth.refreshToken as string;
    });
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Store EU has no segments yet.' }).waitFor();
    const renewed = await page.evaluate(() => JSON.parse(sessionStorage.getItem('segments-dashboard.auth')!));
    expect(renewed.token).not.toBe('expired');
    expect(renewed.refreshToken).not.toBe(spoilt);
    await select.selectOption('DEFAULT');
    await page.getByRole('rowheader', { name: 'Live A' }).waitFor();

    // Three runs at once, each followed live to COMPLETED (members: Ada, Dot, Eve are women; Bea
    // and Cid men).
    for (const name of names) await page.getByRole('button', { name: `Recalculate ${name}` }).click();
    const expected = ['COMPLETED: 3 matched, 0 added, 0 removed', 'COMPLETED: 2 matched, 0 added, 0 removed', 'COMPLETED: 5 matched, 0 added, 0 removed'];
    for (const [i, name] of names.entries()) {
      const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
      const status = row.locator('.run-status');
      await status.filter({ hasText: /COMPLETED|FAILED|stopped/ }).waitFor({ timeout: 60_000 });
      expect(await status.textContent()).toBe(expected[i]);
      // Nobody joined or left, so no membership event came: the run still ends.
      await row.getByRole('button', { name: `Recalculate ${name}` }).and(page.locator(':enabled')).waitFor();
      expect(await row.locator('.membership').textContent()).toBe('0 joined, 0 left');
    }

    // A run this page did not start (another client's request, the schedule, an import) shows
    // too, and the row's counts follow it without a reload: a new woman joins Live A.
    expect((await t.app.services.ingest.importRecords(store, [{ kind: 'member', customerId: member(6), firstName: 'Fay', gender: 'female' }])).errors).toEqual([]);
    const liveA = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Live A', exact: true }) });
    expect(await liveA.locator('.customers').textContent()).toBe('3');
    const elsewhere = await t.graphql(
      `mutation ($id: ID!) { recalculateSegment(storeCode: "DEFAULT", segmentId: $id) { ... on RecalculationJob { id } } }`,
      { id: await liveA.getAttribute('data-segment-id') },
      token,
    );
    expect(elsewhere.body.data.recalculateSegment.id).toMatch(/^[0-9a-f-]{36}$/);
    await liveA.locator('.run-status').filter({ hasText: 'COMPLETED: 4 matched, 1 added, 0 removed' }).waitFor({ timeout: 60_000 });
    await liveA.locator('.membership').filter({ hasText: '1 joined, 0 left' }).waitFor();
    expect(await liveA.locator('.customers').textContent()).toBe('4');
    expect(await page.locator('#live-status').textContent()).toBe('Live');
    expect(problems).toEqual([]);
    await logOut(page);
  });

  /** Page errors, console errors and failed requests; a 401 from `expected401` is expected. */
  function collectProblems(page: Page, expected401: string) {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      const expected = message.location().url.endsWith(expected401) && message.text().includes('401');
      if ((message.type() === 'error' || message.type() === 'warning') && !expected) problems.push(`console: ${message.text()}`);
    });
    page.on('requestfailed', (request) => {
      // The page aborts its own SSE streams when a run is over.
      if (!(request.url().endsWith('/graphql') && request.failure()?.errorText === 'net::ERR_ABORTED'))
        problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });
    return problems;
  }

  async function logOut(page: Page) {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  }
});
