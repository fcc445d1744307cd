import type { TypedEventTarget } from '@graphql-yoga/typed-event-target';

/** What a recalculation reports while it runs (DOMAIN.md section 5). */
export interface RecalculationEvent {
  jobId: string;
  segmentId: string;
  storeId: string;
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  processed?: number;
  total?: number;
  matched?: number;
  added?: number;
  removed?: number;
  message?: string;
  at: string;
}

/** Who joined and who left a segment in one run, in batches. */
export interface MembershipChangeEvent {
  jobId: string;
  segmentId: string;
  storeId: string;
  joined: string[];
  left: string[];
  /** 1-based batch number and the number of batches of this run. */
  batch: number;
  batches: number;
}

export type PubSubChannels = {
  segmentRecalculation: [segmentId: string, event: RecalculationEvent];
  segmentMembershipChanged: [segmentId: string, event: MembershipChangeEvent];
};

type Channel = keyof PubSubChannels;

/** One subscriber's events, in the order published; `return()` (or `break` in for-await) ends it. */
export interface EventStream<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
}

/**
 * The pub/sub behind subscriptions: in memory on one instance, or through Redis
 * (@graphql-yoga/redis-event-target) so events published on one instance reach every instance.
 *
 * The same topics (`channel:id`) and event shape (a CustomEvent whose `detail` is the event) as
 * graphql-yoga's createPubSub, so instances of either kind talk over one Redis. What differs is the
 * fan-out, built for one event reaching many subscribers of a segment: one listener per topic on
 * the event target (however many subscribers), which hands the one event object (parsed once when
 * it came through Redis) to a plain queue per subscriber. Subscribers thus all see the same
 * object, which lets the GraphQL layer execute an event once for all of them (see
 * src/graphql/shared-subscription-results.ts).
 */
export function createEvents(eventTarget?: TypedEventTarget<CustomEvent>) {
  const target = (eventTarget ?? new EventTarget()) as EventTarget;
  const topics = new Map<string, { listener: (event: Event) => void; queues: Set<(value: unknown) => void> }>();

  function subscribeTopic(topic: string, push: (value: unknown) => void) {
    let entry = topics.get(topic);
    if (!entry) {
      const queues = new Set<(value: unknown) => void>();
      const listener = (event: Event) => {
        const detail = (event as CustomEvent).detail;
        for (const deliver of queues) deliver(detail);
      };
      entry = { listener, queues };
      topics.set(topic, entry);
      target.addEventListener(topic, listener);
    }
    entry.queues.add(push);
    return () => {
      const current = topics.get(topic);
      if (!current?.queues.delete(push) || current.queues.size) return;
      topics.delete(topic);
      target.removeEventListener(topic, current.listener);
    };
  }

  return {
    /** Publishes an event to every subscriber of the channel's id (on every instance, with Redis). */
    publish<C extends Channel>(channel: C, id: PubSubChannels[C][0], event: PubSubChannels[C][1]): void {
      target.dispatchEvent(new CustomEvent(`${channel}:${id}`, { detail: event }));
    },
    /** The events published from now on to the channel's id, until the stream is returned. */
    subscribe<C extends Channel>(channel: C, id: PubSubChannels[C][0]): EventStream<PubSubChannels[C][1]> {
      return eventStream<PubSubChannels[C][1]>((push) => subscribeTopic(`${channel}:${id}`, push as (value: unknown) => void));
    },
  };
}

/** A queue fed by `attach`'s push until returned: no buffer limit, no extra promise per event when the consumer is behind. */
function eventStream<T>(attach: (push: (value: T) => void) => () => void): EventStream<T> {
  let queue: T[] = [];
  let head = 0;
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  const detach = attach((value) => {
    if (done) return;
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value, done: false });
    } else queue.push(value);
  });
  const finish = (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      detach();
      queue = [];
      head = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  const stream: EventStream<T> = {
    next() {
      if (head < queue.length) {
        const value = queue[head++];
        if (head === queue.length) {
          queue = [];
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw: (error?: unknown) => finish().then(() => Promise.reject(error)),
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}

export type Events = ReturnType<typeof createEvents>;
