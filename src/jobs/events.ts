import { setMaxListeners } from 'node:events';
import { createPubSub } from 'graphql-yoga';
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

/**
 * The pub/sub behind subscriptions: in memory on one instance, or through Redis
 * (@graphql-yoga/redis-event-target) so events published on one instance reach every instance.
 */
export function createEvents(eventTarget?: TypedEventTarget<CustomEvent>) {
  // In memory: one listener per subscription on one EventTarget; Node warns of a leak past 10
  // listeners of one event type, i.e. past 10 subscribers of one segment. They are not a leak.
  const target = eventTarget ?? new EventTarget();
  if (!eventTarget) setMaxListeners(0, target);
  return createPubSub<PubSubChannels>({ eventTarget: target as never });
}

export type Events = ReturnType<typeof createEvents>;
