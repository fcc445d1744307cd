import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { document, expectDocumented } from './support/openapi.ts';
import { TestApp } from './support/test-app.ts';

type Json = Record<string, any>;

/**
 * Walks every operation the OpenAPI document lists (read from the file, not a copied list):
 * each must be served, and its success and its documented error answers must validate.
 */
const operations = Object.entries(document.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json)
    .filter(([method]) => ['get', 'post', 'put', 'delete'].includes(method))
    .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation: operation as Json })),
);

describeEachDatabase('every operation of segment-api.openapi.json', (kind) => {
  let t: TestApp;
  let token: string;
  let memberToken: string;
  const segmentBody = (name: string) => ({
    segment: { name, active: true, parts: [{ criteria: [{ type: 'gender', genders: ['female'] }] }] },
  });

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    const store = await t.app.services.stores.getByCode('DEFAULT');
    await t.app.services.ingest.importRecords(store, [
      { kind: 'member', customerId: '40000000-0000-4000-8000-000000000001', gender: 'female', email: 'm@example.com', password: 'member-pass' },
    ]);
    memberToken = (await t.request('POST', '/api/DEFAULT/member/login_check', { body: { username: 'm@example.com', password: 'member-pass' } })).body.token;
  });
  afterAll(() => t?.close());

  it('lists the nine documented operations', () => {
    expect(operations.map((o) => o.operation.operationId).sort()).toEqual([
      '_getSegmentAssociation',
      'segmentDelete',
      'segmentGet',
      'segmentGetList',
      'segmentGetMembers',
      'segmentPost',
      'segmentPostActivate',
      'segmentPostDeactivate',
      'segmentPut',
    ]);
  });

  for (const { path, method, operation } of operations) {
    it(`${method} ${path} (${operation.operationId}) answers as documented`, async () => {
      const created = await t.request('POST', '/api/DEFAULT/segment', { token, body: segmentBody(`walk ${operation.operationId}`) });
      expect(created.status).toBe(200);
      await t.app.services.jobs.drain();
      const concrete = (segment: string, store = 'DEFAULT') =>
        path.replace('{storeCode}', store).replace('{segment}', segment).replace('{resourceName}', 'campaign');
      const body = method === 'POST' || method === 'PUT' ? segmentBody(`walk ${operation.operationId} body`) : undefined;
      const send = (url: string, options: { token?: string; body?: unknown } = { token }) =>
        t.request(method, url, { ...options, body: options.body ?? body });
      const documented = Object.keys(operation.responses).map(Number);

      // The success answer.
      const success = await send(concrete(created.body.segmentId));
      expect(success.status, success.text).toBeLessThan(300);
      expect(documented).toContain(success.status);
      expectDocumented(operation.operationId, success);

      // Each documented error answer this operation can give.
      if (documented.includes(404)) {
        if (path.includes('{segment}')) {
          const missing = await send(concrete('00000000-0000-4000-8000-00000000dead'));
          expect(missing.status).toBe(404);
          expectDocumented(operation.operationId, missing);
        }
        const store = await send(concrete(created.body.segmentId, 'NO_SUCH_STORE'));
        expect(store.status).toBe(404);
        expectDocumented(operation.operationId, store);
      }
      if (documented.includes(403)) {
        const forbidden = await send(concrete(created.body.segmentId), { token: memberToken });
        expect(forbidden.status).toBe(403);
        expectDocumented(operation.operationId, forbidden);
      }
      if (documented.includes(400) && body) {
        const invalid = await send(concrete(created.body.segmentId), { token, body: { segment: { name: '' } } });
        expect(invalid.status).toBe(400);
        expectDocumented(operation.operationId, invalid);
      }
      const anonymous = await t.request(method, concrete(created.body.segmentId), { body });
      expect(anonymous.status).toBe(401);
      expectDocumented(operation.operationId, anonymous);
    });
  }
});
