import PgBoss from 'pg-boss';

/**
 * How job ids reach a worker. Which job may run, and when, is decided by RecalculationJobs
 * against the RecalculationJob table; delivery only carries ids (at least once).
 */
export interface JobDelivery {
  start(handler: (jobId: string) => Promise<void>): Promise<void>;
  deliver(jobId: string, delaySeconds?: number): Promise<void>;
  /** Stops taking work and waits for the jobs in hand. */
  stop(): Promise<void>;
}

/** The embedded default: one process, no Redis, no second process. */
export class InProcessDelivery implements JobDelivery {
  private handler?: (jobId: string) => Promise<void>;
  private readonly waiting: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly concurrency = 2) {}

  async start(handler: (jobId: string) => Promise<void>) {
    this.handler = handler;
    this.pump();
  }

  async deliver(jobId: string, delaySeconds = 0) {
    if (this.stopped) return;
    if (delaySeconds > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.deliver(jobId);
      }, delaySeconds * 1000);
      this.timers.add(timer);
      return;
    }
    if (!this.waiting.includes(jobId)) this.waiting.push(jobId);
    this.pump();
  }

  private pump() {
    while (this.handler && !this.stopped && this.running < this.concurrency && this.waiting.length) {
      const jobId = this.waiting.shift()!;
      this.running++;
      void this.handler(jobId)
        .catch((error) => console.error('recalculation job failed to run', jobId, error))
        .finally(() => {
          this.running--;
          this.pump();
          if (!this.running && !this.waiting.length) this.idleWaiters.splice(0).forEach((resolve) => resolve());
        });
    }
  }

  /** Resolves when nothing is running or waiting (delayed deliveries aside). */
  idle(): Promise<void> {
    if (!this.running && !this.waiting.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop() {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.waiting.length = 0;
    await this.idle();
  }
}

const QUEUE = 'segment-recalculation';

/**
 * Several instances on PostgreSQL: pg-boss carries job ids to whichever instance polls first
 * and retries deliveries whose worker died. Per-segment exclusion and merging stay in the
 * RecalculationJob table: pg-boss's `stately` policy would stall the whole queue behind a
 * follow-up waiting for its segment's run (its fetch fails on the unique index).
 */
export class PgBossDelivery implements JobDelivery {
  private readonly boss: PgBoss;
  private ready?: Promise<void>;

  constructor(connectionString: string) {
    this.boss = new PgBoss({ connectionString, schema: 'pgboss', max: 4 });
    this.boss.on('error', (error) => console.error('pg-boss:', error.message));
  }

  /**
   * Opens pg-boss and makes sure the queue exists, once. Also on an instance that runs no jobs
   * (RUN_JOBS=false): it still delivers the jobs its requests queue, and pg-boss sends nothing
   * before start() (its send fails on the unopened pool).
   */
  private open(): Promise<void> {
    this.ready ??= (async () => {
      await this.boss.start();
      if (!(await this.boss.getQueue(QUEUE)))
        await this.boss.createQueue(QUEUE, { name: QUEUE, retryLimit: 5, retryDelay: 2, expireInSeconds: 15 * 60 }).catch(() => undefined);
    })().catch((error) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async start(handler: (jobId: string) => Promise<void>) {
    await this.open();
    await this.boss.work<{ jobId: string }>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      await handler(job.data.jobId);
    });
  }

  async deliver(jobId: string, delaySeconds = 0) {
    await this.open();
    await this.boss.send(QUEUE, { jobId }, delaySeconds > 0 ? { startAfter: delaySeconds } : {});
  }

  async stop() {
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 });
  }
}
