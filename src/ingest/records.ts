import { z } from 'zod';

/**
 * The records a loyalty core feeds us, one per NDJSON line, each with a `kind`. Every record
 * has an id and is upserted by it, so importing the same file twice changes nothing.
 * Field names follow DOMAIN.md section 3.
 */

const uuidFormat = z.uuid();
const instantFormat = z.iso.datetime({ offset: true });
const uuid = uuidFormat.transform((id) => id.toLowerCase());
const instant = instantFormat.transform((value) => new Date(value));
const calendarDate = z.iso.date();
const amount = z.number().nonnegative().refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, 'at most 2 decimals');
const label = z.strictObject({ key: z.string().trim().min(1), value: z.string().trim() });
const text = z.string().trim();

export const memberRecord = z.strictObject({
  kind: z.literal('member'),
  customerId: uuid,
  active: z.boolean().default(true),
  firstName: text.nullish(),
  lastName: text.nullish(),
  email: z.email().transform((email) => email.toLowerCase()).nullish(),
  phone: text.nullish(),
  gender: z.enum(['male', 'female', 'not_disclosed']).nullish(),
  birthDate: calendarDate.nullish(),
  createdAt: instant.optional(),
  registeredAt: instant.optional(),
  address: z
    .strictObject({
      city: text.nullish(),
      province: text.nullish(),
      country: z.string().regex(/^[A-Za-z]{2}$/).transform((c) => c.toUpperCase()).nullish(),
      postal: text.nullish(),
    })
    .optional(),
  loyaltyCardNumber: z.string().min(1).nullish(),
  levelId: uuid.nullish(),
  tierIds: z.array(uuid).default([]),
  labels: z.array(label).default([]),
  customFields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** Plain password for member login; stored hashed. */
  password: z.string().min(1).optional(),
});

const item = z.strictObject({
  sku: text.nullish(),
  name: text.nullish(),
  quantity: z.number().nonnegative().default(1),
  grossValue: amount.default(0),
  maker: text.nullish(),
  labels: z.array(label).default([]),
});

export const transactionRecord = z.strictObject({
  kind: z.literal('transaction'),
  transactionId: uuid,
  customerId: uuid.nullable(),
  documentType: z.enum(['sell', 'return']),
  purchasedAt: instant,
  channelId: uuid.nullish(),
  grossValue: amount,
  items: z.array(item).default([]),
});

const named = { id: uuid, name: z.string().trim().min(1) };
const targeting = {
  ...named,
  active: z.boolean().default(true),
  segmentIds: z.array(uuid).default([]),
  /** Facts shown in association lists' additionalData: type, validity dates, ... */
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
};

export const ingestRecord = z.discriminatedUnion('kind', [
  memberRecord,
  transactionRecord,
  z.strictObject({ kind: z.literal('customEvent'), id: uuid, customerId: uuid, type: z.string().trim().min(1), eventDate: instant }),
  z.strictObject({ kind: z.literal('channel'), ...named }),
  z.strictObject({ kind: z.literal('level'), ...named }),
  z.strictObject({ kind: z.literal('tierSet'), ...named }),
  z.strictObject({ kind: z.literal('tier'), ...named, tierSetId: uuid.nullish() }),
  z.strictObject({ kind: z.literal('campaign'), ...targeting }),
  z.strictObject({ kind: z.literal('reward'), ...targeting }),
  z.strictObject({ kind: z.literal('achievement'), ...targeting, ruleIds: z.array(uuid).default([]) }),
  z.strictObject({
    kind: z.literal('challenge'),
    ...named,
    active: z.boolean().default(true),
    milestoneIds: z.array(uuid).default([]),
  }),
  z.strictObject({ kind: z.literal('campaignCompletion'), id: uuid, customerId: uuid, campaignId: uuid, completedAt: instant }),
  z.strictObject({ kind: z.literal('achievementCompletion'), id: uuid, customerId: uuid, achievementId: uuid, completedAt: instant }),
  z.strictObject({
    kind: z.literal('achievementProgress'),
    id: uuid,
    customerId: uuid,
    achievementId: uuid,
    ruleId: uuid,
    value: z.number().nonnegative(),
    recordedAt: instant,
  }),
  z.strictObject({ kind: z.literal('challengeCompletion'), id: uuid, customerId: uuid, challengeId: uuid, completedAt: instant }),
  z.strictObject({
    kind: z.literal('challengeProgress'),
    id: uuid,
    customerId: uuid,
    challengeId: uuid,
    milestoneId: uuid,
    value: z.number().nonnegative(),
    recordedAt: instant,
  }),
]);

export type IngestRecord = z.infer<typeof ingestRecord>;
export type IngestKind = IngestRecord['kind'];
export type RecordOf<K extends IngestKind> = Extract<IngestRecord, { kind: K }>;
export const INGEST_KINDS = ingestRecord.options.map((option) => option.shape.kind.value);

/** Parses one record; returns a readable reason naming the field when it is invalid. */
export function parseRecord(raw: unknown): { record: IngestRecord } | { error: string } {
  const fast = fastTransaction(raw) ?? fastActivity(raw) ?? fastMember(raw);
  if (fast) return { record: fast };
  const result = ingestRecord.safeParse(raw);
  if (result.success) return { record: result.data };
  const issue = result.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : 'record';
  if (issue.code === 'invalid_union' && issue.path.join('.') === 'kind')
    return { error: `unknown kind; expected one of ${INGEST_KINDS.join(', ')}` };
  return { error: `${where}: ${issue.message}` };
}

// ---------------------------------------------------------------------------------------------
// Fast path for the bulk of a feed: transactions. Zod costs ~7 µs a transaction with items, as
// much as JSON.parse; this hand-written check accepts only records zod accepts, returns what zod
// would return, and answers `undefined` for anything else (invalid or unusual: then zod parses
// it and gives the reason). test/ingest.test.ts compares the two on generated and mutated records.

const patternOf = (schema: z.ZodType): RegExp | undefined => (schema as unknown as { _zod?: { def?: { pattern?: RegExp } } })._zod?.def?.pattern;
const UUID_PATTERN = patternOf(uuidFormat);
const INSTANT_PATTERN = patternOf(instantFormat);
const TRANSACTION_KEYS = new Set(['kind', 'transactionId', 'customerId', 'documentType', 'purchasedAt', 'channelId', 'grossValue', 'items']);
const ITEM_KEYS = new Set(['sku', 'name', 'quantity', 'grossValue', 'maker', 'labels']);

const isPlain = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
const onlyKeys = (value: Record<string, unknown>, keys: Set<string>) => {
  for (const key in value) if (!keys.has(key)) return false;
  return true;
};
const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN!.test(value);
const isAmount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && Math.abs(Math.round(value * 100) - value * 100) < 1e-6;
/** `text.nullish()`: absent stays absent, null stays null, a string is trimmed. */
function optionalText(from: Record<string, unknown>, key: string, to: Record<string, unknown>): boolean {
  const value = from[key];
  if (value === undefined) return key in from ? ((to[key] = undefined), true) : true;
  if (value === null) return (to[key] = null), true;
  if (typeof value !== 'string') return false;
  to[key] = value.trim();
  return true;
}

const isQuantity = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const keyCount = (value: Record<string, unknown>) => {
  let count = 0;
  for (const _ in value) count++;
  return count;
};
/** A label as given: a plain object of two texts, key and value (not yet trimmed). */
const isLabelShape = (value: unknown): value is { key: string; value: string } =>
  isPlain(value) && typeof value.key === 'string' && typeof value.value === 'string' && keyCount(value) === 2;

function fastLabels(value: unknown): { key: string; value: string }[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return undefined;
  const labels: { key: string; value: string }[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const label = value[i];
    if (!isLabelShape(label)) return undefined;
    const key = label.key.trim();
    if (!key) return undefined;
    labels[i] = { key, value: label.value.trim() };
  }
  return labels;
}

const isTrimmedOrNull = (value: unknown) => value === null || (typeof value === 'string' && value.trim() === value);

/**
 * Whether an item (plain, with no key but ITEM_KEYS) is valid and parsing it would change
 * nothing: every key given, no text to trim. Such items are kept as they are, not copied.
 */
function isAsGiven(raw: Record<string, unknown>): boolean {
  if (keyCount(raw) !== ITEM_KEYS.size) return false;
  if (!isTrimmedOrNull(raw.sku) || !isTrimmedOrNull(raw.name) || !isTrimmedOrNull(raw.maker)) return false;
  const labels = raw.labels;
  if (!isQuantity(raw.quantity) || !isAmount(raw.grossValue) || !Array.isArray(labels)) return false;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!isLabelShape(label) || !label.key || label.key.trim() !== label.key || label.value.trim() !== label.value) return false;
  }
  return true;
}

function fastItem(raw: Record<string, unknown>): RecordOf<'transaction'>['items'][number] | undefined {
  const item: Record<string, unknown> = {};
  if (!optionalText(raw, 'sku', item) || !optionalText(raw, 'name', item)) return undefined;
  const quantity = raw.quantity;
  if (quantity === undefined) item.quantity = 1;
  else if (isQuantity(quantity)) item.quantity = quantity;
  else return undefined;
  const grossValue = raw.grossValue;
  if (grossValue === undefined) item.grossValue = 0;
  else if (isAmount(grossValue)) item.grossValue = grossValue;
  else return undefined;
  if (!optionalText(raw, 'maker', item)) return undefined;
  const labels = fastLabels(raw.labels);
  if (!labels) return undefined;
  item.labels = labels;
  return item as RecordOf<'transaction'>['items'][number];
}

/**
 * Items arrays that the fast path parsed from a line without filling a default or trimming a
 * text: the line's JSON text of them means exactly what JSON.stringify of the parsed items would.
 */
const itemsAsGiven = new WeakSet<object>();

/**
 * The JSON text of a transaction's items as it stands in its line, when it means exactly the
 * parsed items (so the importer can store it instead of writing it again), else undefined.
 * Taken only from a line that ends with the items array: the sequence `"items":` cannot stand
 * in a JSON string (its quotes would be escaped) and no other accepted key ends with `items`,
 * so its first occurrence is the items key; a line repeating the key yields text that is not
 * one JSON value, which the database refuses for that line alone.
 */
export function itemsTextOf(line: string, record: RecordOf<'transaction'>): string | undefined {
  if (!itemsAsGiven.has(record.items) || !line.endsWith(']}')) return undefined;
  const start = line.indexOf('"items":');
  return start < 0 ? undefined : line.slice(start + 8, -1);
}

/** A valid transaction record as zod would parse it, or undefined (then zod decides). */
export function fastTransaction(raw: unknown): RecordOf<'transaction'> | undefined {
  if (!UUID_PATTERN || !INSTANT_PATTERN || !isPlain(raw) || raw.kind !== 'transaction' || !onlyKeys(raw, TRANSACTION_KEYS))
    return undefined;
  const { transactionId, customerId, documentType, purchasedAt, channelId, grossValue } = raw;
  if (!isUuid(transactionId)) return undefined;
  if (customerId !== null && !isUuid(customerId)) return undefined;
  if (documentType !== 'sell' && documentType !== 'return') return undefined;
  if (typeof purchasedAt !== 'string' || !INSTANT_PATTERN.test(purchasedAt)) return undefined;
  if (channelId !== undefined && channelId !== null && !isUuid(channelId)) return undefined;
  if (!isAmount(grossValue)) return undefined;
  let items: RecordOf<'transaction'>['items'] = [];
  if (raw.items !== undefined) {
    const given: unknown = raw.items;
    if (!Array.isArray(given)) return undefined;
    let asGiven = true;
    for (let i = 0; i < given.length; i++) {
      const item = given[i];
      if (!isPlain(item) || !onlyKeys(item, ITEM_KEYS)) return undefined;
      if (asGiven && !isAsGiven(item)) asGiven = false;
    }
    if (asGiven) {
      // Zod would answer an equal array of equal items: these very ones serve.
      items = given as RecordOf<'transaction'>['items'];
      itemsAsGiven.add(items);
    } else {
      items = new Array(given.length);
      for (let i = 0; i < given.length; i++) {
        const item = fastItem(given[i]);
        if (!item) return undefined;
        items[i] = item;
      }
    }
  }
  const record: Record<string, unknown> = {
    kind: 'transaction',
    transactionId: transactionId.toLowerCase(),
    customerId: customerId === null ? null : (customerId as string).toLowerCase(),
    documentType,
    purchasedAt: new Date(purchasedAt),
  };
  if ('channelId' in raw) record.channelId = typeof channelId === 'string' ? channelId.toLowerCase() : channelId;
  record.grossValue = grossValue;
  record.items = items;
  return record as RecordOf<'transaction'>;
}

// ---------------------------------------------------------------------------------------------
// Fast paths for the other records of a feed: events, completions and progress, then members.
// The same contract as fastTransaction's, from tables of their fields and how each is parsed.

/** A field's value parsed as zod would, or undefined when invalid. */
type FieldParser = (value: unknown) => unknown;
const lowerUuid: FieldParser = (value) => (isUuid(value) ? value.toLowerCase() : undefined);
const instantValue: FieldParser = (value) => (typeof value === 'string' && INSTANT_PATTERN!.test(value) ? new Date(value) : undefined);
const trimmedText: FieldParser = (value) => (typeof value === 'string' ? value.trim() : undefined);
const nonEmptyTrimmed: FieldParser = (value) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
const nonEmpty: FieldParser = (value) => (typeof value === 'string' && value.length > 0 ? value : undefined);
const quantity: FieldParser = (value) => (isQuantity(value) ? value : undefined);

/** Events, completions and progress: every field required. */
const completion = (target: string, at: string): [string, FieldParser][] => [[target, lowerUuid], [at, instantValue]];
const ACTIVITY_FIELDS = new Map<unknown, [string, FieldParser][]>(
  Object.entries({
    customEvent: [['type', nonEmptyTrimmed], ['eventDate', instantValue]],
    campaignCompletion: completion('campaignId', 'completedAt'),
    achievementCompletion: completion('achievementId', 'completedAt'),
    challengeCompletion: completion('challengeId', 'completedAt'),
    achievementProgress: [['achievementId', lowerUuid], ['ruleId', lowerUuid], ['value', quantity], ['recordedAt', instantValue]],
    challengeProgress: [['challengeId', lowerUuid], ['milestoneId', lowerUuid], ['value', quantity], ['recordedAt', instantValue]],
  } satisfies Partial<Record<IngestKind, [string, FieldParser][]>>).map(([kind, fields]): [string, [string, FieldParser][]] => [
    kind,
    [['id', lowerUuid], ['customerId', lowerUuid], ...fields],
  ]),
);

/** A valid event, completion or progress record as zod would parse it, or undefined (then zod decides). */
export function fastActivity(raw: unknown): IngestRecord | undefined {
  if (!UUID_PATTERN || !INSTANT_PATTERN || !isPlain(raw)) return undefined;
  const fields = ACTIVITY_FIELDS.get(raw.kind);
  if (!fields || keyCount(raw) !== fields.length + 1) return undefined;
  const record: Record<string, unknown> = { kind: raw.kind };
  for (const [name, parse] of fields) {
    if (!Object.hasOwn(raw, name)) return undefined;
    const value = parse(raw[name]);
    if (value === undefined) return undefined;
    record[name] = value;
  }
  return record as IngestRecord;
}

const EMAIL_PATTERN = patternOf(z.email());
const DATE_PATTERN = patternOf(calendarDate);
const COUNTRY_PATTERN = /^[A-Za-z]{2}$/;
const MEMBER_KEYS = new Set(Object.keys(memberRecord.shape));
const ADDRESS_KEYS = new Set(['city', 'province', 'country', 'postal']);
const GENDERS = new Set<unknown>(['male', 'female', 'not_disclosed']);

/**
 * Copies an optional field, parsed: absent stays absent, null stays null when `nullable`.
 * Answers false when it is invalid (or present but undefined, which only zod knows what to do with).
 */
function optionalField(from: Record<string, unknown>, key: string, to: Record<string, unknown>, parse: FieldParser, nullable = true): boolean {
  if (!Object.hasOwn(from, key)) return true;
  const value = from[key];
  if (value === null && nullable) return (to[key] = null), true;
  const parsed = value === undefined ? undefined : parse(value);
  if (parsed === undefined) return false;
  to[key] = parsed;
  return true;
}

const MEMBER_FIELDS: [string, FieldParser, boolean][] = [
  ['firstName', trimmedText, true],
  ['lastName', trimmedText, true],
  ['email', (value) => (typeof value === 'string' && EMAIL_PATTERN!.test(value) ? value.toLowerCase() : undefined), true],
  ['phone', trimmedText, true],
  ['gender', (value) => (GENDERS.has(value) ? value : undefined), true],
  ['birthDate', (value) => (typeof value === 'string' && DATE_PATTERN!.test(value) ? value : undefined), true],
  ['createdAt', instantValue, false],
  ['registeredAt', instantValue, false],
  ['loyaltyCardNumber', nonEmpty, true],
  ['levelId', lowerUuid, true],
  ['password', nonEmpty, false],
];

const ADDRESS_FIELDS: [string, FieldParser][] = [
  ['city', trimmedText],
  ['province', trimmedText],
  ['country', (value) => (typeof value === 'string' && COUNTRY_PATTERN.test(value) ? value.toUpperCase() : undefined)],
  ['postal', trimmedText],
];

function fastAddress(value: unknown): Record<string, unknown> | undefined {
  if (!isPlain(value) || !onlyKeys(value, ADDRESS_KEYS)) return undefined;
  const address: Record<string, unknown> = {};
  for (const [key, parse] of ADDRESS_FIELDS) if (!optionalField(value, key, address, parse)) return undefined;
  return address;
}

function fastCustomFields(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (!isPlain(value)) return undefined;
  const fields: Record<string, string> = {};
  for (const key in value) {
    const field = value[key];
    if (typeof field !== 'string' && typeof field !== 'boolean' && !(typeof field === 'number' && Number.isFinite(field))) return undefined;
    fields[key] = String(field);
  }
  return fields;
}

/** A valid member record as zod would parse it, or undefined (then zod decides). */
export function fastMember(raw: unknown): RecordOf<'member'> | undefined {
  if (!UUID_PATTERN || !INSTANT_PATTERN || !EMAIL_PATTERN || !DATE_PATTERN || !isPlain(raw) || raw.kind !== 'member' || !onlyKeys(raw, MEMBER_KEYS))
    return undefined;
  const customerId = lowerUuid(raw.customerId);
  if (customerId === undefined) return undefined;
  const member: Record<string, unknown> = { kind: 'member', customerId };
  if (raw.active === undefined) member.active = true;
  else if (typeof raw.active === 'boolean') member.active = raw.active;
  else return undefined;
  for (const [key, parse, nullable] of MEMBER_FIELDS) if (!optionalField(raw, key, member, parse, nullable)) return undefined;
  if (!optionalField(raw, 'address', member, fastAddress, false)) return undefined;
  const tierIds: unknown = raw.tierIds === undefined ? [] : raw.tierIds;
  if (!Array.isArray(tierIds)) return undefined;
  const tiers = new Array<string>(tierIds.length);
  for (let i = 0; i < tierIds.length; i++) {
    const id = lowerUuid(tierIds[i]);
    if (id === undefined) return undefined;
    tiers[i] = id as string;
  }
  member.tierIds = tiers;
  const labels = fastLabels(raw.labels);
  const customFields = fastCustomFields(raw.customFields);
  if (!labels || !customFields) return undefined;
  member.labels = labels;
  member.customFields = customFields;
  return member as RecordOf<'member'>;
}
