import { DateTime } from 'luxon';
import type { FieldError } from '../../errors.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { add, cmp, dec, max, round, sub, sum, ZERO, type Dec } from '../decimal.ts';
import type { ParamDefinition } from '../params.ts';

/**
 * What every criterion type defines (DOMAIN.md section 4), in one place: its parameters and
 * the checks between them (validation, GraphQL and REST types are derived from these), its SQL
 * fragment (the engine) and its plain-TypeScript reference evaluation (the tests' oracle).
 */
export interface CriterionDefinition<P = any> {
  /** The wire name, e.g. `transaction_count`. */
  type: string;
  description: string;
  params: ParamDefinition[];
  /**
   * Facts the server adds when the segment is saved and returns with the criterion, never read
   * from a client (a client that sends one back, e.g. a REST GET-then-PUT round trip, has it
   * ignored): customer_csv_list's `unresolved` rows.
   */
  reported?: ParamDefinition[];
  /** Pairs that must satisfy from <= to; a violation is `out_of_range` on the `to` field. */
  ranges?: [from: string, to: string][];
  /** Further checks over the already type-checked parameters. */
  check?: (params: Record<string, unknown>, path: (field: string) => string) => FieldError[];
  /**
   * A boolean SQL expression over the member row `m` ("Member") and its lifetime aggregates `s`
   * ("MemberStats", LEFT JOINed: NULL columns mean zero). Values only travel as bound parameters.
   * `params` are the validated, normalised parameters as stored. Whether the member is active is
   * checked once by the compiled statement, not here.
   */
  sql(params: P, env: EvalEnv): Prisma.Sql;
  /** The same criterion evaluated literally from DOMAIN.md over an in-memory member. */
  matches(params: P, member: MemberSnapshot, env: EvalEnv): boolean;
}

export const define = <P>(definition: CriterionDefinition<P>): CriterionDefinition => definition;

export const GENDERS = ['male', 'female', 'not_disclosed'] as const;
export const ANNIVERSARY_TYPES = ['birthday', 'registration'] as const;
export const MAX_PERIOD_DAYS = 366;

// ---------------------------------------------------------------------------------------------
// The evaluation environment and the in-memory member the reference evaluator reads.

export interface EvalEnv {
  /** The evaluation clock. */
  now: Date;
  /** The calendar day of `now` in the store's time zone, `YYYY-MM-DD`. */
  today: string;
  /** The store's IANA time zone. */
  timezone: string;
}

export function evaluationEnv(now: Date, timezone: string): EvalEnv {
  const local = DateTime.fromJSDate(now, { zone: timezone });
  if (!local.isValid) throw new Error(`Invalid time zone ${timezone}`);
  return { now, today: local.toISODate()!, timezone };
}

export interface Label {
  key: string;
  value: string;
}

export interface SnapshotTransaction {
  documentType: 'sell' | 'return';
  purchasedAt: Date;
  channelId: string | null;
  /** At most 2 decimals. */
  grossValue: number;
  items: { sku: string | null; maker: string | null; labels: Label[] }[];
}

/** A member with everything criteria read, as raw facts (no aggregates). */
export interface MemberSnapshot {
  id: string;
  active: boolean;
  email: string | null;
  phone: string | null;
  gender: string | null;
  /** `YYYY-MM-DD`. */
  birthDate: string | null;
  registeredAt: Date;
  city: string | null;
  province: string | null;
  country: string | null;
  postal: string | null;
  loyaltyCardNumber: string | null;
  levelId: string | null;
  tierIds: string[];
  labels: Label[];
  customFields: Record<string, string>;
  /** The member's transactions (those matched to it), sells and returns. */
  transactions: SnapshotTransaction[];
  events: { type: string; eventDate: Date }[];
  campaignCompletions: { campaignId: string; completedAt: Date }[];
  achievementCompletions: { achievementId: string; completedAt: Date }[];
  achievementProgress: { achievementId: string; ruleId: string; value: number; recordedAt: Date }[];
  challengeCompletions: { challengeId: string; completedAt: Date }[];
  milestoneProgress: { challengeId: string; milestoneId: string; value: number; recordedAt: Date }[];
}

// ---------------------------------------------------------------------------------------------
// Parameter shorthands, to keep the definition tables readable.

export const uuidParam = (name: string, optional = false): ParamDefinition => ({ name, kind: 'uuid', optional });
export const uuidsParam = (name: string): ParamDefinition => ({ name, kind: 'uuidList' });
export const intParam = (name: string, min: number, opts: { max?: number; optional?: boolean } = {}): ParamDefinition => ({
  name,
  kind: 'int',
  min,
  ...opts,
});
export const amountParam = (name: string): ParamDefinition => ({ name, kind: 'amount' });
export const progressParam = (name: string, optional = false): ParamDefinition => ({ name, kind: 'number', min: 0, optional });
export const instantParam = (name: string, optional = false): ParamDefinition => ({ name, kind: 'instant', optional });
export const dateParam = (name: string): ParamDefinition => ({ name, kind: 'date' });
export const textParam = (name: string): ParamDefinition => ({ name, kind: 'string' });
export const textsParam = (name: string, minItems = 1, maxItems?: number): ParamDefinition => ({
  name,
  kind: 'stringList',
  minItems,
  maxItems,
});
export const labelsParam = (valueRequired: boolean): ParamDefinition => ({ name: 'labels', kind: 'labelList', valueRequired });

export const amountRange: [string, string] = ['fromAmount', 'toAmount'];
export const dateRange: [string, string] = ['fromDate', 'toDate'];

// ---------------------------------------------------------------------------------------------
// SQL building blocks. Every value is a bound parameter with an explicit type.

export const sql = Prisma.sql;
export type Sql = Prisma.Sql;

/**
 * "The last N days" reaches back N days; N has no upper bound in the contract, so it is capped
 * where it cannot change a result (about 2,700 years) to stay inside date arithmetic's range.
 */
export const MAX_DAYS_BACK = 1_000_000;
const capDays = (days: number) => Math.min(days, MAX_DAYS_BACK);

export const numSql = (value: number) => sql`${String(value)}::numeric`;
export const intSql = (value: number) => sql`${value}::int`;
export const instantSql = (iso: string) => sql`${iso}::timestamptz`;
export const dateSql = (day: string) => sql`${day}::date`;
export const textArraySql = (values: string[]) => sql`${values}::text[]`;
export const uuidArraySql = (values: string[]) => sql`${values}::uuid[]`;
export const nowSql = (env: EvalEnv) => instantSql(env.now.toISOString());
export const todaySql = (env: EvalEnv) => dateSql(env.today);
const zoneSql = (env: EvalEnv) => sql`${env.timezone}::text`;

/** The calendar day of an instant in the store's time zone. */
export const dayOfSql = (instant: Sql, env: EvalEnv) => sql`(${instant} AT TIME ZONE ${zoneSql(env)})::date`;
/** The date `today - days`. */
export const daysAgoSql = (days: number, env: EvalEnv) => sql`(${todaySql(env)} - ${intSql(capDays(days))})`;
/** 00:00 of `today - days` in the store's time zone, as an instant: where "the last N days" start. */
export const windowStartSql = (days: number, env: EvalEnv) =>
  sql`(${daysAgoSql(days, env)}::timestamp AT TIME ZONE ${zoneSql(env)})`;
/** `instant` lies in the last `days` days: from 00:00 of (today - days) to now. */
export const inLastDaysSql = (instant: Sql, days: number, env: EvalEnv) =>
  sql`${instant} >= ${windowStartSql(days, env)} AND ${instant} <= ${nowSql(env)}`;

/** `value` in [from, to]; an absent bound is unbounded. */
export function rangeSql(value: Sql, from: number | undefined, to: number | undefined): Sql {
  const bounds = [
    ...(from === undefined ? [] : [sql`${value} >= ${numSql(from)}`]),
    ...(to === undefined ? [] : [sql`${value} <= ${numSql(to)}`]),
  ];
  return bounds.length ? Prisma.join(bounds, ' AND ') : sql`TRUE`;
}

/**
 * `value` in [from, to] where `value` is a subquery: it is computed once. (`rangeSql` repeats
 * the expression in both comparisons, and PostgreSQL then runs the subquery a second time for
 * every member that passes the lower bound.)
 */
export function subqueryRangeSql(value: Sql, from: number | undefined, to: number | undefined): Sql {
  if (from === undefined || to === undefined) return rangeSql(value, from, to);
  // OFFSET 0 keeps the inner SELECT from being merged into the outer one (which would repeat
  // the subquery again).
  return sql`(SELECT ${rangeSql(sql`r.v`, from, to)} FROM (SELECT ${value} AS v OFFSET 0) r)`;
}

/**
 * `value` in [from, to] for integer bounds (counts): compared as integers, so an integer
 * `value` is not converted to numeric row by row. Bounds are 32-bit (GraphQL's Int).
 */
export function intRangeSql(value: Sql, from: number | undefined, to: number | undefined): Sql {
  const bounds = [
    ...(from === undefined ? [] : [sql`${value} >= ${intSql(from)}`]),
    ...(to === undefined ? [] : [sql`${value} <= ${intSql(to)}`]),
  ];
  return bounds.length ? Prisma.join(bounds, ' AND ') : sql`TRUE`;
}

/** Lifetime purchase count, from the aggregates row (absent: 0). */
export const PURCHASE_COUNT = sql`COALESCE(s."purchaseCount", 0)`;
/** Lifetime amount = max(0, sells - returns), from the aggregates row (absent: 0). */
export const LIFETIME_AMOUNT = sql`GREATEST(0, COALESCE(s."sellAmount", 0) - COALESCE(s."returnAmount", 0))`;
/** A transaction's contribution to an amount: + for a sell, - for a return. */
export const SIGNED_VALUE = sql`(CASE t."documentType" WHEN 'sell' THEN t."grossValue" WHEN 'return' THEN -t."grossValue" ELSE 0 END)`;
/** The member's transactions `t` (sells and returns). */
export const MEMBER_TRANSACTIONS = sql`"Transaction" t WHERE t."storeId" = m."storeId" AND t."customerId" = m."id"`;

/** The member made a purchase satisfying `condition` (over `t`, and `i` / `l` when joined). */
export const purchaseExistsSql = (condition: Sql, join: Sql = Prisma.empty) =>
  sql`EXISTS (SELECT 1 FROM "Transaction" t ${join} WHERE t."storeId" = m."storeId" AND t."customerId" = m."id" AND t."documentType" = 'sell' AND ${condition})`;

/** (key, value) pairs as a row set to test `(k, v) IN (...)` against. */
export const pairsSql = (pairs: Label[]) =>
  sql`(SELECT * FROM unnest(${textArraySql(pairs.map((p) => p.key))}, ${textArraySql(pairs.map((p) => p.value))}))`;

// ---------------------------------------------------------------------------------------------
// Reference-evaluation helpers (plain TypeScript, Luxon for the calendar).

/** Case-insensitive after trimming. */
export const norm = (value: string | null | undefined): string | null => (value == null ? null : value.trim().toLowerCase());
export const normAll = (values: string[]) => values.map((value) => value.trim().toLowerCase());
export const normLabels = (labels: { key: string; value?: string }[]): Label[] =>
  labels.map((label) => ({ key: norm(label.key)!, value: norm(label.value ?? '')! }));
export const lower = (value: string | null | undefined) => (value == null ? null : value.toLowerCase());

export const purchasesOf = (member: MemberSnapshot) => member.transactions.filter((t) => t.documentType === 'sell');

/** An amount as stored: 2 decimals. */
export const amountDec = (value: number) => round(dec(value), 2);
export const signedAmount = (t: SnapshotTransaction): Dec =>
  t.documentType === 'sell' ? amountDec(t.grossValue) : sub(ZERO, amountDec(t.grossValue));
/** Sells minus returns over the given transactions (not clamped). */
export const windowAmount = (transactions: SnapshotTransaction[]) => sum(transactions.map(signedAmount));
/** max(0, sells - returns) over the member's whole history. */
export const lifetimeAmount = (member: MemberSnapshot) => max(ZERO, windowAmount(member.transactions));
/** A progress increment as stored: numeric(16, 2). */
export const progressDec = (value: number) => round(dec(value), 2);

export const inRange = (value: Dec, from: number | undefined, to: number | undefined) =>
  (from === undefined || cmp(value, dec(from)) >= 0) && (to === undefined || cmp(value, dec(to)) <= 0);

const DAY_MS = 86_400_000;
/** A calendar date as a day number (days since 1970-01-01), so day arithmetic is plain integers. */
export const dayNumber = (day: string) => Math.round(DateTime.fromISO(day, { zone: 'utc' }).toMillis() / DAY_MS);
export const dayString = (dayNo: number) => DateTime.fromMillis(dayNo * DAY_MS, { zone: 'utc' }).toISODate()!;
/** The calendar day (number) of an instant in the store's time zone. */
export function localDayNumber(instant: Date, env: EvalEnv): number {
  const local = DateTime.fromJSDate(instant, { zone: env.timezone });
  return Math.round(Date.UTC(local.year, local.month - 1, local.day) / DAY_MS);
}
export const todayNumber = (env: EvalEnv) => dayNumber(env.today);
/** 00:00 of (today - days) in the store's time zone. */
export function windowStart(days: number, env: EvalEnv): Date {
  const day = DateTime.fromMillis((todayNumber(env) - capDays(days)) * DAY_MS, { zone: 'utc' });
  return DateTime.fromObject({ year: day.year, month: day.month, day: day.day }, { zone: env.timezone }).toJSDate();
}
export const inLastDays = (instant: Date, days: number, env: EvalEnv) =>
  instant.getTime() >= windowStart(days, env).getTime() && instant.getTime() <= env.now.getTime();
export const inInstants = (instant: Date, from: string | undefined, to: string | undefined) =>
  (from === undefined || instant.getTime() >= Date.parse(from)) && (to === undefined || instant.getTime() <= Date.parse(to));

export const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export { add, cmp, dec, sum, ZERO, type Dec };
