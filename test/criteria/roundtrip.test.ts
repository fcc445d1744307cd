import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { TestApp, type TestResponse } from '../support/test-app.ts';
import {
  ACHIEVEMENT_1,
  CAMPAIGN_1,
  MEMBER_1,
  MEMBER_2,
  RULE_1,
  UNKNOWN,
  camel,
  examples,
  expectedGraphqlOutput,
  fixtureRecords,
  graphqlSelection,
  toGraphqlParams,
  type CriterionExample,
} from './examples.ts';

/**
 * Every criterion type, end to end on the real app: created over REST and over GraphQL, read
 * back over both, updated over REST, and rejected over both when invalid.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const upperSnake = (type: string) => type.toUpperCase();

const CREATE = `mutation Create($storeCode: String!, $segment: CreateSegmentInput!) {
  createSegment(storeCode: $storeCode, segment: $segment) {
    __typename
    ... on ValidationError { message errors { path code message parameters plural } }
    ... on NotFoundError { message }
    ... on Segment { segmentId }
  }
}`;

const readQuery = (example: CriterionExample) => `query Read($storeCode: String!, $segmentId: ID!) {
  segment(storeCode: $storeCode, segmentId: $segmentId) {
    __typename
    ... on Segment { segmentId name parts { segmentPartId criteria { criterionId type ${graphqlSelection(example)} } } }
  }
}`;

/** The documented 400 body with exactly these [path, code] errors. */
function expectValidationFailed(response: TestResponse, expected: [path: string, code: string][]) {
  expect(response.status, response.text).toBe(400);
  expect(response.body).toMatchObject({ code: 400, message: 'Validation failed' });
  expect(Object.keys(response.body).sort()).toEqual(['code', 'errors', 'message']);
  for (const error of response.body.errors) {
    expect(Object.keys(error).sort()).toEqual(['code', 'message', 'parameters', 'path', 'plural']);
    expect(typeof error.message).toBe('string');
    expect(error.parameters).toBeTypeOf('object');
    expect(error.plural === null || Number.isInteger(error.plural)).toBe(true);
  }
  expect(response.body.errors.map((error: { path: string; code: string }) => [error.path, error.code])).toEqual(expected);
}

describeEachDatabase('criteria round trip', (kind) => {
  let t: TestApp;
  let token: string;
  let counter = 0;
  const uniqueName = (label: string) => `${label} #${++counter}`;

  beforeAll(async () => {
    t = await TestApp.start(kind);
    token = await t.login();
    await t.app.services.stores.ensure({ code: 'WAW', name: 'Warsaw store', timezone: 'Europe/Warsaw' });
    // The channels, levels, tiers, campaigns, achievements, challenges and members the examples name.
    const store = await t.app.database.prisma.store.findUniqueOrThrow({ where: { code: 'DEFAULT' } });
    const summary = await t.app.services.ingest.importRecords(store, fixtureRecords as never);
    expect(summary.failed).toBe(0);
  });
  afterAll(() => t?.close());

  const restCreate = (criteria: Record<string, unknown>[], store = 'DEFAULT', name = uniqueName('rest')) =>
    t.request('POST', `/api/${store}/segment`, { token, body: { segment: { name, parts: [{ criteria }] } } });
  const restGet = (segmentId: string, store = 'DEFAULT') => t.request('GET', `/api/${store}/segment/${segmentId}`, { token });
  const gqlCreate = (criteria: Record<string, unknown>[], store = 'DEFAULT', name = uniqueName('graphql')) =>
    t.graphql(CREATE, { storeCode: store, segment: { name, parts: [{ criteria }] } }, token);

  /** Creates over REST and returns the criterion as GET answers it. */
  async function createAndReadOverRest(criterion: Record<string, unknown>, store = 'DEFAULT') {
    const created = await restCreate([criterion], store);
    expect(created.status, created.text).toBe(200);
    expect(created.body).toEqual({ segmentId: expect.stringMatching(UUID) });
    const read = await restGet(created.body.segmentId, store);
    expect(read.status, read.text).toBe(200);
    expect(read.body.parts).toHaveLength(1);
    expect(read.body.parts[0].criteria).toHaveLength(1);
    return { segmentId: created.body.segmentId as string, criterion: read.body.parts[0].criteria[0] };
  }

  describe.each(examples)('$type', (example) => {
    it('(a) REST: created with the flat body and read back with equal parameters', async () => {
      const { criterion } = await createAndReadOverRest({ type: example.type, ...example.valid });
      expect(criterion).toEqual({ criterionId: expect.stringMatching(UUID), type: example.type, ...example.normalised });
    });

    it('(b) GraphQL: created through the @oneOf input and read back through the typed criterion', async () => {
      const input = { [camel(example.type)]: toGraphqlParams(example, example.valid) };
      const created = await gqlCreate([input]);
      expect(created.body.errors, created.text).toBeUndefined();
      expect(created.body.data.createSegment).toEqual({ __typename: 'Segment', segmentId: expect.stringMatching(UUID) });
      const segmentId = created.body.data.createSegment.segmentId;

      const read = await t.graphql(readQuery(example), { storeCode: 'DEFAULT', segmentId }, token);
      expect(read.body.errors, read.text).toBeUndefined();
      const segment = read.body.data.segment;
      expect(segment.__typename).toBe('Segment');
      expect(segment.parts).toHaveLength(1);
      expect(segment.parts[0].criteria).toEqual([
        {
          criterionId: expect.stringMatching(UUID),
          type: upperSnake(example.type),
          ...expectedGraphqlOutput(example, example.normalised),
        },
      ]);

      // The same segment over REST: the flat wire form.
      const rest = await restGet(segmentId);
      expect(rest.status, rest.text).toBe(200);
      expect(rest.body.parts[0].criteria).toEqual([
        { criterionId: segment.parts[0].criteria[0].criterionId, type: example.type, ...example.normalised },
      ]);
    });

    it('(c) REST: updated with changed parameters (same criterion id), and the change is read back', async () => {
      const { segmentId, criterion } = await createAndReadOverRest({ type: example.type, ...example.valid });
      const name = uniqueName('updated');
      const updated = await t.request('PUT', `/api/DEFAULT/segment/${segmentId}`, {
        token,
        body: { segment: { name, parts: [{ criteria: [{ criterionId: criterion.criterionId, type: example.type, ...example.changed }] }] } },
      });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body).toEqual({ segmentId });
      const read = await restGet(segmentId);
      expect(read.status, read.text).toBe(200);
      expect(read.body.name).toBe(name);
      expect(read.body.parts).toHaveLength(1);
      expect(read.body.parts[0].criteria).toEqual([{ criterionId: criterion.criterionId, type: example.type, ...example.changed }]);

      const gql = await t.graphql(readQuery(example), { storeCode: 'DEFAULT', segmentId }, token);
      expect(gql.body.data.segment.parts[0].criteria).toEqual([
        { criterionId: criterion.criterionId, type: upperSnake(example.type), ...expectedGraphqlOutput(example, example.changed) },
      ]);
    });

    it('(c) REST: an invalid update is refused and changes nothing', async () => {
      const { segmentId, criterion } = await createAndReadOverRest({ type: example.type, ...example.valid });
      const updated = await t.request('PUT', `/api/DEFAULT/segment/${segmentId}`, {
        token,
        body: { segment: { name: uniqueName('refused'), parts: [{ criteria: [{ type: example.type, ...example.valid, ...example.invalid.override }] }] } },
      });
      expectValidationFailed(updated, [[`parts[0].criteria[0].${example.invalid.field}`, example.invalid.code]]);
      const read = await restGet(segmentId);
      expect(read.body.parts[0].criteria).toEqual([criterion]);
    });

    it('(d) the invalid variant: REST 400 with path and code; GraphQL a typed ValidationError', async () => {
      const path = `parts[0].criteria[0].${example.invalid.field}`;
      const invalid = { ...example.valid, ...example.invalid.override };
      const name = uniqueName('invalid');

      const rest = await restCreate([{ type: example.type, ...invalid }], 'DEFAULT', name);
      expectValidationFailed(rest, [[path, example.invalid.code]]);

      const gql = await gqlCreate([{ [camel(example.type)]: toGraphqlParams(example, invalid) }], 'DEFAULT', name);
      expect(gql.body.errors, gql.text).toBeUndefined();
      const result = gql.body.data.createSegment;
      expect(result.__typename).toBe('ValidationError');
      expect(result.errors.map((error: { path: string; code: string }) => [error.path, error.code])).toEqual([[path, example.invalid.code]]);

      // Nothing was created under that name.
      const list = await t.request('GET', `/api/DEFAULT/segment?name=${encodeURIComponent(name)}`, { token });
      expect(list.status, list.text).toBe(200);
      expect(list.body.total.filtered).toBe(0);
    });

    it('(d) REST: a parameter of the wrong JSON type -> invalid_type; an unknown field -> unknown_field', async () => {
      const first = example.params[0];
      const wrong = first.kind.endsWith('List') ? 'not-a-list' : first.kind === 'uuid' || first.kind === 'string' || first.kind === 'instant' || first.kind === 'date' || first.kind === 'enum' ? 42 : 'not-a-number';
      const wrongType = await restCreate([{ type: example.type, ...example.valid, [first.name]: wrong }]);
      expectValidationFailed(wrongType, [[`parts[0].criteria[0].${first.name}`, 'invalid_type']]);

      const unknown = await restCreate([{ type: example.type, ...example.valid, colour: 'red' }]);
      expectValidationFailed(unknown, [['parts[0].criteria[0].colour', 'unknown_field']]);

      const missing = example.params.find((param) => !param.optional)!;
      const { [missing.name]: _removed, ...rest } = example.valid;
      const required = await restCreate([{ type: example.type, ...rest }]);
      expectValidationFailed(required, [[`parts[0].criteria[0].${missing.name}`, 'required']]);
    });

    const references = example.params.filter((param) => param.kind === 'uuid' || param.kind === 'uuidList');
    if (references.length) {
      it.each(references.map((param) => [param.name, param] as const))(
        '(d) %s naming nothing in the store -> not_found over REST and GraphQL',
        async (name, param) => {
          const value = param.kind === 'uuid' ? UNKNOWN : [...(example.normalised[name] as string[]), UNKNOWN];
          const path = `parts[0].criteria[0].${name}${param.kind === 'uuid' ? '' : `[${(value as string[]).length - 1}]`}`;
          const invalid = { ...example.valid, [name]: value };
          expectValidationFailed(await restCreate([{ type: example.type, ...invalid }]), [[path, 'not_found']]);
          const gql = await gqlCreate([{ [camel(example.type)]: toGraphqlParams(example, invalid) }]);
          expect(gql.body.data?.createSegment?.__typename, gql.text).toBe('ValidationError');
          expect(gql.body.data.createSegment.errors.map((error: { path: string; code: string }) => [error.path, error.code])).toEqual([
            [path, 'not_found'],
          ]);
        },
      );
    }

    it('(d) GraphQL: a wrong JSON type is a GraphQL coercion error (no data)', async () => {
      const first = example.params[0];
      const wrong = first.kind === 'int' || first.kind === 'amount' || first.kind === 'number' ? 'not-a-number' : first.kind.endsWith('List') ? [{ nested: true }] : { nested: true };
      const gql = await gqlCreate([{ [camel(example.type)]: { ...toGraphqlParams(example, example.valid), [first.name]: wrong } }]);
      expect(gql.body.errors?.length, gql.text).toBeGreaterThan(0);
      expect(gql.body.data ?? null).toBeNull();
    });
  });

  describe('REST and GraphQL agree on the whole table', () => {
    it('one segment holding all 39 criteria, created over REST, reads back the same over REST and GraphQL', async () => {
      const criteria = examples.map((example) => ({ type: example.type, ...example.valid }));
      const created = await t.request('POST', '/api/DEFAULT/segment', {
        token,
        body: { segment: { name: uniqueName('all'), parts: [{ criteria: criteria.slice(0, 20) }, { criteria: criteria.slice(20) }] } },
      });
      expect(created.status, created.text).toBe(200);
      const read = await restGet(created.body.segmentId);
      expect(read.status, read.text).toBe(200);
      const flat = read.body.parts.flatMap((part: { criteria: Record<string, unknown>[] }) => part.criteria);
      expect(flat.map(({ criterionId: _id, ...criterion }: Record<string, unknown>) => criterion)).toEqual(
        examples.map((example) => ({ type: example.type, ...example.normalised })),
      );
      const types = await t.graphql(
        `query($id: ID!) { segment(storeCode: "DEFAULT", segmentId: $id) { ... on Segment { parts { criteria { type } } } } }`,
        { id: created.body.segmentId },
        token,
      );
      expect(types.body.data.segment.parts.flatMap((part: { criteria: { type: string }[] }) => part.criteria.map((c) => c.type))).toEqual(
        examples.map((example) => upperSnake(example.type)),
      );
    });
  });

  describe('instants in the store time zone', () => {
    it('REST: `YYYY-MM-DD HH:MM` is read in Europe/Warsaw and answered in RFC 3339 UTC', async () => {
      const { criterion } = await createAndReadOverRest(
        { type: 'purchase_period', fromDate: '2024-01-31 10:00', toDate: '2024-07-01 10:00' },
        'WAW',
      );
      expect(criterion).toMatchObject({ fromDate: '2024-01-31T09:00:00Z', toDate: '2024-07-01T08:00:00Z' });
    });

    it('REST: the same local time in the UTC store is 10:00Z', async () => {
      const { criterion } = await createAndReadOverRest({ type: 'purchase_period', fromDate: '2024-01-31 10:00', toDate: '2024-07-01 10:00' });
      expect(criterion).toMatchObject({ fromDate: '2024-01-31T10:00:00Z', toDate: '2024-07-01T10:00:00Z' });
    });

    it('GraphQL: `YYYY-MM-DD HH:MM` is read in Europe/Warsaw', async () => {
      const example = examples.find((e) => e.type === 'member_registration_date')!;
      const created = await gqlCreate([{ memberRegistrationDate: { fromDate: '2024-01-31 10:00', toDate: '2024-07-01 10:00' } }], 'WAW');
      expect(created.body.data.createSegment.__typename, created.text).toBe('Segment');
      const read = await t.graphql(readQuery(example), { storeCode: 'WAW', segmentId: created.body.data.createSegment.segmentId }, token);
      expect(read.body.data.segment.parts[0].criteria[0]).toMatchObject({ fromDate: '2024-01-31T09:00:00Z', toDate: '2024-07-01T08:00:00Z' });
    });

    it('a local fromDate and an RFC 3339 toDate are compared as instants of the store zone (GraphQL)', async () => {
      // 10:00 in Warsaw is 09:00Z, before 09:30Z: valid.
      const ok = await gqlCreate([{ purchasePeriod: { fromDate: '2024-01-31 10:00', toDate: '2024-01-31T09:30:00Z' } }], 'WAW');
      expect(ok.body.data.createSegment.__typename, ok.text).toBe('Segment');
      // 10:00 in Warsaw is 09:00Z, before 09:30Z: invalid the other way round.
      const bad = await gqlCreate([{ purchasePeriod: { fromDate: '2024-01-31T09:30:00Z', toDate: '2024-01-31 10:00' } }], 'WAW');
      expect(bad.body.data.createSegment).toMatchObject({
        __typename: 'ValidationError',
        errors: [{ path: 'parts[0].criteria[0].toDate', code: 'out_of_range' }],
      });
    });

    it('a local fromDate and an RFC 3339 toDate are compared as instants of the store zone (REST)', async () => {
      const { criterion } = await createAndReadOverRest(
        { type: 'purchase_period', fromDate: '2024-01-31 10:00', toDate: '2024-01-31T09:30:00Z' },
        'WAW',
      );
      expect(criterion).toMatchObject({ fromDate: '2024-01-31T09:00:00Z', toDate: '2024-01-31T09:30:00Z' });
      const bad = await restCreate([{ type: 'purchase_period', fromDate: '2024-01-31T09:30:00Z', toDate: '2024-01-31 10:00' }], 'WAW');
      expectValidationFailed(bad, [['parts[0].criteria[0].toDate', 'out_of_range']]);
    });
  });

  describe('specific rules over REST', () => {
    it('customer_list with 10001 entries -> too_many', async () => {
      const customers = Array.from({ length: 10_001 }, (_, i) => `m${i}@example.com`);
      const response = await restCreate([{ type: 'customer_list', customers }]);
      expectValidationFailed(response, [['parts[0].criteria[0].customers', 'too_many']]);
    });

    it('gender with a bad choice -> invalid_choice on the entry; GraphQL enum names are not wire values', async () => {
      const response = await restCreate([{ type: 'gender', genders: ['female', 'FEMALE'] }]);
      expectValidationFailed(response, [['parts[0].criteria[0].genders[1]', 'invalid_choice']]);
      const anniversary = await restCreate([{ type: 'anniversary', anniversaryType: 'wedding', days: 1 }]);
      expectValidationFailed(anniversary, [['parts[0].criteria[0].anniversaryType', 'invalid_choice']]);
    });

    it('bought_labels without a label value -> required; customer_has_labels without one is fine', async () => {
      const bought = await restCreate([{ type: 'bought_labels', labels: [{ key: 'color' }] }]);
      expectValidationFailed(bought, [['parts[0].criteria[0].labels[0].value', 'required']]);
      const values = await restCreate([{ type: 'customer_with_labels_values', labels: [{ key: 'tier', value: null }] }]);
      expectValidationFailed(values, [['parts[0].criteria[0].labels[0].value', 'required']]);
      const { criterion } = await createAndReadOverRest({ type: 'customer_has_labels', labels: [{ key: 'vip', value: null }] });
      expect(criterion).toEqual({ criterionId: expect.stringMatching(UUID), type: 'customer_has_labels', labels: [{ key: 'vip' }] });
    });

    it('optional parameters sent as null are accepted and come back absent', async () => {
      const { criterion } = await createAndReadOverRest({
        type: 'achievement_rule_progress',
        achievementId: ACHIEVEMENT_1,
        ruleId: RULE_1,
        minProgress: 1,
        maxProgress: null,
        days: null,
      });
      expect(criterion).toEqual({
        criterionId: expect.stringMatching(UUID),
        type: 'achievement_rule_progress',
        achievementId: ACHIEVEMENT_1,
        ruleId: RULE_1,
        minProgress: 1,
      });
      const campaign = await createAndReadOverRest({ type: 'campaign_completion', campaignIds: [CAMPAIGN_1], fromDate: null, toDate: '2024-01-01T00:00:00Z' });
      expect(campaign.criterion).toEqual({
        criterionId: expect.stringMatching(UUID),
        type: 'campaign_completion',
        campaignIds: [CAMPAIGN_1],
        toDate: '2024-01-01T00:00:00Z',
      });
    });

    it('customer_list entries (id, e-mail, phone, card number) are saved and read back as member ids', async () => {
      const { criterion } = await createAndReadOverRest({ type: 'customer_list', customers: ['MEMBER1@example.com', 'CARD-0002'] });
      expect(criterion.customers).toEqual([MEMBER_1, MEMBER_2]);
      const gql = await gqlCreate([{ customerList: { customers: ['+48100000002', MEMBER_1.toUpperCase()] } }]);
      expect(gql.body.data.createSegment.__typename, gql.text).toBe('Segment');
      const read = await restGet(gql.body.data.createSegment.segmentId);
      expect(read.body.parts[0].criteria[0].customers).toEqual([MEMBER_2, MEMBER_1]);
    });

    it('customer_list: an entry that names no member -> not_found on the entry', async () => {
      const response = await restCreate([{ type: 'customer_list', customers: [MEMBER_1, 'nobody@example.com'] }]);
      expectValidationFailed(response, [['parts[0].criteria[0].customers[1]', 'not_found']]);
    });

    it('customer_csv_list: rows that name no member are not fatal', async () => {
      const { criterion } = await createAndReadOverRest({ type: 'customer_csv_list', customers: ['member2@example.com', 'nobody@example.com'] });
      expect(criterion.customers).toEqual([MEMBER_2]);
    });

    it('transaction_amount_each_day_in_period over 366 days -> out_of_range on toDate', async () => {
      const response = await restCreate([
        { type: 'transaction_amount_each_day_in_period', fromDate: '2024-01-01', toDate: '2025-01-02', fromAmount: 0, toAmount: 1 },
      ]);
      expectValidationFailed(response, [['parts[0].criteria[0].toDate', 'out_of_range']]);
    });

    it('an integer too large for the GraphQL layer still gets the documented 400 (or is kept exactly)', async () => {
      const response = await restCreate([{ type: 'transaction_count', min: 0, max: 2_147_483_648 }]);
      if (response.status === 200) {
        const read = await restGet(response.body.segmentId);
        expect(read.body.parts[0].criteria[0]).toMatchObject({ min: 0, max: 2_147_483_648 });
      } else {
        expectValidationFailed(response, [['parts[0].criteria[0].max', 'out_of_range']]);
      }
    });
  });
});
