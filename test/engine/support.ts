import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { evaluationEnv } from '../../src/criteria/definitions.ts';
import type { CheckContext } from '../../src/criteria/params.ts';
import { validateCriterion } from '../../src/criteria/validate.ts';
import type { Database } from '../../src/db/database.ts';
import { matchingMemberIds, type StoredCriterion, type StoredPart } from '../../src/engine/compile.ts';
import { evaluateSegment, snapshotsFromRecords } from '../../src/engine/reference.ts';
import type { Store } from '../../src/generated/prisma/client.ts';
import { IngestService } from '../../src/services/ingest-service.ts';
import { StoreService } from '../../src/services/store-service.ts';

/** A v4-shaped UUID derived from a text, so fixtures can name members and read results by name. */
export function uuidFor(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A criterion as a client sends it, checked and normalised by the real validator (as stored). */
export function criterion(raw: Record<string, unknown>, timezone = 'UTC'): StoredCriterion {
  const ctx: CheckContext = { timezone, errors: [] };
  const checked = validateCriterion(raw, 'criterion', ctx);
  if (!checked) throw new Error(`invalid criterion ${JSON.stringify(raw)}: ${JSON.stringify(ctx.errors)}`);
  return { type: checked.type, params: checked.params };
}

/**
 * One store with its own data, named members, and both evaluations of a segment: the compiled SQL
 * over the database, and the reference evaluator over the same records.
 */
export class Scenario {
  private seq = 0;
  readonly records: Record<string, unknown>[] = [];
  private names = new Map<string, string>();
  store!: Store;

  constructor(
    private readonly database: Database,
    readonly timezone = 'UTC',
    private readonly key = randomBytes(6).toString('hex'),
  ) {}

  /** The id of a named member (or any named thing) in this scenario. */
  id(name: string): string {
    const id = uuidFor(`${this.key}:${name}`);
    this.names.set(id, name);
    return id;
  }

  member(name: string, fields: Record<string, unknown> = {}) {
    this.records.push({
      kind: 'member',
      customerId: this.id(name),
      registeredAt: '2020-06-15T12:00:00Z',
      createdAt: '2020-06-15T12:00:00Z',
      ...fields,
    });
    return this;
  }

  /** A transaction of a named member (null: unmatched). */
  transaction(
    name: string | null,
    documentType: 'sell' | 'return',
    purchasedAt: string,
    grossValue: number,
    fields: Record<string, unknown> = {},
  ) {
    this.records.push({
      kind: 'transaction',
      transactionId: this.id(`transaction-${++this.seq}`),
      customerId: name === null ? null : this.id(name),
      documentType,
      purchasedAt,
      grossValue,
      ...fields,
    });
    return this;
  }

  sell(name: string | null, purchasedAt: string, grossValue = 10, fields: Record<string, unknown> = {}) {
    return this.transaction(name, 'sell', purchasedAt, grossValue, fields);
  }

  return(name: string | null, purchasedAt: string, grossValue = 10, fields: Record<string, unknown> = {}) {
    return this.transaction(name, 'return', purchasedAt, grossValue, fields);
  }

  /** Any other activity record (`customEvent`, `campaignCompletion`, ...), of a named member. */
  activity(kind: string, name: string, fields: Record<string, unknown>) {
    this.records.push({ kind, id: this.id(`${kind}-${++this.seq}`), customerId: this.id(name), ...fields });
    return this;
  }

  raw(record: Record<string, unknown>) {
    this.records.push(record);
    return this;
  }

  /** Creates the store and imports the records through the ingest service; no line may fail. */
  async load(): Promise<this> {
    this.store = await new StoreService(this.database.prisma).create({
      code: `S${this.key.toUpperCase()}`,
      name: `Scenario ${this.key}`,
      timezone: this.timezone,
    });
    const summary = await new IngestService(this.database.prisma).importRecords(this.store, this.records);
    expect(summary.errors, 'import errors').toEqual([]);
    return this;
  }

  criterion(raw: Record<string, unknown>) {
    return criterion(raw, this.timezone);
  }

  /** Names of the members the SQL engine matches. */
  async sqlNames(parts: StoredPart[], now: string): Promise<string[]> {
    const ids = await matchingMemberIds(this.database.prisma, this.store.id, parts, evaluationEnv(new Date(now), this.timezone));
    return this.toNames(ids);
  }

  /** Names of the members the reference evaluator matches. */
  referenceNames(parts: StoredPart[], now: string): string[] {
    const members = snapshotsFromRecords(this.records);
    return this.toNames(evaluateSegment(parts, members, evaluationEnv(new Date(now), this.timezone)));
  }

  private toNames(ids: string[]): string[] {
    return ids.map((id) => this.names.get(id) ?? id).sort();
  }

  /**
   * Asserts the exact member set of one criterion (given as a client sends it) at `now`, from the
   * SQL engine and from the reference evaluator alike.
   */
  async expectMatches(raw: Record<string, unknown>, now: string, expected: string[]) {
    const parts = [{ criteria: [this.criterion(raw)] }];
    const label = `${JSON.stringify(raw)} at ${now} (${this.timezone})`;
    expect(await this.sqlNames(parts, now), `SQL: ${label}`).toEqual([...expected].sort());
    expect(this.referenceNames(parts, now), `reference: ${label}`).toEqual([...expected].sort());
  }
}
