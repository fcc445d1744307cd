import type { z } from 'zod';
import type { ingestRecord } from './records.ts';

/**
 * Deterministic synthetic member data in the NDJSON wire shapes of records.ts, for demos, load
 * tests and benchmarks. Same options (seed included) -> the same records, byte for byte: every
 * random choice comes from seeded mulberry32 streams and every date from the `now` option.
 *
 * Records are produced lazily and in this order: reference data (channels, levels, tier sets,
 * tiers, campaigns, rewards, achievements, challenges), then every member, then transactions,
 * then the other activity (custom events, completions, progress). Memory is bounded by the
 * reference data and one block of MEMBER_BLOCK members, whatever the number of members.
 *
 * The data is shaped so that every criterion type of DOMAIN.md section 4 has members that match
 * and members that don't: several channels with members preferring one; members with no, few and
 * many purchases, recent and lapsed; returns; a small catalogue of SKUs, makers and item labels;
 * a few "daily shoppers" who bought every day of the last fortnight; birth dates with some
 * 29 February and some missing; a handful of cities, provinces, countries and postal codes;
 * labels, custom fields, levels and tiers held by some members only; ~5% inactive members;
 * unmatched transactions (customerId null); events, completions and progress for some members.
 */

/** A record as written on one NDJSON line (dates as strings). */
export type WireRecord = z.input<typeof ingestRecord>;
type Wire<K extends WireRecord['kind']> = Extract<WireRecord, { kind: K }>;

export interface GeneratorOptions {
  members: number;
  /** Any integer; default 1. */
  seed?: number;
  /** The clock the data is laid out against ("the last two years" end here). */
  now?: Date | string;
  /** Average number of transactions per member (default 10). */
  transactionsPerMember?: number;
  /** Share of transactions not matched to a member (default 0.03). */
  unmatchedShare?: number;
}

export const DEFAULT_NOW = '2026-11-25T12:00:00.000Z';
const DAY = 86_400_000;
/** Members whose transactions are generated together and emitted in date order. */
const MEMBER_BLOCK = 500;

// ---------------------------------------------------------------------------------------------
// Randomness: mulberry32 streams, seeded from (seed, stream, index) through murmur3's finaliser.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mix(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) h = fmix32((h ^ part) >>> 0) ^ Math.imul(part | 0, 0x9e3779b1);
  return fmix32(h >>> 0);
}

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), 1 | t);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, weight] of choices) total += weight;
    let r = this.next() * total;
    for (const [value, weight] of choices) if ((r -= weight) < 0) return value;
    return choices[choices.length - 1][0];
  }
  /** `count` distinct items, in the list's order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(this.next() * items.length));
    return [...chosen].sort((a, b) => a - b).map((i) => items[i]);
  }
  /** Poisson-distributed count with the given mean (Knuth; fine for small means). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = this.next(); p > limit; p *= this.next()) k++;
    return k;
  }
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * A v4-shaped UUID for (seed, stream, index). The first 32 bits are a bijection of the index, so
 * ids of one stream never collide (for fewer than 2^32 indexes).
 */
function uuid(seed: number, stream: number, index: number): string {
  const w0 = fmix32((mix(seed, stream, 0) ^ index) >>> 0);
  const w1 = ((mix(seed, stream, 1, index) & 0xffff0fff) | 0x4000) >>> 0;
  const w2 = ((mix(seed, stream, 2, index) & 0x3fffffff) | 0x80000000) >>> 0;
  const w3 = mix(seed, stream, 3, index);
  const h1 = hex8(w1);
  const h2 = hex8(w2);
  return `${hex8(w0)}-${h1.slice(0, 4)}-${h1.slice(4)}-${h2.slice(0, 4)}-${h2.slice(4)}${hex8(w3)}`;
}

/** Stream numbers: one per kind of id or of random choices. */
const S = {
  reference: 1, member: 2, memberProfile: 3, transaction: 4, transactionRng: 5, unmatched: 6, event: 7,
  campaignCompletion: 9, achievementCompletion: 10, achievementProgress: 11, challengeCompletion: 12,
  milestoneProgress: 13, activityRng: 14, catalogue: 15,
} as const;

// ---------------------------------------------------------------------------------------------
// Fixed vocabularies.

const CHANNELS = ['Web shop', 'Mobile app', 'Store POS', 'Call centre'];
const LEVELS = ['Bronze', 'Silver', 'Gold', 'Platinum'];
const TIER_SETS = [
  { name: 'Spend', tiers: ['Spend Bronze', 'Spend Silver', 'Spend Gold'] },
  { name: 'Engagement', tiers: ['Explorer', 'Insider'] },
];
const CAMPAIGNS = ['Welcome bonus', 'Spring sale', 'Double points weekend', 'Birthday treat', 'Refer a friend', 'Summer challenge'];
const REWARDS = ['10% off voucher', 'Free delivery', 'Coffee on us', 'Gift card 20'];
const ACHIEVEMENTS = [
  { name: 'First purchase', rules: 1 },
  { name: 'Big spender', rules: 2 },
  { name: 'Omnichannel', rules: 3 },
  { name: 'Reviewer', rules: 1 },
];
const CHALLENGES = [
  { name: 'Ten visits', milestones: 2 },
  { name: 'Step counter', milestones: 4 },
  { name: 'Eco shopper', milestones: 3 },
];
const EVENT_TYPES = [
  ['app_login', 5],
  ['newsletter_open', 3],
  ['store_visit', 2],
  ['survey_completed', 1],
] as const;

const PLACES = [
  { city: 'Warsaw', province: 'Mazowieckie', country: 'PL', postals: ['00-001', '00-950', '02-495'], weight: 14 },
  { city: 'Kraków', province: 'Małopolskie', country: 'PL', postals: ['30-001', '31-042'], weight: 8 },
  { city: 'Gdańsk', province: 'Pomorskie', country: 'PL', postals: ['80-001', '80-831'], weight: 5 },
  { city: 'Berlin', province: 'Berlin', country: 'DE', postals: ['10115', '10117'], weight: 10 },
  { city: 'Munich', province: 'Bavaria', country: 'DE', postals: ['80331', '80333'], weight: 6 },
  { city: 'Paris', province: 'Île-de-France', country: 'FR', postals: ['75001', '75008'], weight: 9 },
  { city: 'Lyon', province: 'Auvergne-Rhône-Alpes', country: 'FR', postals: ['69001', '69002'], weight: 4 },
  { city: 'London', province: 'England', country: 'GB', postals: ['SW1A 1AA', 'EC1A 1BB'], weight: 10 },
  { city: 'Manchester', province: 'England', country: 'GB', postals: ['M1 1AE'], weight: 4 },
] as const;
const FEMALE = ['Anna', 'Maria', 'Zofia', 'Julia', 'Hanna', 'Lena', 'Emma', 'Sophie', 'Chloé', 'Olivia', 'Amelia', 'Laura'];
const MALE = ['Jan', 'Piotr', 'Jakub', 'Lukas', 'Felix', 'Paul', 'Louis', 'Hugo', 'Oliver', 'George', 'Noah', 'Adam'];
const LAST = ['Nowak', 'Kowalski', 'Wiśniewski', 'Müller', 'Schmidt', 'Schneider', 'Martin', 'Bernard', 'Dubois', 'Smith', 'Jones', 'Taylor', 'Brown', 'Wójcik'];
const INTERESTS = ['running', 'fashion', 'outdoor', 'kids', 'home', 'gaming'];
const STORES = ['Warsaw Centre', 'Berlin Mitte', 'Paris Opéra', 'London Soho', 'Online'];

const MAKERS = ['Acme', 'Northwind', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Soylent', 'Tyrell'];
const CATEGORIES = [
  { code: 'SHO', label: 'shoes', nouns: ['sneakers', 'boots', 'sandals'], price: [3999, 15999] },
  { code: 'APP', label: 'apparel', nouns: ['t-shirt', 'hoodie', 'jacket', 'jeans'], price: [1499, 12999] },
  { code: 'ACC', label: 'accessories', nouns: ['cap', 'backpack', 'socks', 'belt'], price: [499, 5999] },
  { code: 'HOM', label: 'home', nouns: ['mug', 'candle', 'blanket', 'lamp'], price: [799, 8999] },
  { code: 'ELE', label: 'electronics', nouns: ['earbuds', 'charger', 'speaker', 'smartwatch'], price: [1999, 29999] },
  { code: 'FOO', label: 'food', nouns: ['coffee', 'tea', 'chocolate', 'granola'], price: [299, 2499] },
];
const COLORS = ['black', 'white', 'red', 'blue', 'green', 'grey'];
const ADJECTIVES = ['Classic', 'Urban', 'Eco', 'Pro', 'Lite', 'Premium', 'Everyday', 'Trail'];

interface Product {
  sku: string;
  name: string;
  maker: string;
  category: string;
  color: string;
  price: number;
  promo: boolean;
}

interface Reference {
  channels: string[];
  levels: string[];
  tierSets: { id: string; tiers: string[] }[];
  campaigns: string[];
  achievements: { id: string; ruleIds: string[] }[];
  challenges: { id: string; milestoneIds: string[] }[];
  catalogue: Product[];
}

/** What a member's activity depends on: re-derived from (seed, index) by every section. */
interface Profile {
  index: number;
  id: string;
  registeredAt: number;
  /** Number of ordinary transactions (0 for some). */
  purchases: number;
  /** Channel index most purchases go through. */
  channel: number;
  /** Window of ordinary purchases, epoch ms. */
  from: number;
  to: number;
  /** Bought every day of the last 14 days. */
  daily: boolean;
  engagement: number;
  rng: Rng;
}

// ---------------------------------------------------------------------------------------------

/** The records, lazily. See the module comment for order and content. */
export function* generateRecords(options: GeneratorOptions): Generator<WireRecord> {
  const seed = Math.trunc(options.seed ?? 1) >>> 0;
  const now = new Date(options.now ?? DEFAULT_NOW).getTime();
  if (Number.isNaN(now)) throw new Error('generateRecords: invalid `now`');
  const members = Math.max(0, Math.trunc(options.members));
  const perMember = options.transactionsPerMember ?? 10;
  const unmatchedShare = options.unmatchedShare ?? 0.03;
  const ctx: Ctx = { seed, now, members, perMember, unmatchedShare, next: {} };

  const reference = buildReference(seed);
  yield* referenceRecords(seed, reference);
  for (let i = 0; i < members; i++) yield memberRecord(ctx, reference, i);
  for (let block = 0; block * MEMBER_BLOCK < members; block++) yield* transactionBlock(ctx, reference, block);
  for (let block = 0; block * MEMBER_BLOCK < members; block++) yield* activityBlock(ctx, reference, block);
}

/** The records as NDJSON lines (no trailing newline), lazily. */
export function* generateLines(options: GeneratorOptions): Generator<string> {
  for (const record of generateRecords(options)) yield JSON.stringify(record);
}

interface Ctx {
  seed: number;
  now: number;
  members: number;
  perMember: number;
  unmatchedShare: number;
  /** Next index of each id stream. */
  next: Record<number, number>;
}
const nextId = (ctx: Ctx, stream: number) => uuid(ctx.seed, stream, (ctx.next[stream] = (ctx.next[stream] ?? -1) + 1));

function buildReference(seed: number): Reference {
  let n = 0;
  const id = () => uuid(seed, S.reference, n++);
  const rng = new Rng(mix(seed, S.catalogue));
  const catalogue: Product[] = [];
  for (const category of CATEGORIES)
    for (let k = 0; k < 20; k++) {
      const noun = rng.pick(category.nouns);
      catalogue.push({
        sku: `SKU-${category.code}-${String(100 + k).padStart(4, '0')}`,
        name: `${rng.pick(ADJECTIVES)} ${noun}`,
        maker: rng.pick(MAKERS),
        category: category.label,
        color: rng.pick(COLORS),
        price: rng.int(category.price[0], category.price[1]),
        promo: rng.chance(0.1),
      });
    }
  return {
    channels: CHANNELS.map(id),
    levels: LEVELS.map(id),
    tierSets: TIER_SETS.map((set) => ({ id: id(), tiers: set.tiers.map(id) })),
    campaigns: CAMPAIGNS.map(id),
    achievements: ACHIEVEMENTS.map((a) => ({ id: id(), ruleIds: Array.from({ length: a.rules }, id) })),
    challenges: CHALLENGES.map((c) => ({ id: id(), milestoneIds: Array.from({ length: c.milestones }, id) })),
    catalogue,
  };
}

function* referenceRecords(seed: number, ref: Reference): Generator<WireRecord> {
  for (const [i, name] of CHANNELS.entries()) yield { kind: 'channel', id: ref.channels[i], name };
  for (const [i, name] of LEVELS.entries()) yield { kind: 'level', id: ref.levels[i], name };
  for (const [i, set] of TIER_SETS.entries()) yield { kind: 'tierSet', id: ref.tierSets[i].id, name: set.name };
  for (const [i, set] of TIER_SETS.entries())
    for (const [j, name] of set.tiers.entries()) yield { kind: 'tier', id: ref.tierSets[i].tiers[j], name, tierSetId: ref.tierSets[i].id };
  const rng = new Rng(mix(seed, S.reference));
  for (const [i, name] of CAMPAIGNS.entries())
    yield { kind: 'campaign', id: ref.campaigns[i], name, active: i !== 1, attributes: { type: rng.pick(['direct', 'points', 'cashback']) } };
  for (const [i, name] of REWARDS.entries())
    yield { kind: 'reward', id: uuid(seed, S.reference, 1000 + i), name, active: i !== 3, attributes: { costInPoints: (i + 1) * 100 } };
  for (const [i, a] of ACHIEVEMENTS.entries())
    yield { kind: 'achievement', id: ref.achievements[i].id, name: a.name, active: true, ruleIds: ref.achievements[i].ruleIds };
  for (const [i, c] of CHALLENGES.entries())
    yield { kind: 'challenge', id: ref.challenges[i].id, name: c.name, active: i !== 2, milestoneIds: ref.challenges[i].milestoneIds };
}

function profile(ctx: Ctx, index: number): Profile {
  const rng = new Rng(mix(ctx.seed, S.memberProfile, index));
  const { now, perMember } = ctx;
  const registeredAt = now - rng.int(1, 6 * 365) * DAY - rng.int(0, DAY - 1);
  // How many ordinary purchases: none for ~10%, otherwise spread around the average.
  const kind = rng.weighted([['none', 10], ['light', 40], ['regular', 35], ['heavy', 15]] as const);
  // Ordinary purchases average ~8.75; with returns and daily shoppers ~9.3 transactions a member.
  const scale = perMember / 9.3;
  const purchases =
    kind === 'none' ? 0 : kind === 'light' ? rng.int(1, 4) : kind === 'regular' ? rng.int(6, 16) : rng.int(18, 34);
  // Days since the last ordinary purchase: recent, a while ago, or lapsed.
  const recency = rng.weighted([[[0, 30], 45], [[31, 180], 35], [[181, 700], 20]] as const);
  const recencyDays = rng.int(recency[0], recency[1]);
  const start = Math.max(registeredAt, now - 730 * DAY);
  let to = now - recencyDays * DAY;
  if (to <= start) to = now;
  return {
    index,
    id: uuid(ctx.seed, S.member, index),
    registeredAt,
    purchases: Math.round(purchases * scale),
    channel: rng.weighted([[0, 35], [1, 30], [2, 30], [3, 5]] as const),
    from: start,
    to,
    daily: rng.chance(0.01),
    engagement: rng.next(),
    rng,
  };
}

function isoDate(ms: number) {
  return new Date(ms).toISOString();
}

function memberRecord(ctx: Ctx, ref: Reference, index: number): Wire<'member'> {
  const p = profile(ctx, index);
  const rng = p.rng;
  const gender = rng.weighted([['female', 48], ['male', 45], ['not_disclosed', 5], [null, 2]] as const);
  const firstName = rng.pick(gender === 'male' ? MALE : gender === 'female' ? FEMALE : rng.chance(0.5) ? MALE : FEMALE);
  const lastName = rng.pick(LAST);
  let birthDate: string | null = null;
  if (rng.chance(0.005)) birthDate = `${rng.pick([1960, 1972, 1984, 1988, 1996, 2000, 2004])}-02-29`;
  else if (rng.chance(0.92)) {
    const year = rng.int(1945, 2008);
    birthDate = new Date(Date.UTC(year, 0, 1) + rng.int(0, 364) * DAY).toISOString().slice(0, 10);
  }
  const place = rng.weighted(PLACES.map((place) => [place, place.weight] as const));
  const hasAddress = rng.chance(0.95);
  const local = `${ascii(firstName)}.${ascii(lastName)}.${index}${ctx.seed === 1 ? '' : `-${ctx.seed.toString(36)}`}`;
  const domain = rng.pick(['example.com', 'example.org', 'example.net']);
  // Bijections of the index (7919 and 104729 are prime, so coprime to powers of ten): unique.
  const offset = mix(ctx.seed, 99) % 1e8;
  const phone = `+48${5 + (index % 3)}${String((index * 7919 + offset) % 1e8).padStart(8, '0')}`;
  const card = `7${String((index * 104729 + offset) % 1e10).padStart(10, '0')}`;
  const labels: { key: string; value: string }[] = [];
  if (rng.chance(0.8)) labels.push({ key: 'source', value: rng.pick(['web', 'store', 'partner', 'app']) });
  if (rng.chance(0.6)) labels.push({ key: 'newsletter', value: rng.pick(['yes', 'no']) });
  if (rng.chance(0.05)) labels.push({ key: 'vip', value: 'true' });
  for (const interest of rng.sample(INTERESTS, rng.int(0, 2))) labels.push({ key: 'interest', value: interest });
  const customFields: Record<string, string | number | boolean> = {};
  if (rng.chance(0.7)) customFields.preferredContact = rng.pick(['email', 'sms', 'phone']);
  if (rng.chance(0.4)) customFields.favouriteStore = rng.pick(STORES);
  if (rng.chance(0.3)) customFields.children = rng.int(0, 3);
  if (rng.chance(0.5)) customFields.marketingConsent = rng.chance(0.7);
  const tierIds: string[] = [];
  for (const set of ref.tierSets) if (rng.chance(0.45)) tierIds.push(rng.pick(set.tiers));
  const levelId = rng.chance(0.9) ? rng.weighted(ref.levels.map((id, i) => [id, [40, 30, 20, 10][i]] as const)) : null;
  // Most members were created when they registered; some were migrated later.
  const createdAt = rng.chance(0.85) ? p.registeredAt : Math.min(ctx.now, p.registeredAt + rng.int(1, 400) * DAY);
  return {
    kind: 'member',
    customerId: p.id,
    active: !rng.chance(0.05),
    firstName,
    lastName,
    email: `${local}@${domain}`,
    phone: rng.chance(0.93) ? phone : null,
    gender,
    birthDate,
    createdAt: isoDate(createdAt),
    registeredAt: isoDate(p.registeredAt),
    ...(hasAddress ? { address: { city: place.city, province: place.province, country: place.country, postal: rng.pick(place.postals) } } : {}),
    loyaltyCardNumber: card,
    levelId,
    tierIds,
    labels,
    customFields,
  };
}

function ascii(name: string) {
  return name.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
}

/** Purchase time on a day: shop hours, in UTC for simplicity. */
function during(rng: Rng, dayStart: number) {
  return dayStart + rng.int(7 * 3600, 21 * 3600) * 1000 + rng.int(0, 999);
}

interface PendingTransaction {
  at: number;
  record: Omit<Wire<'transaction'>, 'transactionId'>;
}

function basket(rng: Rng, ref: Reference, size: number, affinity: number) {
  const items = [];
  let total = 0;
  for (let k = 0; k < size; k++) {
    // Members favour a part of the catalogue, so "bought sku/maker/label" splits them.
    const product = rng.chance(0.7)
      ? ref.catalogue[(affinity + rng.int(0, 19)) % ref.catalogue.length]
      : rng.pick(ref.catalogue);
    const quantity = rng.weighted([[1, 80], [2, 15], [3, 5]] as const);
    const cents = product.price * quantity;
    total += cents;
    const labels = [{ key: 'category', value: product.category }, { key: 'color', value: product.color }];
    if (product.promo) labels.push({ key: 'promo', value: 'yes' });
    items.push({ sku: product.sku, name: product.name, quantity, grossValue: cents / 100, maker: product.maker, labels });
  }
  return { items, total };
}

function* transactionBlock(ctx: Ctx, ref: Reference, block: number): Generator<WireRecord> {
  const first = block * MEMBER_BLOCK;
  const last = Math.min(ctx.members, first + MEMBER_BLOCK);
  const pending: PendingTransaction[] = [];
  const channelOf = (rng: Rng, preferred: number) =>
    ref.channels[rng.chance(0.75) ? preferred : rng.int(0, ref.channels.length - 1)];
  for (let i = first; i < last; i++) {
    const p = profile(ctx, i);
    const rng = new Rng(mix(ctx.seed, S.transactionRng, i));
    const affinity = Math.floor(p.engagement * ref.catalogue.length);
    const sell = (time: number, size: number) => {
      // A purchase "today" happens before now.
      const at = time < ctx.now ? time : ctx.now - rng.int(60, 6 * 3600) * 1000;
      const { items, total } = basket(rng, ref, size, affinity);
      const record: PendingTransaction['record'] = {
        kind: 'transaction',
        customerId: p.id,
        documentType: 'sell',
        purchasedAt: isoDate(at),
        channelId: channelOf(rng, p.channel),
        grossValue: total / 100,
        items,
      };
      pending.push({ at, record });
      // ~5% of sells are partly or wholly returned a few days later (never after now).
      if (rng.chance(0.05)) {
        const returnedAt = Math.min(ctx.now - 1000, at + rng.int(1, 20) * DAY);
        const returned = items.slice(0, rng.int(1, items.length));
        const value = returned.reduce((sum, item) => sum + Math.round(item.grossValue * 100), 0);
        pending.push({
          at: returnedAt,
          record: { ...record, documentType: 'return', purchasedAt: isoDate(returnedAt), grossValue: value / 100, items: returned },
        });
      }
    };
    for (let k = 0; k < p.purchases; k++) {
      const day = p.from + Math.floor(rng.next() * (p.to - p.from));
      sell(during(rng, day - (day % DAY)), rng.weighted([[1, 35], [2, 30], [3, 20], [4, 10], [5, 5]] as const));
    }
    if (p.daily) {
      const today = ctx.now - (ctx.now % DAY);
      for (let d = 14; d >= 1; d--) sell(during(rng, today - d * DAY), 1);
    }
  }
  // Sales not matched to any member: about unmatchedShare of all transactions.
  const rng = new Rng(mix(ctx.seed, S.unmatched, block));
  const unmatched = Math.round(((last - first) * ctx.perMember * ctx.unmatchedShare) / (1 - ctx.unmatchedShare));
  for (let k = 0; k < unmatched; k++) {
    const day = ctx.now - rng.int(1, 730) * DAY;
    const at = during(rng, day - (day % DAY));
    const { items, total } = basket(rng, ref, rng.int(1, 3), rng.int(0, ref.catalogue.length - 1));
    pending.push({
      at,
      record: { kind: 'transaction', customerId: null, documentType: 'sell', purchasedAt: isoDate(at), channelId: rng.pick(ref.channels), grossValue: total / 100, items },
    });
  }
  // Stable sort: same input, same order. Ids follow the emitted order within the block.
  pending.sort((a, b) => a.at - b.at);
  for (const { record } of pending) yield { kind: 'transaction', transactionId: nextId(ctx, S.transaction), ...withoutKind(record) };
}

function withoutKind<R extends { kind: string }>(record: R): Omit<R, 'kind'> {
  const { kind: _kind, ...rest } = record;
  return rest;
}

function* activityBlock(ctx: Ctx, ref: Reference, block: number): Generator<WireRecord> {
  const first = block * MEMBER_BLOCK;
  const last = Math.min(ctx.members, first + MEMBER_BLOCK);
  const out: WireRecord[] = [];
  for (let i = first; i < last; i++) {
    const p = profile(ctx, i);
    const rng = new Rng(mix(ctx.seed, S.activityRng, i));
    const since = Math.max(p.registeredAt, ctx.now - 730 * DAY);
    const when = () => Math.min(ctx.now - 1000, since + Math.floor(rng.next() * (ctx.now - since)));
    // Custom events: engaged members log in often, some recently.
    const events = rng.poisson(p.engagement * 6);
    for (let k = 0; k < events; k++)
      out.push({ kind: 'customEvent', id: nextId(ctx, S.event), customerId: p.id, type: rng.weighted(EVENT_TYPES), eventDate: isoDate(when()) });
    if (rng.chance(0.35))
      for (const campaignId of rng.sample(ref.campaigns, rng.int(1, 2)))
        out.push({ kind: 'campaignCompletion', id: nextId(ctx, S.campaignCompletion), customerId: p.id, campaignId, completedAt: isoDate(when()) });
    if (rng.chance(0.3)) {
      const achievement = rng.pick(ref.achievements);
      for (let k = rng.int(1, 3); k > 0; k--)
        out.push({ kind: 'achievementCompletion', id: nextId(ctx, S.achievementCompletion), customerId: p.id, achievementId: achievement.id, completedAt: isoDate(when()) });
    }
    if (rng.chance(0.45)) {
      const achievement = rng.pick(ref.achievements);
      for (const ruleId of rng.sample(achievement.ruleIds, rng.int(1, achievement.ruleIds.length)))
        for (let k = rng.int(1, 5); k > 0; k--)
          out.push({
            kind: 'achievementProgress', id: nextId(ctx, S.achievementProgress), customerId: p.id, achievementId: achievement.id, ruleId,
            value: rng.int(1, 50), recordedAt: isoDate(when()),
          });
    }
    if (rng.chance(0.2)) {
      const challenge = rng.pick(ref.challenges);
      for (let k = rng.int(1, 2); k > 0; k--)
        out.push({ kind: 'challengeCompletion', id: nextId(ctx, S.challengeCompletion), customerId: p.id, challengeId: challenge.id, completedAt: isoDate(when()) });
    }
    if (rng.chance(0.35)) {
      const challenge = rng.pick(ref.challenges);
      for (const milestoneId of rng.sample(challenge.milestoneIds, rng.int(1, challenge.milestoneIds.length)))
        for (let k = rng.int(1, 4); k > 0; k--)
          out.push({
            kind: 'challengeProgress', id: nextId(ctx, S.milestoneProgress), customerId: p.id, challengeId: challenge.id, milestoneId,
            value: rng.int(1, 10) * 5, recordedAt: isoDate(when()),
          });
    }
    if (out.length >= 1000) yield* out.splice(0);
  }
  yield* out;
}
