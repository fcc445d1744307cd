import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criterionSelection } from '../src/criteria/codec.ts';
import { ARMOR_LIMITS } from '../src/graphql/security.ts';
import { describeEachDatabase } from './support/databases.ts';
import { TestApp, type TestResponse } from './support/test-app.ts';

/**
 * The request limits of src/graphql/security.ts (graphql-armor) and src/graphql/builder.ts
 * (Pothos complexity): past them a query is refused with a clear 400 naming the limit, never a
 * 500; an unexpected error never leaks a stack; the REST documents stay within the limits.
 */

const repeat = (count: number, item: (i: number) => string) => Array.from({ length: count }, (_, i) => item(i)).join(' ');

/** `{ __type(name: "Query") { ofType { ... { name } } } }` with `depth` levels of fields. */
function nestedTypeQuery(depth: number, leaf = 'name') {
  let selection = leaf;
  for (let level = 0; level < depth - 2; level++) selection = `ofType { ${selection} }`;
  return `{ __type(name: "Query") { ${selection} } }`;
}

/** A selection that reads every criterion type's parameters, as the REST documents do. */
const FULL_PAGE = `fragment FullPage on SegmentPage { total { all filtered estimated } items {
  segmentId name description active createdAt customersCount averageTransactionAmount averageTransactions
  averageClv calculatedAt currency parts { segmentPartId criteria { ${criterionSelection()} } } } }`;

const pages = (count: number) =>
  `{ ${repeat(count, (i) => `page${i}: segments(storeCode: "DEFAULT", itemsOnPage: 50) { ...FullPage }`)} } ${FULL_PAGE}`;

/** Each limit: a query just within it (must run) and one just past it (must be refused). */
const LIMITS = [
  {
    name: 'depth',
    within: nestedTypeQuery(ARMOR_LIMITS.depth),
    past: nestedTypeQuery(ARMOR_LIMITS.depth + 1),
    message: new RegExp(`depth limit of ${ARMOR_LIMITS.depth}`, 'i'),
  },
  {
    name: 'aliases',
    within: `{ ${repeat(ARMOR_LIMITS.aliases, (i) => `a${i}: stores { code }`)} }`,
    past: `{ ${repeat(ARMOR_LIMITS.aliases + 1, (i) => `a${i}: stores { code }`)} }`,
    message: new RegExp(`aliases limit of ${ARMOR_LIMITS.aliases}`, 'i'),
  },
  {
    name: 'directives',
    within: `{ ${repeat(ARMOR_LIMITS.directives, () => `__typename @skip(if: false)`)} }`,
    past: `{ ${repeat(ARMOR_LIMITS.directives + 1, () => `__typename @skip(if: false)`)} }`,
    message: new RegExp(`directives limit of ${ARMOR_LIMITS.directives}`, 'i'),
  },
  {
    name: 'tokens',
    // Six tokens per inline fragment, plus `{` and `}`. (Not one field repeated: graphql-js
    // itself aborts validation past ~800 copies of one field.)
    within: `{ ${repeat(Math.floor((ARMOR_LIMITS.tokens - 50) / 6), () => '... on Query { __typename }')} }`,
    past: `{ ${repeat(Math.ceil((ARMOR_LIMITS.tokens + 100) / 6), () => '... on Query { __typename }')} }`,
    message: new RegExp(`token limit of ${ARMOR_LIMITS.tokens}`, 'i'),
  },
  {
    name: 'cost (graphql-armor)',
    // Cost grows 1.5x per level: many leaves at the deepest level allowed add up past the limit.
    within: nestedTypeQuery(ARMOR_LIMITS.depth, repeat(50, () => 'name')),
    past: nestedTypeQuery(ARMOR_LIMITS.depth, repeat(400, () => 'name')),
    message: new RegExp(`cost limit of ${ARMOR_LIMITS.cost}`, 'i'),
  },
  {
    name: 'complexity (Pothos)',
    // One full page of 50 segments is what REST asks for; two aliased ones are past the limit.
    within: pages(1),
    past: pages(2),
    message: /too complex.*complexity/i,
  },
];

/** Nothing in a response body looks like a stack trace or a source location. */
function expectNoStack(response: TestResponse) {
  expect(response.text).not.toMatch(/\bat \S+ \(/); // "at fn (file:line:col)"
  expect(response.text).not.toMatch(/\\n\s+at /); // a stack inside a JSON string
  expect(response.text).not.toMatch(/\.(ts|js|mjs):\d+:\d+/);
  expect(response.text).not.toContain('node_modules');
  expect(response.text).not.toMatch(/"stack"/);
}

describeEachDatabase('GraphQL limits', (kind) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
  });
  afterAll(() => t?.close());

  const post = (query: string, headers: Record<string, string> = {}) =>
    t.request('POST', '/graphql', { token, headers, body: { query } });

  for (const limit of LIMITS) {
    it(`${limit.name}: a query within the limit runs`, async () => {
      const response = await post(limit.within);
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      expect(response.body.errors, response.text.slice(0, 500)).toBeUndefined();
      expect(response.body.data).toBeTruthy();
    });

    // application/json is what clients get without an Accept header; the GraphQL-over-HTTP
    // media type requires a 4xx for a request that does not validate.
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      it(`${limit.name}: a query past the limit is refused with 400 naming it (Accept: ${accept})`, async () => {
        const response = await post(limit.past, { accept });
        const messages = (response.body?.errors ?? []).map((e: { message: string }) => e.message);
        expect(messages.some((m: string) => limit.message.test(m)), response.text.slice(0, 500)).toBe(true);
        expect(response.body.data ?? null).toBeNull();
        expect(response.status, response.text.slice(0, 500)).toBe(400);
        expectNoStack(response);
      });
    }
  }

  it('a refused query never runs a resolver', async () => {
    const before = await t.app.database.prisma.store.count();
    const past = `mutation { ${repeat(ARMOR_LIMITS.aliases + 1, (i) => `s${i}: createStore(code: "ALIAS${i}", name: "x") { __typename }`)} }`;
    const response = await post(past);
    expect(response.body.errors?.[0]?.message).toMatch(/aliases limit/i);
    expect(await t.app.database.prisma.store.count()).toBe(before);
  });

  describe('malformed requests', () => {
    const raw = (body: string, contentType = 'application/json') =>
      t.request('POST', '/graphql', { token, body, headers: { 'content-type': contentType } });

    it('a body that is not JSON is a 400', async () => {
      for (const body of ['{"query": ', '{query: "{ __typename }"}', 'not json at all']) {
        const response = await raw(body);
        expect(response.status, body).toBe(400);
        expect(response.body.errors?.length, body).toBeGreaterThan(0);
        expectNoStack(response);
      }
    });

    it('a JSON body that is not a GraphQL request is a 400', async () => {
      for (const body of ['[{"query": "{ __typename }"}]', '"{ __typename }"', '{"query": 5}', '{"query": "{ __typename }", "variables": 7}']) {
        const response = await raw(body);
        expect(response.status, body).toBe(400);
        expect(response.body.errors?.length, body).toBeGreaterThan(0);
      }
      // Without a query: 400 under the GraphQL-over-HTTP media type (graphql-yoga answers 200
      // under plain application/json, which that spec leaves as a SHOULD).
      const noQuery = await t.request('POST', '/graphql', {
        token,
        body: '{}',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      });
      expect(noQuery.status).toBe(400);
    });

    it('a syntax error is a 4xx naming the problem', async () => {
      const response = await post('{ segments(storeCode: "DEFAULT" { __typename } }', { accept: 'application/graphql-response+json' });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].message).toMatch(/syntax error/i);
    });
  });

  describe('the REST documents and GraphiQL stay within the limits', () => {
    let segmentId: string;

    beforeAll(async () => {
      const created = await t.request('POST', '/api/DEFAULT/segment', {
        token,
        body: {
          segment: {
            name: 'Within limits',
            parts: [
              { criteria: [{ type: 'transaction_count', min: 1, max: 3 }] },
              { criteria: [{ type: 'transaction_count', min: 2, max: 9 }] },
            ],
          },
        },
      });
      expect(created.status, created.text).toBe(200);
      segmentId = created.body.segmentId;
    });

    it('GET list with _itemsOnPage=50 works', async () => {
      const response = await t.request('GET', '/api/DEFAULT/segment?_itemsOnPage=50', { token });
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      expect(response.body.items.map((s: { segmentId: string }) => s.segmentId)).toContain(segmentId);
    });

    it('GET list with _itemsOnPage=50, ordered and filtered, works', async () => {
      const response = await t.request(
        'GET',
        '/api/DEFAULT/segment?_itemsOnPage=50&_page=1&_orderBy[name]=asc&_orderBy[createdAt]=desc&name[like]=within&active=false',
        { token },
      );
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      expect(response.body.total.filtered).toBeGreaterThanOrEqual(1);
    });

    it('GET one segment, PUT, activate, deactivate and DELETE work', async () => {
      const read = await t.request('GET', `/api/DEFAULT/segment/${segmentId}`, { token });
      expect(read.status, read.text.slice(0, 500)).toBe(200);
      const put = await t.request('PUT', `/api/DEFAULT/segment/${segmentId}`, {
        token,
        body: { segment: { name: 'Within limits', parts: read.body.parts } },
      });
      expect(put.status, put.text.slice(0, 500)).toBe(200);
      expect((await t.request('POST', `/api/DEFAULT/segment/${segmentId}/activate`, { token })).status).toBe(204);
      expect((await t.request('POST', `/api/DEFAULT/segment/${segmentId}/deactivate`, { token })).status).toBe(204);
      expect((await t.request('DELETE', `/api/DEFAULT/segment/${segmentId}`, { token })).status).toBe(204);
    });

    it('the full introspection query (GraphiQL) works', async () => {
      const response = await post(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }));
      expect(response.status, response.text.slice(0, 500)).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.__schema.queryType.name).toBe('Query');
    });
  });
});

describeEachDatabase('unexpected errors', (kind) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    // The database goes away under a running app: every query now fails unexpectedly.
    await t.app.database.close();
  });

  it('GraphQL answers 500 with a request id and no stack', async () => {
    const response = await t.graphql(`{ segments(storeCode: "DEFAULT") { __typename } }`, {}, token);
    expect(response.status).toBe(500);
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toEqual({
      message: expect.any(String),
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
    });
    expect(response.body.errors?.[0]?.message).not.toMatch(/pglite|prisma|database|closed/i);
    expectNoStack(response);
  });

  it('GraphQL answers 500 with no stack when the failure is in resolving the credentials', async () => {
    const response = await t.request('POST', '/graphql', { apiKey: 'sgk_anything', body: { query: '{ me { username } }' } });
    expect(response.status).toBe(500);
    expect(response.body.errors[0].extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) });
    expectNoStack(response);
  });

  it('REST answers 500 {code, message, requestId} with no stack', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/DEFAULT/segment', undefined],
      ['POST', '/api/admin/login_check', { username: 'admin', password: 'whatever-password' }],
    ] as const) {
      const response = await t.request(method, path, { token, body });
      expect(response.status, path).toBe(500);
      expect(response.body, path).toEqual({ code: 500, message: expect.any(String), requestId: expect.any(String) });
      expect(response.body.message).not.toMatch(/pglite|prisma|database|closed/i);
      expectNoStack(response);
    }
  });
});
