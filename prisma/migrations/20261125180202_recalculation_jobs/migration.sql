-- AlterTable
ALTER TABLE "Segment" ADD COLUMN     "dirtySince" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "RecalculationJob" (
    "id" UUID NOT NULL,
    "segmentId" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "queuedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "leaseUntil" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "matched" INTEGER,
    "added" INTEGER,
    "removed" INTEGER,
    "error" TEXT,

    CONSTRAINT "RecalculationJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RecalculationJob_segmentId_status_idx" ON "RecalculationJob"("segmentId", "status");

-- CreateIndex
CREATE INDEX "RecalculationJob_status_queuedAt_idx" ON "RecalculationJob"("status", "queuedAt");
