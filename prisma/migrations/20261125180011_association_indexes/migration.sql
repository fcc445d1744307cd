/*
  Warnings:

  - You are about to drop the column `blockedUntil` on the `LoginThrottle` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "LoginThrottle" DROP COLUMN "blockedUntil";

-- CreateIndex
CREATE INDEX "Achievement_segmentIds_idx" ON "Achievement" USING GIN ("segmentIds");

-- CreateIndex
CREATE INDEX "Campaign_segmentIds_idx" ON "Campaign" USING GIN ("segmentIds");

-- CreateIndex
CREATE INDEX "Reward_segmentIds_idx" ON "Reward" USING GIN ("segmentIds");
