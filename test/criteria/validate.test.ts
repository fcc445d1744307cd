import { describe, expect, it } from 'vitest';
import { criterionDefinitions } from '../../src/criteria/definitions.ts';
import type { CheckContext } from '../../src/criteria/params.ts';
import { validateCriterion } from '../../src/criteria/validate.ts';
import { validateSegmentInput } from '../../src/services/segment-input.ts';
import { U1, U2, U3, examples, exampleByType, type CriterionExample, type SpecKind, type SpecParam } from './examples.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

const ERROR_CODES = [
  'required',
  'invalid_type',
  'invalid_format',
  'invalid_choice',
  'out_of_range',
  'too_few',
  'too_many',
  'not_unique',
  'not_found',
  'unknown_field',
  'in_use',
];

/** Path of a field of the single criterion of the single part. */
const at = (field: string) => `parts[0].criteria[0].${field}`;

type Result = ReturnType<typeof validateSegmentInput>;

/** The errors as [path, code], after checking each has the documented item shape. */
function errorsOf(result: Result): [string, string][] {
  for (const error of result.errors) {
    expect(typeof error.message).toBe('string');
    expect(error.message.length).toBeGreaterThan(0);
    expect(error.parameters).toBeTypeOf('object');
    expect(error.parameters).not.toBeNull();
    expect(error.plural === null || Number.isInteger(error.plural)).toBe(true);
    expect(ERROR_CODES).toContain(error.code);
  }
  return result.errors.map((error) => [error.path, error.code]);
}

function validateOne(criterion: Record<string, unknown>, timezone = 'UTC'): Result {
  return validateSegmentInput({ name: 'Segment', parts: [{ criteria: [criterion] }] }, timezone);
}

/** The criterion is rejected with exactly these errors (fields relative to the criterion). */
function expectErrors(criterion: Record<string, unknown>, expected: [field: string, code: string][], timezone = 'UTC') {
  const result = validateOne(criterion, timezone);
  expect(result.draft).toBeUndefined();
  expect(errorsOf(result)).toEqual(expected.map(([field, code]) => [at(field), code]));
}

/** The criterion is accepted; returns its normalised parameters. */
function expectValid(criterion: Record<string, unknown>, timezone = 'UTC'): Record<string, unknown> {
  const result = validateOne(criterion, timezone);
  expect(errorsOf(result)).toEqual([]);
  expect(result.draft?.parts).toHaveLength(1);
  expect(result.draft!.parts![0].criteria).toHaveLength(1);
  const draft = result.draft!.parts![0].criteria[0];
  expect(draft.type).toBe(criterion.type);
  return draft.params;
}

function expectSegmentErrors(segment: unknown, expected: [path: string, code: string][]) {
  const result = validateSegmentInput(segment, 'UTC');
  expect(result.draft).toBeUndefined();
  expect(errorsOf(result)).toEqual(expected);
}

const withType = (example: CriterionExample, params: Record<string, unknown>) => ({ type: example.type, ...params });
const without = (object: Record<string, unknown>, field: string) => {
  const copy = { ...object };
  delete copy[field];
  return copy;
};

/** Values of the wrong JSON type for a parameter kind. */
const WRONG_TYPES: Record<SpecKind, unknown[]> = {
  uuid: [42, true, [U1], { id: U1 }],
  uuidList: [U1, 42, { 0: U1 }],
  int: ['5', 2.5, true, [5], { value: 5 }],
  amount: ['10', '10.00', true, [10]],
  number: ['5', false, [5]],
  instant: [20240101, true, ['2024-01-01T00:00:00Z'], { date: '2024-01-01T00:00:00Z' }],
  date: [20240101, false, ['2024-01-01']],
  string: [42, true, ['x'], { value: 'x' }],
  stringList: ['x', 42, { 0: 'x' }],
  enum: [1, true, ['birthday']],
  enumList: ['female', 1, { 0: 'female' }],
  labelList: [{ key: 'a', value: 'b' }, 'a', 1],
};

/** A wrong-typed entry of a list parameter. */
const WRONG_ITEM: Partial<Record<SpecKind, unknown[]>> = {
  uuidList: [42, null, [U1]],
  stringList: [42, null, ['x']],
  enumList: [1, null],
  labelList: ['a', 42, null, ['key']],
};

const MALFORMED_UUIDS = [
  'not-a-uuid',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111',
  'a0eebc999c0b4ef8bb6d6bb9bd380a11',
  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
  'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'a0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11',
];

const BAD_INSTANTS = [
  '2024-01-31',
  '2024-02-30T10:00:00Z',
  '2023-02-29 10:00',
  '2024-01-31T10:00:00',
  '2024-01-31T25:00:00Z',
  '2024-01-31 24:30',
  '2024-01-31 10:00:00',
  '2024-01-31 10',
  '31.01.2024 10:00',
  '2024/01/31 10:00',
  '2024-01-31T10:60:00Z',
  '2024-01-31T10:00:60Z',
  '2024-01-31T10:00:00+0100',
  '2024-01-31T10:00Z',
  'yesterday',
  '1706695200',
];

const BAD_DATES = [
  '2024-02-30',
  '2023-02-29',
  '2024-13-01',
  '2024-1-5',
  '2024-01-31T00:00:00Z',
  '2024-01-31 10:00',
  '31-01-2024',
  '2024/01/31',
  'today',
];

/** The other member of a from/to pair, and which side `name` is on. */
function partnerOf(example: CriterionExample, name: string): { partner: string; side: 'from' | 'to' } | undefined {
  for (const [from, to] of example.ranges) {
    if (from === name) return { partner: to, side: 'from' };
    if (to === name) return { partner: from, side: 'to' };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

describe('the criteria table (DOMAIN.md section 4)', () => {
  it('has exactly the 39 documented types, each defined once', () => {
    expect(examples).toHaveLength(39);
    expect(new Set(examples.map((example) => example.type)).size).toBe(39);
    expect(criterionDefinitions.map((definition) => definition.type).sort()).toEqual(
      examples.map((example) => example.type).sort(),
    );
  });

  it.each(criterionDefinitions.map((definition) => [definition.type, definition] as const))(
    '%s: the definition has the documented parameters, required and optional ones',
    (type, definition) => {
      const example = exampleByType.get(type);
      expect(example, `${type} is not in DOMAIN.md`).toBeDefined();
      const describeParams = (params: { name: string; optional?: boolean }[]) =>
        params.map((param) => `${param.name}${param.optional ? '?' : ''}`).sort();
      expect(describeParams(definition.params)).toEqual(describeParams(example!.params));
      expect((definition.ranges ?? []).map((pair) => pair.join('<=')).sort()).toEqual(
        example!.ranges.map((pair) => pair.join('<=')).sort(),
      );
    },
  );
});

describe.each(examples)('$type', (example) => {
  const valid = withType(example, example.valid);
  const required = example.params.filter((param) => !param.optional);
  const optional = example.params.filter((param) => param.optional);

  it('accepts the valid example and normalises it', () => {
    expect(expectValid(valid)).toEqual(example.normalised);
    // validateCriterion directly, with its own path prefix.
    const ctx: CheckContext = { timezone: 'UTC', errors: [] };
    const draft = validateCriterion({ ...valid, criterionId: U3.toUpperCase() }, 'c', ctx);
    expect(ctx.errors).toEqual([]);
    expect(draft).toEqual({ type: example.type, criterionId: U3, params: example.normalised });
  });

  it('accepts its normal form again unchanged (normalising is idempotent), and the update example', () => {
    expect(expectValid(withType(example, example.normalised))).toEqual(example.normalised);
    expect(expectValid(withType(example, example.changed))).toEqual(example.changed);
  });

  it('reports the documented error for the invalid variant', () => {
    expectErrors({ ...valid, ...example.invalid.override }, [[example.invalid.field, example.invalid.code]]);
  });

  it.each(required.map((param) => [param.name]))('%s removed or null -> required', (name) => {
    expectErrors(without(valid, name), [[name, 'required']]);
    expectErrors({ ...valid, [name]: null }, [[name, 'required']]);
  });

  if (required.length > 1) {
    it('all parameters missing -> one `required` per required parameter', () => {
      expectErrors({ type: example.type }, required.map((param) => [param.name, 'required']));
    });
  }

  if (optional.length) {
    it.each(optional.map((param) => [param.name]))('optional %s may be omitted or null', (name) => {
      const expected = without(example.normalised, name);
      expect(expectValid(without(valid, name))).toEqual(expected);
      expect(expectValid({ ...valid, [name]: null })).toEqual(expected);
    });
    it('all optional parameters omitted at once', () => {
      let params: Record<string, unknown> = valid;
      let expected = example.normalised;
      for (const param of optional) {
        params = without(params, param.name);
        expected = without(expected, param.name);
      }
      expect(expectValid(params)).toEqual(expected);
    });
  }

  it.each(example.params.flatMap((param) => WRONG_TYPES[param.kind].map((wrong) => [param.name, wrong] as const)))(
    '%s = %j (wrong JSON type) -> invalid_type',
    (name, wrong) => {
      expectErrors({ ...valid, [name]: wrong }, [[name, 'invalid_type']]);
    },
  );

  const lists = example.params.filter((param) => WRONG_ITEM[param.kind]);
  if (lists.length) {
    it.each(lists.map((param) => [param.name, param] as const))('%s with an entry of the wrong JSON type -> invalid_type on the entry', (name, param) => {
      const first = (example.valid[name] as unknown[])[0];
      for (const wrong of WRONG_ITEM[param.kind]!) {
        expectErrors({ ...valid, [name]: [first, wrong] }, [[`${name}[1]`, 'invalid_type']]);
      }
    });
  }

  it('an unknown field -> unknown_field (also a parameter of another criterion type)', () => {
    expectErrors({ ...valid, bogus: 1 }, [['bogus', 'unknown_field']]);
    expectErrors({ ...valid, bogus: null }, [['bogus', 'unknown_field']]);
    const foreign = example.params.some((param) => param.name === 'genders') ? 'makers' : 'genders';
    expectErrors({ ...valid, [foreign]: ['female'] }, [[foreign, 'unknown_field']]);
    expectErrors({ ...valid, params: example.valid }, [['params', 'unknown_field']]);
  });

  const bounded = example.params.filter((param) => param.min !== undefined || param.max !== undefined);
  expect(bounded.every((param) => ['int', 'amount', 'number'].includes(param.kind))).toBe(true);
  if (bounded.length) {
    it.each(bounded.map((param) => [param.name, param] as const))('%s out of its range -> out_of_range; its bounds are accepted', (name, param) => {
      const step = param.kind === 'int' ? 1 : 0.01;
      const pair = partnerOf(example, name);
      if (param.min !== undefined) {
        expectErrors({ ...valid, [name]: param.min - step }, [[name, 'out_of_range']]);
        expectErrors({ ...valid, [name]: param.min - 1000 }, [[name, 'out_of_range']]);
        // The lower bound itself: move a `from` partner down too so that from <= to holds.
        const atMin = { ...valid, [name]: param.min, ...(pair?.side === 'to' ? { [pair.partner]: param.min } : {}) };
        expect(expectValid(atMin)[name]).toBe(param.min);
      }
      if (param.max !== undefined) {
        expectErrors({ ...valid, [name]: param.max + step }, [[name, 'out_of_range']]);
        expectErrors({ ...valid, [name]: param.max + 1 }, [[name, 'out_of_range']]);
        expect(expectValid({ ...valid, [name]: param.max })[name]).toBe(param.max);
      }
    });
  }

  const nonEmpty = example.params.filter((param) => param.nonEmpty);
  if (nonEmpty.length) {
    it.each(nonEmpty.map((param) => [param.name]))('%s empty -> too_few', (name) => {
      expectErrors({ ...valid, [name]: [] }, [[name, 'too_few']]);
    });
  }

  if (example.ranges.length) {
    it.each(example.ranges.map(([from, to]) => [from, to]))('%s > %s -> out_of_range on the `to` field; equal is fine', (from, to) => {
      // Swap the two values of the valid example so that from > to.
      const params = { ...example.valid };
      if (params[from] === undefined || params[to] === undefined) throw new Error('the valid example must set both');
      const [low, high] = [example.normalised[from], example.normalised[to]];
      expect(low).not.toEqual(high);
      expectErrors({ ...valid, [from]: example.valid[to], [to]: example.valid[from] }, [[to, 'out_of_range']]);
      // from == to is inside the range.
      const equal = expectValid({ ...valid, [from]: example.valid[to] });
      expect(equal[from]).toEqual(equal[to]);
    });
  }

  const amounts = example.params.filter((param) => param.kind === 'amount');
  if (amounts.length) {
    it.each(amounts.map((param) => [param.name]))('%s with 3 decimals -> invalid_format; 2 decimals are fine', (name) => {
      const pair = partnerOf(example, name);
      for (const value of [10.125, 0.001, 99.999]) {
        expectErrors({ ...valid, [name]: value }, [[name, 'invalid_format']]);
      }
      // Two decimals at the range's low end (a `to` field gets a partner at 0).
      for (const value of [0.01, 0.1, 0.29, 1.15, 19.99]) {
        const params = { ...valid, [name]: value, ...(pair ? (pair.side === 'to' ? { [pair.partner]: 0 } : { [pair.partner]: 1_000_000 }) : {}) };
        expect(expectValid(params)[name]).toBe(value);
      }
    });
  }

  const uuids = example.params.filter((param) => param.kind === 'uuid' || param.kind === 'uuidList');
  if (uuids.length) {
    it.each(uuids.flatMap((param) => MALFORMED_UUIDS.map((bad) => [param.name, bad, param] as const)))(
      '%s with the malformed UUID %j -> invalid_format',
      (name, bad, param) => {
        if (param.kind === 'uuid') expectErrors({ ...valid, [name]: bad }, [[name, 'invalid_format']]);
        else expectErrors({ ...valid, [name]: [U2, bad] }, [[`${name}[1]`, 'invalid_format']]);
      },
    );
    it.each(uuids.map((param) => [param.name, param] as const))('%s in upper case is accepted, as lower case', (name, param) => {
      const upper = U2.toUpperCase();
      const params = expectValid({ ...valid, [name]: param.kind === 'uuid' ? upper : [upper] });
      expect(params[name]).toEqual(param.kind === 'uuid' ? U2 : [U2]);
    });
  }

  const instants = example.params.filter((param) => param.kind === 'instant');
  if (instants.length) {
    it.each(instants.flatMap((param) => BAD_INSTANTS.map((bad) => [param.name, bad])))('%s = %j -> invalid_format', (name, bad) => {
      expectErrors({ ...valid, [name]: bad }, [[name, 'invalid_format']]);
    });

    it('reads `YYYY-MM-DD HH:MM` in the store time zone (winter and summer time) and answers RFC 3339 UTC', () => {
      const [from, to] = example.ranges.find(([f]) => f === instants[0].name)!;
      const local = { ...valid, [from]: '2024-01-31 10:00', [to]: '2024-07-01 10:00' };
      const warsaw = expectValid(local, 'Europe/Warsaw');
      expect([warsaw[from], warsaw[to]]).toEqual(['2024-01-31T09:00:00Z', '2024-07-01T08:00:00Z']);
      const utc = expectValid(local, 'UTC');
      expect([utc[from], utc[to]]).toEqual(['2024-01-31T10:00:00Z', '2024-07-01T10:00:00Z']);
      const newYork = expectValid(local, 'America/New_York');
      expect([newYork[from], newYork[to]]).toEqual(['2024-01-31T15:00:00Z', '2024-07-01T14:00:00Z']);
      // RFC 3339 instants carry their own offset: the store zone does not matter.
      const rfc = { ...valid, [from]: '2024-01-31T10:00:00+01:00', [to]: '2024-07-01T10:00:00.250-02:30' };
      for (const zone of ['UTC', 'Europe/Warsaw', 'Asia/Kolkata']) {
        const params = expectValid(rfc, zone);
        expect([params[from], params[to]]).toEqual(['2024-01-31T09:00:00Z', '2024-07-01T12:30:00.250Z']);
      }
    });

    it('compares a local `from` and an RFC 3339 `to` as instants in the store zone', () => {
      const [from, to] = example.ranges.find(([f]) => f === instants[0].name)!;
      // 10:00 in Warsaw is 09:00Z, before 09:30Z.
      const params = expectValid({ ...valid, [from]: '2024-01-31 10:00', [to]: '2024-01-31T09:30:00Z' }, 'Europe/Warsaw');
      expect([params[from], params[to]]).toEqual(['2024-01-31T09:00:00Z', '2024-01-31T09:30:00Z']);
      // 10:00 in Warsaw is 09:00Z, before 09:30Z.
      expectErrors({ ...valid, [from]: '2024-01-31T09:30:00Z', [to]: '2024-01-31 10:00' }, [[to, 'out_of_range']], 'Europe/Warsaw');
    });
  }

  const dates = example.params.filter((param) => param.kind === 'date');
  if (dates.length) {
    it.each(dates.flatMap((param) => BAD_DATES.map((bad) => [param.name, bad])))('%s = %j -> invalid_format', (name, bad) => {
      expectErrors({ ...valid, [name]: bad }, [[name, 'invalid_format']]);
    });
  }

  const strings = example.params.filter((param) => param.kind === 'string' || param.kind === 'stringList');
  if (strings.length) {
    it.each(strings.map((param) => [param.name, param] as const))('%s blank -> required', (name, param) => {
      if (param.kind === 'string') {
        expectErrors({ ...valid, [name]: '' }, [[name, 'required']]);
        expectErrors({ ...valid, [name]: '   ' }, [[name, 'required']]);
      } else {
        expectErrors({ ...valid, [name]: ['x', '  '] }, [[`${name}[1]`, 'required']]);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Rules of single criteria that the generic cases above do not reach.

describe('specific criteria rules', () => {
  it('transaction_amount_each_day_in_period: at most 366 days from fromDate to toDate', () => {
    const base = { type: 'transaction_amount_each_day_in_period', fromAmount: 0, toAmount: 10 };
    expectValid({ ...base, fromDate: '2024-03-15', toDate: '2024-03-15' });
    expectValid({ ...base, fromDate: '2024-01-01', toDate: '2025-01-01' }); // 366 days (leap year)
    expectValid({ ...base, fromDate: '2023-01-01', toDate: '2024-01-02' }); // 366 days
    expectErrors({ ...base, fromDate: '2024-01-01', toDate: '2025-01-02' }, [['toDate', 'out_of_range']]); // 367
    expectErrors({ ...base, fromDate: '2023-01-01', toDate: '2024-01-03' }, [['toDate', 'out_of_range']]); // 367
    expectErrors({ ...base, fromDate: '2020-01-01', toDate: '2024-01-01' }, [['toDate', 'out_of_range']]);
    // toDate before fromDate is out_of_range too, once.
    expectErrors({ ...base, fromDate: '2024-01-02', toDate: '2024-01-01' }, [['toDate', 'out_of_range']]);
  });

  it('transaction_amount_each_day_in_period: calendar dates are not shifted by the store zone', () => {
    const params = expectValid(
      { type: 'transaction_amount_each_day_in_period', fromDate: '2024-01-01', toDate: '2024-01-02', fromAmount: 0, toAmount: 1 },
      'Pacific/Kiritimati',
    );
    expect(params).toMatchObject({ fromDate: '2024-01-01', toDate: '2024-01-02' });
  });

  it('transaction_amount_each_day_in_last_n_days: days 1..366', () => {
    const base = { type: 'transaction_amount_each_day_in_last_n_days', fromAmount: 0, toAmount: 10 };
    expect(expectValid({ ...base, days: 1 }).days).toBe(1);
    expect(expectValid({ ...base, days: 366 }).days).toBe(366);
    expectErrors({ ...base, days: 367 }, [['days', 'out_of_range']]);
    expectErrors({ ...base, days: 0 }, [['days', 'out_of_range']]);
    expectErrors({ ...base, days: -5 }, [['days', 'out_of_range']]);
  });

  it('negative amounts -> out_of_range in every criterion that takes amounts', () => {
    for (const example of examples) {
      for (const param of example.params.filter((p) => p.kind === 'amount')) {
        expectErrors({ ...withType(example, example.valid), [param.name]: -1 }, [[param.name, 'out_of_range']]);
        expectErrors({ ...withType(example, example.valid), [param.name]: -0.01 }, [[param.name, 'out_of_range']]);
      }
    }
  });

  it('days 0 -> out_of_range wherever days are counted from 1', () => {
    const withDays = examples.filter((example) => example.params.some((param) => param.name === 'days'));
    expect(withDays.map((example) => example.type).sort()).toEqual([
      'achievement_rule_progress',
      'anniversary',
      'last_custom_event_n_days_before',
      'last_purchase_n_days_before',
      'transaction_amount_each_day_in_last_n_days',
      'transaction_amount_in_last_n_days',
    ]);
    for (const example of withDays) expectErrors({ ...withType(example, example.valid), days: 0 }, [['days', 'out_of_range']]);
  });

  it('amounts: more than 2 fractional digits -> invalid_format, however small the extra digits', () => {
    const base = { type: 'transaction_amount', fromAmount: 0, toAmount: 1000 };
    for (const value of [10.125, 0.001, 0.005, 1.0000001, 0.000000001, 5.000000001]) {
      expect.soft(errorsOf(validateOne({ ...base, fromAmount: value })), String(value)).toEqual([[at('fromAmount'), 'invalid_format']]);
    }
    for (const value of [0, 0.5, 0.07, 1.15, 2.3, 999.99, 1234567.89]) {
      expect(expectValid({ ...base, fromAmount: value, toAmount: 9_999_999 }).fromAmount).toBe(value);
    }
  });

  it('transaction_percent_in_channel: percent 0..100', () => {
    const base = { type: 'transaction_percent_in_channel', channelId: U1 };
    expect(expectValid({ ...base, percent: 0 }).percent).toBe(0);
    expect(expectValid({ ...base, percent: 100 }).percent).toBe(100);
    expectErrors({ ...base, percent: 101 }, [['percent', 'out_of_range']]);
    expectErrors({ ...base, percent: 100.5 }, [['percent', 'out_of_range']]);
    expectErrors({ ...base, percent: -1 }, [['percent', 'out_of_range']]);
  });

  it('customer_list: 1..10000 entries', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `member-${i}@example.com`);
    expect((expectValid({ type: 'customer_list', customers: ids(10_000) }).customers as string[]).length).toBe(10_000);
    expectErrors({ type: 'customer_list', customers: ids(10_001) }, [['customers', 'too_many']]);
    expectErrors({ type: 'customer_list', customers: [] }, [['customers', 'too_few']]);
    const tooMany = validateOne({ type: 'customer_list', customers: ids(10_001) }).errors[0];
    expect(tooMany.parameters).toMatchObject({ limit: 10_000 });
  });

  it('customer_csv_list: the uploaded rows may be none', () => {
    expect(expectValid({ type: 'customer_csv_list', customers: [] })).toEqual({ customers: [] });
  });

  it('gender: a choice that is not male, female or not_disclosed -> invalid_choice on the entry', () => {
    expectErrors({ type: 'gender', genders: ['unknown'] }, [['genders[0]', 'invalid_choice']]);
    expectErrors({ type: 'gender', genders: ['female', 'FEMALE'] }, [['genders[1]', 'invalid_choice']]);
    expectErrors({ type: 'gender', genders: ['male', 'other', 'female'] }, [['genders[1]', 'invalid_choice']]);
    expectErrors({ type: 'gender', genders: [''] }, [['genders[0]', 'invalid_choice']]);
    expect(expectValid({ type: 'gender', genders: ['male', 'female', 'not_disclosed'] })).toEqual({
      genders: ['male', 'female', 'not_disclosed'],
    });
    const error = validateOne({ type: 'gender', genders: ['unknown'] }).errors[0];
    expect(error.parameters).toMatchObject({ choices: ['male', 'female', 'not_disclosed'] });
  });

  it('anniversary: anniversaryType is birthday or registration', () => {
    for (const bad of ['wedding', 'BIRTHDAY', 'Birthday', '']) {
      expectErrors({ type: 'anniversary', anniversaryType: bad, days: 3 }, [['anniversaryType', 'invalid_choice']]);
    }
    expect(expectValid({ type: 'anniversary', anniversaryType: 'registration', days: 1 })).toEqual({
      anniversaryType: 'registration',
      days: 1,
    });
  });

  it('country: entries are ISO 3166-1 alpha-2 codes', () => {
    expectErrors({ type: 'country', countries: ['POL'] }, [['countries[0]', 'invalid_format']]);
    expectErrors({ type: 'country', countries: ['PL', 'P1'] }, [['countries[1]', 'invalid_format']]);
    expectErrors({ type: 'country', countries: ['Poland'] }, [['countries[0]', 'invalid_format']]);
  });

  describe.each(['bought_labels', 'customer_with_labels_values'])('%s: labels need key and value', (type) => {
    it('accepts key/value pairs', () => {
      expect(expectValid({ type, labels: [{ key: 'a', value: 'b' }] })).toEqual({ labels: [{ key: 'a', value: 'b' }] });
    });
    it('value missing, null or blank -> required on the label value', () => {
      expectErrors({ type, labels: [{ key: 'a' }] }, [['labels[0].value', 'required']]);
      expectErrors({ type, labels: [{ key: 'a', value: 'b' }, { key: 'c', value: null }] }, [['labels[1].value', 'required']]);
      expectErrors({ type, labels: [{ key: 'a', value: ' ' }] }, [['labels[0].value', 'required']]);
    });
    it('key missing or blank -> required on the label key', () => {
      expectErrors({ type, labels: [{ value: 'b' }] }, [['labels[0].key', 'required']]);
      expectErrors({ type, labels: [{ key: '', value: 'b' }] }, [['labels[0].key', 'required']]);
    });
    it('wrong types and unknown label fields', () => {
      expectErrors({ type, labels: [{ key: 1, value: 'b' }] }, [['labels[0].key', 'invalid_type']]);
      expectErrors({ type, labels: [{ key: 'a', value: 2 }] }, [['labels[0].value', 'invalid_type']]);
      expectErrors({ type, labels: [{ key: 'a', value: 'b', colour: 'red' }] }, [['labels[0].colour', 'unknown_field']]);
    });
  });

  describe('customer_has_labels: labels need a key; the value is optional', () => {
    it('value omitted or null is fine, and stays absent', () => {
      expect(expectValid({ type: 'customer_has_labels', labels: [{ key: 'a' }, { key: 'b', value: null }, { key: 'c', value: 'd' }] })).toEqual({
        labels: [{ key: 'a' }, { key: 'b' }, { key: 'c', value: 'd' }],
      });
    });
    it('key missing or blank -> required; wrong types -> invalid_type; unknown label field -> unknown_field', () => {
      expectErrors({ type: 'customer_has_labels', labels: [{ value: 'b' }] }, [['labels[0].key', 'required']]);
      expectErrors({ type: 'customer_has_labels', labels: [{ key: '  ' }] }, [['labels[0].key', 'required']]);
      expectErrors({ type: 'customer_has_labels', labels: [{ key: 'a', value: 5 }] }, [['labels[0].value', 'invalid_type']]);
      expectErrors({ type: 'customer_has_labels', labels: [{ key: 'a', extra: true }] }, [['labels[0].extra', 'unknown_field']]);
    });
  });

  it('optional parameters: campaign_completion dates, achievement maxCount, rule progress maxProgress/days', () => {
    const campaign = { type: 'campaign_completion', campaignIds: [U1] };
    expect(expectValid(campaign)).toEqual({ campaignIds: [U1] });
    expect(expectValid({ ...campaign, fromDate: null, toDate: null })).toEqual({ campaignIds: [U1] });
    expect(expectValid({ ...campaign, fromDate: '2024-01-01T00:00:00Z' })).toEqual({ campaignIds: [U1], fromDate: '2024-01-01T00:00:00Z' });
    expect(expectValid({ ...campaign, toDate: '2024-01-01 12:00' }, 'Europe/Warsaw')).toEqual({
      campaignIds: [U1],
      toDate: '2024-01-01T11:00:00Z',
    });
    expectErrors({ ...campaign, fromDate: 'soon' }, [['fromDate', 'invalid_format']]);

    const achievement = { type: 'achievement_completion_count', achievementId: U1, minCount: 2 };
    expect(expectValid(achievement)).toEqual({ achievementId: U1, minCount: 2 });
    expect(expectValid({ ...achievement, maxCount: null })).toEqual({ achievementId: U1, minCount: 2 });
    expectErrors({ ...achievement, maxCount: -1 }, [['maxCount', 'out_of_range']]);
    expectErrors({ ...achievement, maxCount: 1 }, [['maxCount', 'out_of_range']]);
    expectErrors({ ...achievement, maxCount: '3' }, [['maxCount', 'invalid_type']]);

    const rule = { type: 'achievement_rule_progress', achievementId: U1, ruleId: U2, minProgress: 0 };
    expect(expectValid(rule)).toEqual({ achievementId: U1, ruleId: U2, minProgress: 0 });
    expect(expectValid({ ...rule, maxProgress: null, days: null })).toEqual({ achievementId: U1, ruleId: U2, minProgress: 0 });
    expect(expectValid({ ...rule, days: 1 })).toEqual({ achievementId: U1, ruleId: U2, minProgress: 0, days: 1 });
    expectErrors({ ...rule, days: 0 }, [['days', 'out_of_range']]);
    expectErrors({ ...rule, minProgress: 5, maxProgress: 4 }, [['maxProgress', 'out_of_range']]);

    const challenge = { type: 'challenge_campaign_completion_count', challengeId: U1, minCount: 0 };
    expect(expectValid({ ...challenge, maxCount: null })).toEqual({ challengeId: U1, minCount: 0 });
    const milestone = { type: 'challenge_campaign_milestone_progress', challengeId: U1, milestoneId: U2, minProgress: 1 };
    expect(expectValid(milestone)).toEqual({ challengeId: U1, milestoneId: U2, minProgress: 1 });
    expectErrors({ ...milestone, maxProgress: 0.5 }, [['maxProgress', 'out_of_range']]);
  });

  it('instants: RFC 3339 hours are 00-23, in the time and in the offset (24:00, +25:00 are not RFC 3339)', () => {
    const base = { type: 'purchase_period', toDate: '2030-01-01T00:00:00Z' };
    for (const bad of ['2024-01-31T24:00:00Z', '2024-01-31T10:00:00+24:00', '2024-01-31T10:00:00+25:00', '2024-01-31T10:00:00-99:00', '2024-01-31T10:00:00+01:60']) {
      expect.soft(errorsOf(validateOne({ ...base, fromDate: bad })), bad).toEqual([[at('fromDate'), 'invalid_format']]);
    }
    expect(expectValid({ ...base, fromDate: '2024-01-31T10:00:00+14:00' }).fromDate).toBe('2024-01-30T20:00:00Z');
  });

  it('the store zone: `YYYY-MM-DD HH:MM` across zones (e.g. Europe/Warsaw 2024-01-31 10:00 is 09:00Z)', () => {
    const read = (value: string, zone: string) =>
      expectValid({ type: 'member_registration_date', fromDate: value, toDate: '2030-01-01T00:00:00Z' }, zone).fromDate;
    expect(read('2024-01-31 10:00', 'Europe/Warsaw')).toBe('2024-01-31T09:00:00Z');
    expect(read('2024-07-31 10:00', 'Europe/Warsaw')).toBe('2024-07-31T08:00:00Z');
    expect(read('2024-01-31 10:00', 'UTC')).toBe('2024-01-31T10:00:00Z');
    expect(read('2024-01-31 10:00', 'Asia/Kolkata')).toBe('2024-01-31T04:30:00Z');
    expect(read('2024-01-01 00:30', 'America/Los_Angeles')).toBe('2024-01-01T08:30:00Z');
    expect(read('2024-01-01 00:00', 'Pacific/Auckland')).toBe('2023-12-31T11:00:00Z');
  });

  it('several invalid criteria in several parts are all reported, each at its own path', () => {
    const result = validateSegmentInput(
      {
        name: 'Segment',
        parts: [
          { criteria: [{ type: 'transaction_count', min: 1, max: 2 }, { type: 'age', fromAge: -1, toAge: 5 }] },
          { criteria: [{ type: 'gender', genders: [] }, { type: 'last_purchase_n_days_before' }] },
        ],
      },
      'UTC',
    );
    expect(errorsOf(result)).toEqual([
      ['parts[0].criteria[1].fromAge', 'out_of_range'],
      ['parts[1].criteria[0].genders', 'too_few'],
      ['parts[1].criteria[1].days', 'required'],
    ]);
  });

  it('all 39 valid examples together in one segment', () => {
    const result = validateSegmentInput(
      {
        name: 'Everything',
        parts: [
          { criteria: examples.slice(0, 20).map((example) => withType(example, example.valid)) },
          { criteria: examples.slice(20).map((example) => withType(example, example.valid)) },
        ],
      },
      'UTC',
    );
    expect(errorsOf(result)).toEqual([]);
    const criteria = result.draft!.parts!.flatMap((part) => part.criteria);
    expect(criteria.map((criterion) => ({ type: criterion.type, params: criterion.params }))).toEqual(
      examples.map((example) => ({ type: example.type, params: example.normalised })),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The segment level (DOMAIN.md section 2).

describe('segment fields', () => {
  const criteria = [{ type: 'transaction_count', min: 1, max: 2 }];

  it('a minimal segment is valid; a name is trimmed', () => {
    const { draft, errors } = validateSegmentInput({ name: '  Big spenders  ' }, 'UTC');
    expect(errors).toEqual([]);
    expect(draft).toEqual({ name: 'Big spenders' });
  });

  it('the segment itself must be an object', () => {
    for (const raw of [null, 'x', 5, [{ name: 'x' }]]) expectSegmentErrors(raw, [['segment', 'invalid_type']]);
  });

  it('name: required, not blank, a string, at most 255 characters after trimming', () => {
    expectSegmentErrors({}, [['name', 'required']]);
    expectSegmentErrors({ name: null }, [['name', 'required']]);
    expectSegmentErrors({ name: '' }, [['name', 'required']]);
    expectSegmentErrors({ name: ' \t ' }, [['name', 'required']]);
    expectSegmentErrors({ name: 42 }, [['name', 'invalid_type']]);
    expectSegmentErrors({ name: ['x'] }, [['name', 'invalid_type']]);
    expectSegmentErrors({ name: 'a'.repeat(256) }, [['name', 'out_of_range']]);
    expect(validateSegmentInput({ name: 'a'.repeat(255) }, 'UTC').draft?.name).toHaveLength(255);
    expect(validateSegmentInput({ name: `  ${'a'.repeat(255)}  ` }, 'UTC').draft?.name).toHaveLength(255);
  });

  it('description: a string of at most 4000 characters, or null', () => {
    expectSegmentErrors({ name: 'S', description: 'd'.repeat(4001) }, [['description', 'out_of_range']]);
    expectSegmentErrors({ name: 'S', description: 5 }, [['description', 'invalid_type']]);
    expect(validateSegmentInput({ name: 'S', description: 'd'.repeat(4000) }, 'UTC').draft?.description).toHaveLength(4000);
    expect(validateSegmentInput({ name: 'S', description: null }, 'UTC').draft).toEqual({ name: 'S', description: null });
  });

  it('active: a boolean', () => {
    for (const active of ['true', 1, 0, 'yes', [true], {}]) expectSegmentErrors({ name: 'S', active }, [['active', 'invalid_type']]);
    expect(validateSegmentInput({ name: 'S', active: true }, 'UTC').draft).toEqual({ name: 'S', active: true });
    expect(validateSegmentInput({ name: 'S', active: false }, 'UTC').draft).toEqual({ name: 'S', active: false });
  });

  it('unknown fields at the root and in a part -> unknown_field', () => {
    expectSegmentErrors({ name: 'S', segmentId: U1 }, [['segmentId', 'unknown_field']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria, name: 'p' }] }, [['parts[0].name', 'unknown_field']]);
  });

  it('parts: an array of objects (an empty array is fine)', () => {
    for (const parts of ['x', 5, { criteria }, true]) expectSegmentErrors({ name: 'S', parts }, [['parts', 'invalid_type']]);
    expect(validateSegmentInput({ name: 'S', parts: [] }, 'UTC').draft).toEqual({ name: 'S', parts: [] });
    expectSegmentErrors({ name: 'S', parts: ['x'] }, [['parts[0]', 'invalid_type']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria }, null] }, [['parts[1]', 'invalid_type']]);
  });

  it('a part needs criteria: missing or null -> required, not an array -> invalid_type, empty -> too_few', () => {
    expectSegmentErrors({ name: 'S', parts: [{}] }, [['parts[0].criteria', 'required']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria }, { criteria: null }] }, [['parts[1].criteria', 'required']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: criteria[0] }] }, [['parts[0].criteria', 'invalid_type']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [] }] }, [['parts[0].criteria', 'too_few']]);
  });

  it('a criterion: an object with a known type', () => {
    expectSegmentErrors({ name: 'S', parts: [{ criteria: ['transaction_count'] }] }, [['parts[0].criteria[0]', 'invalid_type']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [{ min: 1, max: 2 }] }] }, [['parts[0].criteria[0].type', 'required']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [{ type: 5 }] }] }, [['parts[0].criteria[0].type', 'invalid_type']]);
    for (const type of ['no_such_type', 'TRANSACTION_COUNT', 'transactionCount', '']) {
      expectSegmentErrors({ name: 'S', parts: [{ criteria: [{ type, min: 1, max: 2 }] }] }, [['parts[0].criteria[0].type', 'invalid_choice']]);
    }
  });

  it('client ids must be UUIDs; they are kept (lower case)', () => {
    expectSegmentErrors({ name: 'S', parts: [{ segmentPartId: 'p1', criteria }] }, [['parts[0].segmentPartId', 'invalid_format']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [{ ...criteria[0], criterionId: 'c1' }] }] }, [
      ['parts[0].criteria[0].criterionId', 'invalid_format'],
    ]);
    const { draft } = validateSegmentInput(
      { name: 'S', parts: [{ segmentPartId: U1.toUpperCase(), criteria: [{ ...criteria[0], criterionId: U2 }] }] },
      'UTC',
    );
    expect(draft!.parts![0].segmentPartId).toBe(U1);
    expect(draft!.parts![0].criteria[0].criterionId).toBe(U2);
  });

  it('duplicate client ids in one request -> not_unique on the repeat', () => {
    const c = (criterionId: string) => ({ type: 'transaction_count', min: 1, max: 2, criterionId });
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [c(U1), c(U1)] }] }, [['parts[0].criteria[1].criterionId', 'not_unique']]);
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [c(U1)] }, { criteria: [c(U2), c(U1.toUpperCase())] }] }, [
      ['parts[1].criteria[1].criterionId', 'not_unique'],
    ]);
    expectSegmentErrors(
      { name: 'S', parts: [{ segmentPartId: U3, criteria: [c(U1)] }, { segmentPartId: U3, criteria: [c(U2)] }] },
      [['parts[1].segmentPartId', 'not_unique']],
    );
  });

  it('duplicate client ids after an invalid criterion: not_unique names the repeat where the client wrote it', () => {
    const c = (criterionId: string) => ({ type: 'transaction_count', min: 1, max: 2, criterionId });
    expectSegmentErrors({ name: 'S', parts: [{ criteria: [{ type: 'gender', genders: [] }, c(U1), c(U1)] }] }, [
      ['parts[0].criteria[0].genders', 'too_few'],
      ['parts[0].criteria[2].criterionId', 'not_unique'],
    ]);
  });
});
