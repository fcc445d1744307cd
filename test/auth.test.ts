import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { ADMIN, TestApp, type TestResponse } from './support/test-app.ts';

/**
 * DOMAIN.md sections 6 and 9: admin login, refresh tokens, JWT and API-key credentials on
 * GraphQL and REST, hashing at rest, login throttling, member tokens and store-limited admins.
 */

const TEST_SECRET = 'test-secret';
const SEGMENT_BODY = { segment: { name: 'Auth segment', parts: [{ criteria: [{ type: 'transaction_count', min: 1, max: 3 }] }] } };

type Credentials = { token?: string; apiKey?: string };

const ERROR_401 = { code: 401, message: expect.any(String) };
const ERROR_403 = { code: 403, message: expect.any(String) };

describeEachDatabase('authentication and authorisation', (kind) => {
  let t: TestApp;
  let adminToken: string;
  let defaultStoreId: string;
  let userCounter = 0;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    adminToken = await t.login();
    defaultStoreId = (await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } })).id;
  });
  afterAll(() => t?.close());

  const gql = (query: string, variables: Record<string, unknown> = {}, auth: Credentials = {}) =>
    t.request('POST', '/graphql', { ...auth, body: { query, variables } });

  const login = (body: unknown) => t.request('POST', '/api/admin/login_check', { body });
  const refresh = (body: unknown) => t.request('POST', '/api/token/refresh', { body });

  /** A GraphQL error answered with the documented status and extensions.code. */
  function expectGraphqlError(response: TestResponse, status: number, code: string) {
    expect(response.status, response.text).toBe(status);
    expect(response.body.errors?.length, response.text).toBeGreaterThan(0);
    expect(response.body.errors[0].extensions?.code, response.text).toBe(code);
    expect(response.body.data ?? null).toBeNull();
  }

  /** A fresh admin created through the service; returns its username and password. */
  async function newAdmin(storeCodes?: string[]) {
    const username = `user-${kind}-${++userCounter}`;
    const password = `password-${userCounter}-long`;
    await t.app.services.auth.createAdmin({ username, password, storeCodes });
    return { username, password };
  }

  const ME = `{ me { id username allStores storeCodes } }`;

  describe('POST /api/admin/login_check', () => {
    it('returns a JWT and a refresh token for good credentials', async () => {
      const response = await login({ username: ADMIN.username, password: ADMIN.password });
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({ token: expect.any(String), refresh_token: expect.any(String) });
      expect(response.body.refresh_token.length).toBeGreaterThanOrEqual(32);
      const claims = jwt.verify(response.body.token, TEST_SECRET) as jwt.JwtPayload;
      const admin = await t.app.database.prisma.admin.findUniqueOrThrow({ where: { username: ADMIN.username } });
      expect(claims.sub).toBe(admin.id);
      expect(claims.kind).toBe('admin');
    });

    it('answers 401 {code, message} for a wrong password', async () => {
      const response = await login({ username: ADMIN.username, password: 'not-the-password' });
      expect(response.status).toBe(401);
      expect(response.body).toEqual(ERROR_401);
    });

    it('answers 401 {code, message} for an unknown username, like a wrong password', async () => {
      const response = await login({ username: `nobody-${randomUUID()}`, password: ADMIN.password });
      expect(response.status).toBe(401);
      expect(response.body).toEqual(ERROR_401);
      const wrongPassword = await login({ username: ADMIN.username, password: 'not-the-password' });
      // The message must not tell an unknown user from a wrong password.
      expect(response.body.message).toBe(wrongPassword.body.message);
      expect((await login({ username: ADMIN.username, password: ADMIN.password })).status).toBe(200);
    });

    it('answers the documented 400 when fields are missing', async () => {
      const response = await login({ username: ADMIN.username });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        code: 400,
        message: 'Validation failed',
        errors: [{ message: expect.any(String), parameters: {}, plural: null, code: 'required', path: 'password' }],
      });

      const empty = await login({});
      expect(empty.status).toBe(400);
      expect(empty.body.code).toBe(400);
      expect(empty.body.message).toBe('Validation failed');
      expect(empty.body.errors.map((e: { path: string; code: string }) => [e.path, e.code])).toEqual([
        ['username', 'required'],
        ['password', 'required'],
      ]);
      for (const error of empty.body.errors) {
        expect(Object.keys(error).sort()).toEqual(['code', 'message', 'parameters', 'path', 'plural']);
      }
    });

    it('answers 400 for a wrongly typed field, a body that is not JSON, or not an object', async () => {
      const typed = await login({ username: ADMIN.username, password: 12345678 });
      expect(typed.status).toBe(400);
      expect(typed.body.errors).toEqual([expect.objectContaining({ path: 'password', code: 'invalid_type' })]);
      for (const body of ['{"username": ', '["admin", "x"]', '"admin"']) {
        const response = await login(body);
        expect(response.status, body).toBe(400);
        expect(response.body).toMatchObject({ code: 400, message: 'Validation failed', errors: [expect.any(Object)] });
      }
    });
  });

  describe('POST /api/token/refresh', () => {
    it('gives a new pair, and the same refresh token works only once', async () => {
      const first = await login({ username: ADMIN.username, password: ADMIN.password });
      const renewed = await refresh({ refresh_token: first.body.refresh_token });
      expect(renewed.status, renewed.text).toBe(200);
      expect(renewed.body).toEqual({ token: expect.any(String), refresh_token: expect.any(String) });
      expect(renewed.body.refresh_token).not.toBe(first.body.refresh_token);
      const me = await gql(ME, {}, { token: renewed.body.token });
      expect(me.body.data?.me.username).toBe(ADMIN.username);

      const again = await refresh({ refresh_token: first.body.refresh_token });
      expect(again.status).toBe(401);
      expect(again.body).toEqual(ERROR_401);

      // The new refresh token works, once.
      expect((await refresh({ refresh_token: renewed.body.refresh_token })).status).toBe(200);
      expect((await refresh({ refresh_token: renewed.body.refresh_token })).status).toBe(401);
    });

    it('lets only one of two simultaneous uses of a refresh token succeed', async () => {
      const pair = await login({ username: ADMIN.username, password: ADMIN.password });
      const results = await Promise.all([
        refresh({ refresh_token: pair.body.refresh_token }),
        refresh({ refresh_token: pair.body.refresh_token }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('answers 401 for an unknown refresh token and 400 without one', async () => {
      const unknown = await refresh({ refresh_token: 'not-a-refresh-token' });
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(ERROR_401);
      const missing = await refresh({});
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({
        code: 400,
        message: 'Validation failed',
        errors: [{ path: 'refresh_token', code: 'required', parameters: {}, plural: null }],
      });
    });

    it('does not accept an access token as a refresh token', async () => {
      const response = await refresh({ refresh_token: adminToken });
      expect(response.status).toBe(401);
    });
  });

  describe('JWT bearer', () => {
    it('works on GraphQL', async () => {
      const response = await gql(ME, {}, { token: adminToken });
      expect(response.status, response.text).toBe(200);
      expect(response.body.data.me).toMatchObject({ username: ADMIN.username, allStores: true, storeCodes: [] });
    });

    it('works on REST', async () => {
      const created = await t.request('POST', '/api/DEFAULT/segment', { token: adminToken, body: SEGMENT_BODY });
      expect(created.status, created.text).toBe(200);
      const list = await t.request('GET', '/api/DEFAULT/segment', { token: adminToken });
      expect(list.status, list.text).toBe(200);
      expect(list.body.items.map((s: { segmentId: string }) => s.segmentId)).toContain(created.body.segmentId);
    });

    it('refuses bad, tampered, foreign, expired and unknown-subject tokens with 401', async () => {
      const admin = await t.app.database.prisma.admin.findUniqueOrThrow({ where: { username: ADMIN.username } });
      const [header, payload] = adminToken.split('.');
      const bad = {
        garbage: 'not.a.jwt',
        tampered: `${header}.${payload}.${'A'.repeat(43)}`,
        otherSecret: jwt.sign({ kind: 'admin' }, 'another-secret', { subject: admin.id }),
        expired: jwt.sign({ kind: 'admin', exp: Math.floor(Date.now() / 1000) - 3600 }, TEST_SECRET, { subject: admin.id }),
        unsigned: jwt.sign({ kind: 'admin' }, '', { subject: admin.id, algorithm: 'none' }),
        unknownAdmin: jwt.sign({ kind: 'admin' }, TEST_SECRET, { subject: randomUUID() }),
        noKind: jwt.sign({}, TEST_SECRET, { subject: admin.id }),
      };
      for (const [name, token] of Object.entries(bad)) {
        const rest = await t.request('GET', '/api/DEFAULT/segment', { token });
        expect(rest.status, `REST ${name}`).toBe(401);
        expect(rest.body, `REST ${name}`).toEqual(ERROR_401);
        expectGraphqlError(await gql(ME, {}, { token }), 401, 'UNAUTHENTICATED');
      }
      // A malformed Authorization header is a bad credential too, not an anonymous call.
      const basic = await t.request('GET', '/api/DEFAULT/segment', { headers: { authorization: 'Basic YWRtaW46eA==' } });
      expect(basic.status).toBe(401);
    });
  });

  describe('API keys', () => {
    const CREATE = `mutation Create($name: String!) { createApiKey(name: $name) { key apiKey { id name prefix createdAt revokedAt } } }`;
    const LIST = `{ apiKeys { id name prefix revokedAt } }`;
    const REVOKE = `mutation Revoke($id: ID!) { revokeApiKey(apiKeyId: $id) {
      __typename ... on MutationRevokeApiKeySuccess { data } ... on NotFoundError { message } } }`;

    it('are created once, listed, used as X-AUTH-TOKEN, stored hashed, and revoked', async () => {
      const created = await gql(CREATE, { name: 'ci' }, { token: adminToken });
      expect(created.status, created.text).toBe(200);
      const { key, apiKey } = created.body.data.createApiKey;
      expect(key).toEqual(expect.any(String));
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect(apiKey).toMatchObject({ name: 'ci', revokedAt: null });
      expect(key.startsWith(apiKey.prefix)).toBe(true);

      const listed = await gql(LIST, {}, { token: adminToken });
      expect(listed.body.data.apiKeys).toContainEqual({ id: apiKey.id, name: 'ci', prefix: apiKey.prefix, revokedAt: null });
      // The key itself is never shown again.
      expect(listed.text).not.toContain(key);

      // Used as X-AUTH-TOKEN, on GraphQL and REST.
      const me = await gql(ME, {}, { apiKey: key });
      expect(me.status, me.text).toBe(200);
      expect(me.body.data.me.username).toBe(ADMIN.username);
      const list = await t.request('GET', '/api/DEFAULT/segment', { apiKey: key });
      expect(list.status, list.text).toBe(200);
      const post = await t.request('POST', '/api/DEFAULT/segment', { apiKey: key, body: { segment: { ...SEGMENT_BODY.segment, name: 'By key' } } });
      expect(post.status, post.text).toBe(200);

      // Stored hashed: no row holds the key or its secret part.
      const rows = await t.app.database.prisma.apiKey.findMany();
      expect(rows.length).toBeGreaterThan(0);
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(key.slice(apiKey.prefix.length));
      for (const row of rows) expect(Object.values(row)).not.toContain(key);

      // Revoked, it answers 401 everywhere.
      const revoked = await gql(REVOKE, { id: apiKey.id }, { token: adminToken });
      expect(revoked.body.data.revokeApiKey).toEqual({ __typename: 'MutationRevokeApiKeySuccess', data: true });
      const restAfter = await t.request('GET', '/api/DEFAULT/segment', { apiKey: key });
      expect(restAfter.status).toBe(401);
      expect(restAfter.body).toEqual(ERROR_401);
      expectGraphqlError(await gql(ME, {}, { apiKey: key }), 401, 'UNAUTHENTICATED');

      const listedAfter = await gql(LIST, {}, { token: adminToken });
      const row = listedAfter.body.data.apiKeys.find((k: { id: string }) => k.id === apiKey.id);
      expect(row.revokedAt).toEqual(expect.any(String));

      const twice = await gql(REVOKE, { id: apiKey.id }, { token: adminToken });
      expect(twice.body.data.revokeApiKey.__typename).toBe('NotFoundError');
    });

    it('revoking a malformed key id is a NotFoundError, never a 500', async () => {
      const response = await gql(REVOKE, { id: 'not-a-uuid' }, { token: adminToken });
      expect(response.status, response.text).toBe(200);
      expect(response.body.data?.revokeApiKey?.__typename, response.text).toBe('NotFoundError');
    });

    it('refuses an unknown key with 401', async () => {
      const rest = await t.request('GET', '/api/DEFAULT/segment', { apiKey: 'sgk_not-a-real-key' });
      expect(rest.status).toBe(401);
      expect(rest.body).toEqual(ERROR_401);
      expectGraphqlError(await gql(ME, {}, { apiKey: 'sgk_not-a-real-key' }), 401, 'UNAUTHENTICATED');
    });

    it("cannot be listed or revoked by another admin", async () => {
      const created = await gql(CREATE, { name: 'mine' }, { token: adminToken });
      const { key, apiKey } = created.body.data.createApiKey;
      const other = await newAdmin();
      const otherToken = await t.login(other.username, other.password);

      const otherList = await gql(LIST, {}, { token: otherToken });
      expect(otherList.body.data.apiKeys.map((k: { id: string }) => k.id)).not.toContain(apiKey.id);
      const revoke = await gql(REVOKE, { id: apiKey.id }, { token: otherToken });
      expect(revoke.body.data.revokeApiKey.__typename).toBe('NotFoundError');
      expect((await t.request('GET', '/api/DEFAULT/segment', { apiKey: key })).status).toBe(200);
    });

    it('of a store-limited admin carry its limits', async () => {
      await t.app.services.stores.ensure({ code: 'KEYSTORE', name: 'Key store' });
      const limited = await newAdmin(['KEYSTORE']);
      const limitedToken = await t.login(limited.username, limited.password);
      const created = await gql(CREATE, { name: 'limited' }, { token: limitedToken });
      const key = created.body.data.createApiKey.key;
      expect((await t.request('GET', '/api/KEYSTORE/segment', { apiKey: key })).status).toBe(200);
      const other = await t.request('GET', '/api/DEFAULT/segment', { apiKey: key });
      expect(other.status).toBe(403);
      expect(other.body).toEqual(ERROR_403);
    });
  });

  describe('passwords', () => {
    it('are stored as scrypt hashes, never as given', async () => {
      const created = await gql(
        `mutation { createAdmin(username: "hashed-${kind}", password: "hashed-password-1") { __typename ... on Admin { id } } }`,
        {},
        { token: adminToken },
      );
      expect(created.body.data.createAdmin.__typename, created.text).toBe('Admin');
      const admins = await t.app.database.prisma.admin.findMany();
      const byName = new Map(admins.map((admin) => [admin.username, admin.passwordHash]));
      for (const [username, password] of [
        [ADMIN.username, ADMIN.password],
        [`hashed-${kind}`, 'hashed-password-1'],
      ]) {
        const hash = byName.get(username)!;
        expect(hash.startsWith('scrypt$')).toBe(true);
        expect(hash).not.toContain(password);
      }
      // Two admins with the same password still get different hashes (salted).
      await t.app.services.auth.createAdmin({ username: `salted-${kind}`, password: 'hashed-password-1' });
      const salted = await t.app.database.prisma.admin.findUniqueOrThrow({ where: { username: `salted-${kind}` } });
      expect(salted.passwordHash).not.toBe(byName.get(`hashed-${kind}`));
    });
  });

  describe('login throttling', () => {
    it('uses the default limit of 5 failures', () => {
      expect(t.app.config.loginMaxFailures).toBe(5);
    });

    it('refuses a username with 429 after the limit, while another username still logs in', async () => {
      const limit = t.app.config.loginMaxFailures;
      const victim = await newAdmin();
      for (let i = 0; i < limit; i++) {
        const response = await login({ username: victim.username, password: 'wrong-password' });
        expect(response.status, `failure ${i + 1}`).toBe(401);
      }
      // Past the limit even the right password is refused for now.
      const blocked = await login({ username: victim.username, password: victim.password });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual({ code: 429, message: expect.any(String) });
      const blockedGraphql = await gql(`mutation { adminLogin(username: "${victim.username}", password: "${victim.password}") { token } }`);
      expectGraphqlError(blockedGraphql, 429, 'TOO_MANY_REQUESTS');

      // Another username is not affected.
      const other = await login({ username: ADMIN.username, password: ADMIN.password });
      expect(other.status).toBe(200);
    });

    it('holds the limit when failed attempts arrive in parallel', async () => {
      const limit = t.app.config.loginMaxFailures;
      const user = await newAdmin();
      const attempts = await Promise.all(
        Array.from({ length: 2 * limit }, () => login({ username: user.username, password: 'wrong-password' })),
      );
      const statuses = attempts.map((r) => r.status);
      expect(statuses.every((status) => status === 401 || status === 429), statuses.join(',')).toBe(true);
      // No more than `limit` passwords may be tried for one username within the window.
      expect(statuses.filter((status) => status === 401).length, statuses.join(',')).toBeLessThanOrEqual(limit);
      expect((await login({ username: user.username, password: user.password })).status).toBe(429);
    });

    it('still lets the right password in just under the limit, and a success resets the count', async () => {
      const limit = t.app.config.loginMaxFailures;
      const user = await newAdmin();
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < limit - 1; i++) {
          expect((await login({ username: user.username, password: 'wrong-password' })).status).toBe(401);
        }
        const ok = await login({ username: user.username, password: user.password });
        expect(ok.status, `round ${round}`).toBe(200);
      }
    });
  });

  describe('member tokens', () => {
    const memberToken = () => jwt.sign({ kind: 'member', storeId: defaultStoreId }, TEST_SECRET, { subject: randomUUID(), expiresIn: 3600 });

    it('get 403 on management paths', async () => {
      const token = memberToken();
      const list = await t.request('GET', '/api/DEFAULT/segment', { token });
      expect(list.status).toBe(403);
      expect(list.body).toEqual(ERROR_403);
      const post = await t.request('POST', '/api/DEFAULT/segment', { token, body: SEGMENT_BODY });
      expect(post.status).toBe(403);
      expect(post.body).toEqual(ERROR_403);
    });

    it('get 403 FORBIDDEN on GraphQL segment queries and admin operations', async () => {
      const token = memberToken();
      expectGraphqlError(await gql(`{ segments(storeCode: "DEFAULT") { __typename } }`, {}, { token }), 403, 'FORBIDDEN');
      expectGraphqlError(
        await gql(`{ segment(storeCode: "DEFAULT", segmentId: "${randomUUID()}") { __typename } }`, {}, { token }),
        403,
        'FORBIDDEN',
      );
      expectGraphqlError(await gql(ME, {}, { token }), 403, 'FORBIDDEN');
      expectGraphqlError(await gql(`{ stores { code } }`, {}, { token }), 403, 'FORBIDDEN');
      expectGraphqlError(await gql(`mutation { createApiKey(name: "x") { key } }`, {}, { token }), 403, 'FORBIDDEN');
    });
  });

  describe('stores and store-limited admins', () => {
    const CREATE_STORE = `mutation CreateStore($code: String!, $name: String!, $currency: String, $timezone: String) {
      createStore(code: $code, name: $name, currency: $currency, timezone: $timezone) {
        __typename ... on Store { code name currency timezone } ... on ValidationError { errors { path code } } } }`;
    const CREATE_ADMIN = `mutation CreateAdmin($username: String!, $password: String!, $storeCodes: [String!]) {
      createAdmin(username: $username, password: $password, storeCodes: $storeCodes) {
        __typename ... on Admin { id username allStores storeCodes } ... on ValidationError { errors { path code } } } }`;
    const STORES = `{ stores { code } }`;

    let limitedToken: string;

    beforeAll(async () => {
      const store = await gql(CREATE_STORE, { code: 'OTHER', name: 'Other store', currency: 'usd', timezone: 'Europe/Warsaw' }, { token: adminToken });
      expect(store.body.data?.createStore, store.text).toEqual({
        __typename: 'Store',
        code: 'OTHER',
        name: 'Other store',
        currency: 'USD',
        timezone: 'Europe/Warsaw',
      });
      const admin = await gql(CREATE_ADMIN, { username: `limited-${kind}`, password: 'limited-password-1', storeCodes: ['OTHER'] }, { token: adminToken });
      expect(admin.body.data?.createAdmin, admin.text).toMatchObject({
        __typename: 'Admin',
        username: `limited-${kind}`,
        allStores: false,
        storeCodes: ['OTHER'],
      });
      limitedToken = await t.login(`limited-${kind}`, 'limited-password-1');
    });

    it('createStore refuses a duplicate code as a validation error', async () => {
      const again = await gql(CREATE_STORE, { code: 'OTHER', name: 'Again' }, { token: adminToken });
      expect(again.status).toBe(200);
      expect(again.body.data.createStore).toEqual({ __typename: 'ValidationError', errors: [{ path: 'code', code: 'not_unique' }] });
    });

    it('createAdmin refuses an unknown store code', async () => {
      const response = await gql(CREATE_ADMIN, { username: `ghost-${kind}`, password: 'ghost-password-1', storeCodes: ['NOPE'] }, { token: adminToken });
      expect(response.body.data.createAdmin).toEqual({ __typename: 'ValidationError', errors: [{ path: 'storeCodes', code: 'not_found' }] });
    });

    it('stores lists every store for an unrestricted admin and only its own for a limited one', async () => {
      const all = await gql(STORES, {}, { token: adminToken });
      const codes = all.body.data.stores.map((s: { code: string }) => s.code);
      expect(codes).toEqual(expect.arrayContaining(['DEFAULT', 'OTHER']));
      expect(codes.length).toBe(await t.app.database.prisma.store.count());
      const mine = await gql(STORES, {}, { token: limitedToken });
      expect(mine.body.data.stores).toEqual([{ code: 'OTHER' }]);
    });

    it('me shows the limits', async () => {
      const me = await gql(ME, {}, { token: limitedToken });
      expect(me.body.data.me).toMatchObject({ username: `limited-${kind}`, allStores: false, storeCodes: ['OTHER'] });
    });

    it('a limited admin gets 200 on its own store and 403 on another, over REST', async () => {
      const own = await t.request('GET', '/api/OTHER/segment', { token: limitedToken });
      expect(own.status, own.text).toBe(200);
      const created = await t.request('POST', '/api/OTHER/segment', { token: limitedToken, body: SEGMENT_BODY });
      expect(created.status, created.text).toBe(200);

      const other = await t.request('GET', '/api/DEFAULT/segment', { token: limitedToken });
      expect(other.status).toBe(403);
      expect(other.body).toEqual(ERROR_403);
      const post = await t.request('POST', '/api/DEFAULT/segment', { token: limitedToken, body: SEGMENT_BODY });
      expect(post.status).toBe(403);
      expect(post.body).toEqual(ERROR_403);
      // A segment of the other store stays out of reach, whatever its id.
      const foreign = await t.request('POST', '/api/DEFAULT/segment', { token: adminToken, body: { segment: { ...SEGMENT_BODY.segment, name: 'Foreign' } } });
      const read = await t.request('GET', `/api/DEFAULT/segment/${foreign.body.segmentId}`, { token: limitedToken });
      expect(read.status).toBe(403);
    });

    it('a limited admin gets its own store and 403 FORBIDDEN on another, over GraphQL', async () => {
      const own = await gql(`{ segments(storeCode: "OTHER") { __typename ... on SegmentPage { total { all } } } }`, {}, { token: limitedToken });
      expect(own.status, own.text).toBe(200);
      expect(own.body.data.segments.__typename).toBe('SegmentPage');
      expectGraphqlError(
        await gql(`{ segments(storeCode: "DEFAULT") { __typename } }`, {}, { token: limitedToken }),
        403,
        'FORBIDDEN',
      );
    });

    it('a limited admin may not create stores (403) nor admins (403)', async () => {
      const store = await gql(CREATE_STORE, { code: `LIMITED_${kind}`, name: 'Nope' }, { token: limitedToken });
      expectGraphqlError(store, 403, 'FORBIDDEN');
      expect(await t.app.database.prisma.store.findUnique({ where: { code: `LIMITED_${kind}` } })).toBeNull();
      const admin = await gql(CREATE_ADMIN, { username: `minted-${kind}`, password: 'minted-password-1' }, { token: limitedToken });
      expectGraphqlError(admin, 403, 'FORBIDDEN');
      expect(await t.app.database.prisma.admin.findUnique({ where: { username: `minted-${kind}` } })).toBeNull();
    });

    it('an unrestricted admin creates a store and can use it at once', async () => {
      const created = await gql(CREATE_STORE, { code: `NEW_${kind}`, name: 'New store' }, { token: adminToken });
      expect(created.body.data.createStore).toEqual({ __typename: 'Store', code: `NEW_${kind}`, name: 'New store', currency: 'EUR', timezone: 'UTC' });
      const list = await t.request('GET', `/api/NEW_${kind}/segment`, { token: adminToken });
      expect(list.status, list.text).toBe(200);
      expect(list.body.total.all).toBe(0);
    });
  });

  describe('GraphQL without credentials', () => {
    const operations = {
      me: ME,
      stores: `{ stores { code } }`,
      apiKeys: `{ apiKeys { id } }`,
      segments: `{ segments(storeCode: "DEFAULT") { __typename } }`,
      segment: `{ segment(storeCode: "DEFAULT", segmentId: "${randomUUID()}") { __typename } }`,
      createApiKey: `mutation { createApiKey(name: "anonymous") { key } }`,
      revokeApiKey: `mutation { revokeApiKey(apiKeyId: "${randomUUID()}") { __typename } }`,
      createStore: `mutation { createStore(code: "ANON", name: "Anonymous") { __typename } }`,
      createAdmin: `mutation { createAdmin(username: "anon", password: "anonymous-1") { __typename } }`,
      createSegment: `mutation { createSegment(storeCode: "DEFAULT", segment: { name: "Anon" }) { __typename } }`,
    };
    for (const [name, query] of Object.entries(operations)) {
      it(`${name} answers 401 UNAUTHENTICATED`, async () => {
        expectGraphqlError(await gql(query), 401, 'UNAUTHENTICATED');
      });
    }

    it('adminLogin needs no credentials', async () => {
      const response = await gql(
        `mutation Login($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { token refresh_token } }`,
        { u: ADMIN.username, p: ADMIN.password },
      );
      expect(response.status, response.text).toBe(200);
      expect(response.body.data.adminLogin).toEqual({ token: expect.any(String), refresh_token: expect.any(String) });
    });
  });
});
