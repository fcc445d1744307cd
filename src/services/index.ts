import type { AppConfig } from '../config.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { AuthService } from './auth-service.ts';
import { IngestService } from './ingest-service.ts';
import { MemberService } from './member-service.ts';
import { SegmentService } from './segment-service.ts';
import { StoreService } from './store-service.ts';

export interface Services {
  auth: AuthService;
  stores: StoreService;
  segments: SegmentService;
  ingest: IngestService;
  members: MemberService;
}

export function createServices(prisma: PrismaClient, config: AppConfig): Services {
  const segments = new SegmentService(prisma);
  const ingest = new IngestService(prisma);
  return {
    auth: new AuthService(prisma, config),
    stores: new StoreService(prisma),
    segments,
    ingest,
    members: new MemberService(prisma, ingest, segments),
  };
}
