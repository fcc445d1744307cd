-- Member aggregates without a foreign key: its check cost each imported batch a trigger call per
-- member (about half a microsecond a transaction). Removing a member deletes them.
ALTER TABLE "MemberStats" DROP CONSTRAINT "MemberStats_memberId_fkey";
