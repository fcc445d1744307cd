import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.ts';
import { expectComponentResponse, expectDocumented } from './support/openapi.ts';
import { TestApp, type TestResponse } from './support/test-app.ts';
import { insertMemberships } from '../src/services/memberships.ts';

/**
 * The REST segment paths end to end (segment-api.openapi.json + DOMAIN.md sections 2, 6, 7, 9).
 * Every response is validated against the OpenAPI entry of its operation and status.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_UUID = '00000000-0000-4000-8000-000000000000';
const MIB = 1024 * 1024;
const TEST_SECRET = 'test-secret';

type Json = any;
type ErrorPair = [path: string, code: string];

const byPathAndCode = (a: ErrorPair, b: ErrorPair) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`);

/** The documented 400 body (DOMAIN.md section 6), with exactly these (path, code) errors. */
function expectValidation(response: TestResponse, expected: ErrorPair[]) {
  expect(response.status, response.text).toBe(400);
  expect(Object.keys(response.body).sort()).toEqual(['code', 'errors', 'message']);
  expect(response.body.code).toBe(400);
  expect(response.body.message).toBe('Validation failed');
  const errors: Json[] = response.body.errors;
  for (const error of errors) {
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'parameters', 'path', 'plural']);
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    expect(error.parameters !== null && typeof error.parameters === 'object' && !Array.isArray(error.parameters)).toBe(
      true,
    );
    expect(error.plural === null || Number.isInteger(error.plural)).toBe(true);
  }
  const got = errors.map((error): ErrorPair => [error.path, error.code]).sort(byPathAndCode);
  expect(got).toEqual([...expected].sort(byPathAndCode));
}

function expectPlainError(response: TestResponse, status: number) {
  expect(response.status, response.text).toBe(status);
  expect(Object.keys(response.body).sort()).toEqual(['code', 'message']);
  expect(response.body.code).toBe(status);
  expect(typeof response.body.message).toBe('string');
}

const criterionIdsOf = (segment: Json) =>
  segment.parts.flatMap((part: Json) => part.criteria.map((criterion: Json) => criterion.criterionId));

/** A response built by hand, to show the validator itself can fail. */
function fake(status: number, body?: unknown): TestResponse {
  const text = body === undefined ? '' : JSON.stringify(body);
  return { status, body, text, headers: new Headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
}

describe('OpenAPI response validator (test/support/openapi.ts)', () => {
  const segmentId = '5d0a5c2e-7b0f-4c36-9a0e-2f1f7f2a0a01';

  it('accepts documented statuses with matching bodies, by operationId or by method and path', () => {
    expectDocumented('segmentPost', fake(200, { segmentId }));
    expectDocumented(`GET /api/DEFAULT/segment/${segmentId}`, fake(404, { code: 404, message: 'Not found.' }));
    expectDocumented('POST /api/{storeCode}/segment/{segment}/activate', fake(204));
    expectDocumented('segmentGetList', fake(401, { code: 401, message: 'Who are you?' }));
    expectDocumented('segmentGetList', fake(413, { code: 413, message: 'Too large.' }));
  });

  it('fails on a status the operation does not document (401/405/413/429 excepted)', () => {
    expect(() => expectDocumented('segmentPost', fake(500, { code: 500, message: 'Oops', requestId: 'x' }))).toThrow(
      /does not document status 500/,
    );
    expect(() => expectDocumented('segmentPost', fake(201, { segmentId }))).toThrow(/does not document status 201/);
    expect(() => expectDocumented('segmentPostActivate', fake(400, { code: 400, message: 'x', errors: [] }))).toThrow(
      /does not document status 400/,
    );
  });

  it('fails on a body that does not match the documented schema', () => {
    // A 400 without `errors`, an error item without `plural`, list averages as numbers, a bad uuid.
    expect(() => expectDocumented('segmentPost', fake(400, { code: 400, message: 'Bad' }))).toThrow(/errors/);
    expect(() =>
      expectDocumented(
        'segmentPut',
        fake(400, { code: 400, message: 'Validation failed', errors: [{ message: 'm', parameters: {}, code: 'required', path: 'name' }] }),
      ),
    ).toThrow(/plural/);
    expect(() =>
      expectDocumented('segmentGetList', fake(200, { items: [{ segmentId, averageClv: 1.5 }], total: { all: 1, filtered: 1, estimated: false } })),
    ).toThrow(/averageClv/);
    expect(() => expectDocumented('segmentGet', fake(200, { segmentId: 'nope', name: 'x' }))).toThrow(/segmentId/);
    expect(() => expectDocumented('segmentGet', fake(200, { segmentId, averageClv: '1.50' }))).toThrow(/averageClv/);
    expect(() => expectDocumented('segmentGet', fake(404, { code: 400, message: 'Not found.' }))).toThrow(/body.code/);
    expect(() => expectDocumented('segmentDelete', fake(204, { segmentId }))).toThrow(/without a body/);
    expect(() => expectDocumented('segmentGetList', fake(401, { error: 'who?' }))).toThrow(/code/);
  });

  it('follows the recursive Segment -> SegmentPart -> Segment reference', () => {
    const valid = { items: [{ segmentId, parts: [{ segmentPartId: 'p', segment: { segmentId, averageClv: '0.00' } }] }], total: {} };
    expectDocumented('segmentGetList', fake(200, valid));
    const invalid = { items: [{ segmentId, parts: [{ segmentPartId: 'p', segment: { segmentId, averageClv: 0 } }] }], total: {} };
    expect(() => expectDocumented('segmentGetList', fake(200, invalid))).toThrow(/parts\/0\/segment\/averageClv/);
  });
});

describeEachDatabase('REST segment paths', (kind) => {
  let t: TestApp;
  let token: string;
  let counter = 0;
  /** A name not used before in this app (tests share stores). */
  const unique = (prefix: string) => `${prefix} ${++counter}`;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
  });
  afterAll(() => t?.close());

  const prisma = () => t.app.database.prisma;

  /** A request as the admin (unless other credentials are given), validated against the document. */
  async function call(
    method: string,
    path: string,
    status: number,
    options: { token?: string; apiKey?: string; body?: unknown; headers?: Record<string, string>; anonymous?: boolean } = {},
  ): Promise<TestResponse> {
    const { anonymous, ...rest } = options;
    const credentials = anonymous || rest.token || rest.apiKey ? {} : { token };
    const response = await t.request(method, path, { ...credentials, ...rest });
    expect(response.status, `${method} ${path} -> ${response.text}`).toBe(status);
    expectDocumented(`${method} ${path}`, response);
    return response;
  }

  async function create(segment: Json, store = 'DEFAULT'): Promise<string> {
    const response = await call('POST', `/api/${store}/segment`, 200, { body: { segment } });
    expect(Object.keys(response.body)).toEqual(['segmentId']);
    expect(response.body.segmentId).toMatch(UUID);
    return response.body.segmentId;
  }

  async function details(id: string, store = 'DEFAULT'): Promise<Json> {
    // Saving an active segment queues a background recalculation; let it land before reading,
    // so before/after comparisons see a settled segment.
    await t.app.services.jobs.drain();
    return (await call('GET', `/api/${store}/segment/${id}`, 200)).body;
  }

  async function countSegments(where: Json = {}) {
    return prisma().segment.count({ where });
  }

  // ---------------------------------------------------------------------------------------------
  describe('create and details', () => {
    it('creates a segment (200 {segmentId}) and reads it back with numbers, currency and flat criteria', async () => {
      const name = unique('Created');
      const id = await create({
        name: `  ${name}  `,
        parts: [
          {
            criteria: [
              { type: 'transaction_count', min: 2, max: 10 },
              { type: 'gender', genders: ['female', 'not_disclosed'] },
            ],
          },
          {
            criteria: [
              { type: 'purchase_period', fromDate: '2024-01-01T00:00:00+01:00', toDate: '2024-01-31 23:59' },
              { type: 'anniversary', anniversaryType: 'birthday', days: 7 },
              { type: 'customer_has_labels', labels: [{ key: 'vip' }] },
              { type: 'transaction_amount', fromAmount: 10.5, toAmount: 99.99 },
            ],
          },
        ],
      });
      const segment = await details(id);
      expect(Object.keys(segment).sort()).toEqual(
        [
          'segmentId',
          'name',
          'active',
          'createdAt',
          'customersCount',
          'averageTransactionAmount',
          'averageTransactions',
          'averageClv',
          'currency',
          'parts',
        ].sort(),
      );
      expect(segment).toMatchObject({
        segmentId: id,
        name, // trimmed
        active: false,
        customersCount: 0,
        averageTransactionAmount: 0,
        averageTransactions: 0,
        averageClv: 0,
        currency: 'EUR',
      });
      // calculatedAt and description are absent (not null) before a recalculation / when not set.
      expect('calculatedAt' in segment).toBe(false);
      expect('description' in segment).toBe(false);
      // RFC 3339 in UTC (ajv has checked the date-time format already).
      expect(segment.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

      expect(segment.parts).toHaveLength(2);
      for (const part of segment.parts) {
        expect(Object.keys(part).sort()).toEqual(['criteria', 'segmentPartId']);
        expect(part.segmentPartId).toMatch(UUID);
      }
      const [first, second] = segment.parts;
      expect(first.criteria).toEqual([
        { criterionId: expect.stringMatching(UUID), type: 'transaction_count', min: 2, max: 10 },
        { criterionId: expect.stringMatching(UUID), type: 'gender', genders: ['female', 'not_disclosed'] },
      ]);
      expect(second.criteria).toHaveLength(4);
      const [period, anniversary, labels, amount] = second.criteria;
      expect(Object.keys(period).sort()).toEqual(['criterionId', 'fromDate', 'toDate', 'type']);
      expect(period.type).toBe('purchase_period');
      // Instants come back in RFC 3339 UTC; the local form is read in the store's zone (UTC here).
      expect(period.fromDate).toMatch(/Z$/);
      expect(new Date(period.fromDate).toISOString()).toBe('2023-12-31T23:00:00.000Z');
      expect(new Date(period.toDate).toISOString()).toBe('2024-01-31T23:59:00.000Z');
      expect(anniversary).toEqual({
        criterionId: expect.stringMatching(UUID),
        type: 'anniversary',
        anniversaryType: 'birthday',
        days: 7,
      });
      expect(labels).toEqual({ criterionId: expect.stringMatching(UUID), type: 'customer_has_labels', labels: [{ key: 'vip' }] });
      expect(amount).toEqual({
        criterionId: expect.stringMatching(UUID),
        type: 'transaction_amount',
        fromAmount: 10.5,
        toAmount: 99.99,
      });
      expect(new Set(criterionIdsOf(segment)).size).toBe(6);
    });

    it('keeps the description, the active flag and client-chosen ids given on create', async () => {
      const partId = '5d0a5c2e-7b0f-4c36-9a0e-2f1f7f2a0a01';
      const criterionId = '5d0a5c2e-7b0f-4c36-9a0e-2f1f7f2a0a02';
      const id = await create({
        name: unique('Chosen ids'),
        description: 'Described',
        active: true,
        parts: [{ segmentPartId: partId, criteria: [{ criterionId, type: 'age', fromAge: 18, toAge: 30 }] }],
      });
      const segment = await details(id);
      expect(segment.description).toBe('Described');
      expect(segment.active).toBe(true);
      expect(segment.parts).toEqual([
        { segmentPartId: partId, criteria: [{ criterionId, type: 'age', fromAge: 18, toAge: 30 }] },
      ]);
    });

    it('reads local instants in the store time zone and gives the store currency', async () => {
      await t.app.services.stores.create({ code: 'WAW', name: 'Warsaw', currency: 'pln', timezone: 'Europe/Warsaw' });
      const id = await create(
        {
          name: 'Local times',
          parts: [{ criteria: [{ type: 'purchase_period', fromDate: '2024-01-15 10:00', toDate: '2024-07-15 10:00' }] }],
        },
        'WAW',
      );
      const segment = await details(id, 'WAW');
      expect(segment.currency).toBe('PLN');
      const [criterion] = segment.parts[0].criteria;
      expect(new Date(criterion.fromDate).toISOString()).toBe('2024-01-15T09:00:00.000Z'); // CET
      expect(new Date(criterion.toDate).toISOString()).toBe('2024-07-15T08:00:00.000Z'); // CEST
    });

    it('gives averages as numbers in details and as 2-decimal strings in the list, calculatedAt once set', async () => {
      await t.app.services.stores.create({ code: 'STATS', name: 'Stats' });
      const id = await create({ name: 'With statistics' }, 'STATS');
      // What a recalculation writes (the recalculation itself is not built yet).
      await prisma().segment.update({
        where: { id },
        data: {
          customersCount: 12,
          averageTransactionAmount: '12.5',
          averageTransactions: '3',
          averageClv: '37.46',
          calculatedAt: new Date('2024-05-06T07:08:09.123Z'),
        },
      });
      const segment = await details(id, 'STATS');
      expect(segment).toMatchObject({
        customersCount: 12,
        averageTransactionAmount: 12.5,
        averageTransactions: 3,
        averageClv: 37.46,
        calculatedAt: '2024-05-06T07:08:09.123Z',
      });
      const list = (await call('GET', '/api/STATS/segment', 200)).body;
      expect(list.items).toHaveLength(1);
      expect(list.items[0]).toMatchObject({
        segmentId: id,
        customersCount: 12,
        averageTransactionAmount: '12.50',
        averageTransactions: '3.00',
        averageClv: '37.46',
        calculatedAt: '2024-05-06T07:08:09.123Z',
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('update', () => {
    async function seeded() {
      const id = await create({
        name: unique('Editable'),
        description: 'Original description',
        active: true,
        parts: [
          {
            criteria: [
              { type: 'transaction_count', min: 1, max: 5 },
              { type: 'city', cities: ['Berlin'] },
            ],
          },
          { criteria: [{ type: 'gender', genders: ['male'] }] },
        ],
      });
      return { id, before: await details(id) };
    }

    it('requires name; a PUT with only a name keeps description, active and parts (with their ids)', async () => {
      const { id, before } = await seeded();
      const rejected = await call('PUT', `/api/DEFAULT/segment/${id}`, 400, { body: { segment: { description: 'x' } } });
      expectValidation(rejected, [['name', 'required']]);
      expect(await details(id)).toEqual(before);

      const newName = unique('Renamed');
      const response = await call('PUT', `/api/DEFAULT/segment/${id}`, 200, { body: { segment: { name: newName } } });
      expect(response.body).toEqual({ segmentId: id });
      // Updating an active segment recalculates it, so only calculatedAt may move (forward).
      const after = await details(id);
      expect({ ...after, calculatedAt: before.calculatedAt }).toEqual({ ...before, name: newName });
      expect(Date.parse(after.calculatedAt)).toBeGreaterThanOrEqual(Date.parse(before.calculatedAt));
    });

    it('replaces all parts when parts are sent; a part or criterion sent with its id keeps it', async () => {
      const { id, before } = await seeded();
      const [keptPart, droppedPart] = before.parts;
      const [keptCriterion] = keptPart.criteria;
      const chosenPart = '7e9a6d3c-2f54-4d1e-8c6a-3b2d1e0f9a01';
      const chosenCriterion = '7e9a6d3c-2f54-4d1e-8c6a-3b2d1e0f9a02';
      await call('PUT', `/api/DEFAULT/segment/${id}`, 200, {
        body: {
          segment: {
            name: before.name,
            parts: [
              {
                segmentPartId: keptPart.segmentPartId,
                criteria: [
                  { criterionId: keptCriterion.criterionId, type: 'transaction_count', min: 2, max: 9 },
                  { type: 'province', provinces: ['Bavaria'] },
                ],
              },
              // A new part (client-chosen id) holding a criterion of the dropped part, by its id.
              {
                segmentPartId: chosenPart,
                criteria: [
                  { criterionId: droppedPart.criteria[0].criterionId, type: 'gender', genders: ['female'] },
                  { criterionId: chosenCriterion, type: 'postal', postalCodes: ['10115'] },
                ],
              },
            ],
          },
        },
      });
      const after = await details(id);
      expect(after.description).toBe('Original description');
      expect(after.active).toBe(true);
      expect(after.parts).toEqual([
        {
          segmentPartId: keptPart.segmentPartId,
          criteria: [
            { criterionId: keptCriterion.criterionId, type: 'transaction_count', min: 2, max: 9 },
            { criterionId: expect.stringMatching(UUID), type: 'province', provinces: ['Bavaria'] },
          ],
        },
        {
          segmentPartId: chosenPart,
          criteria: [
            { criterionId: droppedPart.criteria[0].criterionId, type: 'gender', genders: ['female'] },
            { criterionId: chosenCriterion, type: 'postal', postalCodes: ['10115'] },
          ],
        },
      ]);
      const newCriterionId = after.parts[0].criteria[1].criterionId;
      expect(criterionIdsOf(before)).not.toContain(newCriterionId);
      // The city criterion, not sent again, is gone: parts were replaced, not merged.
      expect(await prisma().criterion.count({ where: { id: keptPart.criteria[1].criterionId } })).toBe(0);
      expect(await prisma().segmentPart.count({ where: { segmentId: id } })).toBe(2);

      await call('PUT', `/api/DEFAULT/segment/${id}`, 200, { body: { segment: { name: before.name, parts: [] } } });
      expect((await details(id)).parts).toEqual([]);
      expect(await prisma().segmentPart.count({ where: { segmentId: id } })).toBe(0);
    });

    it('changes description and active when sent', async () => {
      const { id, before } = await seeded();
      await call('PUT', `/api/DEFAULT/segment/${id}`, 200, {
        body: { segment: { name: before.name, description: 'New description', active: false } },
      });
      const after = await details(id);
      expect({ ...after, calculatedAt: before.calculatedAt }).toEqual({ ...before, description: 'New description', active: false });
    });

    it('refuses an id that belongs to another segment, and loses nothing', async () => {
      const { id, before } = await seeded();
      const other = await seeded();
      const response = await call('PUT', `/api/DEFAULT/segment/${id}`, 400, {
        body: {
          segment: {
            name: before.name,
            parts: [{ segmentPartId: other.before.parts[0].segmentPartId, criteria: [{ type: 'city', cities: ['Paris'] }] }],
          },
        },
      });
      expectValidation(response, [['parts[0].segmentPartId', 'not_unique']]);
      expect(await details(id)).toEqual(before);
      expect(await details(other.id)).toEqual(other.before);
    });

    it('loses nothing when a PUT is rejected (invalid criterion, duplicate name, unknown field)', async () => {
      const { id, before } = await seeded();
      const taken = unique('Taken');
      await create({ name: taken });
      const attempts: [Json, ErrorPair[]][] = [
        [
          { name: unique('Valid new name'), description: 'changed', active: false, parts: [{ criteria: [{ type: 'transaction_count', min: 5, max: 1 }] }] },
          [['parts[0].criteria[0].max', 'out_of_range']],
        ],
        [
          { name: taken, description: 'changed', parts: [{ criteria: [{ type: 'city', cities: ['Rome'] }] }] },
          [['name', 'not_unique']],
        ],
        [
          { name: unique('Other name'), active: false, parts: [], colour: 'red' },
          [['colour', 'unknown_field']],
        ],
      ];
      for (const [segment, errors] of attempts) {
        const response = await call('PUT', `/api/DEFAULT/segment/${id}`, 400, { body: { segment } });
        expectValidation(response, errors);
        expect(await details(id)).toEqual(before);
      }
    });

    it('allows keeping its own name; refuses another segment name (not_unique)', async () => {
      const { id } = await seeded();
      const other = await seeded();
      const before = await details(id);
      await call('PUT', `/api/DEFAULT/segment/${id}`, 200, { body: { segment: { name: before.name } } });
      const kept = await details(id); // the PUT recalculated the active segment: calculatedAt moved
      expect({ ...kept, calculatedAt: before.calculatedAt }).toEqual(before);
      const response = await call('PUT', `/api/DEFAULT/segment/${id}`, 400, {
        body: { segment: { name: ` ${other.before.name} ` } },
      });
      expectValidation(response, [['name', 'not_unique']]);
      expect(await details(id)).toEqual(kept);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('delete, activate, deactivate', () => {
    it('deletes (204, no body), then the segment, its parts and criteria are gone (404)', async () => {
      const id = await create({ name: unique('Doomed'), parts: [{ criteria: [{ type: 'city', cities: ['Oslo'] }] }] });
      const partIds = (await details(id)).parts.map((part: Json) => part.segmentPartId);
      // A membership as a recalculation leaves it (memberships have no foreign keys: the service
      // deletes the segment's own).
      await insertMemberships(prisma(), [{ segmentId: id, memberId: '0d6f1c2e-4a4b-4c5d-8e6f-7a8b9c0d1e2f', joinedAt: new Date() }]);
      await call('DELETE', `/api/DEFAULT/segment/${id}`, 204);
      expectPlainError(await call('GET', `/api/DEFAULT/segment/${id}`, 404), 404);
      expectPlainError(await call('DELETE', `/api/DEFAULT/segment/${id}`, 404), 404);
      expect(await countSegments({ id })).toBe(0);
      expect(await prisma().segmentPart.count({ where: { id: { in: partIds } } })).toBe(0);
      expect(await prisma().criterion.count({ where: { partId: { in: partIds } } })).toBe(0);
      expect(await prisma().segmentMemberBlock.count({ where: { segmentId: id } })).toBe(0);
      const list = (await call('GET', '/api/DEFAULT/segment?_itemsOnPage=50', 200)).body;
      expect(list.items.map((item: Json) => item.segmentId)).not.toContain(id);
    });

    it('activates and deactivates (204, no body); doing it again is a no-op 204', async () => {
      const id = await create({ name: unique('Toggle') });
      expect((await details(id)).active).toBe(false);
      await call('POST', `/api/DEFAULT/segment/${id}/deactivate`, 204);
      expect((await details(id)).active).toBe(false);
      await call('POST', `/api/DEFAULT/segment/${id}/activate`, 204);
      expect((await details(id)).active).toBe(true);
      await call('POST', `/api/DEFAULT/segment/${id}/activate`, 204);
      expect((await details(id)).active).toBe(true);
      await call('POST', `/api/DEFAULT/segment/${id}/deactivate`, 204);
      expect((await details(id)).active).toBe(false);
      await call('POST', `/api/DEFAULT/segment/${id}/deactivate`, 204);
      expect((await details(id)).active).toBe(false);
      const listed = (await call('GET', `/api/DEFAULT/segment?name=${encodeURIComponent((await details(id)).name)}`, 200)).body;
      expect(listed.items.map((item: Json) => [item.segmentId, item.active])).toEqual([[id, false]]);
    });

    it('answers 404 for activate, deactivate and delete of an unknown segment', async () => {
      for (const action of ['activate', 'deactivate']) {
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${MISSING_UUID}/${action}`, 404), 404);
      }
      expectPlainError(await call('DELETE', `/api/DEFAULT/segment/${MISSING_UUID}`, 404), 404);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('list', () => {
    // Store LIST: 12 segments created in month order of 2024; two active; two with statistics.
    const NAMES = ['alpha', 'ALPHA', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda'];
    const ids: Record<string, string> = {};
    const list = (query = '', status = 200) => call('GET', `/api/LIST/segment${query ? `?${query}` : ''}`, status);
    const names = (response: TestResponse) => response.body.items.map((item: Json) => item.name);
    /** Names compared lower-cased: 'alpha' vs 'ALPHA' order depends on the database collation. */
    const lowered = (response: TestResponse) => names(response).map((name: string) => name.toLowerCase());

    beforeAll(async () => {
      await t.app.services.stores.create({ code: 'LIST', name: 'Lists' });
      for (const [index, name] of NAMES.entries()) {
        ids[name] = await create(
          { name, description: index % 2 === 0 ? `Description of ${name}` : undefined, active: name === 'alpha' || name === 'beta' },
          'LIST',
        );
        await prisma().segment.update({
          where: { id: ids[name] },
          data: { createdAt: new Date(Date.UTC(2024, index, 1, 12, 0, 0)) },
        });
      }
      await prisma().segment.update({ where: { id: ids.alpha }, data: { customersCount: 5 } });
      await prisma().segment.update({
        where: { id: ids.beta },
        data: { customersCount: 12, averageTransactionAmount: '12.5', averageTransactions: '3', averageClv: '37.46' },
      });
    });

    it('pages with _page and _itemsOnPage (default 10, max 50), in creation order by default', async () => {
      const first = await list();
      expect(names(first)).toEqual(NAMES.slice(0, 10));
      expect(first.body.total).toEqual({ all: 12, filtered: 12, estimated: false });
      expect(names(await list('_page=2'))).toEqual(NAMES.slice(10));
      expect(names(await list('_page=3&_itemsOnPage=5'))).toEqual(NAMES.slice(10));
      expect(names(await list('_page=2&_itemsOnPage=5'))).toEqual(NAMES.slice(5, 10));
      expect(names(await list('_itemsOnPage=1'))).toEqual(['alpha']);
      expect(names(await list('_itemsOnPage=50'))).toEqual(NAMES);
      const past = await list('_page=9');
      expect(past.body.items).toEqual([]);
      expect(past.body.total).toEqual({ all: 12, filtered: 12, estimated: false });
    });

    it('gives list items with 2-decimal string averages and no description when none is set', async () => {
      const items: Json[] = (await list('_itemsOnPage=50')).body.items;
      const beta = items.find((item) => item.name === 'beta');
      expect(beta).toMatchObject({
        segmentId: ids.beta,
        active: true,
        customersCount: 12,
        averageTransactionAmount: '12.50',
        averageTransactions: '3.00',
        averageClv: '37.46',
        description: 'Description of beta',
        parts: [],
      });
      const plain = items.find((item) => item.name === 'ALPHA');
      expect(plain).toMatchObject({ averageTransactionAmount: '0.00', averageTransactions: '0.00', averageClv: '0.00' });
      expect('description' in plain).toBe(false);
      expect('calculatedAt' in plain).toBe(false);
    });

    it('orders by _orderBy[field]=asc|desc, several in the order given', async () => {
      const sorted = NAMES.map((name) => name.toLowerCase()).sort();
      expect(lowered(await list('_orderBy[name]=asc&_itemsOnPage=50'))).toEqual(sorted);
      expect(lowered(await list('_orderBy[name]=desc&_itemsOnPage=50'))).toEqual([...sorted].reverse());

      const inactiveDesc = NAMES.filter((name) => name !== 'alpha' && name !== 'beta')
        .map((name) => name.toLowerCase())
        .sort()
        .reverse();
      expect(lowered(await list('_orderBy[active]=desc&_orderBy[name]=desc&_itemsOnPage=50'))).toEqual([
        'beta',
        'alpha',
        ...inactiveDesc,
      ]);
      expect(lowered(await list('_orderBy[active]=asc&_orderBy[name]=desc&_itemsOnPage=50'))).toEqual([
        ...inactiveDesc,
        'beta',
        'alpha',
      ]);
      // The same two keys the other way round: name decides alone.
      expect(lowered(await list('_orderBy[name]=desc&_orderBy[active]=desc&_itemsOnPage=50'))).toEqual(
        [...sorted].reverse(),
      );
      expect(names(await list('_orderBy[createdAt]=desc&_itemsOnPage=3'))).toEqual(['lambda', 'kappa', 'iota']);
      expect(names(await list('_orderBy[customersCount]=desc&_itemsOnPage=2'))).toEqual(['beta', 'alpha']);
    });

    it('filters: name= exact and case-sensitive, name[like]= case-insensitive substring', async () => {
      const exact = await list('name=alpha');
      expect(names(exact)).toEqual(['alpha']);
      expect(exact.body.total).toEqual({ all: 12, filtered: 1, estimated: false });
      expect(names(await list('name=ALPHA'))).toEqual(['ALPHA']);
      expect(names(await list('name=Alpha'))).toEqual([]);
      expect(names(await list('name=alph'))).toEqual([]);

      const like = await list('name[like]=LPh');
      expect(names(like).sort()).toEqual(['ALPHA', 'alpha']);
      expect(like.body.total).toEqual({ all: 12, filtered: 2, estimated: false });
      expect(names(await list('name[like]=eta'))).toEqual(['beta', 'zeta', 'eta', 'theta']);
      expect(names(await list('description[like]=OF%20DELTA'))).toEqual(['delta']);
    });

    it('filters: name[like]= matches % and _ literally (a substring, not a pattern)', async () => {
      await t.app.services.stores.create({ code: 'LIKE', name: 'Like' });
      for (const name of ['50% off', '500 off', 'a_b', 'axb']) await create({ name }, 'LIKE');
      const percent = await call('GET', `/api/LIKE/segment?name[like]=${encodeURIComponent('0%')}`, 200);
      expect.soft(names(percent)).toEqual(['50% off']);
      const underscore = await call('GET', `/api/LIKE/segment?name[like]=${encodeURIComponent('a_')}`, 200);
      expect(names(underscore)).toEqual(['a_b']);
    });

    it('filters: active, customersCount, averages and createdAt with operators, AND-ed', async () => {
      const active = await list('active=true');
      expect(names(active)).toEqual(['alpha', 'beta']);
      expect(active.body.total).toEqual({ all: 12, filtered: 2, estimated: false });
      const inactive = await list('active=false&_itemsOnPage=50');
      expect(inactive.body.total).toEqual({ all: 12, filtered: 10, estimated: false });
      expect(names(inactive)).toEqual(NAMES.filter((name) => name !== 'alpha' && name !== 'beta'));

      expect(names(await list('customersCount[gte]=5'))).toEqual(['alpha', 'beta']);
      expect(names(await list('customersCount[gt]=5'))).toEqual(['beta']);
      expect(names(await list('customersCount=12'))).toEqual(['beta']);
      expect((await list('customersCount[lte]=0')).body.total).toEqual({ all: 12, filtered: 10, estimated: false });
      expect(names(await list('averageClv=37.46'))).toEqual(['beta']);
      expect(names(await list('averageTransactionAmount[gt]=12.49'))).toEqual(['beta']);
      expect(names(await list('averageTransactions[lt]=3'))).not.toContain('beta');

      expect(names(await list('createdAt[gte]=2024-11-01T00:00:00Z'))).toEqual(['kappa', 'lambda']);
      expect(names(await list(`createdAt[lt]=${encodeURIComponent('2024-02-01T13:00:00+01:00')}`))).toEqual(['alpha']);
      expect(names(await list(`createdAt[lte]=${encodeURIComponent('2024-02-01T13:00:00+01:00')}`))).toEqual([
        'alpha',
        'ALPHA',
      ]);
      const both = await list('createdAt[gte]=2024-02-01T00:00:00Z&createdAt[lt]=2024-04-01T00:00:00Z&active=true');
      expect(names(both)).toEqual(['beta']);
      expect(both.body.total).toEqual({ all: 12, filtered: 1, estimated: false });
    });

    it('answers 400 naming the query parameter for bad paging', async () => {
      const cases: [string, ErrorPair][] = [
        ['_itemsOnPage=0', ['_itemsOnPage', 'out_of_range']],
        ['_itemsOnPage=51', ['_itemsOnPage', 'out_of_range']],
        ['_itemsOnPage=-1', ['_itemsOnPage', 'out_of_range']],
        ['_itemsOnPage=abc', ['_itemsOnPage', 'invalid_type']],
        ['_itemsOnPage=2.5', ['_itemsOnPage', 'invalid_type']],
        ['_page=0', ['_page', 'out_of_range']],
        ['_page=abc', ['_page', 'invalid_type']],
      ];
      for (const [query, error] of cases) expectValidation(await list(query, 400), [error]);
    });

    it('answers 400 for an unknown order field or direction', async () => {
      expectValidation(await list('_orderBy[colour]=asc', 400), [['_orderBy[colour]', 'invalid_choice']]);
      expectValidation(await list('_orderBy[name]=up', 400), [['_orderBy[name]', 'invalid_choice']]);
      expectValidation(await list('_orderBy[segmentId]=asc', 400), [['_orderBy[segmentId]', 'invalid_choice']]);
    });

    it('answers 400 for a filter value of the wrong type, an unknown operator and an unknown parameter', async () => {
      expectValidation(await list('active=maybe', 400), [['active', 'invalid_type']]);
      expectValidation(await list('customersCount=many', 400), [['customersCount', 'invalid_type']]);
      expectValidation(await list('customersCount[gte]=1.5', 400), [['customersCount[gte]', 'invalid_type']]);
      expectValidation(await list('averageClv[gte]=lots', 400), [['averageClv[gte]', 'invalid_type']]);
      expectValidation(await list('createdAt[gte]=yesterday', 400), [['createdAt[gte]', 'invalid_type']]);
      expectValidation(await list('name[gte]=a', 400), [['name[gte]', 'invalid_choice']]);
      expectValidation(await list('colour=red', 400), [['colour', 'unknown_field']]);
      expectValidation(await list('_itemsOnPage=abc&colour=red', 400), [
        ['_itemsOnPage', 'invalid_type'],
        ['colour', 'unknown_field'],
      ]);
    });

    it('answers 400 with the documented body for integers too large to be stored', async () => {
      const count = await list('customersCount[gte]=99999999999', 400);
      expect(count.body.errors?.map((error: Json) => error.path)).toEqual(['customersCount[gte]']);
      const page = await list('_page=99999999999', 400);
      expect(page.body.errors?.map((error: Json) => error.path)).toEqual(['_page']);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('bad input (400)', () => {
    const post = (body: unknown, store = 'DEFAULT') => call('POST', `/api/${store}/segment`, 400, { body });
    const criterion = (extra: Json) => ({ segment: { name: unique('Bad'), parts: [{ criteria: [extra] }] } });

    it('refuses a body that is not JSON, or not an object', async () => {
      const before = await countSegments();
      expectValidation(await post('{"segment": {"name": '), [['', 'invalid_format']]);
      expectValidation(await post(''), [['', 'invalid_format']]);
      expectValidation(await post('[{"segment": {"name": "In an array"}}]'), [['', 'invalid_type']]);
      expectValidation(await post('null'), [['', 'invalid_type']]);
      expectValidation(await post('"segment"'), [['', 'invalid_type']]);
      expect(await countSegments()).toBe(before);
    });

    it('refuses a missing segment, a segment that is not an object, and unknown root fields', async () => {
      expectValidation(await post({}), [['segment', 'required']]);
      expectValidation(await post({ name: 'Flat' }), [
        ['name', 'unknown_field'],
        ['segment', 'required'],
      ]);
      expectValidation(await post({ segment: { name: unique('Extra') }, extra: 1 }), [['extra', 'unknown_field']]);
      expectValidation(await post({ segment: [] }), [['segment', 'invalid_type']]);
      expectValidation(await post({ segment: 'x' }), [['segment', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('Colour'), colour: 'red' } }), [['colour', 'unknown_field']]);
    });

    it('refuses unknown fields in a part and in a criterion (including another type\'s parameter)', async () => {
      expectValidation(
        await post({ segment: { name: unique('Part'), parts: [{ criteria: [{ type: 'city', cities: ['Rome'] }], weight: 2 }] } }),
        [['parts[0].weight', 'unknown_field']],
      );
      expectValidation(await post(criterion({ type: 'transaction_count', min: 1, max: 2, colour: 'red' })), [
        ['parts[0].criteria[0].colour', 'unknown_field'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_count', min: 1, max: 2, fromAmount: 3 })), [
        ['parts[0].criteria[0].fromAmount', 'unknown_field'],
      ]);
      expectValidation(await post(criterion({ type: 'no_such_type' })), [['parts[0].criteria[0].type', 'invalid_choice']]);
    });

    it('refuses wrong types', async () => {
      expectValidation(await post({ segment: { name: 42 } }), [['name', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('T'), active: 'yes' } }), [['active', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('T'), description: 5 } }), [['description', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('T'), parts: {} } }), [['parts', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('T'), parts: ['x'] } }), [['parts[0]', 'invalid_type']]);
      expectValidation(await post({ segment: { name: unique('T'), parts: [{ criteria: 'x' }] } }), [
        ['parts[0].criteria', 'invalid_type'],
      ]);
      expectValidation(await post({ segment: { name: unique('T'), parts: [{ criteria: [] }] } }), [
        ['parts[0].criteria', 'too_few'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_count', min: '2', max: 3 })), [
        ['parts[0].criteria[0].min', 'invalid_type'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_count', min: 1.5, max: 3 })), [
        ['parts[0].criteria[0].min', 'invalid_type'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_count', min: 1 })), [
        ['parts[0].criteria[0].max', 'required'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_count', min: 5, max: 1 })), [
        ['parts[0].criteria[0].max', 'out_of_range'],
      ]);
      expectValidation(await post(criterion({ type: 'gender', genders: ['robot'] })), [
        ['parts[0].criteria[0].genders[0]', 'invalid_choice'],
      ]);
      expectValidation(await post(criterion({ type: 'transaction_amount', fromAmount: 1.005, toAmount: 3 })), [
        ['parts[0].criteria[0].fromAmount', 'invalid_format'],
      ]);
    });

    it('answers the documented 400 for an integer parameter too large to be stored', async () => {
      const name = unique('Huge');
      const response = await post({
        segment: { name, parts: [{ criteria: [{ type: 'transaction_count', min: 1, max: 3_000_000_000 }] }] },
      });
      expect(response.body.errors?.map((error: Json) => error.path)).toEqual(['parts[0].criteria[0].max']);
      expect(['out_of_range', 'invalid_type']).toContain(response.body.errors[0].code);
      expect(await countSegments({ name })).toBe(0);
    });

    it('checks the name: blank, too long (>255 after trimming), trimmed; description up to 4000', async () => {
      expectValidation(await post({ segment: { name: '' } }), [['name', 'required']]);
      expectValidation(await post({ segment: { name: '   ' } }), [['name', 'required']]);
      expectValidation(await post({ segment: { name: null } }), [['name', 'required']]);
      expectValidation(await post({ segment: {} }), [['name', 'required']]);
      expectValidation(await post({ segment: { name: 'n'.repeat(256) } }), [['name', 'out_of_range']]);
      const longest = 'm'.repeat(255);
      const id = await create({ name: `  ${longest}  ` });
      expect((await details(id)).name).toBe(longest);
      expectValidation(await post({ segment: { name: unique('Long text'), description: 'd'.repeat(4001) } }), [
        ['description', 'out_of_range'],
      ]);
      const described = await create({ name: unique('Long text'), description: 'd'.repeat(4000) });
      expect((await details(described)).description).toHaveLength(4000);
    });

    it('refuses a duplicate name in the same store (not_unique on name), allows it in another store', async () => {
      const name = unique('Twin');
      await create({ name });
      expectValidation(await post({ segment: { name } }), [['name', 'not_unique']]);
      expectValidation(await post({ segment: { name: `  ${name} ` } }), [['name', 'not_unique']]);
      expect(await countSegments({ name })).toBe(1);
      await t.app.services.stores.create({ code: 'TWIN', name: 'Twin store' });
      const elsewhere = await create({ name }, 'TWIN');
      expect((await details(elsewhere, 'TWIN')).name).toBe(name);
    });

    it('refuses client-chosen ids used twice or already used by another segment', async () => {
      const partId = '9c1d2e3f-4a5b-4c6d-8e7f-001122334455';
      await create({ name: unique('Owner'), parts: [{ segmentPartId: partId, criteria: [{ type: 'city', cities: ['Rome'] }] }] });
      expectValidation(
        await post({
          segment: { name: unique('Thief'), parts: [{ segmentPartId: partId, criteria: [{ type: 'city', cities: ['Rome'] }] }] },
        }),
        [['parts[0].segmentPartId', 'not_unique']],
      );
      const twice = '9c1d2e3f-4a5b-4c6d-8e7f-001122334466';
      expectValidation(
        await post({
          segment: {
            name: unique('Twice'),
            parts: [
              { segmentPartId: twice, criteria: [{ type: 'city', cities: ['Rome'] }] },
              { segmentPartId: twice, criteria: [{ type: 'city', cities: ['Oslo'] }] },
            ],
          },
        }),
        [['parts[1].segmentPartId', 'not_unique']],
      );
      expectValidation(
        await post({ segment: { name: unique('Bad id'), parts: [{ segmentPartId: 'not-a-uuid', criteria: [{ type: 'city', cities: ['Rome'] }] }] } }),
        [['parts[0].segmentPartId', 'invalid_format']],
      );
    });

    it('never answers 500 to concurrent creates of one name: one 200, the others not_unique', async () => {
      const name = unique('Race');
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => t.request('POST', '/api/DEFAULT/segment', { token, body: { segment: { name } } })),
      );
      for (const response of responses) expectDocumented('segmentPost', response);
      expect(responses.map((response) => response.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
      for (const response of responses.filter((r) => r.status === 400)) expectValidation(response, [['name', 'not_unique']]);
      expect(await countSegments({ name })).toBe(1);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('not found (404)', () => {
    it('answers 404 for an unknown store code on every segment path', async () => {
      const id = await create({ name: unique('Known') });
      expectPlainError(await call('GET', '/api/NOPE/segment', 404), 404);
      expectPlainError(await call('POST', '/api/NOPE/segment', 404, { body: { segment: { name: unique('Nowhere') } } }), 404);
      expectPlainError(await call('POST', '/api/NOPE/segment', 404, { body: '{not json' }), 404);
      expectPlainError(await call('GET', `/api/NOPE/segment/${id}`, 404), 404);
      expectPlainError(await call('PUT', `/api/NOPE/segment/${id}`, 404, { body: { segment: { name: 'x' } } }), 404);
      expectPlainError(await call('DELETE', `/api/NOPE/segment/${id}`, 404), 404);
      expectPlainError(await call('POST', `/api/NOPE/segment/${id}/activate`, 404), 404);
      expectPlainError(await call('POST', `/api/NOPE/segment/${id}/deactivate`, 404), 404);
      expect((await details(id)).active).toBe(false);
    });

    it('answers 404 for a malformed segment id', async () => {
      for (const bad of ['not-a-uuid', '123', `${MISSING_UUID}x`]) {
        expectPlainError(await call('GET', `/api/DEFAULT/segment/${bad}`, 404), 404);
        expectPlainError(await call('PUT', `/api/DEFAULT/segment/${bad}`, 404, { body: { segment: { name: unique('M') } } }), 404);
        expectPlainError(await call('DELETE', `/api/DEFAULT/segment/${bad}`, 404), 404);
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${bad}/activate`, 404), 404);
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${bad}/deactivate`, 404), 404);
      }
    });

    it('answers 404 for an unknown segment even when the PUT body is invalid', async () => {
      expectPlainError(await call('PUT', `/api/DEFAULT/segment/${MISSING_UUID}`, 404, { body: { segment: { name: unique('Ghost') } } }), 404);
      expectPlainError(await call('PUT', `/api/DEFAULT/segment/${MISSING_UUID}`, 404, { body: { segment: {} } }), 404);
    });

    it('never shows a segment of store A under store B', async () => {
      await t.app.services.stores.create({ code: 'STORE_A', name: 'A' });
      await t.app.services.stores.create({ code: 'STORE_B', name: 'B' });
      const id = await create({ name: unique('Of A'), parts: [{ criteria: [{ type: 'city', cities: ['Rome'] }] }] }, 'STORE_A');
      const before = await details(id, 'STORE_A');
      expectPlainError(await call('GET', `/api/STORE_B/segment/${id}`, 404), 404);
      expectPlainError(await call('PUT', `/api/STORE_B/segment/${id}`, 404, { body: { segment: { name: 'Stolen', parts: [] } } }), 404);
      expectPlainError(await call('POST', `/api/STORE_B/segment/${id}/activate`, 404), 404);
      expectPlainError(await call('POST', `/api/STORE_B/segment/${id}/deactivate`, 404), 404);
      expectPlainError(await call('DELETE', `/api/STORE_B/segment/${id}`, 404), 404);
      const listB = (await call('GET', '/api/STORE_B/segment', 200)).body;
      expect(listB).toEqual({ items: [], total: { all: 0, filtered: 0, estimated: false } });
      expect(await details(id, 'STORE_A')).toEqual(before);
    });

    it('answers 404 for unknown paths and an unknown association resource', async () => {
      const id = await create({ name: unique('Paths') });
      for (const path of ['/api/DEFAULT/segments', `/api/DEFAULT/segment/${id}/colour`, '/api/DEFAULT', '/api/']) {
        const response = await t.request('GET', path, { token });
        expectComponentResponse('NotFound', response, 404);
        expectPlainError(response, 404);
      }
      for (const resource of ['colour', 'rewards', 'Campaign']) {
        expectPlainError(await call('GET', `/api/DEFAULT/segment/${id}/association/${resource}`, 404), 404);
      }
      for (const resource of ['reward', 'achievement', 'campaign']) {
        const response = await call('GET', `/api/DEFAULT/segment/${id}/association/${resource}`, 200);
        expect(response.body).toEqual({ items: [], total: { all: 0, estimated: false } });
      }
    });

    it('answers 404 for the members of an unknown, malformed or other-store segment; [] before a recalculation', async () => {
      await t.app.services.stores.create({ code: 'MEMBERS_B', name: 'Members B' });
      const id = await create({ name: unique('Members') });
      for (const path of [
        `/api/DEFAULT/segment/${MISSING_UUID}/members`,
        '/api/DEFAULT/segment/not-a-uuid/members',
        `/api/MEMBERS_B/segment/${id}/members`,
        `/api/NOPE/segment/${id}/members`,
      ]) {
        expectPlainError(await call('GET', path, 404), 404);
      }
      const members = await call('GET', `/api/DEFAULT/segment/${id}/members`, 200);
      expect(members.body).toEqual({ items: [], total: { all: 0, filtered: 0, estimated: false } });
    });

    it('answers 405 for a known path with another method', async () => {
      const id = await create({ name: unique('Methods') });
      // No operation documents these method+path pairs; DOMAIN allows 405 everywhere.
      expectPlainError(await t.request('GET', `/api/DEFAULT/segment/${id}/activate`, { token }), 405);
      expectPlainError(await t.request('PATCH', `/api/DEFAULT/segment/${id}`, { token, body: { segment: { name: 'x' } } }), 405);
      expect((await details(id)).name).not.toBe('x');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('authentication (401) and authorization (403)', () => {
    const adminId = async () => (await prisma().admin.findUniqueOrThrow({ where: { username: 'admin' } })).id;

    it('answers 401 without credentials, with a bad, tampered or expired token', async () => {
      const id = await create({ name: unique('Guarded') });
      const sign = async (expiresIn: number, secret = TEST_SECRET) =>
        jwt.sign({ kind: 'admin', username: 'admin' }, secret, { subject: await adminId(), expiresIn, algorithm: 'HS256' });
      // The same claims, unexpired and signed with the right secret, are accepted.
      await call('GET', '/api/DEFAULT/segment', 200, { token: await sign(60) });
      const refused: Record<string, string>[] = [
        {},
        { authorization: 'Bearer not-a-jwt' },
        { authorization: `Bearer ${await sign(-10)}` },
        { authorization: `Bearer ${await sign(60, 'another-secret')}` },
        { authorization: `Basic ${Buffer.from('admin:admin-password-1').toString('base64')}` },
        { 'x-auth-token': 'sgk_not-a-key' },
      ];
      for (const headers of refused) {
        expectPlainError(await call('GET', '/api/DEFAULT/segment', 401, { anonymous: true, headers }), 401);
        expectPlainError(await call('GET', `/api/DEFAULT/segment/${id}`, 401, { anonymous: true, headers }), 401);
        const name = unique('Anonymous');
        expectPlainError(await call('POST', '/api/DEFAULT/segment', 401, { anonymous: true, headers, body: { segment: { name } } }), 401);
        expect(await countSegments({ name })).toBe(0);
        expectPlainError(await call('DELETE', `/api/DEFAULT/segment/${id}`, 401, { anonymous: true, headers }), 401);
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${id}/activate`, 401, { anonymous: true, headers }), 401);
      }
      expect((await details(id)).active).toBe(false);
    });

    it('accepts an X-AUTH-TOKEN API key, and answers 401 once it is revoked', async () => {
      const { key, apiKey } = await t.app.services.auth.createApiKeyForUsername('admin', 'x');
      const name = unique('By key');
      const created = await call('POST', '/api/DEFAULT/segment', 200, { apiKey: key, body: { segment: { name } } });
      expect((await call('GET', `/api/DEFAULT/segment/${created.body.segmentId}`, 200, { apiKey: key })).body.name).toBe(name);
      expect(await t.app.services.auth.revokeApiKey(undefined, apiKey.id)).toBe(true);
      expectPlainError(await call('GET', '/api/DEFAULT/segment', 401, { apiKey: key }), 401);
      expectPlainError(await call('POST', '/api/DEFAULT/segment', 401, { apiKey: key, body: { segment: { name: unique('Revoked') } } }), 401);
    });

    it('answers 403 to an admin limited to another store, and to a member token', async () => {
      await t.app.services.stores.create({ code: 'LIMITED', name: 'Limited' });
      await t.app.services.auth.createAdmin({ username: 'limited', password: 'limited-password-1', storeCodes: ['LIMITED'] });
      const limited = await t.login('limited', 'limited-password-1');
      const id = await create({ name: unique('Not yours') });
      const before = await details(id);
      const member = jwt.sign({ kind: 'member', storeId: 'x' }, TEST_SECRET, {
        subject: '3f0c7a0e-1b2c-4d5e-8f90-0a1b2c3d4e5f',
        expiresIn: 60,
      });
      for (const credentials of [limited, member]) {
        const as = { token: credentials };
        expectPlainError(await call('GET', '/api/DEFAULT/segment', 403, as), 403);
        expectPlainError(await call('GET', `/api/DEFAULT/segment/${id}`, 403, as), 403);
        const name = unique('Forbidden');
        expectPlainError(await call('POST', '/api/DEFAULT/segment', 403, { ...as, body: { segment: { name } } }), 403);
        expect(await countSegments({ name })).toBe(0);
        expectPlainError(await call('PUT', `/api/DEFAULT/segment/${id}`, 403, { ...as, body: { segment: { name: 'Taken over' } } }), 403);
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${id}/activate`, 403, as), 403);
        expectPlainError(await call('POST', `/api/DEFAULT/segment/${id}/deactivate`, 403, as), 403);
        expectPlainError(await call('DELETE', `/api/DEFAULT/segment/${id}`, 403, as), 403);
      }
      expect(await details(id)).toEqual(before);
      // The limited admin manages its own store.
      const own = await call('POST', '/api/LIMITED/segment', 200, { token: limited, body: { segment: { name: 'Mine' } } });
      expect((await call('GET', `/api/LIMITED/segment/${own.body.segmentId}`, 200, { token: limited })).body.name).toBe('Mine');
      expect((await call('GET', '/api/LIMITED/segment', 200, { token: limited })).body.total).toEqual({
        all: 1,
        filtered: 1,
        estimated: false,
      });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('body limit (413)', () => {
    /** `json` followed by spaces up to `size` bytes: still valid JSON. */
    const padded = (json: string, size: number) => json + ' '.repeat(size - Buffer.byteLength(json));

    it('refuses a REST body over 1 MiB with Content-Length, and stores nothing', async () => {
      const name = unique('Too big');
      const body = padded(JSON.stringify({ segment: { name } }), MIB + 1);
      const response = await call('POST', '/api/DEFAULT/segment', 413, {
        body,
        headers: { 'content-length': String(Buffer.byteLength(body)) },
      });
      expectPlainError(response, 413);
      expect(await countSegments({ name })).toBe(0);

      const id = await create({ name: unique('Big update target') });
      const before = await details(id);
      const update = padded(JSON.stringify({ segment: { name: unique('Big update') } }), 2 * MIB);
      expectPlainError(
        await call('PUT', `/api/DEFAULT/segment/${id}`, 413, {
          body: update,
          headers: { 'content-length': String(Buffer.byteLength(update)) },
        }),
        413,
      );
      expect(await details(id)).toEqual(before);
    });

    it('refuses a streamed REST body over 1 MiB (no Content-Length), and stores nothing', async () => {
      const name = unique('Streamed');
      const head = new TextEncoder().encode(JSON.stringify({ segment: { name } }));
      const spaces = new TextEncoder().encode(' '.repeat(64 * 1024));
      let sent = -1;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === -1) controller.enqueue(head);
          else if (sent < 17) controller.enqueue(spaces); // 17 x 64 KiB > 1 MiB
          else controller.close();
          sent++;
        },
      });
      const raw = await t.app.yoga.fetch('http://test/api/DEFAULT/segment', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      const text = await raw.text();
      const response: TestResponse = { status: raw.status, headers: raw.headers, text, body: text ? JSON.parse(text) : undefined };
      expect(response.status, text).toBe(413);
      expectDocumented('segmentPost', response);
      expectPlainError(response, 413);
      expect(await countSegments({ name })).toBe(0);
    });

    it('accepts a body of exactly 1 MiB', async () => {
      const name = unique('Exactly one MiB');
      const body = padded(JSON.stringify({ segment: { name } }), MIB);
      expect(Buffer.byteLength(body)).toBe(MIB);
      await call('POST', '/api/DEFAULT/segment', 200, { body, headers: { 'content-length': String(MIB) } });
      expect(await countSegments({ name })).toBe(1);
    });

    it('refuses a /graphql body over 1 MiB, and stores nothing', async () => {
      const mutation = (name: string) =>
        JSON.stringify({
          query: `mutation { createSegment(storeCode: "DEFAULT", segment: {name: ${JSON.stringify(name)}}) { __typename } }`,
        });
      const small = unique('GraphQL small');
      const ok = await t.request('POST', '/graphql', { token, body: mutation(small) });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toEqual({ data: { createSegment: { __typename: 'Segment' } } });
      expect(await countSegments({ name: small })).toBe(1);

      const big = unique('GraphQL big');
      const body = padded(mutation(big), MIB + 1);
      for (const headers of [{ 'content-length': String(MIB + 1) }, {}] as Record<string, string>[]) {
        const response = await t.request('POST', '/graphql', { token, body, headers });
        expectPlainError(response, 413);
      }
      expect(await countSegments({ name: big })).toBe(0);
    });
  });
});
