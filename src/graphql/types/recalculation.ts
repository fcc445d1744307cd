import { NotFound } from '../../errors.ts';
import type { RecalculationJob, Segment } from '../../generated/prisma/client.ts';
import type { MembershipChangeEvent, RecalculationEvent } from '../../jobs/events.ts';
import { requireAdmin } from '../../services/store-service.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { SegmentType } from './segment.ts';

/** Background recalculation: jobs, and the subscriptions dashboards watch (DOMAIN.md section 5). */

const RecalculationStatus = builder.enumType('RecalculationStatus', {
  values: ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED'] as const,
});

const JobType = builder.objectRef<RecalculationJob>('RecalculationJob').implement({
  description: 'One queued or finished recalculation of a segment.',
  fields: (t) => ({
    id: t.exposeID('id'),
    segmentId: t.exposeID('segmentId'),
    status: t.field({ type: RecalculationStatus, resolve: (job) => job.status as never }),
    reason: t.exposeString('reason', { description: 'request, created, activated, updated, schedule or ingest.' }),
    queuedAt: t.expose('queuedAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    processed: t.exposeInt('processed'),
    total: t.exposeInt('total'),
    matched: t.exposeInt('matched', { nullable: true }),
    added: t.exposeInt('added', { nullable: true }),
    removed: t.exposeInt('removed', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
  }),
});

const completedSegments = new WeakMap<RecalculationEvent, Promise<Segment | null>>();

const ProgressType = builder.objectRef<RecalculationEvent>('RecalculationProgress').implement({
  description: 'QUEUED, RUNNING (with processed/total, at least once a second), then COMPLETED or FAILED.',
  fields: (t) => ({
    jobId: t.exposeID('jobId'),
    segmentId: t.exposeID('segmentId'),
    status: t.field({ type: RecalculationStatus, resolve: (event) => event.status }),
    processed: t.exposeInt('processed', { nullable: true, description: 'Members evaluated so far (RUNNING).' }),
    total: t.exposeInt('total', { nullable: true, description: 'Members to evaluate (RUNNING).' }),
    matched: t.exposeInt('matched', { nullable: true, description: 'Members in the segment now (COMPLETED).' }),
    added: t.exposeInt('added', { nullable: true }),
    removed: t.exposeInt('removed', { nullable: true }),
    message: t.exposeString('message', { nullable: true, description: 'Why it failed (FAILED).' }),
    at: t.string({ resolve: (event) => event.at }),
    segment: t.field({
      type: SegmentType,
      nullable: true,
      description: 'The segment with its new statistics (COMPLETED).',
      // One event reaches every subscriber as the same object: read the segment once for all.
      resolve: (event, _, ctx) => {
        if (event.status !== 'COMPLETED') return null;
        let segment = completedSegments.get(event);
        if (!segment) {
          segment = ctx.prisma.segment.findUnique({ where: { id: event.segmentId } });
          completedSegments.set(event, segment);
        }
        return segment;
      },
    }),
  }),
});

const MembershipChangeType = builder.objectRef<MembershipChangeEvent>('MembershipChange').implement({
  description: 'Who joined and who left a segment in one run; large changes arrive in several batches.',
  fields: (t) => ({
    jobId: t.exposeID('jobId'),
    segmentId: t.exposeID('segmentId'),
    joined: t.exposeIDList('joined'),
    left: t.exposeIDList('left'),
    batch: t.exposeInt('batch'),
    batches: t.exposeInt('batches'),
  }),
});

/** The segment must exist in a store the caller may manage (else not found / forbidden). */
async function visibleSegment(ctx: Context, segmentId: string) {
  const admin = requireAdmin(ctx.viewer);
  const segment = await ctx.services.segments.find(segmentId);
  if (!segment) throw new NotFound(`Segment ${segmentId} not found.`);
  if (!admin.allStores && !admin.storeIds.has(segment.storeId)) throw new NotFound(`Segment ${segmentId} not found.`);
  return segment;
}

builder.mutationFields((t) => ({
  recalculateSegment: t.field({
    type: JobType,
    errors: { types: [NotFound], directResult: true },
    description: 'Queues a recalculation and returns at once; a request during a run merges into one follow-up.',
    args: { storeCode: t.arg.string({ required: true }), segmentId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => {
      const store = await ctx.services.stores.requireManaged(ctx.viewer, args.storeCode);
      const segment = await ctx.services.segments.get(store, String(args.segmentId));
      return ctx.services.jobs.enqueue(segment.id, 'request');
    },
  }),
}));

builder.queryFields((t) => ({
  recalculationJob: t.field({
    type: JobType,
    errors: { types: [NotFound], directResult: true },
    args: { jobId: t.arg.id({ required: true }) },
    resolve: async (_, args, ctx) => {
      const job = await ctx.services.jobs.get(String(args.jobId)).catch(() => null);
      if (!job) throw new NotFound(`Job ${args.jobId} not found.`);
      await visibleSegment(ctx, job.segmentId);
      return job;
    },
  }),
}));

builder.subscriptionType({});
builder.subscriptionFields((t) => ({
  segmentRecalculation: t.field({
    type: ProgressType,
    description: 'Progress of every recalculation of the segment, as it happens.',
    args: { segmentId: t.arg.id({ required: true }) },
    subscribe: async (_, args, ctx) => {
      const segment = await visibleSegment(ctx, String(args.segmentId));
      return ctx.events.subscribe('segmentRecalculation', segment.id);
    },
    resolve: (event) => event,
  }),
  segmentMembershipChanged: t.field({
    type: MembershipChangeType,
    description: 'Who joined and who left after each recalculation, in batches.',
    args: { segmentId: t.arg.id({ required: true }) },
    subscribe: async (_, args, ctx) => {
      const segment = await visibleSegment(ctx, String(args.segmentId));
      return ctx.events.subscribe('segmentMembershipChanged', segment.id);
    },
    resolve: (event) => event,
  }),
}));
