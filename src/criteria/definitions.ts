import * as activity from './types/activity.ts';
import type { CriterionDefinition } from './types/common.ts';
import * as member from './types/member.ts';
import * as transactions from './types/transactions.ts';

/**
 * One definition per criterion type of DOMAIN.md section 4: its parameters and the checks
 * between them, its SQL fragment and its reference evaluation (src/criteria/types/*.ts, grouped
 * by domain). The GraphQL types (src/graphql/types/criterion.ts), the REST codec, the validator
 * and the engine (src/engine) are all derived from this table, so they cannot drift apart.
 */
export type { CriterionDefinition, EvalEnv, MemberSnapshot } from './types/common.ts';
export { ANNIVERSARY_TYPES, GENDERS, evaluationEnv } from './types/common.ts';

/** In the order of DOMAIN.md's table (GraphQL enums and error choices list them in this order). */
export const criterionDefinitions: CriterionDefinition[] = [
  transactions.boughtThroughChannel,
  transactions.transactionCount,
  transactions.averageTransactionAmount,
  transactions.transactionPercentInChannel,
  transactions.purchasePeriod,
  transactions.boughtLabels,
  transactions.boughtMakers,
  member.anniversary,
  transactions.lastPurchaseNDaysBefore,
  transactions.lastTransactionBetweenDays,
  activity.lastCustomEventNDaysBefore,
  activity.lastCustomEventBetweenDays,
  transactions.boughtSkus,
  transactions.transactionAmount,
  transactions.transactionAmountEachDayInPeriod,
  transactions.transactionAmountInPeriod,
  transactions.transactionCountInPeriod,
  transactions.transactionAmountEachDayInLastNDays,
  transactions.transactionAmountInLastNDays,
  member.customerInLevel,
  member.customerHasLabels,
  member.customerWithLabelsValues,
  member.customerList,
  member.gender,
  member.city,
  member.province,
  member.country,
  member.postal,
  member.age,
  activity.campaignCompletion,
  member.customerCsvList,
  activity.achievementCompletionCount,
  activity.achievementRuleProgress,
  member.customerInTiers,
  member.memberRegistrationDate,
  member.memberCustomFieldValue,
  member.memberLoyaltyCardNumber,
  activity.challengeCampaignCompletionCount,
  activity.challengeCampaignMilestoneProgress,
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
