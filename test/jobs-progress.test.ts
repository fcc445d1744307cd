import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressPublisher } from '../src/jobs/recalculation-jobs.ts';

/**
 * How a run's progress reports become RUNNING events (DOMAIN.md section 5: "as often as useful
 * and at least every second"). Fake timers: the clock only moves when the test moves it.
 */
describe('ProgressPublisher', () => {
  let published: [number, number][];
  let progress: ProgressPublisher;
  const INTERVAL = 250;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    published = [];
    progress = new ProgressPublisher((counts) => published.push([counts.processed, counts.total]), INTERVAL, 1000);
  });
  afterEach(() => {
    progress.finish();
    vi.useRealTimers();
  });

  it('publishes the start, the count of members and the first chunk at once', () => {
    progress.start();
    progress.report(0, 1000);
    progress.report(10, 1000);
    expect(published).toEqual([[0, 0], [0, 1000], [10, 1000]]);
  });

  it('coalesces counts to one per interval, the latest at the end of the interval, in order', () => {
    progress.start();
    progress.report(0, 1000);
    progress.report(10, 1000);
    for (let processed = 20; processed <= 100; processed += 10) {
      vi.advanceTimersByTime(20);
      progress.report(processed, 1000);
    }
    // 180 ms after the first chunk: nothing more yet.
    expect(published).toEqual([[0, 0], [0, 1000], [10, 1000]]);
    vi.advanceTimersByTime(70);
    expect(published.at(-1)).toEqual([100, 1000]);
    expect(published).toHaveLength(4);
    // A report after a quiet interval goes out at once.
    vi.advanceTimersByTime(INTERVAL);
    progress.report(110, 1000);
    expect(published.at(-1)).toEqual([110, 1000]);
    const counts = published.map(([processed]) => processed);
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
  });

  it('over a long run, publishes at most one count per interval (plus the start) and never stays silent a second', () => {
    progress.start();
    progress.report(0, 100_000);
    const times: number[] = [];
    const start = Date.now();
    let last = published.length;
    for (let processed = 100; processed <= 100_000; processed += 100) {
      vi.advanceTimersByTime(5); // a chunk every 5 ms: 200 per second
      progress.report(processed, 100_000);
      if (published.length !== last) {
        times.push(Date.now() - start);
        last = published.length;
      }
    }
    progress.finish();
    // 5 s of reports: 1000 chunks, about 20 events.
    expect(published.length).toBeLessThanOrEqual(2 + 5000 / INTERVAL + 2);
    expect(published.at(-1)).toEqual([100_000, 100_000]);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(INTERVAL);
  });

  it('republishes the latest count when nothing was published for a second (a slow chunk)', () => {
    progress.start();
    progress.report(0, 1000);
    progress.report(10, 1000);
    vi.advanceTimersByTime(999);
    expect(published).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(published).toEqual([[0, 0], [0, 1000], [10, 1000], [10, 1000]]);
    vi.advanceTimersByTime(1000);
    expect(published).toHaveLength(5);
  });

  it('finish() publishes a held-back final count before the caller publishes COMPLETED, then stays silent', () => {
    progress.start();
    progress.report(0, 1000);
    progress.report(500, 1000);
    progress.report(1000, 1000); // held back: the interval since 500 has not passed
    expect(published.at(-1)).toEqual([500, 1000]);
    progress.finish();
    expect(published.at(-1)).toEqual([1000, 1000]);
    const count = published.length;
    vi.advanceTimersByTime(10_000);
    progress.report(1000, 1000);
    expect(published).toHaveLength(count);
  });

  it('finish() does not repeat a final count already published', () => {
    progress.start();
    progress.report(0, 1000);
    progress.report(1000, 1000);
    progress.finish();
    expect(published).toEqual([[0, 0], [0, 1000], [1000, 1000]]);
  });
});
