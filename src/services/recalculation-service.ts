import { evaluationEnv, type EvalEnv } from '../criteria/definitions.ts';
import { dec, ratioHalfUp2 } from '../criteria/decimal.ts';
import { isUuid } from '../criteria/params.ts';
import { compileSegment, type StoredPart } from '../engine/compile.ts';
import { NotFound } from '../errors.ts';
import { Prisma, type PrismaClient, type Segment } from '../generated/prisma/client.ts';
import { addMembersSql, changeMembersCtes, hasNoMembers, membershipsOf } from './memberships.ts';

export interface SegmentStatistics {
  customersCount: number;
  /** Rounded half-up to 2 decimals, as decimal strings (`"12.50"`). */
  averageTransactions: string;
  averageTransactionAmount: string;
  averageClv: string;
  /** When the recalculation finished; null before the first one. */
  calculatedAt: Date | null;
}

export interface RecalculationResult {
  /** False when the segment is inactive: nothing was evaluated, its frozen state is returned. */
  recalculated: boolean;
  /** Members in the segment after the run. */
  matched: number;
  added: number;
  removed: number;
  statistics: SegmentStatistics;
  segment: Segment;
  /** Ids of members who joined and who left (only when asked for with collectChanges). */
  joined?: string[];
  left?: string[];
}

export interface RecalculationOptions {
  /** The evaluation clock; defaults to the system clock. */
  now?: () => Date;
  /** Upper bound on one run, in milliseconds (Prisma's interactive transaction timeout). */
  timeoutMs?: number;
  /** Members evaluated per progress step (default DEFAULT_CHUNK_SIZE). */
  chunkSize?: number;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Memory per sort or hash of a recalculation's statements (SET LOCAL, for its transaction only):
 * joins of a whole store's members and aggregates then stay in memory instead of spilling to
 * disk in batches (PostgreSQL's default is 4MB).
 */
export const RECALCULATION_WORK_MEM = '64MB';

/**
 * Members evaluated per step when not configured (RecalculationOptions.chunkSize). Each step
 * reads its slice of Member and MemberStats by id, and ids are in no physical order, so a step
 * costs about as much as a scan of those tables: steps must be few and large. A store of up to
 * a million members is evaluated in one statement (progress then goes from 0 to all at once;
 * the jobs' heartbeat still reports RUNNING every second).
 */
export const DEFAULT_CHUNK_SIZE = 1_000_000;

interface Totals {
  members: string;
  purchases: string;
  amount: string;
  added: string;
  removed: string;
}

/**
 * Recalculation of a segment (DOMAIN.md section 5): evaluates it inside the database with the
 * compiled statement and replaces its membership and statistics in one transaction, so readers
 * see either the old state or the new one. The segment row is locked for the run, so two runs of
 * one segment never interleave (whichever comes second waits and re-reads the definition).
 */
export class RecalculationService {
  private readonly clock: () => Date;
  private readonly timeoutMs: number;
  private readonly chunkSize: number;

  constructor(
    private readonly prisma: PrismaClient,
    options: RecalculationOptions = {},
  ) {
    this.clock = options.now ?? (() => new Date());
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  /**
   * Recalculates one segment. `now` fixes the run's time (members who join get it as joinedAt,
   * and it is the evaluation clock); otherwise the service's clock is read at the start, and
   * again at the end for calculatedAt. Only active segments are recalculated.
   */
  async recalculate(
    segmentId: string,
    options: {
      now?: Date;
      /** Called after each chunk of members is evaluated (and once with 0 at the start). */
      onProgress?: (processed: number, total: number) => void;
      /** Return the ids of members who joined and left (for membership-change events). */
      collectChanges?: boolean;
    } = {},
  ): Promise<RecalculationResult> {
    if (!isUuid(segmentId)) throw new NotFound(`Segment ${segmentId} not found.`);
    segmentId = segmentId.toLowerCase();
    const runAt = options.now ?? this.clock();
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ id: string }[]>(
          Prisma.sql`SELECT "id"::text FROM "Segment" WHERE "id" = ${segmentId}::uuid FOR UPDATE`,
        );
        if (!locked.length) throw new NotFound(`Segment ${segmentId} not found.`);
        const segment = await tx.segment.findUniqueOrThrow({
          where: { id: segmentId },
          include: {
            store: true,
            parts: { orderBy: { position: 'asc' }, include: { criteria: { orderBy: { position: 'asc' } } } },
          },
        });
        const { store, parts, ...row } = segment;
        if (!segment.active) {
          return { recalculated: false, matched: row.customersCount, added: 0, removed: 0, statistics: statisticsOf(row), segment: row };
        }

        // Member removal waits for this run (memberships have no foreign keys: without the lock,
        // a member removed after this run read it could still be inserted below).
        await lockStoreMemberships(tx, store.id, 'shared');
        const env = evaluationEnv(runAt, store.timezone);
        const storeParts = parts as StoredPart[];
        // Evaluate in chunks of members (by id), reporting progress after each. A chunk's
        // statement compares the members it matches with the segment's current members in the
        // same id range, in the same pass, and keeps one row in a scratch table: who joins, who
        // leaves, and the totals of the members matched (count, lifetime purchases and amount,
        // read from the aggregates the statement joins anyway). Then one statement applies the
        // differences. All inside this transaction: readers see the old membership until it commits.
        await tx.$executeRawUnsafe(`SET LOCAL work_mem = '${RECALCULATION_WORK_MEM}'`);
        await tx.$executeRaw`DROP TABLE IF EXISTS pg_temp.recalc_changes`;
        // A segment without members (its first run, or one after matching nobody): every member
        // matched joins, so each chunk writes its members' blocks straight from the compiled
        // statement and keeps only its totals; nothing to compare, no id arrays.
        const segmentIdSql = Prisma.sql`${segment.id}::uuid`;
        const [{ empty }] = await tx.$queryRaw<{ empty: boolean }[]>`SELECT ${hasNoMembers(segmentIdSql)} AS "empty"`;
        if (empty)
          await tx.$executeRaw`
            CREATE TEMP TABLE recalc_changes ("members" bigint, "purchases" numeric, "amount" numeric)
            ON COMMIT DROP`;
        const [{ total }] = await tx.$queryRaw<{ total: number }[]>`
          SELECT count(*)::int AS total FROM "Member" WHERE "storeId" = ${store.id}::uuid AND "active"`;
        let processed = 0;
        let after: string | undefined;
        options.onProgress?.(0, total);
        for (;;) {
          // The chunk's last id (an index-only scan of Member's (storeId, active, id) index).
          // A store that fits in one chunk is evaluated in one statement, without bounds.
          const [boundary] =
            total > processed + this.chunkSize
              ? await tx.$queryRaw<{ id: string }[]>`
                  SELECT m."id"::text AS "id" FROM "Member" m
                  WHERE m."storeId" = ${store.id}::uuid AND m."active" AND m."id" > ${after ?? NIL_UUID}::uuid
                  ORDER BY m."id" OFFSET ${this.chunkSize - 1} LIMIT 1`
              : [];
          const range = { after, upTo: boundary?.id };
          if (empty) {
            await tx.$executeRaw(firstChunkSql(segment.id, store.id, storeParts, env, runAt, range));
          } else {
            const changes = chunkChangesSql(segment.id, store.id, storeParts, env, range);
            // The first chunk creates the table (CREATE TABLE AS may scan in parallel, INSERT may not).
            if (processed === 0) await tx.$executeRaw`CREATE TEMP TABLE recalc_changes ON COMMIT DROP AS ${changes}`;
            else await tx.$executeRaw`INSERT INTO recalc_changes ${changes}`;
          }
          processed = boundary ? processed + this.chunkSize : total;
          options.onProgress?.(processed, total);
          if (!boundary) break;
          after = boundary.id;
        }
        const collected = options.collectChanges
          ? Prisma.sql`, (SELECT COALESCE(array_agg(id::text), '{}') FROM added) AS "joined",
                         (SELECT COALESCE(array_agg(id::text), '{}') FROM removed) AS "left"`
          : Prisma.empty;
        // Leavers are dropped and newcomers added, rewriting only the blocks that hold them; the
        // chunks' totals are summed. (A segment that was empty has its members written already:
        // the statement then only reads them back as the joiners, when asked for.) Only this run
        // writes the segment's blocks while it holds the segment's row.
        const runAtSql = Prisma.sql`${runAt.toISOString()}::timestamptz`;
        const [totals] = await tx.$queryRaw<(Totals & { joined?: string[]; left?: string[] })[]>(empty ? Prisma.sql`
          WITH added AS (SELECT sm."memberId" AS id FROM ${membershipsOf(segmentIdSql)} sm),
          removed AS (SELECT NULL::uuid AS id WHERE FALSE)
          SELECT COALESCE(sum(x."members"), 0)::text AS "members",
                 COALESCE(sum(x."purchases"), 0)::text AS "purchases",
                 COALESCE(sum(x."amount"), 0)::text AS "amount",
                 COALESCE(sum(x."members"), 0)::text AS "added",
                 '0' AS "removed"
                 ${collected}
          FROM recalc_changes x` : Prisma.sql`
          WITH joining AS MATERIALIZED (SELECT j.id FROM recalc_changes x, unnest(x."joining") j(id)),
          leaving AS MATERIALIZED (SELECT l.id FROM recalc_changes x, unnest(x."leaving") l(id)),
          ${changeMembersCtes(segmentIdSql, runAtSql)},
          added AS (SELECT id FROM joining),
          removed AS (SELECT id FROM leaving)
          SELECT COALESCE(sum(x."members"), 0)::text AS "members",
                 COALESCE(sum(x."purchases"), 0)::text AS "purchases",
                 COALESCE(sum(x."amount"), 0)::text AS "amount",
                 (SELECT count(*) FROM added)::text AS "added",
                 (SELECT count(*) FROM removed)::text AS "removed"
                 ${collected}
          FROM recalc_changes x`);

        const members = dec(totals.members);
        const purchases = dec(totals.purchases);
        const amount = dec(totals.amount);
        const finishedAt = options.now ?? this.clock();
        const updated = await tx.segment.update({
          where: { id: segment.id },
          data: {
            customersCount: Number(totals.members),
            averageTransactions: ratioHalfUp2(purchases, members),
            averageTransactionAmount: ratioHalfUp2(amount, purchases),
            averageClv: ratioHalfUp2(amount, members),
            calculatedAt: finishedAt,
          },
        });
        return {
          recalculated: true,
          matched: Number(totals.members),
          added: Number(totals.added),
          removed: Number(totals.removed),
          statistics: statisticsOf(updated),
          segment: updated,
          joined: totals.joined,
          left: totals.left,
        };
      },
      { timeout: this.timeoutMs, maxWait: 60_000 },
    );
  }
}

/**
 * The lock that keeps memberships pointing at existing members (they have no foreign keys):
 * a recalculation holds it shared for its whole transaction, member removal exclusively before
 * it deletes the member's memberships. Transaction-scoped, one per store.
 */
export async function lockStoreMemberships(tx: Pick<PrismaClient, '$queryRaw'>, storeId: string, mode: 'shared' | 'exclusive') {
  const key = `segment-membership:${storeId.toLowerCase()}`;
  if (mode === 'shared') await tx.$queryRaw`SELECT pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))::text`;
  else await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))::text`;
}

/**
 * One step of a recalculation of a segment without members: adds the members of `range` (by
 * id) the segment matches, joining at `runAt`, and adds their totals
 * (`members`, lifetime `purchases` and `amount`) as one row to the scratch table recalc_changes.
 */
export function firstChunkSql(
  segmentId: string,
  storeId: string,
  parts: StoredPart[],
  env: EvalEnv,
  runAt: Date,
  range: { after?: string; upTo?: string } = {},
): Prisma.Sql {
  return Prisma.sql`
    WITH matched AS MATERIALIZED (${compileSegment(storeId, parts, env, { range, withAggregates: true })}),
    inserted AS (${addMembersSql(Prisma.sql`${segmentId}::uuid`, Prisma.sql`matched`, Prisma.sql`${runAt.toISOString()}::timestamptz`)})
    INSERT INTO recalc_changes ("members", "purchases", "amount")
    SELECT count(*), sum(x."purchases"), sum(x."amount") FROM matched x`;
}

/**
 * One step of a recalculation: the members of `range` (by id) the segment matches, compared in
 * the same pass with its current members in that range. Returns one row: the totals of the
 * members matched (`members`, lifetime `purchases` and `amount`), and the ids of those who join
 * (`joining`) and leave (`leaving`), as arrays (null when none).
 */
export function chunkChangesSql(
  segmentId: string,
  storeId: string,
  parts: StoredPart[],
  env: EvalEnv,
  range: { after?: string; upTo?: string } = {},
): Prisma.Sql {
  const matched = compileSegment(storeId, parts, env, { range, withAggregates: true });
  const inRange = Prisma.sql`${range.after === undefined ? Prisma.empty : Prisma.sql` AND sm."memberId" > ${range.after}::uuid`}${
    range.upTo === undefined ? Prisma.empty : Prisma.sql` AND sm."memberId" <= ${range.upTo}::uuid`
  }`;
  return Prisma.sql`
    SELECT count(x."memberId") AS "members", sum(x."purchases") AS "purchases", sum(x."amount") AS "amount",
           array_agg(x."memberId") FILTER (WHERE c."memberId" IS NULL) AS "joining",
           array_agg(c."memberId") FILTER (WHERE x."memberId" IS NULL) AS "leaving"
    FROM (${matched}) x
    FULL JOIN (SELECT sm."memberId" FROM ${membershipsOf(Prisma.sql`${segmentId}::uuid`)} sm WHERE TRUE${inRange}) c
      ON c."memberId" = x."memberId"`;
}

function statisticsOf(segment: Segment): SegmentStatistics {
  return {
    customersCount: segment.customersCount,
    averageTransactions: segment.averageTransactions.toFixed(2),
    averageTransactionAmount: segment.averageTransactionAmount.toFixed(2),
    averageClv: segment.averageClv.toFixed(2),
    calculatedAt: segment.calculatedAt,
  };
}
