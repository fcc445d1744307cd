import { evaluationEnv } from '../criteria/definitions.ts';
import { dec, ratioHalfUp2 } from '../criteria/decimal.ts';
import { isUuid } from '../criteria/params.ts';
import { compileSegment, type StoredPart } from '../engine/compile.ts';
import { NotFound } from '../errors.ts';
import { Prisma, type PrismaClient, type Segment } from '../generated/prisma/client.ts';

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
  /** Members evaluated per progress step. */
  chunkSize?: number;
}

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
    this.chunkSize = options.chunkSize ?? 50_000;
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

        const env = evaluationEnv(runAt, store.timezone);
        const matched = compileSegment(store.id, parts as StoredPart[], env);
        // Evaluate in chunks of members (by id) into a scratch table, reporting progress after
        // each; then swap the membership in one statement. All inside this transaction, so
        // readers keep seeing the old membership until it commits.
        await tx.$executeRaw`CREATE TEMP TABLE IF NOT EXISTS recalc_matched ("memberId" uuid PRIMARY KEY) ON COMMIT DROP`;
        await tx.$executeRaw`TRUNCATE recalc_matched`;
        const [{ total }] = await tx.$queryRaw<{ total: number }[]>`
          SELECT count(*)::int AS total FROM "Member" WHERE "storeId" = ${store.id}::uuid AND "active"`;
        let processed = 0;
        let after = '00000000-0000-0000-0000-000000000000';
        options.onProgress?.(0, total);
        for (;;) {
          const [boundary] = await tx.$queryRaw<{ id: string }[]>`
            SELECT "id"::text FROM "Member" WHERE "storeId" = ${store.id}::uuid AND "active" AND "id" > ${after}::uuid
            ORDER BY "id" OFFSET ${this.chunkSize - 1} LIMIT 1`;
          const upTo = boundary
            ? Prisma.sql`AND x."memberId" <= ${boundary.id}::uuid`
            : Prisma.empty;
          await tx.$executeRaw`INSERT INTO recalc_matched ("memberId")
            SELECT x."memberId" FROM (${matched}) x WHERE x."memberId" > ${after}::uuid ${upTo}`;
          processed = boundary ? processed + this.chunkSize : total;
          options.onProgress?.(processed, total);
          if (!boundary) break;
          after = boundary.id;
        }
        const changes = options.collectChanges
          ? Prisma.sql`, (SELECT COALESCE(array_agg(id::text), '{}') FROM added) AS "joined",
                         (SELECT COALESCE(array_agg(id::text), '{}') FROM removed) AS "left"`
          : Prisma.empty;
        // Drop leavers, add newcomers (stayers' rows are untouched), and total the new member
        // set's lifetime aggregates.
        const [totals] = await tx.$queryRaw<(Totals & { joined?: string[]; left?: string[] })[]>(Prisma.sql`
          WITH removed AS (
            DELETE FROM "SegmentMember" sm WHERE sm."segmentId" = ${segment.id}::uuid
              AND NOT EXISTS (SELECT 1 FROM recalc_matched x WHERE x."memberId" = sm."memberId")
            RETURNING sm."memberId" AS id),
          added AS (
            INSERT INTO "SegmentMember" ("segmentId", "memberId", "joinedAt")
            SELECT ${segment.id}::uuid, x."memberId", ${runAt.toISOString()}::timestamptz FROM recalc_matched x
            ON CONFLICT ("segmentId", "memberId") DO NOTHING
            RETURNING "memberId" AS id)
          SELECT count(*)::text AS "members",
                 COALESCE(sum(COALESCE(s."purchaseCount", 0)), 0)::text AS "purchases",
                 COALESCE(sum(GREATEST(0, COALESCE(s."sellAmount", 0) - COALESCE(s."returnAmount", 0))), 0)::text AS "amount",
                 (SELECT count(*) FROM added)::text AS "added",
                 (SELECT count(*) FROM removed)::text AS "removed"
                 ${changes}
          FROM recalc_matched x LEFT JOIN "MemberStats" s ON s."memberId" = x."memberId"`);

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

function statisticsOf(segment: Segment): SegmentStatistics {
  return {
    customersCount: segment.customersCount,
    averageTransactions: segment.averageTransactions.toFixed(2),
    averageTransactionAmount: segment.averageTransactionAmount.toFixed(2),
    averageClv: segment.averageClv.toFixed(2),
    calculatedAt: segment.calculatedAt,
  };
}
