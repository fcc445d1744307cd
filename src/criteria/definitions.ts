import { fieldError, type FieldError } from '../errors.ts';
import type { ParamDefinition } from './params.ts';

/**
 * One definition per criterion type of DOMAIN.md section 4: its parameters and the checks
 * between them. The GraphQL types (src/graphql/types/criterion.ts), the REST codec and the
 * validator are all derived from this table, so they cannot drift apart.
 */
export interface CriterionDefinition {
  /** The wire name, e.g. `transaction_count`. */
  type: string;
  description: string;
  params: ParamDefinition[];
  /** Pairs that must satisfy from <= to; a violation is `out_of_range` on the `to` field. */
  ranges?: [from: string, to: string][];
  /** Further checks over the already type-checked parameters. */
  check?: (params: Record<string, unknown>, path: (field: string) => string) => FieldError[];
}

export const GENDERS = ['male', 'female', 'not_disclosed'] as const;
export const ANNIVERSARY_TYPES = ['birthday', 'registration'] as const;

// Parameter shorthands, to keep the table below readable.
const uuid = (name: string, optional = false): ParamDefinition => ({ name, kind: 'uuid', optional });
const uuids = (name: string): ParamDefinition => ({ name, kind: 'uuidList' });
const int = (name: string, min: number, opts: { max?: number; optional?: boolean } = {}): ParamDefinition => ({
  name,
  kind: 'int',
  min,
  ...opts,
});
const amount = (name: string): ParamDefinition => ({ name, kind: 'amount' });
const progress = (name: string, optional = false): ParamDefinition => ({ name, kind: 'number', min: 0, optional });
const instant = (name: string, optional = false): ParamDefinition => ({ name, kind: 'instant', optional });
const date = (name: string): ParamDefinition => ({ name, kind: 'date' });
const text = (name: string): ParamDefinition => ({ name, kind: 'string' });
const texts = (name: string, minItems = 1, maxItems?: number): ParamDefinition => ({
  name,
  kind: 'stringList',
  minItems,
  maxItems,
});
const labels = (valueRequired: boolean): ParamDefinition => ({ name: 'labels', kind: 'labelList', valueRequired });

const amountRange = ['fromAmount', 'toAmount'] as [string, string];
const dateRange = ['fromDate', 'toDate'] as [string, string];

const MAX_PERIOD_DAYS = 366;

export const criterionDefinitions: CriterionDefinition[] = [
  {
    type: 'bought_through_channel',
    description: 'Made at least one purchase in any of the channels.',
    params: [uuids('channelIds')],
  },
  {
    type: 'transaction_count',
    description: 'Lifetime purchase count in [min, max] (min 0 matches members with none).',
    params: [int('min', 0), int('max', 0)],
    ranges: [['min', 'max']],
  },
  {
    type: 'average_transaction_amount',
    description: 'Lifetime amount / lifetime purchase count (0 if none) in [fromAmount, toAmount].',
    params: [amount('fromAmount'), amount('toAmount')],
    ranges: [amountRange],
  },
  {
    type: 'transaction_percent_in_channel',
    description: 'Has purchases, and at least `percent` % of them were made in the channel.',
    params: [uuid('channelId'), { name: 'percent', kind: 'percent' }],
  },
  {
    type: 'purchase_period',
    description: 'Made at least one purchase between fromDate and toDate.',
    params: [instant('fromDate'), instant('toDate')],
    ranges: [dateRange],
  },
  {
    type: 'bought_labels',
    description: 'Bought an item carrying any of the key/value labels.',
    params: [labels(true)],
  },
  {
    type: 'bought_makers',
    description: 'Bought an item made by any of the makers.',
    params: [texts('makers')],
  },
  {
    type: 'anniversary',
    description: 'Birthday or registration anniversary falls within the next `days` days, today included.',
    params: [
      { name: 'anniversaryType', kind: 'enum', enumName: 'AnniversaryType', values: ANNIVERSARY_TYPES },
      int('days', 1),
    ],
  },
  {
    type: 'last_purchase_n_days_before',
    description: 'Made at least one purchase in the last `days` days.',
    params: [int('days', 1)],
  },
  {
    type: 'last_transaction_between_days',
    description: 'The most recent purchase was between toDays and fromDays days ago.',
    params: [int('fromDays', 0), int('toDays', 0)],
    ranges: [['fromDays', 'toDays']],
  },
  {
    type: 'last_custom_event_n_days_before',
    description: 'Has an event of the type in the last `days` days.',
    params: [text('eventType'), int('days', 1)],
  },
  {
    type: 'last_custom_event_between_days',
    description: 'The most recent event of the type was between toDays and fromDays days ago.',
    params: [text('eventType'), int('fromDays', 0), int('toDays', 0)],
    ranges: [['fromDays', 'toDays']],
  },
  {
    type: 'bought_skus',
    description: 'Bought an item with any of the SKUs.',
    params: [texts('skuIds')],
  },
  {
    type: 'transaction_amount',
    description: 'Lifetime amount in [fromAmount, toAmount].',
    params: [amount('fromAmount'), amount('toAmount')],
    ranges: [amountRange],
  },
  {
    type: 'transaction_amount_each_day_in_period',
    description: 'Every calendar day of the period has an amount in [fromAmount, toAmount].',
    params: [date('fromDate'), date('toDate'), amount('fromAmount'), amount('toAmount')],
    ranges: [dateRange, amountRange],
    check: (params, path) => {
      const days = (Date.parse(params.toDate as string) - Date.parse(params.fromDate as string)) / 86_400_000;
      return days > MAX_PERIOD_DAYS
        ? [fieldError(path('toDate'), 'out_of_range', `The period is at most ${MAX_PERIOD_DAYS} days long.`, { maxDays: MAX_PERIOD_DAYS })]
        : [];
    },
  },
  {
    type: 'transaction_amount_in_period',
    description: 'Amount (sells minus returns) within the period in [fromAmount, toAmount].',
    params: [instant('fromDate'), instant('toDate'), amount('fromAmount'), amount('toAmount')],
    ranges: [dateRange, amountRange],
  },
  {
    type: 'transaction_count_in_period',
    description: 'Number of purchases within the period in [min, max].',
    params: [instant('fromDate'), instant('toDate'), int('min', 0), int('max', 0)],
    ranges: [dateRange, ['min', 'max']],
  },
  {
    type: 'transaction_amount_each_day_in_last_n_days',
    description: 'Each of the `days` full days before today has an amount in [fromAmount, toAmount].',
    params: [int('days', 1, { max: MAX_PERIOD_DAYS }), amount('fromAmount'), amount('toAmount')],
    ranges: [amountRange],
  },
  {
    type: 'transaction_amount_in_last_n_days',
    description: 'Amount over the last `days` days in [fromAmount, toAmount].',
    params: [int('days', 1), amount('fromAmount'), amount('toAmount')],
    ranges: [amountRange],
  },
  {
    type: 'customer_in_level',
    description: 'Current level is any of the levels.',
    params: [uuids('levelIds')],
  },
  {
    type: 'customer_has_labels',
    description: 'Has a label with any of the keys (values are ignored).',
    params: [labels(false)],
  },
  {
    type: 'customer_with_labels_values',
    description: 'Has a label with any of the key/value pairs.',
    params: [labels(true)],
  },
  {
    type: 'customer_list',
    description: 'Is one of the listed members (customerId, email, phone or loyalty card number).',
    params: [texts('customers', 1, 10_000)],
  },
  {
    type: 'gender',
    description: 'Gender is any of the genders.',
    params: [{ name: 'genders', kind: 'enumList', enumName: 'Gender', values: GENDERS }],
  },
  { type: 'city', description: 'Address city is any of the cities.', params: [texts('cities')] },
  { type: 'province', description: 'Address province is any of the provinces.', params: [texts('provinces')] },
  {
    type: 'country',
    description: 'Address country (ISO 3166-1 alpha-2) is any of the countries.',
    params: [texts('countries')],
    check: (params, path) =>
      (params.countries as string[]).flatMap((country, index) =>
        /^[A-Za-z]{2}$/.test(country)
          ? []
          : [fieldError(`${path('countries')}[${index}]`, 'invalid_format', 'This value is not a valid ISO 3166-1 alpha-2 country code.')],
      ),
  },
  { type: 'postal', description: 'Postal code is any of the codes.', params: [texts('postalCodes')] },
  {
    type: 'age',
    description: 'Has a birth date and is, in whole years today, between fromAge and toAge.',
    params: [int('fromAge', 0), int('toAge', 0)],
    ranges: [['fromAge', 'toAge']],
  },
  {
    type: 'campaign_completion',
    description: 'Completed any of the campaigns (within the dates when given).',
    params: [uuids('campaignIds'), instant('fromDate', true), instant('toDate', true)],
    ranges: [dateRange],
  },
  {
    type: 'customer_csv_list',
    description: 'Is one of the members listed in an uploaded CSV.',
    params: [texts('customers', 0, 10_000)],
  },
  {
    type: 'achievement_completion_count',
    description: 'Completed the achievement between minCount and maxCount (unbounded when absent) times.',
    params: [uuid('achievementId'), int('minCount', 0), int('maxCount', 0, { optional: true })],
    ranges: [['minCount', 'maxCount']],
  },
  {
    type: 'achievement_rule_progress',
    description: 'Progress on the rule (over the last `days` days when given) between minProgress and maxProgress.',
    params: [uuid('achievementId'), uuid('ruleId'), progress('minProgress'), progress('maxProgress', true), int('days', 1, { optional: true })],
    ranges: [['minProgress', 'maxProgress']],
  },
  {
    type: 'customer_in_tiers',
    description: 'Holds any of the tiers.',
    params: [uuids('tierIds')],
  },
  {
    type: 'member_registration_date',
    description: 'Registered between fromDate and toDate.',
    params: [instant('fromDate'), instant('toDate')],
    ranges: [dateRange],
  },
  {
    type: 'member_custom_field_value',
    description: 'Custom field `key` equals any of the values.',
    params: [text('key'), texts('values')],
  },
  {
    type: 'member_loyalty_card_number',
    description: 'Loyalty card number is one of the numbers (exact match).',
    params: [texts('loyaltyCardNumbers')],
  },
  {
    type: 'challenge_campaign_completion_count',
    description: 'Completed the challenge between minCount and maxCount (unbounded when absent) times.',
    params: [uuid('challengeId'), int('minCount', 0), int('maxCount', 0, { optional: true })],
    ranges: [['minCount', 'maxCount']],
  },
  {
    type: 'challenge_campaign_milestone_progress',
    description: 'Progress on the milestone between minProgress and maxProgress.',
    params: [uuid('challengeId'), uuid('milestoneId'), progress('minProgress'), progress('maxProgress', true)],
    ranges: [['minProgress', 'maxProgress']],
  },
];

export const criterionTypes = criterionDefinitions.map((definition) => definition.type);

const byType = new Map(criterionDefinitions.map((definition) => [definition.type, definition]));

export function criterionDefinition(type: string): CriterionDefinition | undefined {
  return byType.get(type);
}

/** `transaction_count` -> `TransactionCount` (GraphQL type names). */
export function pascalName(type: string): string {
  return type.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

/** `transaction_count` -> `transactionCount` (GraphQL field names of the @oneOf input). */
export function camelName(type: string): string {
  const pascal = pascalName(type);
  return pascal[0].toLowerCase() + pascal.slice(1);
}
