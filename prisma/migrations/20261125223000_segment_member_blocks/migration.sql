-- Segment memberships in blocks of members (src/services/memberships.ts): a row per segment and
-- hash block of member ids instead of a row per member.
CREATE TABLE "SegmentMemberBlock" (
    "segmentId" UUID NOT NULL,
    "block" INTEGER NOT NULL,
    "memberIds" UUID[],
    "joinedAt" TIMESTAMPTZ(3)[],
    "checksum" BIGINT NOT NULL,

    CONSTRAINT "SegmentMemberBlock_pkey" PRIMARY KEY ("segmentId","block")
);

-- Random uuids do not compress: do not try when a large segment's block exceeds the inline size.
ALTER TABLE "SegmentMemberBlock" ALTER COLUMN "memberIds" SET STORAGE EXTERNAL, ALTER COLUMN "joinedAt" SET STORAGE EXTERNAL;

-- The same block and checksum formulas as blockOf and memberChecksum in src/services/memberships.ts.
INSERT INTO "SegmentMemberBlock" ("segmentId", "block", "memberIds", "joinedAt", "checksum")
SELECT "segmentId", uuid_hash("memberId") & 16383, array_agg("memberId"), array_agg("joinedAt"), bit_xor(uuid_hash_extended("memberId", 1))
FROM "SegmentMember" GROUP BY 1, 2;

DROP TABLE "SegmentMember";
