import { randomUUID } from 'node:crypto';
import { lockKey } from '../db/locks.ts';
import { NotFound } from '../errors.ts';
import { Prisma, type PrismaClient, type RecalculationJob } from '../generated/prisma/client.ts';
import type { RecalculationService } from '../services/recalculation-service.ts';
import type { JobDelivery } from './delivery.ts';
import type { Events, RecalculationEvent } from './events.ts';

export interface JobOptions {
  /** A RUNNING job's lease; renewed while it runs, taken over by another instance when it lapses. */
  leaseMs: number;
  /** How often each instance looks for abandoned, undelivered and dirty work. */
  sweepMs: number;
  /** Every active segment is recalculated this often; 0 turns the schedule off. */
  scheduleMs: number;
  /** Members per membership-change event. */
  membershipBatch: number;
  /** RUNNING counts are published at most this often per run (default PROGRESS_INTERVAL_MS). */
  progressIntervalMs?: number;
}

/**
 * A run reports progress after every chunk; subscribers need far less (a dashboard redraws a bar,
 * and every event is executed and sent to every subscriber of the segment). So counts are
 * published at most every 250 ms, the latest one then, and at least every second.
 */
export const PROGRESS_INTERVAL_MS = 250;
const KEEP_ALIVE_MS = 1000;

export const DEFAULT_JOB_OPTIONS: JobOptions = {
  leaseMs: 30_000,
  sweepMs: 5_000,
  scheduleMs: 10 * 60_000,
  membershipBatch: 1000,
};

/**
 * Background recalculation (DOMAIN.md section 5): requests enqueue and return at once; at most
 * one run per segment at a time across all instances; a request arriving during a run merges
 * into exactly one follow-up. Progress and membership changes are published as events.
 */
export class RecalculationJobs {
  private sweeper?: NodeJS.Timeout;
  private lastSchedule = Date.now();
  private stopping = false;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly recalculation: RecalculationService,
    private readonly events: Events,
    private readonly delivery: JobDelivery,
    private readonly options: JobOptions = DEFAULT_JOB_OPTIONS,
  ) {}

  async start() {
    await this.delivery.start((jobId) => this.handle(jobId));
    this.sweeper = setInterval(() => void this.sweep().catch((error) => console.error('sweep failed', error)), this.options.sweepMs);
    this.sweeper.unref();
  }

  /** Stops taking work and lets running jobs finish (their leases end with them). */
  async stop() {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await this.delivery.stop();
  }

  /**
   * Queues a recalculation of the segment, or returns the one already queued (requests merge).
   * Returns at once; the run happens in the background.
   */
  async enqueue(segmentId: string, reason: string): Promise<RecalculationJob> {
    const { job, created } = await this.prisma.$transaction(async (tx) => {
      // A lock of the segment's own serialises enqueues of one segment across instances. Not the
      // segment row: a running recalculation holds that for its whole run, and a request made
      // during the run must queue the follow-up at once, not wait for (and time out behind) it.
      await lockSegmentJobs(tx, segmentId);
      const [segment] = await tx.$queryRaw<{ storeId: string }[]>`
        SELECT "storeId"::text FROM "Segment" WHERE "id" = ${segmentId}::uuid`;
      if (!segment) throw new NotFound(`Segment ${segmentId} not found.`);
      const queued = await tx.recalculationJob.findFirst({ where: { segmentId, status: 'QUEUED' } });
      if (queued) return { job: queued, created: false };
      const job = await tx.recalculationJob.create({
        data: { id: randomUUID(), segmentId, storeId: segment.storeId, status: 'QUEUED', reason },
      });
      return { job, created: true };
    });
    if (created) {
      this.publish(job, { status: 'QUEUED' });
      await this.delivery.deliver(job.id);
    }
    return job;
  }

  /** Resolves when no job is queued or running (tests, and graceful shutdown checks). */
  async drain(pollMs = 50): Promise<void> {
    for (;;) {
      const open = await this.prisma.recalculationJob.count({ where: { status: { in: ['QUEUED', 'RUNNING'] } } });
      if (!open) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  get(jobId: string) {
    return this.prisma.recalculationJob.findUnique({ where: { id: jobId } });
  }

  /** Runs a delivered job if it may run now; otherwise leaves it for later or drops a stale one. */
  private async handle(jobId: string) {
    if (this.stopping) return;
    const claim = await this.claim(jobId);
    if (claim === 'busy') return this.delivery.deliver(jobId, 1);
    if (!claim) return;
    await this.run(claim);
    // A follow-up queued during this run could not start before; hand it on now.
    const next = await this.prisma.recalculationJob.findFirst({ where: { segmentId: claim.segmentId, status: 'QUEUED' } });
    if (next) await this.delivery.deliver(next.id);
  }

  /**
   * Takes the job under a lease: a QUEUED job, or a RUNNING one whose lease lapsed (its instance
   * died). 'busy' when another run of the segment holds a live lease.
   */
  private async claim(jobId: string): Promise<RecalculationJob | 'busy' | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const job = await tx.recalculationJob.findUnique({ where: { id: jobId } });
      if (!job) return undefined;
      await lockSegmentJobs(tx, job.segmentId);
      const now = new Date();
      const current = await tx.recalculationJob.findUniqueOrThrow({ where: { id: jobId } });
      const abandoned = current.status === 'RUNNING' && current.leaseUntil !== null && current.leaseUntil < now;
      if (current.status !== 'QUEUED' && !abandoned) return undefined;
      const live = await tx.recalculationJob.findFirst({
        where: { segmentId: job.segmentId, status: 'RUNNING', leaseUntil: { gte: now }, NOT: { id: jobId } },
      });
      if (live) return 'busy';
      if (abandoned) {
        // Requests that arrived meanwhile are already covered by this rerun.
        await tx.recalculationJob.updateMany({
          where: { segmentId: job.segmentId, status: 'QUEUED', NOT: { id: jobId } },
          data: { status: 'COMPLETED', finishedAt: now, error: `merged into ${jobId}` },
        });
      }
      return tx.recalculationJob.update({
        where: { id: jobId },
        data: {
          status: 'RUNNING',
          startedAt: now,
          leaseUntil: new Date(now.getTime() + this.options.leaseMs),
          attempts: { increment: 1 },
        },
      });
    });
  }

  private async run(job: RecalculationJob) {
    // Marks the start of a run (taken-over runs start again from 0); counts follow.
    const progress = new ProgressPublisher(
      (counts) => this.publish(job, { status: 'RUNNING', ...counts }),
      this.options.progressIntervalMs ?? PROGRESS_INTERVAL_MS,
    );
    progress.start();
    // The lease renewed, with the counts so far, for as long as the run lasts.
    const lease = setInterval(() => {
      void this.prisma.recalculationJob
        .updateMany({
          where: { id: job.id, status: 'RUNNING' },
          data: { leaseUntil: new Date(Date.now() + this.options.leaseMs), ...progress.counts },
        })
        .catch(() => undefined);
    }, 1000);
    try {
      const result = await this.recalculation.recalculate(job.segmentId, {
        collectChanges: true,
        onProgress: (processed, total) => progress.report(processed, total),
      });
      // The last count goes out before COMPLETED.
      progress.finish();
      clearInterval(lease);
      await this.prisma.recalculationJob.update({
        where: { id: job.id },
        data: {
          status: 'COMPLETED',
          finishedAt: new Date(),
          leaseUntil: null,
          matched: result.matched,
          added: result.added,
          removed: result.removed,
          processed: progress.counts.total,
          total: progress.counts.total,
        },
      });
      this.publish(job, { status: 'COMPLETED', matched: result.matched, added: result.added, removed: result.removed });
      this.publishMembership(job, result.joined ?? [], result.left ?? []);
    } catch (error) {
      progress.finish();
      clearInterval(lease);
      const message = error instanceof NotFound ? error.message : 'The recalculation failed; the previous membership is kept.';
      if (!(error instanceof NotFound)) console.error(`recalculation ${job.id} failed`, error);
      await this.prisma.recalculationJob
        .update({ where: { id: job.id }, data: { status: 'FAILED', finishedAt: new Date(), leaseUntil: null, error: message } })
        .catch(() => undefined);
      this.publish(job, { status: 'FAILED', message });
    }
  }

  private publish(job: RecalculationJob, event: Partial<RecalculationEvent> & Pick<RecalculationEvent, 'status'>) {
    this.events.publish('segmentRecalculation', job.segmentId, {
      jobId: job.id,
      segmentId: job.segmentId,
      storeId: job.storeId,
      at: new Date().toISOString(),
      ...event,
    });
  }

  private publishMembership(job: RecalculationJob, joined: string[], left: string[]) {
    const size = this.options.membershipBatch;
    const batches = Math.max(1, Math.ceil(Math.max(joined.length, left.length) / size));
    if (!joined.length && !left.length) return;
    for (let batch = 0; batch < batches; batch++) {
      this.events.publish('segmentMembershipChanged', job.segmentId, {
        jobId: job.id,
        segmentId: job.segmentId,
        storeId: job.storeId,
        joined: joined.slice(batch * size, (batch + 1) * size),
        left: left.slice(batch * size, (batch + 1) * size),
        batch: batch + 1,
        batches,
      });
    }
  }

  /**
   * Each instance, every sweepMs: re-delivers queued jobs nobody took and running jobs whose
   * lease lapsed, queues dirty segments, and runs the schedule.
   */
  async sweep() {
    if (this.stopping) return;
    const now = new Date();
    const stale = await this.prisma.recalculationJob.findMany({
      where: {
        OR: [
          { status: 'QUEUED', queuedAt: { lt: new Date(now.getTime() - this.options.sweepMs) } },
          { status: 'RUNNING', leaseUntil: { lt: now } },
        ],
      },
      select: { id: true },
      take: 100,
    });
    for (const { id } of stale) await this.delivery.deliver(id);

    const dirty = await this.prisma.$queryRaw<{ id: string }[]>(Prisma.sql`
      UPDATE "Segment" SET "dirtySince" = NULL WHERE "dirtySince" IS NOT NULL AND "active" RETURNING "id"::text`);
    for (const { id } of dirty) await this.enqueue(id, 'ingest').catch(() => undefined);

    if (this.options.scheduleMs > 0 && now.getTime() - this.lastSchedule >= this.options.scheduleMs) {
      this.lastSchedule = now.getTime();
      const active = await this.prisma.segment.findMany({ where: { active: true }, select: { id: true } });
      for (const { id } of active) await this.enqueue(id, 'schedule').catch(() => undefined);
    }
  }
}

/**
 * Serialises job bookkeeping (enqueue, claim) of one segment across instances until the
 * transaction ends: a transaction-level advisory lock keyed by the segment id, which the
 * recalculation itself (holding the segment row) does not take.
 */
async function lockSegmentJobs(tx: Prisma.TransactionClient, segmentId: string) {
  await lockKey(tx, `recalculation:${segmentId.toLowerCase()}`, 'exclusive');
}

interface Counts {
  processed: number;
  total: number;
}

/**
 * A run's RUNNING events from its progress reports (DOMAIN.md section 5: counts "as often as
 * useful and at least every second"):
 * - the start (0 of 0) and the count of members (0 of total) are published at once, as is the
 *   first count after them;
 * - later counts at most once per `intervalMs`: a count arriving sooner waits for the end of the
 *   interval, and is then published as the latest count at that time (counts in between are
 *   dropped, never reordered);
 * - when nothing was published for `keepAliveMs`, the latest count is published again;
 * - finish() publishes the latest count if it was not yet, and stops: so the last RUNNING event
 *   always carries the final count, before COMPLETED or FAILED.
 */
export class ProgressPublisher {
  private latest: Counts = { processed: 0, total: 0 };
  private published: Counts | undefined;
  private lastCountAt = -Infinity;
  private trailing: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly publish: (counts: Counts) => void,
    private readonly intervalMs: number,
    private readonly keepAliveMs = KEEP_ALIVE_MS,
  ) {}

  /** The counts reported last (what the job row records). */
  get counts(): Counts {
    return this.latest;
  }

  /** The start of the run: RUNNING 0 of 0, published at once. */
  start() {
    this.emit(this.latest, false);
  }

  report(processed: number, total: number) {
    if (this.finished) return;
    this.latest = { processed, total };
    if (processed === 0) return this.emit(this.latest, false);
    if (this.trailing) return; // goes out with the pending publication
    const wait = this.lastCountAt + this.intervalMs - Date.now();
    if (wait <= 0) this.emit(this.latest, true);
    else this.trailing = setTimeout(() => this.emit(this.latest, true), wait);
  }

  finish() {
    if (this.finished) return;
    if (this.published !== this.latest) this.emit(this.latest, true);
    this.finished = true;
    clearTimeout(this.trailing);
    clearTimeout(this.keepAlive);
  }

  private emit(counts: Counts, counted: boolean) {
    if (this.finished) return;
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.published = counts;
    if (counted) this.lastCountAt = Date.now();
    this.publish(counts);
    clearTimeout(this.keepAlive);
    this.keepAlive = setTimeout(() => this.emit(this.latest, true), this.keepAliveMs);
  }
}
