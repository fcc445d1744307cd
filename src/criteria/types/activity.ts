import {
  ZERO,
  add,
  dayOfSql,
  daysAgoSql,
  dec,
  define,
  inInstants,
  inLastDays,
  inLastDaysSql,
  inRange,
  instantParam,
  instantSql,
  intParam,
  localDayNumber,
  norm,
  progressDec,
  progressParam,
  subqueryRangeSql,
  sql,
  textParam,
  todayNumber,
  uuidArraySql,
  uuidParam,
  uuidsParam,
  type EvalEnv,
  type MemberSnapshot,
} from './common.ts';

/** Criteria over custom events, campaign completions, achievements and challenges. */

const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

const eventsOfType = (member: MemberSnapshot, type: string) => member.events.filter((e) => norm(e.type) === norm(type));

export const lastCustomEventNDaysBefore = define<{ eventType: string; days: number }>({
  type: 'last_custom_event_n_days_before',
  description: 'Has an event of the type in the last `days` days.',
  params: [textParam('eventType'), intParam('days', 1)],
  sql: (p, env) =>
    sql`EXISTS (SELECT 1 FROM "CustomEvent" e WHERE e."storeId" = m."storeId" AND e."type" = ${norm(p.eventType)}::text
      AND e."customerId" = m."id" AND ${inLastDaysSql(sql`e."eventDate"`, p.days, env)})`,
  matches: (p, member, env) => eventsOfType(member, p.eventType).some((e) => inLastDays(e.eventDate, p.days, env)),
});

export const lastCustomEventBetweenDays = define<{ eventType: string; fromDays: number; toDays: number }>({
  type: 'last_custom_event_between_days',
  description: 'The most recent event of the type was between toDays and fromDays days ago.',
  params: [textParam('eventType'), intParam('fromDays', 0), intParam('toDays', 0)],
  ranges: [['fromDays', 'toDays']],
  sql: (p, env) => {
    const latest = sql`(SELECT max(e."eventDate") FROM "CustomEvent" e WHERE e."storeId" = m."storeId"
      AND e."type" = ${norm(p.eventType)}::text AND e."customerId" = m."id")`;
    return sql`${dayOfSql(latest, env)} BETWEEN ${daysAgoSql(p.toDays, env)} AND ${daysAgoSql(p.fromDays, env)}`;
  },
  matches: (p, member, env: EvalEnv) => {
    const events = eventsOfType(member, p.eventType);
    if (!events.length) return false;
    const day = localDayNumber(new Date(Math.max(...events.map((e) => e.eventDate.getTime()))), env);
    const today = todayNumber(env);
    return day >= today - p.toDays && day <= today - p.fromDays;
  },
});

export const campaignCompletion = define<{ campaignIds: string[]; fromDate?: string; toDate?: string }>({
  type: 'campaign_completion',
  description: 'Completed any of the campaigns (within the dates when given).',
  params: [uuidsParam('campaignIds'), instantParam('fromDate', true), instantParam('toDate', true)],
  ranges: [['fromDate', 'toDate']],
  sql: (p) =>
    sql`EXISTS (SELECT 1 FROM "CampaignCompletion" c WHERE c."campaignId" = ANY(${uuidArraySql(p.campaignIds)})
      AND c."customerId" = m."id" AND c."storeId" = m."storeId"
      ${p.fromDate === undefined ? sql`` : sql`AND c."completedAt" >= ${instantSql(p.fromDate)}`}
      ${p.toDate === undefined ? sql`` : sql`AND c."completedAt" <= ${instantSql(p.toDate)}`})`,
  matches: (p, member) =>
    member.campaignCompletions.some(
      (c) => p.campaignIds.some((id) => sameId(id, c.campaignId)) && inInstants(c.completedAt, p.fromDate, p.toDate),
    ),
});

export const achievementCompletionCount = define<{ achievementId: string; minCount: number; maxCount?: number }>({
  type: 'achievement_completion_count',
  description: 'Completed the achievement between minCount and maxCount (unbounded when absent) times.',
  params: [uuidParam('achievementId'), intParam('minCount', 0), intParam('maxCount', 0, { optional: true })],
  ranges: [['minCount', 'maxCount']],
  sql: (p) =>
    subqueryRangeSql(
      sql`(SELECT count(*) FROM "AchievementCompletion" a WHERE a."achievementId" = ${p.achievementId}::uuid
        AND a."customerId" = m."id" AND a."storeId" = m."storeId")`,
      p.minCount,
      p.maxCount,
    ),
  matches: (p, member) =>
    inRange(dec(member.achievementCompletions.filter((a) => sameId(a.achievementId, p.achievementId)).length), p.minCount, p.maxCount),
});

export const achievementRuleProgress = define<{
  achievementId: string;
  ruleId: string;
  minProgress: number;
  maxProgress?: number;
  days?: number;
}>({
  type: 'achievement_rule_progress',
  description: 'Progress on the rule (over the last `days` days when given) between minProgress and maxProgress.',
  params: [
    uuidParam('achievementId'),
    uuidParam('ruleId'),
    progressParam('minProgress'),
    progressParam('maxProgress', true),
    intParam('days', 1, { optional: true }),
  ],
  ranges: [['minProgress', 'maxProgress']],
  sql: (p, env) =>
    subqueryRangeSql(
      sql`(SELECT COALESCE(sum(a."value"), 0) FROM "AchievementProgress" a WHERE a."achievementId" = ${p.achievementId}::uuid
        AND a."ruleId" = ${p.ruleId}::uuid AND a."customerId" = m."id" AND a."storeId" = m."storeId"
        ${p.days === undefined ? sql`` : sql`AND ${inLastDaysSql(sql`a."recordedAt"`, p.days, env)}`})`,
      p.minProgress,
      p.maxProgress,
    ),
  matches: (p, member, env) => {
    const increments = member.achievementProgress.filter(
      (a) =>
        sameId(a.achievementId, p.achievementId) &&
        sameId(a.ruleId, p.ruleId) &&
        (p.days === undefined || inLastDays(a.recordedAt, p.days, env)),
    );
    return inRange(increments.reduce((total, a) => add(total, progressDec(a.value)), ZERO), p.minProgress, p.maxProgress);
  },
});

export const challengeCampaignCompletionCount = define<{ challengeId: string; minCount: number; maxCount?: number }>({
  type: 'challenge_campaign_completion_count',
  description: 'Completed the challenge between minCount and maxCount (unbounded when absent) times.',
  params: [uuidParam('challengeId'), intParam('minCount', 0), intParam('maxCount', 0, { optional: true })],
  ranges: [['minCount', 'maxCount']],
  sql: (p) =>
    subqueryRangeSql(
      sql`(SELECT count(*) FROM "ChallengeCompletion" c WHERE c."challengeId" = ${p.challengeId}::uuid
        AND c."customerId" = m."id" AND c."storeId" = m."storeId")`,
      p.minCount,
      p.maxCount,
    ),
  matches: (p, member) =>
    inRange(dec(member.challengeCompletions.filter((c) => sameId(c.challengeId, p.challengeId)).length), p.minCount, p.maxCount),
});

export const challengeCampaignMilestoneProgress = define<{
  challengeId: string;
  milestoneId: string;
  minProgress: number;
  maxProgress?: number;
}>({
  type: 'challenge_campaign_milestone_progress',
  description: 'Progress on the milestone between minProgress and maxProgress.',
  params: [uuidParam('challengeId'), uuidParam('milestoneId'), progressParam('minProgress'), progressParam('maxProgress', true)],
  ranges: [['minProgress', 'maxProgress']],
  sql: (p) =>
    subqueryRangeSql(
      sql`(SELECT COALESCE(sum(c."value"), 0) FROM "MilestoneProgress" c WHERE c."challengeId" = ${p.challengeId}::uuid
        AND c."milestoneId" = ${p.milestoneId}::uuid AND c."customerId" = m."id" AND c."storeId" = m."storeId")`,
      p.minProgress,
      p.maxProgress,
    ),
  matches: (p, member) => {
    const increments = member.milestoneProgress.filter(
      (c) => sameId(c.challengeId, p.challengeId) && sameId(c.milestoneId, p.milestoneId),
    );
    return inRange(increments.reduce((total, c) => add(total, progressDec(c.value)), ZERO), p.minProgress, p.maxProgress);
  },
});
