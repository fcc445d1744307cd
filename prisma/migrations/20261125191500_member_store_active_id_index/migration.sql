-- DropIndex
DROP INDEX "Member_storeId_active_idx";

-- CreateIndex
CREATE INDEX "Member_storeId_active_id_idx" ON "Member"("storeId", "active", "id");

