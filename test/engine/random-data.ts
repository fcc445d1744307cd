import { Rng as GeneratorRng } from '../../src/ingest/generator.ts';
import { DateTime } from 'luxon';
import { criterionTypes } from '../../src/criteria/definitions.ts';
import type { Scenario } from './support.ts';

/**
 * Seeded random member data and random criteria for the property test. Everything is drawn from
 * small vocabularies and from values on the edges the definitions care about (local midnights,
 * inclusive bounds, 29 February, cents), so that criteria match some members and not others.
 */

/** The generator's seeded PRNG, with the extra picks these tests use. */
export class Rng extends GeneratorRng {
  some<T>(items: readonly T[], min = 1, max = 3): T[] {
    const count = this.int(min, Math.min(max, items.length));
    const pool = [...items];
    const chosen: T[] = [];
    while (chosen.length < count) chosen.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]);
    return chosen;
  }
  /** Two values of the list, ordered. */
  range<T extends number>(items: readonly T[]): [T, T] {
    const a = this.pick(items);
    const b = this.pick(items);
    return a <= b ? [a, b] : [b, a];
  }
}

/** A string with random case and padding: equality must ignore both. */
function scramble(rng: Rng, text: string): string {
  const cased = [...text].map((c) => (rng.chance(0.3) ? c.toUpperCase() : c)).join('');
  return rng.chance(0.2) ? ` ${cased} ` : cased;
}

export const TIME_ZONES = ['UTC', 'Pacific/Auckland', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'America/St_Johns'];

/** Clocks near the edges: year end, leap day, DST changes, local midnights. */
export const CLOCKS = [
  '2024-12-31T10:30:00Z',
  '2024-12-31T23:30:00Z',
  '2024-02-28T23:30:00Z',
  '2024-02-29T11:00:00Z',
  '2025-02-28T11:00:00Z',
  '2025-03-01T00:30:00Z',
  '2024-03-10T06:30:00Z',
  '2024-11-03T05:30:00Z',
  '2024-04-06T14:30:00Z',
  '2024-09-29T13:30:00Z',
  '2024-06-15T12:00:00Z',
];

const AMOUNTS = [0, 0.01, 5, 9.99, 10, 10.01, 15, 20, 25.5, 50, 99.99, 100];
const RANGE_AMOUNTS = [0, 0.01, 5, 10, 10.01, 15, 20, 25, 30, 50, 100, 150, 1000];
const COUNTS = [0, 1, 2, 3, 4, 5, 10];
const DAYS = [1, 2, 3, 5, 7, 14, 30, 60];
const BETWEEN_DAYS = [0, 1, 2, 3, 5, 10, 30, 60];
const PERCENTS = [0, 25, 33.33, 33.34, 50, 66.66, 66.67, 100];
const PROGRESS = [0, 0.1, 0.2, 0.3, 1, 2.5, 5];
const PROGRESS_BOUNDS = [0, 0.1, 0.3, 0.5, 1, 2.5, 3, 5, 10];
const GENDERS = ['male', 'female', 'not_disclosed'];
const PLACES = [
  { city: 'Warsaw', province: 'Mazowieckie', country: 'PL', postal: '00-001' },
  { city: 'Kraków', province: 'Małopolskie', country: 'PL', postal: '30-001' },
  { city: 'Berlin', province: 'Berlin', country: 'DE', postal: '10115' },
  { city: 'Paris', province: 'Île-de-France', country: 'FR', postal: '75001' },
];
const EVENT_TYPES = ['login', 'visit', 'survey'];
const MAKERS = ['Acme', 'Globex', 'Initech'];
const SKUS = ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4'];
const ITEM_LABELS = [
  { key: 'color', value: 'red' },
  { key: 'color', value: 'blue' },
  { key: 'size', value: 'L' },
  { key: 'size', value: 'red' },
];
const MEMBER_LABELS = [
  { key: 'vip', value: 'yes' },
  { key: 'vip', value: 'no' },
  { key: 'interest', value: 'running' },
  { key: 'newsletter', value: '' },
];
const FIELD_KEYS = ['shoe_size', 'favourite'];
const FIELD_VALUES = ['42', '43', 'blue', 'Red'];

export interface World {
  rng: Rng;
  scenario: Scenario;
  timezone: string;
  now: string;
  memberNames: string[];
  channels: string[];
  levels: string[];
  tiers: string[];
  campaigns: string[];
  achievements: { id: string; rules: string[] }[];
  challenges: { id: string; milestones: string[] }[];
  /** Instants the data uses, to put period bounds on them. */
  instants: string[];
}

/** Fills a scenario with random members and activity; returns what criteria can refer to. */
export function randomWorld(rng: Rng, scenario: Scenario, memberCount: number, clock = rng.pick(CLOCKS)): World {
  const timezone = scenario.timezone;
  const nowUtc = DateTime.fromISO(clock, { zone: 'utc' }).plus({ minutes: rng.pick([0, 0, 1, -1, 45, -45]) });
  const now = nowUtc.toISO()!;
  const localNow = nowUtc.setZone(timezone);
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => scenario.id(`${prefix}-${i}`));
  const world: World = {
    rng,
    scenario,
    timezone,
    now,
    memberNames: [],
    channels: ids('channel', 3),
    levels: ids('level', 2),
    tiers: ids('tier', 3),
    campaigns: ids('campaign', 2),
    achievements: [0, 1].map((i) => ({ id: scenario.id(`achievement-${i}`), rules: ids(`rule-${i}`, 2) })),
    challenges: [0, 1].map((i) => ({ id: scenario.id(`challenge-${i}`), milestones: ids(`milestone-${i}`, 2) })),
    instants: [],
  };

  /** An instant near now: some day in [-40, +2] local, often right at a local midnight. */
  const instant = (): string => {
    const day = localNow.startOf('day').plus({ days: rng.int(-40, 2) });
    const at = rng.chance(0.35)
      ? day.plus({ milliseconds: rng.pick([0, 0, -1, 1, -1000]) })
      : day.plus({ minutes: rng.int(0, 24 * 60 - 1) });
    const iso = at.toUTC().toISO()!;
    world.instants.push(iso);
    return iso;
  };
  /** A calendar date whose month-day is near today's (anniversaries), or 29 February. */
  const birthDate = (): string => {
    if (rng.chance(0.15)) return `${rng.pick([1996, 2000, 2004])}-02-29`;
    if (rng.chance(0.1)) return `${rng.pick([1997, 2001, 2005])}-${rng.pick(['02-28', '03-01', '12-31', '01-01'])}`;
    const md = localNow.plus({ days: rng.int(-3, 8) });
    const ageNear = rng.int(0, 3) === 0 ? rng.pick([17, 18, 19]) : rng.int(5, 70);
    const first = DateTime.fromObject({ year: localNow.year - ageNear, month: md.month, day: 1 }, { zone: 'utc' });
    return first.set({ day: Math.min(md.day, first.daysInMonth!) }).toISODate()!;
  };

  for (let i = 0; i < memberCount; i++) {
    const name = `m${i}`;
    world.memberNames.push(name);
    const place = rng.chance(0.8) ? rng.pick(PLACES) : undefined;
    const registered = rng.chance(0.5)
      ? DateTime.fromISO(instant()).minus({ years: rng.int(0, 5) }).toUTC().toISO()!
      : localNow.minus({ days: rng.int(0, 1500) }).toUTC().toISO()!;
    scenario.member(name, {
      active: rng.chance(0.85),
      gender: rng.chance(0.85) ? rng.pick(GENDERS) : null,
      birthDate: rng.chance(0.8) ? birthDate() : null,
      registeredAt: registered,
      createdAt: registered,
      address: place && {
        city: rng.chance(0.5) ? place.city.toUpperCase() : place.city,
        province: place.province,
        country: rng.chance(0.5) ? place.country.toLowerCase() : place.country,
        postal: place.postal,
      },
      loyaltyCardNumber: rng.chance(0.7) ? `${rng.chance(0.5) ? 'CARD' : 'card'}-${i}` : null,
      levelId: rng.chance(0.7) ? rng.pick(world.levels) : null,
      tierIds: rng.chance(0.6) ? rng.some(world.tiers, 1, 2) : [],
      labels: rng.chance(0.6) ? rng.some(MEMBER_LABELS, 1, 2).map((l) => ({ key: scramble(rng, l.key), value: scramble(rng, l.value) })) : [],
      customFields: rng.chance(0.6)
        ? Object.fromEntries(rng.some(FIELD_KEYS, 1, 2).map((key) => [key, rng.chance(0.2) ? 42 : scramble(rng, rng.pick(FIELD_VALUES))]))
        : {},
    });

    const transactions = rng.pick([0, 0, 1, 2, 3, 5, 8]);
    for (let t = 0; t < transactions; t++) {
      const sell = rng.chance(0.8);
      scenario.transaction(name, sell ? 'sell' : 'return', instant(), rng.pick(AMOUNTS), {
        channelId: rng.chance(0.8) ? rng.pick(world.channels) : null,
        items: Array.from({ length: rng.int(0, 2) }, () => ({
          sku: rng.chance(0.8) ? scramble(rng, rng.pick(SKUS)) : null,
          maker: rng.chance(0.7) ? scramble(rng, rng.pick(MAKERS)) : null,
          labels: rng.chance(0.6) ? rng.some(ITEM_LABELS, 1, 2).map((l) => ({ key: scramble(rng, l.key), value: scramble(rng, l.value) })) : [],
        })),
      });
    }
    for (let e = rng.pick([0, 0, 1, 2, 4]); e > 0; e--) {
      scenario.activity('customEvent', name, { type: scramble(rng, rng.pick(EVENT_TYPES)), eventDate: instant() });
    }
    for (let c = rng.pick([0, 0, 1, 2]); c > 0; c--) {
      scenario.activity('campaignCompletion', name, { campaignId: rng.pick(world.campaigns), completedAt: instant() });
    }
    for (let a = rng.pick([0, 1, 2, 3]); a > 0; a--) {
      const achievement = rng.pick(world.achievements);
      if (rng.chance(0.5)) scenario.activity('achievementCompletion', name, { achievementId: achievement.id, completedAt: instant() });
      else
        scenario.activity('achievementProgress', name, {
          achievementId: achievement.id,
          ruleId: rng.pick(achievement.rules),
          value: rng.pick(PROGRESS),
          recordedAt: instant(),
        });
    }
    for (let c = rng.pick([0, 1, 2, 3]); c > 0; c--) {
      const challenge = rng.pick(world.challenges);
      if (rng.chance(0.5)) scenario.activity('challengeCompletion', name, { challengeId: challenge.id, completedAt: instant() });
      else
        scenario.activity('challengeProgress', name, {
          challengeId: challenge.id,
          milestoneId: rng.pick(challenge.milestones),
          value: rng.pick(PROGRESS),
          recordedAt: instant(),
        });
    }
  }
  // Unmatched transactions are ignored by every criterion.
  for (let t = 0; t < 3; t++) scenario.transaction(null, 'sell', instant(), rng.pick(AMOUNTS), { channelId: world.channels[0] });
  return world;
}

/** A random criterion of the type, as a client would send it. */
export function randomCriterion(world: World, type: string): Record<string, unknown> {
  const { rng } = world;
  const amounts = () => {
    const [fromAmount, toAmount] = rng.range(RANGE_AMOUNTS);
    return { fromAmount, toAmount };
  };
  const counts = (min = 'min', max = 'max') => {
    const [a, b] = rng.range(COUNTS);
    return { [min]: a, [max]: b };
  };
  const local = DateTime.fromISO(world.now).setZone(world.timezone);
  /** An instant bound: one of the data's instants (maybe 1 ms off), sometimes local `YYYY-MM-DD HH:MM`. */
  const instantBound = () => {
    if (rng.chance(0.2)) return local.plus({ days: rng.int(-30, 0), hours: rng.int(-12, 12) }).startOf('minute').toFormat('yyyy-MM-dd HH:mm');
    const base = DateTime.fromISO(rng.pick(world.instants.length ? world.instants : [world.now]));
    return base.plus({ milliseconds: rng.pick([0, 0, 1, -1]) }).toUTC().toISO()!;
  };
  const period = () => {
    const [a, b] = [instantBound(), instantBound()];
    const parse = (v: string) => (v.includes('T') ? Date.parse(v) : DateTime.fromFormat(v, 'yyyy-MM-dd HH:mm', { zone: world.timezone }).toMillis());
    return parse(a) <= parse(b) ? { fromDate: a, toDate: b } : { fromDate: b, toDate: a };
  };
  const betweenDays = () => {
    const [fromDays, toDays] = rng.range(BETWEEN_DAYS);
    return { fromDays, toDays };
  };
  const progressRange = () => {
    const [minProgress, maxProgress] = rng.range(PROGRESS_BOUNDS);
    return rng.chance(0.3) ? { minProgress } : { minProgress, maxProgress };
  };
  const unknownOr = (ids: string[]) => (rng.chance(0.1) ? world.scenario.id('unknown') : rng.pick(ids));

  switch (type) {
    case 'bought_through_channel':
      return { type, channelIds: rng.some(world.channels, 1, 2) };
    case 'transaction_count':
      return { type, ...counts() };
    case 'average_transaction_amount':
    case 'transaction_amount':
      return { type, ...amounts() };
    case 'transaction_percent_in_channel':
      return { type, channelId: rng.pick(world.channels), percent: rng.pick(PERCENTS) };
    case 'purchase_period':
    case 'member_registration_date':
      return { type, ...period() };
    case 'bought_labels':
    case 'customer_with_labels_values':
      return { type, labels: rng.some(type === 'bought_labels' ? ITEM_LABELS : MEMBER_LABELS.filter((l) => l.value), 1, 2).map((l) => ({ key: scramble(rng, l.key), value: scramble(rng, l.value) })) };
    case 'customer_has_labels':
      return { type, labels: rng.some(MEMBER_LABELS, 1, 2).map((l) => (rng.chance(0.5) ? { key: scramble(rng, l.key) } : { key: l.key, value: 'ignored' })) };
    case 'bought_makers':
      return { type, makers: rng.some(MAKERS, 1, 2).map((m) => scramble(rng, m)) };
    case 'bought_skus':
      return { type, skuIds: rng.some(SKUS, 1, 2).map((m) => scramble(rng, m)) };
    case 'anniversary':
      return { type, anniversaryType: rng.pick(['birthday', 'registration']), days: rng.pick([1, 2, 3, 5, 7, 30, 364, 365, 366, 400]) };
    case 'last_purchase_n_days_before':
      return { type, days: rng.pick(DAYS) };
    case 'last_transaction_between_days':
      return { type, ...betweenDays() };
    case 'last_custom_event_n_days_before':
      return { type, eventType: scramble(rng, rng.pick(EVENT_TYPES)), days: rng.pick(DAYS) };
    case 'last_custom_event_between_days':
      return { type, eventType: scramble(rng, rng.pick(EVENT_TYPES)), ...betweenDays() };
    case 'transaction_amount_each_day_in_period': {
      const from = local.startOf('day').minus({ days: rng.int(0, 40) });
      const range = rng.chance(0.5) ? { fromAmount: 0, toAmount: rng.pick([0, 10, 100]) } : amounts();
      return { type, fromDate: from.toISODate(), toDate: from.plus({ days: rng.int(0, 3) }).toISODate(), ...range };
    }
    case 'transaction_amount_in_period':
      return { type, ...period(), ...amounts() };
    case 'transaction_count_in_period':
      return { type, ...period(), ...counts() };
    case 'transaction_amount_each_day_in_last_n_days': {
      const range = rng.chance(0.5) ? { fromAmount: 0, toAmount: rng.pick([0, 10, 100]) } : amounts();
      return { type, days: rng.pick([1, 1, 2, 3, 5]), ...range };
    }
    case 'transaction_amount_in_last_n_days':
      return { type, days: rng.pick(DAYS), ...amounts() };
    case 'customer_in_level':
      return { type, levelIds: rng.some(world.levels, 1, 2) };
    case 'customer_list':
    case 'customer_csv_list': {
      const names = rng.some(world.memberNames, type === 'customer_list' ? 1 : 0, 5);
      return { type, customers: names.map((n) => (rng.chance(0.3) ? world.scenario.id(n).toUpperCase() : world.scenario.id(n))) };
    }
    case 'gender':
      return { type, genders: rng.some(GENDERS, 1, 2) };
    case 'city':
      return { type, cities: rng.some(PLACES, 1, 2).map((p) => scramble(rng, p.city)) };
    case 'province':
      return { type, provinces: rng.some(PLACES, 1, 2).map((p) => scramble(rng, p.province)) };
    case 'country':
      return { type, countries: rng.some(PLACES, 1, 2).map((p) => scramble(rng, p.country)) };
    case 'postal':
      return { type, postalCodes: rng.some(PLACES, 1, 2).map((p) => p.postal) };
    case 'age': {
      const [fromAge, toAge] = rng.range([0, 17, 18, 19, 20, 30, 50, 100]);
      return { type, fromAge, toAge };
    }
    case 'campaign_completion': {
      const dates = rng.chance(0.5) ? period() : {};
      return { type, campaignIds: rng.some(world.campaigns, 1, 2), ...dates };
    }
    case 'achievement_completion_count':
      return { type, achievementId: unknownOr(world.achievements.map((a) => a.id)), ...counts('minCount', 'maxCount'), ...(rng.chance(0.3) ? { maxCount: undefined } : {}) };
    case 'achievement_rule_progress': {
      const achievement = rng.pick(world.achievements);
      return {
        type,
        achievementId: achievement.id,
        ruleId: rng.pick(achievement.rules),
        ...progressRange(),
        ...(rng.chance(0.5) ? { days: rng.pick(DAYS) } : {}),
      };
    }
    case 'customer_in_tiers':
      return { type, tierIds: rng.some(world.tiers, 1, 2) };
    case 'member_custom_field_value':
      return { type, key: scramble(rng, rng.pick(FIELD_KEYS)), values: rng.some(FIELD_VALUES, 1, 2).map((v) => scramble(rng, v)) };
    case 'member_loyalty_card_number':
      return {
        type,
        loyaltyCardNumbers: rng.some(world.memberNames, 1, 4).map((n) => `${rng.chance(0.5) ? 'CARD' : 'card'}-${n.slice(1)}`),
      };
    case 'challenge_campaign_completion_count':
      return { type, challengeId: unknownOr(world.challenges.map((c) => c.id)), ...counts('minCount', 'maxCount') };
    case 'challenge_campaign_milestone_progress': {
      const challenge = rng.pick(world.challenges);
      return { type, challengeId: challenge.id, milestoneId: rng.pick(challenge.milestones), ...progressRange() };
    }
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** A random segment: 0..3 parts of 1..3 random criteria each (as clients send them). */
export function randomSegment(world: World): Record<string, unknown>[][] {
  const { rng } = world;
  const parts = rng.pick([0, 1, 1, 2, 2, 3]);
  return Array.from({ length: parts }, () =>
    Array.from({ length: rng.int(1, 3) }, () => randomCriterion(world, rng.pick(criterionTypes))),
  );
}
