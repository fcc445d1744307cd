-- CreateTable
CREATE TABLE "Member" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "phone" TEXT,
    "gender" TEXT,
    "birthDate" DATE,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "registeredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "city" TEXT,
    "province" TEXT,
    "country" TEXT,
    "postal" TEXT,
    "loyaltyCardNumber" TEXT,
    "levelId" UUID,
    "labels" JSONB NOT NULL DEFAULT '[]',
    "customFields" JSONB NOT NULL DEFAULT '{}',
    "passwordHash" TEXT,

    CONSTRAINT "Member_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MemberTier" (
    "memberId" UUID NOT NULL,
    "tierId" UUID NOT NULL,

    CONSTRAINT "MemberTier_pkey" PRIMARY KEY ("memberId","tierId")
);

-- CreateTable
CREATE TABLE "MemberLabel" (
    "memberId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "MemberLabel_pkey" PRIMARY KEY ("memberId","key","value")
);

-- CreateTable
CREATE TABLE "MemberCustomField" (
    "memberId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "MemberCustomField_pkey" PRIMARY KEY ("memberId","key")
);

-- CreateTable
CREATE TABLE "MemberStats" (
    "memberId" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "purchaseCount" INTEGER NOT NULL DEFAULT 0,
    "sellAmount" DECIMAL(16,2) NOT NULL DEFAULT 0,
    "returnAmount" DECIMAL(16,2) NOT NULL DEFAULT 0,
    "lastPurchaseAt" TIMESTAMPTZ(3),

    CONSTRAINT "MemberStats_pkey" PRIMARY KEY ("memberId")
);

-- CreateTable
CREATE TABLE "MemberChannelStats" (
    "memberId" UUID NOT NULL,
    "channelId" UUID NOT NULL,
    "purchaseCount" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "MemberChannelStats_pkey" PRIMARY KEY ("memberId","channelId")
);

-- CreateTable
CREATE TABLE "MemberDailyAmount" (
    "memberId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "amount" DECIMAL(16,2) NOT NULL,

    CONSTRAINT "MemberDailyAmount_pkey" PRIMARY KEY ("memberId","day")
);

-- CreateTable
CREATE TABLE "Channel" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Channel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Level" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "Level_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TierSet" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "TierSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Tier" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "tierSetId" UUID,
    "name" TEXT NOT NULL,

    CONSTRAINT "Tier_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Transaction" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID,
    "documentType" TEXT NOT NULL,
    "purchasedAt" TIMESTAMPTZ(3) NOT NULL,
    "channelId" UUID,
    "grossValue" DECIMAL(14,2) NOT NULL,

    CONSTRAINT "Transaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TransactionItem" (
    "transactionId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "sku" TEXT,
    "name" TEXT,
    "quantity" DECIMAL(14,3) NOT NULL DEFAULT 1,
    "grossValue" DECIMAL(14,2) NOT NULL DEFAULT 0,
    "maker" TEXT,
    "labels" JSONB NOT NULL DEFAULT '[]',
    "skuNorm" TEXT,
    "makerNorm" TEXT,

    CONSTRAINT "TransactionItem_pkey" PRIMARY KEY ("transactionId","position")
);

-- CreateTable
CREATE TABLE "TransactionItemLabel" (
    "transactionId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "TransactionItemLabel_pkey" PRIMARY KEY ("transactionId","position","key","value")
);

-- CreateTable
CREATE TABLE "CustomEvent" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "eventDate" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CustomEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "segmentIds" UUID[],

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Reward" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "segmentIds" UUID[],

    CONSTRAINT "Reward_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Achievement" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "segmentIds" UUID[],
    "ruleIds" UUID[],

    CONSTRAINT "Achievement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Challenge" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "milestoneIds" UUID[],

    CONSTRAINT "Challenge_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CampaignCompletion" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "completedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CampaignCompletion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AchievementCompletion" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "achievementId" UUID NOT NULL,
    "completedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AchievementCompletion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AchievementProgress" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "achievementId" UUID NOT NULL,
    "ruleId" UUID NOT NULL,
    "value" DECIMAL(16,2) NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AchievementProgress_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChallengeCompletion" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "challengeId" UUID NOT NULL,
    "completedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ChallengeCompletion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MilestoneProgress" (
    "id" UUID NOT NULL,
    "storeId" UUID NOT NULL,
    "customerId" UUID NOT NULL,
    "challengeId" UUID NOT NULL,
    "milestoneId" UUID NOT NULL,
    "value" DECIMAL(16,2) NOT NULL,
    "recordedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MilestoneProgress_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentMember" (
    "segmentId" UUID NOT NULL,
    "memberId" UUID NOT NULL,
    "joinedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SegmentMember_pkey" PRIMARY KEY ("segmentId","memberId")
);

-- CreateIndex
CREATE INDEX "Member_storeId_active_idx" ON "Member"("storeId", "active");

-- CreateIndex
CREATE INDEX "Member_storeId_phone_idx" ON "Member"("storeId", "phone");

-- CreateIndex
CREATE UNIQUE INDEX "Member_storeId_email_key" ON "Member"("storeId", "email");

-- CreateIndex
CREATE UNIQUE INDEX "Member_storeId_loyaltyCardNumber_key" ON "Member"("storeId", "loyaltyCardNumber");

-- CreateIndex
CREATE INDEX "MemberTier_tierId_idx" ON "MemberTier"("tierId");

-- CreateIndex
CREATE INDEX "MemberLabel_key_value_idx" ON "MemberLabel"("key", "value");

-- CreateIndex
CREATE INDEX "MemberCustomField_key_value_idx" ON "MemberCustomField"("key", "value");

-- CreateIndex
CREATE INDEX "MemberStats_storeId_idx" ON "MemberStats"("storeId");

-- CreateIndex
CREATE INDEX "MemberChannelStats_channelId_idx" ON "MemberChannelStats"("channelId");

-- CreateIndex
CREATE INDEX "MemberDailyAmount_day_idx" ON "MemberDailyAmount"("day");

-- CreateIndex
CREATE INDEX "Channel_storeId_idx" ON "Channel"("storeId");

-- CreateIndex
CREATE INDEX "Level_storeId_idx" ON "Level"("storeId");

-- CreateIndex
CREATE INDEX "TierSet_storeId_idx" ON "TierSet"("storeId");

-- CreateIndex
CREATE INDEX "Tier_storeId_idx" ON "Tier"("storeId");

-- CreateIndex
CREATE INDEX "Transaction_storeId_customerId_purchasedAt_idx" ON "Transaction"("storeId", "customerId", "purchasedAt");

-- CreateIndex
CREATE INDEX "Transaction_storeId_purchasedAt_idx" ON "Transaction"("storeId", "purchasedAt");

-- CreateIndex
CREATE INDEX "Transaction_customerId_channelId_idx" ON "Transaction"("customerId", "channelId");

-- CreateIndex
CREATE INDEX "TransactionItem_skuNorm_idx" ON "TransactionItem"("skuNorm");

-- CreateIndex
CREATE INDEX "TransactionItem_makerNorm_idx" ON "TransactionItem"("makerNorm");

-- CreateIndex
CREATE INDEX "TransactionItemLabel_key_value_idx" ON "TransactionItemLabel"("key", "value");

-- CreateIndex
CREATE INDEX "CustomEvent_storeId_type_customerId_eventDate_idx" ON "CustomEvent"("storeId", "type", "customerId", "eventDate");

-- CreateIndex
CREATE INDEX "Campaign_storeId_idx" ON "Campaign"("storeId");

-- CreateIndex
CREATE INDEX "Reward_storeId_idx" ON "Reward"("storeId");

-- CreateIndex
CREATE INDEX "Achievement_storeId_idx" ON "Achievement"("storeId");

-- CreateIndex
CREATE INDEX "Challenge_storeId_idx" ON "Challenge"("storeId");

-- CreateIndex
CREATE INDEX "CampaignCompletion_campaignId_customerId_completedAt_idx" ON "CampaignCompletion"("campaignId", "customerId", "completedAt");

-- CreateIndex
CREATE INDEX "AchievementCompletion_achievementId_customerId_idx" ON "AchievementCompletion"("achievementId", "customerId");

-- CreateIndex
CREATE INDEX "AchievementProgress_achievementId_ruleId_customerId_recorde_idx" ON "AchievementProgress"("achievementId", "ruleId", "customerId", "recordedAt");

-- CreateIndex
CREATE INDEX "ChallengeCompletion_challengeId_customerId_idx" ON "ChallengeCompletion"("challengeId", "customerId");

-- CreateIndex
CREATE INDEX "MilestoneProgress_challengeId_milestoneId_customerId_idx" ON "MilestoneProgress"("challengeId", "milestoneId", "customerId");

-- CreateIndex
CREATE INDEX "SegmentMember_memberId_idx" ON "SegmentMember"("memberId");

-- AddForeignKey
ALTER TABLE "MemberTier" ADD CONSTRAINT "MemberTier_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MemberLabel" ADD CONSTRAINT "MemberLabel_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MemberCustomField" ADD CONSTRAINT "MemberCustomField_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MemberStats" ADD CONSTRAINT "MemberStats_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tier" ADD CONSTRAINT "Tier_tierSetId_fkey" FOREIGN KEY ("tierSetId") REFERENCES "TierSet"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TransactionItem" ADD CONSTRAINT "TransactionItem_transactionId_fkey" FOREIGN KEY ("transactionId") REFERENCES "Transaction"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentMember" ADD CONSTRAINT "SegmentMember_segmentId_fkey" FOREIGN KEY ("segmentId") REFERENCES "Segment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentMember" ADD CONSTRAINT "SegmentMember_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;
