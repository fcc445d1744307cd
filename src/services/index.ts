import type { AppConfig } from '../config.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { AuthService } from './auth-service.ts';
import { SegmentService } from './segment-service.ts';
import { StoreService } from './store-service.ts';

export interface Services {
  auth: AuthService;
  stores: StoreService;
  segments: SegmentService;
}

export function createServices(prisma: PrismaClient, config: AppConfig): Services {
  return {
    auth: new AuthService(prisma, config),
    stores: new StoreService(prisma),
    segments: new SegmentService(prisma),
  };
}
