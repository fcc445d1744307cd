-- SegmentMember loses its foreign keys: checking them row by row (and locking each member's row)
-- made a recalculation in which most of a store joins several times slower. The services keep
-- the integrity: removing a member or deleting a segment deletes its memberships explicitly.

-- DropForeignKey
ALTER TABLE "SegmentMember" DROP CONSTRAINT "SegmentMember_memberId_fkey";

-- DropForeignKey
ALTER TABLE "SegmentMember" DROP CONSTRAINT "SegmentMember_segmentId_fkey";
