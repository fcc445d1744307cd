import { criterionDefinition, type EvalEnv, type MemberSnapshot } from '../criteria/definitions.ts';
import { ingestRecord, type IngestRecord } from '../ingest/records.ts';
import { UnknownCriterionType, type StoredCriterion, type StoredPart } from './compile.ts';

/**
 * The reference evaluation of a segment over in-memory members, with each criterion's `matches`
 * (a literal reading of DOMAIN.md over raw facts, no aggregates). The tests' oracle for the SQL
 * engine; never used to serve requests.
 */

export function criterionMatches(criterion: StoredCriterion, member: MemberSnapshot, env: EvalEnv): boolean {
  const definition = criterionDefinition(criterion.type);
  if (!definition) throw new UnknownCriterionType(criterion.type);
  return definition.matches(criterion.params as never, member, env);
}

/** Only active members match; parts AND-ed, criteria inside a part OR-ed; no parts: nobody. */
export function segmentMatches(parts: StoredPart[], member: MemberSnapshot, env: EvalEnv): boolean {
  if (!member.active || !parts.length) return false;
  return parts.every((part) => part.criteria.some((criterion) => criterionMatches(criterion, member, env)));
}

/** The ids of the members the segment matches, sorted. */
export function evaluateSegment(parts: StoredPart[], members: MemberSnapshot[], env: EvalEnv): string[] {
  return members
    .filter((member) => segmentMatches(parts, member, env))
    .map((member) => member.id)
    .sort();
}

/**
 * Members as a store would hold them after importing `records` (the shapes of
 * src/ingest/records.ts) in order: later records with the same id replace earlier ones, and
 * activity of unknown members is dropped. Invalid records throw.
 */
export function snapshotsFromRecords(records: unknown[]): MemberSnapshot[] {
  const parsed = records.map((raw) => ingestRecord.parse(raw));
  const latest = new Map<string, IngestRecord>();
  for (const record of parsed) {
    const id = record.kind === 'member' ? record.customerId : record.kind === 'transaction' ? record.transactionId : record.id;
    const key = `${record.kind}:${id}`;
    latest.delete(key);
    latest.set(key, record);
  }
  const members = new Map<string, MemberSnapshot>();
  const now = new Date();
  for (const record of latest.values()) {
    if (record.kind !== 'member') continue;
    const createdAt = record.createdAt ?? now;
    members.set(record.customerId, {
      id: record.customerId,
      active: record.active,
      email: record.email ?? null,
      phone: record.phone ?? null,
      gender: record.gender ?? null,
      birthDate: record.birthDate ?? null,
      registeredAt: record.registeredAt ?? createdAt,
      city: record.address?.city ?? null,
      province: record.address?.province ?? null,
      country: record.address?.country ?? null,
      postal: record.address?.postal ?? null,
      loyaltyCardNumber: record.loyaltyCardNumber ?? null,
      levelId: record.levelId ?? null,
      tierIds: [...new Set(record.tierIds)],
      labels: record.labels,
      customFields: record.customFields,
      transactions: [],
      events: [],
      campaignCompletions: [],
      achievementCompletions: [],
      achievementProgress: [],
      challengeCompletions: [],
      milestoneProgress: [],
    });
  }
  for (const record of latest.values()) {
    if (record.kind === 'member' || !('customerId' in record) || record.customerId === null) continue;
    const member = members.get(record.customerId);
    if (!member) continue;
    switch (record.kind) {
      case 'transaction':
        member.transactions.push({
          documentType: record.documentType,
          purchasedAt: record.purchasedAt,
          channelId: record.channelId ?? null,
          grossValue: record.grossValue,
          items: record.items.map((item) => ({ sku: item.sku ?? null, maker: item.maker ?? null, labels: item.labels })),
        });
        break;
      case 'customEvent':
        member.events.push({ type: record.type, eventDate: record.eventDate });
        break;
      case 'campaignCompletion':
        member.campaignCompletions.push({ campaignId: record.campaignId, completedAt: record.completedAt });
        break;
      case 'achievementCompletion':
        member.achievementCompletions.push({ achievementId: record.achievementId, completedAt: record.completedAt });
        break;
      case 'achievementProgress':
        member.achievementProgress.push({
          achievementId: record.achievementId,
          ruleId: record.ruleId,
          value: record.value,
          recordedAt: record.recordedAt,
        });
        break;
      case 'challengeCompletion':
        member.challengeCompletions.push({ challengeId: record.challengeId, completedAt: record.completedAt });
        break;
      case 'challengeProgress':
        member.milestoneProgress.push({
          challengeId: record.challengeId,
          milestoneId: record.milestoneId,
          value: record.value,
          recordedAt: record.recordedAt,
        });
        break;
    }
  }
  return [...members.values()];
}
