import type { RecordOf } from './records.ts';

/**
 * Transactions as rows of PostgreSQL's binary COPY format, which the importer streams straight
 * into "Transaction" (or its staging table). Binary rows spare the server the text parsing of
 * every field (uuids, the timestamp, the amount, three arrays): COPY of the same rows took 15-20%
 * less time than in text format. Layout: https://www.postgresql.org/docs/current/sql-copy.html
 * (binary format); each type's wire form is its `*_recv` function in PostgreSQL's sources.
 */

/** Transaction's columns in the order of the rows' fields (the staging table has the same). */
export const TRANSACTION_COPY_COLUMNS =
  'id, "storeId", "customerId", "documentType", "purchasedAt", "channelId", "grossValue", skus, makers, "itemLabels", items';

/**
 * What a transaction adds to its member's aggregates, in the order of the fields of the
 * contribution rows of TransactionCopyRows.add (the importer's temporary table ingest_contribution).
 */
export const CONTRIBUTION_COPY_COLUMNS = '"customerId", "documentType", "purchasedAt", "channelId", "grossValue"';

/** The signature, flags and header extension length that open a binary COPY stream. */
export const BINARY_COPY_HEADER = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1');
/** The field count -1 that ends it. */
export const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * A binary COPY stream of these rows. Rows that lie end to end in one Buffer (as a batch's rows
 * from TransactionCopyRows mostly do) are copied as one piece: thousands of small copies cost
 * more than their bytes.
 */
export function copyStreamOf(rows: Buffer[]): Buffer {
  const pieces: Buffer[] = [BINARY_COPY_HEADER];
  // The piece being extended: bytes [start, end) of `memory`.
  let memory: ArrayBufferLike | undefined;
  let start = 0;
  let end = 0;
  for (const row of rows) {
    if (row.buffer === memory && row.byteOffset === end) end += row.length;
    else {
      if (memory) pieces.push(Buffer.from(memory, start, end - start));
      memory = row.buffer;
      start = row.byteOffset;
      end = start + row.length;
    }
  }
  if (memory) pieces.push(Buffer.from(memory, start, end - start));
  pieces.push(BINARY_COPY_TRAILER);
  return Buffer.concat(pieces);
}

const FIELDS = 11;
const CONTRIBUTION_FIELDS = 5;
/** PostgreSQL's `text` type, the element type of the item-fact arrays. */
const TEXT_OID = 25;
/** 2000-01-01T00:00:00Z in Unix milliseconds: PostgreSQL's timestamps count microseconds from it. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const TWO_TO_32 = 4_294_967_296;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Texts JSON.stringify writes as they are between its quotes (no quote, backslash, control character or surrogate). */
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A normalised item label as itemLabels holds it: the JSON text `["key","value"]`. */
const labelText = (key: string, value: string) =>
  JSON_PLAIN.test(key) && JSON_PLAIN.test(value) ? `["${key}","${value}"]` : JSON.stringify([key, value]);

/** Appends `element` unless already there (lists of a few items: no Set). */
function addDistinct(list: string[], element: string) {
  for (let i = 0; i < list.length; i++) if (list[i] === element) return;
  list.push(element);
}

/** An item fact's text trimmed and lower-cased; a label as the JSON text of its normalised pair. */
const normal = (text: string) => text.trim().toLowerCase();
const normalLabel = (key: string, value: string) => labelText(normal(key), normal(value));

/** Longer item texts are normalised each time (see FactCache). */
const CACHED_TEXT = 64;

/**
 * Normalised item facts by the texts they come from. A feed names the same few thousand SKUs,
 * makers and labels again and again: a lookup costs less than trimming and lower-casing anew
 * (and the strings that makes). Bounded: only texts of up to CACHED_TEXT characters (at most
 * 20,000 of them, a few MB) are remembered, and all are forgotten when it is full.
 */
class FactCache {
  private static readonly HELD = 20_000;
  private readonly texts = new Map<string, string>();
  private readonly labels = new Map<string, Map<string, string>>();
  private size = 0;

  text(text: string): string {
    if (text.length > CACHED_TEXT) return normal(text);
    return this.texts.get(text) ?? this.remember(this.texts, text, normal(text));
  }

  label(key: string, value: string): string {
    if (key.length > CACHED_TEXT || value.length > CACHED_TEXT) return normalLabel(key, value);
    let byValue = this.labels.get(key);
    if (byValue === undefined) this.labels.set(key, (byValue = new Map()));
    return byValue.get(value) ?? this.remember(byValue, value, normalLabel(key, value));
  }

  /** Sets `map`'s entry (after forgetting everything when full) and answers its value. */
  private remember(map: Map<string, string>, key: string, value: string): string {
    if (++this.size > FactCache.HELD) {
      this.texts.clear();
      this.labels.clear();
      this.size = 1;
    }
    map.set(key, value);
    return value;
  }
}

const facts = new FactCache();

/**
 * What the criteria read of a transaction's items: its distinct normalised (trimmed,
 * lower-cased) SKUs and makers, and its distinct normalised labels, each as the JSON text
 * `["key","value"]` (what `to_json(ARRAY[key, value])::text` gives, in the migration too).
 */
export function itemFacts(items: RecordOf<'transaction'>['items']): { skus: string[]; makers: string[]; itemLabels: string[] } {
  const skus: string[] = [];
  const makers: string[] = [];
  const itemLabels: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.sku != null) addDistinct(skus, facts.text(item.sku));
    if (item.maker != null) addDistinct(makers, facts.text(item.maker));
    const labels = item.labels;
    for (let j = 0; j < labels.length; j++) addDistinct(itemLabels, facts.label(labels[j].key, labels[j].value));
  }
  return { skus, makers, itemLabels };
}

/** A non-negative amount with 2 decimals, as numeric's text form writes it. */
const fixedAmount = (value: number) => (value < 1e21 ? value.toFixed(2) : `${BigInt(value)}.00`);
/** Bytes of the numeric form of `fixed`: header, then base-10000 digits of 2 bytes each. */
const amountRoom = (fixed: string) => 8 + 2 * (fixed.length / 4 + 2);

/** A transaction's binary COPY rows: its own, and its contribution to its member's aggregates. */
export interface TransactionCopyRow {
  /** The columns of Transaction, as TRANSACTION_COPY_COLUMNS lists them. */
  row: Buffer;
  /** Its fields customerId to grossValue, as CONTRIBUTION_COPY_COLUMNS lists them. */
  contribution: Buffer;
}

/**
 * Binary COPY rows of transactions, written into large Buffers as they are read: a batch's rows
 * (about 1 KB each, thousands of them, alive until written) then live outside V8's heap, where
 * the garbage collector neither scans nor moves them. Rows and contributions fill separate
 * Buffers, so that a batch's rows of either kind mostly lie end to end (see copyStreamOf).
 */
export class TransactionCopyRows {
  private readonly rows = new CopyWriter();
  private readonly contributions = new CopyWriter();
  private storeId = '';
  private readonly storeBytes = Buffer.alloc(16);

  /**
   * Writes the rows of `t`, and answers views of their bytes. `itemsText`: the items' JSON as
   * the line gave it, when it means the parsed items.
   */
  add(t: RecordOf<'transaction'>, storeId: string, itemsText?: string): TransactionCopyRow {
    const facts = itemFacts(t.items);
    const json = itemsText ?? JSON.stringify(t.items);
    const amount = fixedAmount(t.grossValue);
    if (storeId !== this.storeId) {
      writeUuid(this.storeBytes, 0, storeId);
      this.storeId = storeId;
    }
    // An upper bound of the row's size: field count and lengths, 4 uuids, the timestamp, the
    // amount's header and base-10000 digits (2 bytes each), the arrays' headers, then the texts
    // (UTF-8 takes at most 3 bytes per UTF-16 unit).
    let room = 2 + FIELDS * 4 + 4 * 16 + 8 + amountRoom(amount) + 3 * 20 + 3 * (t.documentType.length + json.length);
    for (const list of [facts.skus, facts.makers, facts.itemLabels]) for (const text of list) room += 4 + 3 * text.length;
    const rows = this.rows;
    const start = rows.reserve(room);
    rows.int16(FIELDS);
    rows.uuid(t.transactionId);
    rows.bytes(this.storeBytes);
    const contributionFrom = rows.at;
    rows.uuid(t.customerId);
    rows.text(t.documentType);
    rows.timestamp(t.purchasedAt);
    rows.uuid(t.channelId ?? null);
    rows.amount(amount);
    const contributionTo = rows.at;
    rows.textArray(facts.skus);
    rows.textArray(facts.makers);
    rows.textArray(facts.itemLabels);
    rows.text(json);
    // The contribution's fields are those of the row between storeId and skus, as they are.
    const contributions = this.contributions;
    const from = contributions.reserve(2 + contributionTo - contributionFrom);
    contributions.int16(CONTRIBUTION_FIELDS);
    contributions.copyFrom(rows.chunk, contributionFrom, contributionTo);
    return { row: rows.chunk.subarray(start, rows.at), contribution: contributions.chunk.subarray(from, contributions.at) };
  }
}

/** The 16 bytes of a validated uuid (8-4-4-4-12 hex digits), into `to` at `at`. */
function writeUuid(to: Buffer, at: number, id: string) {
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    to[at++] = (HEX[id.charCodeAt(i)] << 4) | HEX[id.charCodeAt(i + 1)];
  }
}

/** Texts at most this long are written byte by byte when ASCII: cheaper than Buffer#write's call. */
const SHORT_TEXT = 64;

/** Binary COPY fields, written one after the other into 1 MB Buffers. */
class CopyWriter {
  private static readonly CHUNK = 1 << 20;
  chunk = Buffer.allocUnsafe(CopyWriter.CHUNK);
  at = 0;

  /** Makes room for `bytes` more (in a new Buffer when this one is full) and answers where they start. */
  reserve(bytes: number): number {
    if (this.at + bytes > this.chunk.length) {
      this.chunk = Buffer.allocUnsafe(Math.max(CopyWriter.CHUNK, bytes));
      this.at = 0;
    }
    return this.at;
  }

  int16(value: number) {
    this.at = this.chunk.writeInt16BE(value, this.at);
  }

  int32(value: number) {
    this.at = this.chunk.writeInt32BE(value, this.at);
  }

  /** A uuid field from its 16 bytes. */
  bytes(value: Buffer) {
    this.int32(value.length);
    const chunk = this.chunk;
    for (let i = 0; i < value.length; i++) chunk[this.at++] = value[i];
  }

  /** Bytes [from, to) of `source`, as they are. */
  copyFrom(source: Buffer, from: number, to: number) {
    this.at += source.copy(this.chunk, this.at, from, to);
  }

  /** A validated uuid (8-4-4-4-12 hex digits) as its 16 bytes, or NULL. */
  uuid(id: string | null) {
    if (id === null) return this.int32(-1);
    this.int32(16);
    writeUuid(this.chunk, this.at, id);
    this.at += 16;
  }

  /** Text as UTF-8, its length written once known. */
  text(value: string) {
    const lengthAt = this.at;
    const chunk = this.chunk;
    const n = value.length;
    if (n <= SHORT_TEXT) {
      const at = lengthAt + 4;
      let i = 0;
      for (; i < n; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) break;
        chunk[at + i] = code;
      }
      if (i === n) {
        chunk.writeInt32BE(n, lengthAt);
        this.at = at + n;
        return;
      }
    }
    const length = chunk.write(value, lengthAt + 4, 'utf8');
    chunk.writeInt32BE(length, lengthAt);
    this.at = lengthAt + 4 + length;
  }

  /** timestamptz: microseconds since 2000-01-01 UTC, a 64-bit integer. */
  timestamp(instant: Date) {
    const micros = (instant.getTime() - POSTGRES_EPOCH_MS) * 1000;
    const high = Math.floor(micros / TWO_TO_32);
    this.int32(8);
    this.at = this.chunk.writeInt32BE(high, this.at);
    this.at = this.chunk.writeUInt32BE(micros - high * TWO_TO_32, this.at);
  }

  /**
   * A non-negative amount written with 2 decimals (`fixed`) as numeric with scale 2: base-10000
   * digits, the weight of the first, no leading or trailing zero digit. An amount too large for
   * the column is refused by the server, as it was in text form.
   */
  amount(fixed: string) {
    const dot = fixed.length - 3;
    const digits: number[] = [];
    // Integer part in groups of 4 digits from the right, then the 2 decimals as one group.
    const lead = dot % 4;
    if (lead) digits.push(Number(fixed.slice(0, lead)));
    for (let i = lead; i < dot; i += 4) digits.push(Number(fixed.slice(i, i + 4)));
    let weight = digits.length - 1;
    digits.push(Number(fixed.slice(dot + 1)) * 100);
    let first = 0;
    while (first < digits.length && digits[first] === 0) first++, weight--;
    let end = digits.length;
    while (end > first && digits[end - 1] === 0) end--;
    if (first === end) weight = 0;
    this.int32(8 + 2 * (end - first));
    this.int16(end - first);
    this.int16(weight);
    this.int16(0); // sign: positive
    this.int16(2); // display scale
    for (let i = first; i < end; i++) this.int16(digits[i]);
  }

  /** text[]: dimensions, no NULLs, the element type, then each element's length and UTF-8. */
  textArray(elements: string[]) {
    const lengthAt = this.at;
    this.at += 4;
    if (!elements.length) {
      this.int32(0);
      this.int32(0);
      this.int32(TEXT_OID);
    } else {
      this.int32(1);
      this.int32(0);
      this.int32(TEXT_OID);
      this.int32(elements.length);
      this.int32(1);
      for (const element of elements) this.text(element);
    }
    this.chunk.writeInt32BE(this.at - lengthAt - 4, lengthAt);
  }
}
