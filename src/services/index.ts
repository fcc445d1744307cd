import type { AppConfig } from '../config.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { InProcessDelivery, type JobDelivery } from '../jobs/delivery.ts';
import { createEvents, type Events } from '../jobs/events.ts';
import { RecalculationJobs } from '../jobs/recalculation-jobs.ts';
import { AssociationService } from './association-service.ts';
import { AuthService } from './auth-service.ts';
import { IngestService } from './ingest-service.ts';
import { MemberService } from './member-service.ts';
import { RecalculationService } from './recalculation-service.ts';
import { SegmentService } from './segment-service.ts';
import { StoreService } from './store-service.ts';

export interface Services {
  auth: AuthService;
  stores: StoreService;
  segments: SegmentService;
  ingest: IngestService;
  members: MemberService;
  recalculation: RecalculationService;
  jobs: RecalculationJobs;
  events: Events;
  associations: AssociationService;
}

export interface ServiceOptions {
  /** The evaluation clock of recalculations (tests fix it); defaults to the system clock. */
  now?: () => Date;
  /** Where recalculation events go (in memory, or Redis shared by instances). */
  events?: Events;
  /** How jobs reach workers; in this process by default. */
  delivery?: JobDelivery;
}

export function createServices(prisma: PrismaClient, config: AppConfig, options: ServiceOptions = {}): Services {
  const segments = new SegmentService(prisma);
  const ingest = new IngestService(prisma);
  const recalculation = new RecalculationService(prisma, { now: options.now, chunkSize: config.recalculationChunkSize });
  const associations = new AssociationService(prisma, segments);
  segments.deleteGuard = (storeId, segmentId) => associations.targeting(storeId, segmentId);
  const events = options.events ?? createEvents();
  const jobs = new RecalculationJobs(prisma, recalculation, events, options.delivery ?? new InProcessDelivery(), {
    leaseMs: config.jobLeaseSeconds * 1000,
    sweepMs: config.jobSweepSeconds * 1000,
    scheduleMs: config.scheduleMinutes * 60_000,
    membershipBatch: 1000,
  });
  // Created active, activated, or updated while active (the service calls listeners only for
  // active segments): a recalculation is queued and the request returns at once.
  segments.onChange(async (segment, change) => {
    await jobs.enqueue(segment.id, change);
  });
  return {
    auth: new AuthService(prisma, config),
    stores: new StoreService(prisma),
    segments,
    ingest,
    members: new MemberService(prisma, ingest, segments),
    associations,
    recalculation,
    jobs,
    events,
  };
}
