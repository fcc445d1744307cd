/**
 * The 39 criterion types of DOMAIN.md section 4, written out by hand from the spec (NOT derived
 * from src/criteria/definitions.ts), so that a definition drifting from the spec fails a test.
 *
 * For each type: its parameters (JSON kind, optional or not, numeric bounds), the from/to pairs,
 * one valid example with the form it must be normalised to, a second valid parameter set used
 * for updates, and one semantically invalid variant (expressible in GraphQL too, so that it
 * reaches the validator there and comes back as a typed ValidationError).
 */

export type SpecKind =
  | 'uuid'
  | 'uuidList'
  | 'int'
  | 'amount'
  | 'number'
  | 'instant'
  | 'date'
  | 'string'
  | 'stringList'
  | 'enum'
  | 'enumList'
  | 'labelList';

export interface SpecParam {
  name: string;
  kind: SpecKind;
  optional?: boolean;
  /** Inclusive bounds of numeric parameters (amounts are always >= 0). */
  min?: number;
  max?: number;
  /** Lists that must hold at least one entry. */
  nonEmpty?: boolean;
  /** Lists with an upper bound on their length. */
  maxItems?: number;
  /** labelList: whether each label's `value` is required. */
  valueRequired?: boolean;
  /** enum / enumList: the allowed wire values. */
  choices?: string[];
}

export interface CriterionExample {
  type: string;
  params: SpecParam[];
  /** from/to pairs; from > to is `out_of_range` on the `to` field. */
  ranges: [string, string][];
  /** A valid parameter set, as a client would send it over REST. */
  valid: Record<string, unknown>;
  /** What `valid` must be normalised to (and read back as). */
  normalised: Record<string, unknown>;
  /** Another valid set, already in normal form: used for updates. */
  changed: Record<string, unknown>;
  /** Overrides applied to `valid` that make it invalid, with the one error expected. */
  invalid: { override: Record<string, unknown>; field: string; code: string };
}

// Plain UUIDs, for the unit tests (no database).
export const U1 = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
export const U2 = '6f1c2d3e-4b5a-4c6d-8e7f-901234567890';
export const U3 = 'c56a4180-65aa-42ec-a945-5fd21dec0538';
export const U3_UPPER = U3.toUpperCase();

// Referenced records (DOMAIN.md section 4: an id that does not exist in the store is `not_found`).
// The examples use these ids; `fixtureRecords` creates them in a store (ingest records).
const ref = (n: number) => `c0ffee00-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
export const CHANNEL_1 = ref(0x11);
export const CHANNEL_2 = ref(0x12);
export const LEVEL_1 = ref(0x21);
export const LEVEL_2 = ref(0x22);
export const TIER_1 = ref(0x31);
export const TIER_2 = ref(0x32);
export const CAMPAIGN_1 = ref(0x41);
export const CAMPAIGN_2 = ref(0x42);
export const ACHIEVEMENT_1 = ref(0x51);
export const ACHIEVEMENT_2 = ref(0x52);
export const RULE_1 = ref(0x5a);
export const RULE_2 = ref(0x5b);
export const RULE_3 = ref(0x5c);
export const CHALLENGE_1 = ref(0x61);
export const CHALLENGE_2 = ref(0x62);
export const MILESTONE_1 = ref(0x6a);
export const MILESTONE_2 = ref(0x6b);
export const MILESTONE_3 = ref(0x6c);
export const MEMBER_1 = ref(0x71);
export const MEMBER_2 = ref(0x72);
export const MEMBER_3 = ref(0x73);
/** An id of nothing at all. */
export const UNKNOWN = ref(0xdead);

export const fixtureRecords = [
  { kind: 'channel', id: CHANNEL_1, name: 'Web' },
  { kind: 'channel', id: CHANNEL_2, name: 'Shop' },
  { kind: 'level', id: LEVEL_1, name: 'Silver' },
  { kind: 'level', id: LEVEL_2, name: 'Gold' },
  { kind: 'tier', id: TIER_1, name: 'T1' },
  { kind: 'tier', id: TIER_2, name: 'T2' },
  { kind: 'campaign', id: CAMPAIGN_1, name: 'Spring' },
  { kind: 'campaign', id: CAMPAIGN_2, name: 'Summer' },
  { kind: 'achievement', id: ACHIEVEMENT_1, name: 'Ten buys', ruleIds: [RULE_1, RULE_2] },
  { kind: 'achievement', id: ACHIEVEMENT_2, name: 'Reviews', ruleIds: [RULE_3] },
  { kind: 'challenge', id: CHALLENGE_1, name: 'Walk', milestoneIds: [MILESTONE_1, MILESTONE_2] },
  { kind: 'challenge', id: CHALLENGE_2, name: 'Run', milestoneIds: [MILESTONE_3] },
  { kind: 'member', customerId: MEMBER_1, email: 'member1@example.com', phone: '+48100000001', loyaltyCardNumber: 'CARD-0001' },
  { kind: 'member', customerId: MEMBER_2, email: 'member2@example.com', phone: '+48100000002', loyaltyCardNumber: 'CARD-0002' },
  { kind: 'member', customerId: MEMBER_3, email: 'member3@example.com' },
];

const GENDERS = ['male', 'female', 'not_disclosed'];
const ANNIVERSARY_TYPES = ['birthday', 'registration'];

const p = {
  uuid: (name: string, optional = false): SpecParam => ({ name, kind: 'uuid', optional }),
  uuids: (name: string): SpecParam => ({ name, kind: 'uuidList', nonEmpty: true }),
  int: (name: string, min: number, extra: Partial<SpecParam> = {}): SpecParam => ({ name, kind: 'int', min, ...extra }),
  amount: (name: string): SpecParam => ({ name, kind: 'amount', min: 0 }),
  number: (name: string, min: number, max?: number, optional = false): SpecParam => ({ name, kind: 'number', min, max, optional }),
  instant: (name: string, optional = false): SpecParam => ({ name, kind: 'instant', optional }),
  date: (name: string): SpecParam => ({ name, kind: 'date' }),
  string: (name: string): SpecParam => ({ name, kind: 'string' }),
  strings: (name: string, nonEmpty = true): SpecParam => ({ name, kind: 'stringList', nonEmpty }),
  labels: (valueRequired: boolean): SpecParam => ({ name: 'labels', kind: 'labelList', nonEmpty: true, valueRequired }),
};

export const examples: CriterionExample[] = [
  {
    type: 'bought_through_channel',
    params: [p.uuids('channelIds')],
    ranges: [],
    valid: { channelIds: [CHANNEL_1, CHANNEL_2.toUpperCase()] },
    normalised: { channelIds: [CHANNEL_1, CHANNEL_2] },
    changed: { channelIds: [CHANNEL_2] },
    invalid: { override: { channelIds: [] }, field: 'channelIds', code: 'too_few' },
  },
  {
    type: 'transaction_count',
    params: [p.int('min', 0), p.int('max', 0)],
    ranges: [['min', 'max']],
    valid: { min: 0, max: 10 },
    normalised: { min: 0, max: 10 },
    changed: { min: 2, max: 5 },
    invalid: { override: { min: 5, max: 2 }, field: 'max', code: 'out_of_range' },
  },
  {
    type: 'average_transaction_amount',
    params: [p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [['fromAmount', 'toAmount']],
    valid: { fromAmount: 10.5, toAmount: 99.99 },
    normalised: { fromAmount: 10.5, toAmount: 99.99 },
    changed: { fromAmount: 0, toAmount: 20 },
    invalid: { override: { fromAmount: -1 }, field: 'fromAmount', code: 'out_of_range' },
  },
  {
    type: 'transaction_percent_in_channel',
    params: [p.uuid('channelId'), p.number('percent', 0, 100)],
    ranges: [],
    valid: { channelId: CHANNEL_2.toUpperCase(), percent: 50 },
    normalised: { channelId: CHANNEL_2, percent: 50 },
    changed: { channelId: CHANNEL_1, percent: 100 },
    invalid: { override: { percent: 101 }, field: 'percent', code: 'out_of_range' },
  },
  {
    type: 'purchase_period',
    params: [p.instant('fromDate'), p.instant('toDate')],
    ranges: [['fromDate', 'toDate']],
    valid: { fromDate: '2024-01-01T00:00:00+01:00', toDate: '2024-12-31T23:59:59Z' },
    normalised: { fromDate: '2023-12-31T23:00:00Z', toDate: '2024-12-31T23:59:59Z' },
    changed: { fromDate: '2023-01-01T00:00:00Z', toDate: '2023-06-30T12:00:00Z' },
    invalid: {
      override: { fromDate: '2024-02-01T00:00:00Z', toDate: '2024-01-01T00:00:00Z' },
      field: 'toDate',
      code: 'out_of_range',
    },
  },
  {
    type: 'bought_labels',
    params: [p.labels(true)],
    ranges: [],
    valid: { labels: [{ key: 'color', value: 'red' }, { key: 'size', value: 'XL' }] },
    normalised: { labels: [{ key: 'color', value: 'red' }, { key: 'size', value: 'XL' }] },
    changed: { labels: [{ key: 'brand', value: 'acme' }] },
    invalid: { override: { labels: [] }, field: 'labels', code: 'too_few' },
  },
  {
    type: 'bought_makers',
    params: [p.strings('makers')],
    ranges: [],
    valid: { makers: ['Acme', 'Globex'] },
    normalised: { makers: ['Acme', 'Globex'] },
    changed: { makers: ['Initech'] },
    invalid: { override: { makers: [] }, field: 'makers', code: 'too_few' },
  },
  {
    type: 'anniversary',
    params: [{ name: 'anniversaryType', kind: 'enum', choices: ANNIVERSARY_TYPES }, p.int('days', 1)],
    ranges: [],
    valid: { anniversaryType: 'birthday', days: 7 },
    normalised: { anniversaryType: 'birthday', days: 7 },
    changed: { anniversaryType: 'registration', days: 30 },
    invalid: { override: { days: 0 }, field: 'days', code: 'out_of_range' },
  },
  {
    type: 'last_purchase_n_days_before',
    params: [p.int('days', 1)],
    ranges: [],
    valid: { days: 30 },
    normalised: { days: 30 },
    changed: { days: 90 },
    invalid: { override: { days: 0 }, field: 'days', code: 'out_of_range' },
  },
  {
    type: 'last_transaction_between_days',
    params: [p.int('fromDays', 0), p.int('toDays', 0)],
    ranges: [['fromDays', 'toDays']],
    valid: { fromDays: 0, toDays: 30 },
    normalised: { fromDays: 0, toDays: 30 },
    changed: { fromDays: 7, toDays: 14 },
    invalid: { override: { fromDays: 10, toDays: 5 }, field: 'toDays', code: 'out_of_range' },
  },
  {
    type: 'last_custom_event_n_days_before',
    params: [p.string('eventType'), p.int('days', 1)],
    ranges: [],
    valid: { eventType: 'app_login', days: 14 },
    normalised: { eventType: 'app_login', days: 14 },
    changed: { eventType: 'newsletter_click', days: 3 },
    invalid: { override: { days: 0 }, field: 'days', code: 'out_of_range' },
  },
  {
    type: 'last_custom_event_between_days',
    params: [p.string('eventType'), p.int('fromDays', 0), p.int('toDays', 0)],
    ranges: [['fromDays', 'toDays']],
    valid: { eventType: 'app_login', fromDays: 1, toDays: 7 },
    normalised: { eventType: 'app_login', fromDays: 1, toDays: 7 },
    changed: { eventType: 'newsletter_click', fromDays: 0, toDays: 0 },
    invalid: { override: { fromDays: 8, toDays: 7 }, field: 'toDays', code: 'out_of_range' },
  },
  {
    type: 'bought_skus',
    params: [p.strings('skuIds')],
    ranges: [],
    valid: { skuIds: ['SKU-1', 'SKU-2'] },
    normalised: { skuIds: ['SKU-1', 'SKU-2'] },
    changed: { skuIds: ['SKU-3'] },
    invalid: { override: { skuIds: [] }, field: 'skuIds', code: 'too_few' },
  },
  {
    type: 'transaction_amount',
    params: [p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [['fromAmount', 'toAmount']],
    valid: { fromAmount: 100, toAmount: 1000.25 },
    normalised: { fromAmount: 100, toAmount: 1000.25 },
    changed: { fromAmount: 0, toAmount: 50.5 },
    invalid: { override: { fromAmount: 100, toAmount: 99.99 }, field: 'toAmount', code: 'out_of_range' },
  },
  {
    type: 'transaction_amount_each_day_in_period',
    params: [p.date('fromDate'), p.date('toDate'), p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [
      ['fromDate', 'toDate'],
      ['fromAmount', 'toAmount'],
    ],
    valid: { fromDate: '2024-01-01', toDate: '2024-01-31', fromAmount: 1, toAmount: 100 },
    normalised: { fromDate: '2024-01-01', toDate: '2024-01-31', fromAmount: 1, toAmount: 100 },
    changed: { fromDate: '2024-02-01', toDate: '2024-02-29', fromAmount: 0, toAmount: 10.01 },
    invalid: { override: { fromDate: '2024-01-01', toDate: '2025-01-02' }, field: 'toDate', code: 'out_of_range' },
  },
  {
    type: 'transaction_amount_in_period',
    params: [p.instant('fromDate'), p.instant('toDate'), p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [
      ['fromDate', 'toDate'],
      ['fromAmount', 'toAmount'],
    ],
    valid: { fromDate: '2024-01-01T00:00:00Z', toDate: '2024-03-31T23:59:59-05:00', fromAmount: 0, toAmount: 500 },
    normalised: { fromDate: '2024-01-01T00:00:00Z', toDate: '2024-04-01T04:59:59Z', fromAmount: 0, toAmount: 500 },
    changed: { fromDate: '2023-01-01T00:00:00Z', toDate: '2023-12-31T00:00:00Z', fromAmount: 10, toAmount: 20 },
    invalid: { override: { fromAmount: 10.555 }, field: 'fromAmount', code: 'invalid_format' },
  },
  {
    type: 'transaction_count_in_period',
    params: [p.instant('fromDate'), p.instant('toDate'), p.int('min', 0), p.int('max', 0)],
    ranges: [
      ['fromDate', 'toDate'],
      ['min', 'max'],
    ],
    valid: { fromDate: '2024-01-01T00:00:00Z', toDate: '2024-06-30T00:00:00Z', min: 1, max: 5 },
    normalised: { fromDate: '2024-01-01T00:00:00Z', toDate: '2024-06-30T00:00:00Z', min: 1, max: 5 },
    changed: { fromDate: '2024-07-01T00:00:00Z', toDate: '2024-07-31T00:00:00Z', min: 0, max: 0 },
    invalid: { override: { min: -1 }, field: 'min', code: 'out_of_range' },
  },
  {
    type: 'transaction_amount_each_day_in_last_n_days',
    params: [p.int('days', 1, { max: 366 }), p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [['fromAmount', 'toAmount']],
    valid: { days: 7, fromAmount: 10, toAmount: 20 },
    normalised: { days: 7, fromAmount: 10, toAmount: 20 },
    changed: { days: 366, fromAmount: 0, toAmount: 0 },
    invalid: { override: { days: 367 }, field: 'days', code: 'out_of_range' },
  },
  {
    type: 'transaction_amount_in_last_n_days',
    params: [p.int('days', 1), p.amount('fromAmount'), p.amount('toAmount')],
    ranges: [['fromAmount', 'toAmount']],
    valid: { days: 30, fromAmount: 50, toAmount: 150 },
    normalised: { days: 30, fromAmount: 50, toAmount: 150 },
    changed: { days: 1, fromAmount: 0.01, toAmount: 0.02 },
    invalid: { override: { fromAmount: 200, toAmount: 150 }, field: 'toAmount', code: 'out_of_range' },
  },
  {
    type: 'customer_in_level',
    params: [p.uuids('levelIds')],
    ranges: [],
    valid: { levelIds: [LEVEL_1] },
    normalised: { levelIds: [LEVEL_1] },
    changed: { levelIds: [LEVEL_2, LEVEL_1] },
    invalid: { override: { levelIds: ['not-a-uuid'] }, field: 'levelIds[0]', code: 'invalid_format' },
  },
  {
    type: 'customer_has_labels',
    params: [p.labels(false)],
    ranges: [],
    valid: { labels: [{ key: 'vip' }, { key: 'tier', value: 'gold' }] },
    normalised: { labels: [{ key: 'vip' }, { key: 'tier', value: 'gold' }] },
    changed: { labels: [{ key: 'newsletter' }] },
    invalid: { override: { labels: [] }, field: 'labels', code: 'too_few' },
  },
  {
    type: 'customer_with_labels_values',
    params: [p.labels(true)],
    ranges: [],
    valid: { labels: [{ key: 'tier', value: 'gold' }] },
    normalised: { labels: [{ key: 'tier', value: 'gold' }] },
    changed: { labels: [{ key: 'tier', value: 'silver' }, { key: 'region', value: 'north' }] },
    invalid: { override: { labels: [] }, field: 'labels', code: 'too_few' },
  },
  {
    // Entries are member ids here: DOMAIN.md says entries are resolved to member ids at save
    // time and returned as ids, so ids are the only entries that come back unchanged.
    type: 'customer_list',
    params: [{ ...p.strings('customers'), maxItems: 10_000 }],
    ranges: [],
    valid: { customers: [MEMBER_1, MEMBER_2] },
    normalised: { customers: [MEMBER_1, MEMBER_2] },
    changed: { customers: [MEMBER_3] },
    invalid: { override: { customers: [] }, field: 'customers', code: 'too_few' },
  },
  {
    type: 'gender',
    params: [{ name: 'genders', kind: 'enumList', nonEmpty: true, choices: GENDERS }],
    ranges: [],
    valid: { genders: ['female', 'not_disclosed'] },
    normalised: { genders: ['female', 'not_disclosed'] },
    changed: { genders: ['male'] },
    invalid: { override: { genders: [] }, field: 'genders', code: 'too_few' },
  },
  {
    type: 'city',
    params: [p.strings('cities')],
    ranges: [],
    valid: { cities: ['Warsaw', 'Kraków'] },
    normalised: { cities: ['Warsaw', 'Kraków'] },
    changed: { cities: ['Gdańsk'] },
    invalid: { override: { cities: [] }, field: 'cities', code: 'too_few' },
  },
  {
    type: 'province',
    params: [p.strings('provinces')],
    ranges: [],
    valid: { provinces: ['Mazowieckie'] },
    normalised: { provinces: ['Mazowieckie'] },
    changed: { provinces: ['Pomorskie', 'Śląskie'] },
    invalid: { override: { provinces: [] }, field: 'provinces', code: 'too_few' },
  },
  {
    type: 'country',
    params: [p.strings('countries')],
    ranges: [],
    valid: { countries: ['PL', 'DE'] },
    normalised: { countries: ['PL', 'DE'] },
    changed: { countries: ['FR'] },
    invalid: { override: { countries: ['POL'] }, field: 'countries[0]', code: 'invalid_format' },
  },
  {
    type: 'postal',
    params: [p.strings('postalCodes')],
    ranges: [],
    valid: { postalCodes: ['00-001', '02-495'] },
    normalised: { postalCodes: ['00-001', '02-495'] },
    changed: { postalCodes: ['80-001'] },
    invalid: { override: { postalCodes: [] }, field: 'postalCodes', code: 'too_few' },
  },
  {
    type: 'age',
    params: [p.int('fromAge', 0), p.int('toAge', 0)],
    ranges: [['fromAge', 'toAge']],
    valid: { fromAge: 18, toAge: 35 },
    normalised: { fromAge: 18, toAge: 35 },
    changed: { fromAge: 0, toAge: 120 },
    invalid: { override: { fromAge: 40, toAge: 30 }, field: 'toAge', code: 'out_of_range' },
  },
  {
    type: 'campaign_completion',
    params: [p.uuids('campaignIds'), p.instant('fromDate', true), p.instant('toDate', true)],
    ranges: [['fromDate', 'toDate']],
    valid: { campaignIds: [CAMPAIGN_1], fromDate: '2024-01-01T00:00:00Z', toDate: '2024-06-30T02:00:00+02:00' },
    normalised: { campaignIds: [CAMPAIGN_1], fromDate: '2024-01-01T00:00:00Z', toDate: '2024-06-30T00:00:00Z' },
    changed: { campaignIds: [CAMPAIGN_2, CAMPAIGN_1] },
    invalid: {
      override: { fromDate: '2024-07-01T00:00:00Z', toDate: '2024-06-30T00:00:00Z' },
      field: 'toDate',
      code: 'out_of_range',
    },
  },
  {
    // `customers: string[]` with no lower bound in DOMAIN.md (the rows of an uploaded CSV).
    type: 'customer_csv_list',
    params: [p.strings('customers', false)],
    ranges: [],
    valid: { customers: [MEMBER_1, MEMBER_2] },
    normalised: { customers: [MEMBER_1, MEMBER_2] },
    changed: { customers: [MEMBER_3] },
    invalid: { override: { customers: [MEMBER_1, '  '] }, field: 'customers[1]', code: 'required' },
  },
  {
    type: 'achievement_completion_count',
    params: [p.uuid('achievementId'), p.int('minCount', 0), p.int('maxCount', 0, { optional: true })],
    ranges: [['minCount', 'maxCount']],
    valid: { achievementId: ACHIEVEMENT_1, minCount: 1, maxCount: 3 },
    normalised: { achievementId: ACHIEVEMENT_1, minCount: 1, maxCount: 3 },
    changed: { achievementId: ACHIEVEMENT_2, minCount: 0 },
    invalid: { override: { minCount: 4, maxCount: 3 }, field: 'maxCount', code: 'out_of_range' },
  },
  {
    type: 'achievement_rule_progress',
    params: [
      p.uuid('achievementId'),
      p.uuid('ruleId'),
      p.number('minProgress', 0),
      p.number('maxProgress', 0, undefined, true),
      p.int('days', 1, { optional: true }),
    ],
    ranges: [['minProgress', 'maxProgress']],
    valid: { achievementId: ACHIEVEMENT_1, ruleId: RULE_2.toUpperCase(), minProgress: 10, maxProgress: 100.5, days: 30 },
    normalised: { achievementId: ACHIEVEMENT_1, ruleId: RULE_2, minProgress: 10, maxProgress: 100.5, days: 30 },
    changed: { achievementId: ACHIEVEMENT_2, ruleId: RULE_3, minProgress: 0 },
    invalid: { override: { days: 0 }, field: 'days', code: 'out_of_range' },
  },
  {
    type: 'customer_in_tiers',
    params: [p.uuids('tierIds')],
    ranges: [],
    valid: { tierIds: [TIER_1, TIER_2] },
    normalised: { tierIds: [TIER_1, TIER_2] },
    changed: { tierIds: [TIER_2] },
    invalid: { override: { tierIds: [] }, field: 'tierIds', code: 'too_few' },
  },
  {
    type: 'member_registration_date',
    params: [p.instant('fromDate'), p.instant('toDate')],
    ranges: [['fromDate', 'toDate']],
    valid: { fromDate: '2020-01-01T00:00:00.500Z', toDate: '2020-12-31T23:59:59+00:00' },
    normalised: { fromDate: '2020-01-01T00:00:00.500Z', toDate: '2020-12-31T23:59:59Z' },
    changed: { fromDate: '2021-01-01T00:00:00Z', toDate: '2021-01-01T00:00:00Z' },
    invalid: { override: { toDate: 'yesterday' }, field: 'toDate', code: 'invalid_format' },
  },
  {
    type: 'member_custom_field_value',
    params: [p.string('key'), p.strings('values')],
    ranges: [],
    valid: { key: 'favourite_store', values: ['Mokotów', 'Wola'] },
    normalised: { key: 'favourite_store', values: ['Mokotów', 'Wola'] },
    changed: { key: 'pet', values: ['cat'] },
    invalid: { override: { values: [] }, field: 'values', code: 'too_few' },
  },
  {
    type: 'member_loyalty_card_number',
    params: [p.strings('loyaltyCardNumbers')],
    ranges: [],
    valid: { loyaltyCardNumbers: ['CARD-0001', 'card-0002'] },
    normalised: { loyaltyCardNumbers: ['CARD-0001', 'card-0002'] },
    changed: { loyaltyCardNumbers: ['CARD-0003'] },
    invalid: { override: { loyaltyCardNumbers: [] }, field: 'loyaltyCardNumbers', code: 'too_few' },
  },
  {
    type: 'challenge_campaign_completion_count',
    params: [p.uuid('challengeId'), p.int('minCount', 0), p.int('maxCount', 0, { optional: true })],
    ranges: [['minCount', 'maxCount']],
    valid: { challengeId: CHALLENGE_1, minCount: 2, maxCount: 4 },
    normalised: { challengeId: CHALLENGE_1, minCount: 2, maxCount: 4 },
    changed: { challengeId: CHALLENGE_2, minCount: 5 },
    invalid: { override: { challengeId: '123' }, field: 'challengeId', code: 'invalid_format' },
  },
  {
    type: 'challenge_campaign_milestone_progress',
    params: [p.uuid('challengeId'), p.uuid('milestoneId'), p.number('minProgress', 0), p.number('maxProgress', 0, undefined, true)],
    ranges: [['minProgress', 'maxProgress']],
    valid: { challengeId: CHALLENGE_1, milestoneId: MILESTONE_1, minProgress: 5, maxProgress: 10 },
    normalised: { challengeId: CHALLENGE_1, milestoneId: MILESTONE_1, minProgress: 5, maxProgress: 10 },
    changed: { challengeId: CHALLENGE_2, milestoneId: MILESTONE_3, minProgress: 0.5 },
    invalid: { override: { minProgress: -1 }, field: 'minProgress', code: 'out_of_range' },
  },
];

export const exampleByType = new Map(examples.map((example) => [example.type, example]));

/** `transaction_count` -> `TransactionCount`, written independently of src/criteria/definitions.ts. */
export const pascal = (type: string) =>
  type
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
/** `transaction_count` -> `transactionCount` (the @oneOf input field). */
export const camel = (type: string) => pascal(type)[0].toLowerCase() + pascal(type).slice(1);
/** `transaction_count` -> `TransactionCountCriterion` (the GraphQL object type). */
export const graphqlObjectType = (type: string) => `${pascal(type)}Criterion`;

const upper = (value: unknown) => String(value).toUpperCase();

/** Flat REST parameters -> GraphQL input parameters (enum values UPPER_CASE). */
export function toGraphqlParams(example: CriterionExample, params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...params };
  for (const param of example.params) {
    if (!(param.name in out)) continue;
    if (param.kind === 'enum') out[param.name] = upper(out[param.name]);
    if (param.kind === 'enumList') out[param.name] = (out[param.name] as unknown[]).map(upper);
  }
  return out;
}

/** Normalised flat parameters -> what the GraphQL object type returns (absent optionals are null). */
export function expectedGraphqlOutput(example: CriterionExample, normalised: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const param of example.params) {
    const value = normalised[param.name];
    if (value === undefined) out[param.name] = null;
    else if (param.kind === 'enum') out[param.name] = upper(value);
    else if (param.kind === 'enumList') out[param.name] = (value as unknown[]).map(upper);
    else if (param.kind === 'labelList')
      out[param.name] = (value as { key: string; value?: string }[]).map((label) => ({ key: label.key, value: label.value ?? null }));
    else out[param.name] = value;
  }
  return out;
}

/** The GraphQL selection of one criterion type's parameters. */
export function graphqlSelection(example: CriterionExample): string {
  const fields = example.params.map((param) => (param.kind === 'labelList' ? `${param.name} { key value }` : param.name));
  return `... on ${graphqlObjectType(example.type)} { ${fields.join(' ')} }`;
}
