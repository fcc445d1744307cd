import { fieldError } from '../../errors.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { isUuid, type ParamDefinition } from '../params.ts';
import {
  ANNIVERSARY_TYPES,
  GENDERS,
  dayNumber,
  dayOfSql,
  dayString,
  define,
  inInstants,
  instantParam,
  instantSql,
  intParam,
  intSql,
  isLeapYear,
  labelsParam,
  localDayNumber,
  lower,
  norm,
  normAll,
  normLabels,
  numSql,
  pairsSql,
  sql,
  textArraySql,
  textParam,
  textsParam,
  todayNumber,
  todaySql,
  uuidArraySql,
  uuidsParam,
  type EvalEnv,
  type MemberSnapshot,
  type Sql,
} from './common.ts';

/** Criteria over the member's own data: profile, address, labels, custom fields, level, tiers, lists. */

// --- Anniversaries and age: 29 February counts as 28 February in non-leap years. -------------

interface MonthDay {
  month: number;
  day: number;
}

const monthDayOf = (day: string): MonthDay => ({ month: Number(day.slice(5, 7)), day: Number(day.slice(8, 10)) });
const yearOf = (day: string) => Number(day.slice(0, 4));

/** The date on which the anniversary of `md` falls in `year`. */
function anniversaryIn(md: MonthDay, year: number): string {
  const day = md.month === 2 && md.day === 29 && !isLeapYear(year) ? 28 : md.day;
  return `${String(year).padStart(4, '0')}-${String(md.month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The member's anniversary date (birthDate, or registeredAt's day in the store zone). */
function anniversaryDate(type: string, member: MemberSnapshot, env: EvalEnv): string | null {
  if (type === 'birthday') return member.birthDate;
  return dayString(localDayNumber(member.registeredAt, env));
}

/**
 * SQL: days from today to the next anniversary of `date` (0 when it is today). The next one is
 * this year's when not yet past, else next year's; leap years are known here, bound as flags.
 */
function daysToNextAnniversarySql(date: Sql, env: EvalEnv): Sql {
  const year = yearOf(env.today);
  const on = (y: number) =>
    sql`make_date(${intSql(y)}, md.mo, CASE WHEN md.mo = 2 AND md.dd = 29 AND NOT ${isLeapYear(y)}::boolean THEN 28 ELSE md.dd END)`;
  return sql`(SELECT CASE WHEN an.this_year >= ${todaySql(env)} THEN an.this_year ELSE an.next_year END - ${todaySql(env)}
    FROM (SELECT ${on(year)} AS this_year, ${on(year + 1)} AS next_year
          FROM (SELECT extract(month FROM ${date})::int AS mo, extract(day FROM ${date})::int AS dd) md) an)`;
}

export const anniversary = define<{ anniversaryType: (typeof ANNIVERSARY_TYPES)[number]; days: number }>({
  type: 'anniversary',
  description: 'Birthday or registration anniversary falls within the next `days` days, today included.',
  params: [{ name: 'anniversaryType', kind: 'enum', enumName: 'AnniversaryType', values: ANNIVERSARY_TYPES }, intParam('days', 1)],
  sql: (p, env) => {
    const date = p.anniversaryType === 'birthday' ? sql`m."birthDate"` : dayOfSql(sql`m."registeredAt"`, env);
    // Any 366 consecutive days hold every anniversary, so larger windows change nothing.
    return sql`${date} IS NOT NULL AND ${daysToNextAnniversarySql(date, env)} < ${intSql(Math.min(p.days, 367))}`;
  },
  // Literally: is one of the days today .. today + days - 1 the member's anniversary that year?
  matches: (p, member, env) => {
    const date = anniversaryDate(p.anniversaryType, member, env);
    if (!date) return false;
    const md = monthDayOf(date);
    const today = todayNumber(env);
    for (let offset = 0; offset < Math.min(p.days, 366); offset++) {
      const day = dayString(today + offset);
      if (anniversaryIn(md, yearOf(day)) === day) return true;
    }
    return false;
  },
});

export const age = define<{ fromAge: number; toAge: number }>({
  type: 'age',
  description: 'Has a birth date and is, in whole years today, between fromAge and toAge.',
  params: [intParam('fromAge', 0), intParam('toAge', 0)],
  ranges: [['fromAge', 'toAge']],
  // Whole years: this year minus the birth year, less one while this year's birthday is ahead.
  sql: (p, env) => {
    const year = yearOf(env.today);
    const today = monthDayOf(env.today);
    const birthdayThisYear = sql`(extract(month FROM m."birthDate")::int * 100 + CASE
      WHEN extract(month FROM m."birthDate") = 2 AND extract(day FROM m."birthDate") = 29 AND NOT ${isLeapYear(year)}::boolean
      THEN 28 ELSE extract(day FROM m."birthDate")::int END)`;
    return sql`m."birthDate" IS NOT NULL AND (${intSql(year)} - extract(year FROM m."birthDate")::int
      - CASE WHEN ${birthdayThisYear} > ${intSql(today.month * 100 + today.day)} THEN 1 ELSE 0 END)
      BETWEEN ${numSql(p.fromAge)} AND ${numSql(p.toAge)}`;
  },
  matches: (p, member, env) => {
    if (!member.birthDate) return false;
    const year = yearOf(env.today);
    const birthday = anniversaryIn(monthDayOf(member.birthDate), year);
    const years = year - yearOf(member.birthDate) - (dayNumber(birthday) > todayNumber(env) ? 1 : 0);
    return years >= p.fromAge && years <= p.toAge;
  },
});

export const memberRegistrationDate = define<{ fromDate: string; toDate: string }>({
  type: 'member_registration_date',
  description: 'Registered between fromDate and toDate.',
  params: [instantParam('fromDate'), instantParam('toDate')],
  ranges: [['fromDate', 'toDate']],
  sql: (p) => sql`m."registeredAt" BETWEEN ${instantSql(p.fromDate)} AND ${instantSql(p.toDate)}`,
  matches: (p, member) => inInstants(member.registeredAt, p.fromDate, p.toDate),
});

// --- Profile and address ----------------------------------------------------------------------

/** A text column equal (case-insensitively, trimmed) to any of the values. */
function textIn(column: 'gender' | 'city' | 'province' | 'country' | 'postal', listName: string, description: string) {
  return define<Record<string, string[]>>({
    type: { gender: 'gender', city: 'city', province: 'province', country: 'country', postal: 'postal' }[column],
    description,
    params: [textsParam(listName)],
    sql: (p) => sql`lower(btrim(m.${Prisma.raw(`"${column}"`)})) = ANY(${textArraySql(normAll(p[listName]))})`,
    matches: (p, member) => {
      const value = norm(member[column]);
      return value !== null && normAll(p[listName]).includes(value);
    },
  });
}

export const gender = {
  ...textIn('gender', 'genders', 'Gender is any of the genders.'),
  params: [{ name: 'genders', kind: 'enumList' as const, enumName: 'Gender', values: GENDERS }],
};
export const city = textIn('city', 'cities', 'Address city is any of the cities.');
export const province = textIn('province', 'provinces', 'Address province is any of the provinces.');
export const country = {
  ...textIn('country', 'countries', 'Address country (ISO 3166-1 alpha-2) is any of the countries.'),
  check: (params: Record<string, unknown>, path: (field: string) => string) =>
    (params.countries as string[]).flatMap((value, index) =>
      /^[A-Za-z]{2}$/.test(value)
        ? []
        : [fieldError(`${path('countries')}[${index}]`, 'invalid_format', 'This value is not a valid ISO 3166-1 alpha-2 country code.')],
    ),
};
export const postal = textIn('postal', 'postalCodes', 'Postal code is any of the codes.');

export const memberLoyaltyCardNumber = define<{ loyaltyCardNumbers: string[] }>({
  type: 'member_loyalty_card_number',
  description: 'Loyalty card number is one of the numbers (exact match).',
  params: [textsParam('loyaltyCardNumbers')],
  sql: (p) => sql`m."loyaltyCardNumber" = ANY(${textArraySql(p.loyaltyCardNumbers)})`,
  matches: (p, member) => member.loyaltyCardNumber !== null && p.loyaltyCardNumbers.includes(member.loyaltyCardNumber),
});

// --- Level, tiers, labels, custom fields ----------------------------------------------------

export const customerInLevel = define<{ levelIds: string[] }>({
  type: 'customer_in_level',
  description: 'Current level is any of the levels.',
  params: [uuidsParam('levelIds')],
  sql: (p) => sql`m."levelId" = ANY(${uuidArraySql(p.levelIds)})`,
  matches: (p, member) => member.levelId !== null && p.levelIds.some((id) => id.toLowerCase() === lower(member.levelId)),
});

export const customerInTiers = define<{ tierIds: string[] }>({
  type: 'customer_in_tiers',
  description: 'Holds any of the tiers.',
  params: [uuidsParam('tierIds')],
  sql: (p) => sql`EXISTS (SELECT 1 FROM "MemberTier" mt WHERE mt."memberId" = m."id" AND mt."tierId" = ANY(${uuidArraySql(p.tierIds)}))`,
  matches: (p, member) => member.tierIds.some((tier) => p.tierIds.some((id) => id.toLowerCase() === tier.toLowerCase())),
});

export const customerHasLabels = define<{ labels: { key: string; value?: string }[] }>({
  type: 'customer_has_labels',
  description: 'Has a label with any of the keys (values are ignored).',
  params: [labelsParam(false)],
  sql: (p) =>
    sql`EXISTS (SELECT 1 FROM "MemberLabel" ml WHERE ml."memberId" = m."id" AND ml."key" = ANY(${textArraySql(normAll(p.labels.map((l) => l.key)))}))`,
  matches: (p, member) => {
    const keys = normAll(p.labels.map((l) => l.key));
    return member.labels.some((label) => keys.includes(norm(label.key)!));
  },
});

export const customerWithLabelsValues = define<{ labels: { key: string; value: string }[] }>({
  type: 'customer_with_labels_values',
  description: 'Has a label with any of the key/value pairs.',
  params: [labelsParam(true)],
  sql: (p) =>
    sql`EXISTS (SELECT 1 FROM "MemberLabel" ml WHERE ml."memberId" = m."id" AND (ml."key", ml."value") IN ${pairsSql(normLabels(p.labels))})`,
  matches: (p, member) => {
    const wanted = normLabels(p.labels);
    return member.labels.some((label) => wanted.some((w) => w.key === norm(label.key) && w.value === norm(label.value)));
  },
});

export const memberCustomFieldValue = define<{ key: string; values: string[] }>({
  type: 'member_custom_field_value',
  description: 'Custom field `key` equals any of the values.',
  params: [textParam('key'), textsParam('values')],
  sql: (p) =>
    sql`EXISTS (SELECT 1 FROM "MemberCustomField" mf WHERE mf."memberId" = m."id" AND mf."key" = ${norm(p.key)}::text
      AND mf."value" = ANY(${textArraySql(normAll(p.values))}))`,
  matches: (p, member) =>
    Object.entries(member.customFields).some(([key, value]) => norm(key) === norm(p.key) && normAll(p.values).includes(norm(value)!)),
});

// --- Lists of members: entries are member ids once resolved (when the segment is saved). -----

/** The entries that are member ids; anything else (not resolved) matches nobody. */
const memberIds = (customers: string[]) => customers.map((c) => c.trim().toLowerCase()).filter((c) => isUuid(c));

const memberList = (
  type: 'customer_list' | 'customer_csv_list',
  description: string,
  minItems: number,
  reported?: ParamDefinition[],
) =>
  define<{ customers: string[] }>({
    type,
    description,
    params: [textsParam('customers', minItems, 10_000)],
    reported,
    sql: (p) => sql`m."id" = ANY(${uuidArraySql(memberIds(p.customers))})`,
    matches: (p, member) => memberIds(p.customers).includes(member.id.toLowerCase()),
  });

export const customerList = memberList(
  'customer_list',
  'Is one of the listed members (customerId, email, phone or loyalty card number).',
  1,
);
export const customerCsvList = memberList('customer_csv_list', 'Is one of the members listed in an uploaded CSV.', 0, [
  {
    name: 'unresolved',
    kind: 'stringList',
    minItems: 0,
    optional: true,
    description: 'The rows of the last saved CSV that matched no member (they match nobody; absent when every row matched).',
  },
]);
