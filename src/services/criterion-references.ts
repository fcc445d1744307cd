import { isUuid } from '../criteria/params.ts';
import { fieldError, joinPath, type FieldError } from '../errors.ts';
import type { PrismaClient, Store } from '../generated/prisma/client.ts';
import type { SegmentDraft } from './segment-input.ts';

/**
 * Parameters that name records of the store. A parameter name means the same thing in every
 * criterion type (channelIds are always channels), so the map is by name.
 */
const REFERENCES = {
  channelIds: 'channel',
  channelId: 'channel',
  levelIds: 'level',
  tierIds: 'tier',
  campaignIds: 'campaign',
  achievementId: 'achievement',
  challengeId: 'challenge',
} as const;
type Referenced = (typeof REFERENCES)[keyof typeof REFERENCES];

interface Use {
  path: string;
  id: string;
}

/**
 * Checks that every id a segment's criteria reference exists in the store (`not_found`
 * otherwise, DOMAIN.md section 4) and resolves customer lists to member ids, in place.
 */
export async function resolveReferences(prisma: PrismaClient, store: Store, draft: SegmentDraft): Promise<FieldError[]> {
  const uses = new Map<Referenced, Use[]>();
  const rules: (Use & { achievementId: string })[] = [];
  const milestones: (Use & { challengeId: string })[] = [];
  const lists: { path: string; params: Record<string, unknown>; strict: boolean }[] = [];
  (draft.parts ?? []).forEach((part, p) =>
    part.criteria.forEach((criterion, c) => {
      const base = `parts[${p}].criteria[${c}]`;
      for (const [name, value] of Object.entries(criterion.params)) {
        const kind = REFERENCES[name as keyof typeof REFERENCES];
        if (kind) {
          const ids = Array.isArray(value) ? (value as string[]) : [value as string];
          const list = uses.get(kind) ?? [];
          ids.forEach((id, i) => list.push({ id, path: joinPath(base, Array.isArray(value) ? `${name}[${i}]` : name) }));
          uses.set(kind, list);
        }
      }
      const params = criterion.params as Record<string, string>;
      if (params.ruleId) rules.push({ id: params.ruleId, achievementId: params.achievementId, path: joinPath(base, 'ruleId') });
      if (params.milestoneId)
        milestones.push({ id: params.milestoneId, challengeId: params.challengeId, path: joinPath(base, 'milestoneId') });
      if (criterion.type === 'customer_list' || criterion.type === 'customer_csv_list')
        lists.push({ path: joinPath(base, 'customers'), params: criterion.params, strict: criterion.type === 'customer_list' });
    }),
  );

  const errors: FieldError[] = [];
  const where = (ids: string[]) => ({ storeId: store.id, id: { in: [...new Set(ids)] } });
  const lookups: Record<Referenced, (ids: string[]) => Promise<{ id: string }[]>> = {
    channel: (ids) => prisma.channel.findMany({ where: where(ids), select: { id: true } }),
    level: (ids) => prisma.level.findMany({ where: where(ids), select: { id: true } }),
    tier: (ids) => prisma.tier.findMany({ where: where(ids), select: { id: true } }),
    campaign: (ids) => prisma.campaign.findMany({ where: where(ids), select: { id: true } }),
    achievement: (ids) => prisma.achievement.findMany({ where: where(ids), select: { id: true } }),
    challenge: (ids) => prisma.challenge.findMany({ where: where(ids), select: { id: true } }),
  };
  for (const [kind, list] of uses) {
    const found = new Set((await lookups[kind](list.map((use) => use.id))).map((row) => row.id));
    for (const use of list) if (!found.has(use.id)) errors.push(notFound(use.path, kind, use.id));
  }
  if (rules.length) {
    const achievements = await prisma.achievement.findMany({ where: where(rules.map((r) => r.achievementId)), select: { id: true, ruleIds: true } });
    const ruleIds = new Map(achievements.map((a) => [a.id, new Set(a.ruleIds)]));
    for (const rule of rules)
      if (ruleIds.has(rule.achievementId) && !ruleIds.get(rule.achievementId)!.has(rule.id)) errors.push(notFound(rule.path, 'rule', rule.id));
  }
  if (milestones.length) {
    const challenges = await prisma.challenge.findMany({ where: where(milestones.map((m) => m.challengeId)), select: { id: true, milestoneIds: true } });
    const milestoneIds = new Map(challenges.map((c) => [c.id, new Set(c.milestoneIds)]));
    for (const milestone of milestones)
      if (milestoneIds.has(milestone.challengeId) && !milestoneIds.get(milestone.challengeId)!.has(milestone.id))
        errors.push(notFound(milestone.path, 'milestone', milestone.id));
  }
  for (const list of lists) errors.push(...(await resolveCustomers(prisma, store, list)));
  return errors;
}

function notFound(path: string, kind: string, id: string): FieldError {
  return fieldError(path, 'not_found', `No ${kind} ${id} in this store.`, { kind, id });
}

/**
 * Each entry of a customer list is a customerId, email, phone or loyalty card number; it is
 * replaced by the member's id. customer_list: unknown -> not_found, ambiguous -> not_unique.
 * customer_csv_list: entries that resolve to nobody are dropped and listed in `unresolved`.
 */
async function resolveCustomers(
  prisma: PrismaClient,
  store: Store,
  list: { path: string; params: Record<string, unknown>; strict: boolean },
): Promise<FieldError[]> {
  const entries = list.params.customers as string[];
  if (!entries.length) return [];
  const ids = entries.filter(isUuid).map((id) => id.toLowerCase());
  const members = await prisma.member.findMany({
    where: {
      storeId: store.id,
      OR: [
        { id: { in: ids } },
        { email: { in: entries.map((entry) => entry.toLowerCase()) } },
        { phone: { in: entries } },
        { loyaltyCardNumber: { in: entries } },
      ],
    },
    select: { id: true, email: true, phone: true, loyaltyCardNumber: true },
  });
  const errors: FieldError[] = [];
  const resolved: string[] = [];
  const unresolved: string[] = [];
  entries.forEach((entry, index) => {
    const matches = members.filter(
      (m) => m.id === entry.toLowerCase() || m.email === entry.toLowerCase() || m.phone === entry || m.loyaltyCardNumber === entry,
    );
    const path = `${list.path}[${index}]`;
    if (matches.length === 1) resolved.push(matches[0].id);
    else if (!list.strict) unresolved.push(entry);
    else if (matches.length === 0) errors.push(fieldError(path, 'not_found', `No member matches ${entry}.`, { value: entry }));
    else errors.push(fieldError(path, 'not_unique', `${entry} matches ${matches.length} members.`, { value: entry }));
  });
  list.params.customers = [...new Set(resolved)];
  if (!list.strict && unresolved.length) list.params.unresolved = unresolved;
  return errors;
}
