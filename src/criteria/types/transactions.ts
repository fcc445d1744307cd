import { fieldError } from '../../errors.ts';
import {
  LIFETIME_AMOUNT,
  MAX_PERIOD_DAYS,
  MEMBER_TRANSACTIONS,
  PURCHASE_COUNT,
  SIGNED_VALUE,
  ZERO,
  amountParam,
  amountRange,
  cmp,
  dateParam,
  dateRange,
  dateSql,
  dayNumber,
  dayOfSql,
  daysAgoSql,
  dec,
  define,
  inInstants,
  inLastDays,
  inLastDaysSql,
  inRange,
  intRangeSql,
  instantParam,
  instantSql,
  intParam,
  labelsParam,
  lifetimeAmount,
  localDayNumber,
  lower,
  norm,
  normAll,
  normLabels,
  nowSql,
  numSql,
  purchaseExistsSql,
  purchasesOf,
  rangeSql,
  subqueryRangeSql,
  signedAmount,
  sql,
  textArraySql,
  textsParam,
  todayNumber,
  uuidArraySql,
  uuidParam,
  uuidsParam,
  windowAmount,
  windowStartSql,
  add,
  type Dec,
  type EvalEnv,
  type MemberSnapshot,
  type Sql,
} from './common.ts';

/** Criteria over purchases and amounts (DOMAIN.md section 4). */

interface Amounts {
  fromAmount: number;
  toAmount: number;
}

/** Sells minus returns per calendar day (store zone), for the reference evaluator. */
function dailyAmounts(member: MemberSnapshot, env: EvalEnv): Map<number, Dec> {
  const days = new Map<number, Dec>();
  for (const t of member.transactions) {
    const day = localDayNumber(t.purchasedAt, env);
    days.set(day, add(days.get(day) ?? ZERO, signedAmount(t)));
  }
  return days;
}

/** Every day of [first, last] (day numbers) has an amount in range; a day without rows is 0. */
function everyDayInRange(member: MemberSnapshot, env: EvalEnv, first: number, last: number, p: Amounts): boolean {
  const days = dailyAmounts(member, env);
  for (let day = first; day <= last; day++) {
    if (!inRange(days.get(day) ?? ZERO, p.fromAmount, p.toAmount)) return false;
  }
  return true;
}

/**
 * Every day of [first, last] (SQL dates) has an amount in range, from MemberDailyAmount: no row
 * in the period is out of range, and when 0 is out of range every day has a row.
 */
function everyDayInRangeSql(first: Sql, last: Sql, p: Amounts): Sql {
  const daysOfPeriod = sql`"MemberDailyAmount" d WHERE d."memberId" = m."id" AND d."day" BETWEEN ${first} AND ${last}`;
  return sql`NOT EXISTS (SELECT 1 FROM ${daysOfPeriod} AND NOT (${rangeSql(sql`d."amount"`, p.fromAmount, p.toAmount)}))
    AND (0 BETWEEN ${numSql(p.fromAmount)} AND ${numSql(p.toAmount)}
         OR (SELECT count(*) FROM ${daysOfPeriod}) = (${last} - ${first} + 1))`;
}

const channelPurchasesSql = (channelId: string) =>
  sql`COALESCE((SELECT c."purchaseCount" FROM "MemberChannelStats" c WHERE c."memberId" = m."id" AND c."channelId" = ${channelId}::uuid), 0)`;

export const boughtThroughChannel = define<{ channelIds: string[] }>({
  type: 'bought_through_channel',
  description: 'Made at least one purchase in any of the channels.',
  params: [uuidsParam('channelIds')],
  sql: (p) =>
    sql`EXISTS (SELECT 1 FROM "MemberChannelStats" c WHERE c."memberId" = m."id" AND c."channelId" = ANY(${uuidArraySql(p.channelIds)}) AND c."purchaseCount" > 0)`,
  matches: (p, member) => {
    const ids = new Set(p.channelIds.map((id) => id.toLowerCase()));
    return purchasesOf(member).some((t) => t.channelId !== null && ids.has(t.channelId.toLowerCase()));
  },
});

export const transactionCount = define<{ min: number; max: number }>({
  type: 'transaction_count',
  description: 'Lifetime purchase count in [min, max] (min 0 matches members with none).',
  params: [intParam('min', 0), intParam('max', 0)],
  ranges: [['min', 'max']],
  sql: (p) => intRangeSql(PURCHASE_COUNT, p.min, p.max),
  matches: (p, member) => inRange(dec(purchasesOf(member).length), p.min, p.max),
});

export const averageTransactionAmount = define<Amounts>({
  type: 'average_transaction_amount',
  description: 'Lifetime amount / lifetime purchase count (0 if none) in [fromAmount, toAmount].',
  params: [amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [amountRange],
  // amount / count in [from, to]  <=>  amount in [from * count, to * count] for count > 0: exact.
  sql: (p) => sql`(CASE WHEN ${PURCHASE_COUNT} = 0 THEN 0 BETWEEN ${numSql(p.fromAmount)} AND ${numSql(p.toAmount)}
    ELSE ${LIFETIME_AMOUNT} BETWEEN ${numSql(p.fromAmount)} * s."purchaseCount" AND ${numSql(p.toAmount)} * s."purchaseCount" END)`,
  matches: (p, member) => {
    const count = purchasesOf(member).length;
    if (count === 0) return inRange(ZERO, p.fromAmount, p.toAmount);
    const amount = lifetimeAmount(member);
    const n = dec(count);
    return cmp(amount, mulDec(dec(p.fromAmount), n)) >= 0 && cmp(amount, mulDec(dec(p.toAmount), n)) <= 0;
  },
});

const mulDec = (a: Dec, b: Dec): Dec => ({ n: a.n * b.n, s: a.s + b.s });

export const transactionPercentInChannel = define<{ channelId: string; percent: number }>({
  type: 'transaction_percent_in_channel',
  description: 'Has purchases, and at least `percent` % of them were made in the channel.',
  params: [uuidParam('channelId'), { name: 'percent', kind: 'percent' }],
  sql: (p) =>
    sql`${PURCHASE_COUNT} > 0 AND ${channelPurchasesSql(p.channelId)} * 100 >= ${numSql(p.percent)} * s."purchaseCount"`,
  matches: (p, member) => {
    const purchases = purchasesOf(member);
    if (!purchases.length) return false;
    const inChannel = purchases.filter((t) => lower(t.channelId) === p.channelId.toLowerCase()).length;
    return cmp(dec(inChannel * 100), mulDec(dec(p.percent), dec(purchases.length))) >= 0;
  },
});

export const purchasePeriod = define<{ fromDate: string; toDate: string }>({
  type: 'purchase_period',
  description: 'Made at least one purchase between fromDate and toDate.',
  params: [instantParam('fromDate'), instantParam('toDate')],
  ranges: [dateRange],
  sql: (p) => purchaseExistsSql(sql`t."purchasedAt" BETWEEN ${instantSql(p.fromDate)} AND ${instantSql(p.toDate)}`),
  matches: (p, member) => purchasesOf(member).some((t) => inInstants(t.purchasedAt, p.fromDate, p.toDate)),
});

export const boughtLabels = define<{ labels: { key: string; value: string }[] }>({
  type: 'bought_labels',
  description: 'Bought an item carrying any of the key/value labels.',
  params: [labelsParam(true)],
  // itemLabels holds each normalised pair as the JSON text ["key","value"] (see itemFacts).
  sql: (p) =>
    purchaseExistsSql(
      sql`t."itemLabels" && ${textArraySql(normLabels(p.labels).map((label) => JSON.stringify([label.key, label.value])))}`,
    ),
  matches: (p, member) => {
    const wanted = normLabels(p.labels);
    return purchasesOf(member).some((t) =>
      t.items.some((item) =>
        item.labels.some((label) => wanted.some((w) => w.key === norm(label.key) && w.value === norm(label.value))),
      ),
    );
  },
});

export const boughtMakers = define<{ makers: string[] }>({
  type: 'bought_makers',
  description: 'Bought an item made by any of the makers.',
  params: [textsParam('makers')],
  sql: (p) =>
    purchaseExistsSql(
      sql`t."makers" && ${textArraySql(normAll(p.makers))}`,
    ),
  matches: (p, member) => {
    const makers = new Set(normAll(p.makers));
    return purchasesOf(member).some((t) => t.items.some((item) => item.maker != null && makers.has(norm(item.maker)!)));
  },
});

export const boughtSkus = define<{ skuIds: string[] }>({
  type: 'bought_skus',
  description: 'Bought an item with any of the SKUs.',
  params: [textsParam('skuIds')],
  sql: (p) =>
    purchaseExistsSql(
      sql`t."skus" && ${textArraySql(normAll(p.skuIds))}`,
    ),
  matches: (p, member) => {
    const skus = new Set(normAll(p.skuIds));
    return purchasesOf(member).some((t) => t.items.some((item) => item.sku != null && skus.has(norm(item.sku)!)));
  },
});

export const lastPurchaseNDaysBefore = define<{ days: number }>({
  type: 'last_purchase_n_days_before',
  description: 'Made at least one purchase in the last `days` days.',
  params: [intParam('days', 1)],
  // The latest purchase answers it, unless it lies after "now" (a clock set in the past).
  sql: (p, env) => sql`((${inLastDaysSql(sql`s."lastPurchaseAt"`, p.days, env)})
    OR (s."lastPurchaseAt" > ${nowSql(env)} AND ${purchaseExistsSql(inLastDaysSql(sql`t."purchasedAt"`, p.days, env))}))`,
  matches: (p, member, env) => purchasesOf(member).some((t) => inLastDays(t.purchasedAt, p.days, env)),
});

export const lastTransactionBetweenDays = define<{ fromDays: number; toDays: number }>({
  type: 'last_transaction_between_days',
  description: 'The most recent purchase was between toDays and fromDays days ago.',
  params: [intParam('fromDays', 0), intParam('toDays', 0)],
  ranges: [['fromDays', 'toDays']],
  sql: (p, env) =>
    sql`s."lastPurchaseAt" IS NOT NULL AND ${dayOfSql(sql`s."lastPurchaseAt"`, env)} BETWEEN ${daysAgoSql(p.toDays, env)} AND ${daysAgoSql(p.fromDays, env)}`,
  matches: (p, member, env) => {
    const purchases = purchasesOf(member);
    if (!purchases.length) return false;
    const latest = new Date(Math.max(...purchases.map((t) => t.purchasedAt.getTime())));
    const day = localDayNumber(latest, env);
    const today = todayNumber(env);
    return day >= today - p.toDays && day <= today - p.fromDays;
  },
});

export const transactionAmount = define<Amounts>({
  type: 'transaction_amount',
  description: 'Lifetime amount in [fromAmount, toAmount].',
  params: [amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [amountRange],
  sql: (p) => rangeSql(LIFETIME_AMOUNT, p.fromAmount, p.toAmount),
  matches: (p, member) => inRange(lifetimeAmount(member), p.fromAmount, p.toAmount),
});

export const transactionAmountEachDayInPeriod = define<Amounts & { fromDate: string; toDate: string }>({
  type: 'transaction_amount_each_day_in_period',
  description: 'Every calendar day of the period has an amount in [fromAmount, toAmount].',
  params: [dateParam('fromDate'), dateParam('toDate'), amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [dateRange, amountRange],
  check: (params, path) => {
    const days = (Date.parse(params.toDate as string) - Date.parse(params.fromDate as string)) / 86_400_000;
    return days > MAX_PERIOD_DAYS
      ? [fieldError(path('toDate'), 'out_of_range', `The period is at most ${MAX_PERIOD_DAYS} days long.`, { maxDays: MAX_PERIOD_DAYS })]
      : [];
  },
  sql: (p) => everyDayInRangeSql(dateSql(p.fromDate), dateSql(p.toDate), p),
  matches: (p, member, env) => everyDayInRange(member, env, dayNumber(p.fromDate), dayNumber(p.toDate), p),
});

export const transactionAmountInPeriod = define<Amounts & { fromDate: string; toDate: string }>({
  type: 'transaction_amount_in_period',
  description: 'Amount (sells minus returns) within the period in [fromAmount, toAmount].',
  params: [instantParam('fromDate'), instantParam('toDate'), amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [dateRange, amountRange],
  sql: (p) =>
    subqueryRangeSql(
      sql`(SELECT COALESCE(sum(${SIGNED_VALUE}), 0) FROM ${MEMBER_TRANSACTIONS}
        AND t."purchasedAt" BETWEEN ${instantSql(p.fromDate)} AND ${instantSql(p.toDate)})`,
      p.fromAmount,
      p.toAmount,
    ),
  matches: (p, member) =>
    inRange(windowAmount(member.transactions.filter((t) => inInstants(t.purchasedAt, p.fromDate, p.toDate))), p.fromAmount, p.toAmount),
});

export const transactionCountInPeriod = define<{ fromDate: string; toDate: string; min: number; max: number }>({
  type: 'transaction_count_in_period',
  description: 'Number of purchases within the period in [min, max].',
  params: [instantParam('fromDate'), instantParam('toDate'), intParam('min', 0), intParam('max', 0)],
  ranges: [dateRange, ['min', 'max']],
  sql: (p) =>
    subqueryRangeSql(
      sql`(SELECT count(*) FROM ${MEMBER_TRANSACTIONS} AND t."documentType" = 'sell'
        AND t."purchasedAt" BETWEEN ${instantSql(p.fromDate)} AND ${instantSql(p.toDate)})`,
      p.min,
      p.max,
    ),
  matches: (p, member) =>
    inRange(dec(purchasesOf(member).filter((t) => inInstants(t.purchasedAt, p.fromDate, p.toDate)).length), p.min, p.max),
});

export const transactionAmountEachDayInLastNDays = define<Amounts & { days: number }>({
  type: 'transaction_amount_each_day_in_last_n_days',
  description: 'Each of the `days` full days before today has an amount in [fromAmount, toAmount].',
  params: [intParam('days', 1, { max: MAX_PERIOD_DAYS }), amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [amountRange],
  sql: (p, env) => everyDayInRangeSql(daysAgoSql(p.days, env), daysAgoSql(1, env), p),
  matches: (p, member, env) => everyDayInRange(member, env, todayNumber(env) - p.days, todayNumber(env) - 1, p),
});

export const transactionAmountInLastNDays = define<Amounts & { days: number }>({
  type: 'transaction_amount_in_last_n_days',
  description: 'Amount over the last `days` days in [fromAmount, toAmount].',
  params: [intParam('days', 1), amountParam('fromAmount'), amountParam('toAmount')],
  ranges: [amountRange],
  // The full days come from MemberDailyAmount; only today's transactions (up to now) are read.
  sql: (p, env) =>
    subqueryRangeSql(
      sql`(COALESCE((SELECT sum(d."amount") FROM "MemberDailyAmount" d WHERE d."memberId" = m."id"
            AND d."day" BETWEEN ${daysAgoSql(p.days, env)} AND ${daysAgoSql(1, env)}), 0)
         + (SELECT COALESCE(sum(${SIGNED_VALUE}), 0) FROM ${MEMBER_TRANSACTIONS}
            AND t."purchasedAt" >= ${windowStartSql(0, env)} AND t."purchasedAt" <= ${nowSql(env)}))`,
      p.fromAmount,
      p.toAmount,
    ),
  matches: (p, member, env) =>
    inRange(windowAmount(member.transactions.filter((t) => inLastDays(t.purchasedAt, p.days, env))), p.fromAmount, p.toAmount),
});
