import { z } from 'zod';

/**
 * The records a loyalty core feeds us, one per NDJSON line, each with a `kind`. Every record
 * has an id and is upserted by it, so importing the same file twice changes nothing.
 * Field names follow DOMAIN.md section 3.
 */

const uuid = z.uuid().transform((id) => id.toLowerCase());
const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
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
  const result = ingestRecord.safeParse(raw);
  if (result.success) return { record: result.data };
  const issue = result.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : 'record';
  if (issue.code === 'invalid_union' && issue.path.join('.') === 'kind')
    return { error: `unknown kind; expected one of ${INGEST_KINDS.join(', ')}` };
  return { error: `${where}: ${issue.message}` };
}
