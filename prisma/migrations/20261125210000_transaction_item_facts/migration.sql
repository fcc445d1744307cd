-- Item facts the criteria read move onto the Transaction row (one row per transaction instead of
-- one per transaction, item and item label): normalised SKUs, makers and labels as arrays with
-- GIN indexes, and the items as imported as one JSON column. TransactionItem and
-- TransactionItemLabel are dropped once their rows are moved here.

-- DropIndex: recomputing a member's aggregates now reads (storeId, customerId, purchasedAt).
DROP INDEX "Transaction_customerId_channelId_idx";

-- AlterTable
ALTER TABLE "Transaction" ADD COLUMN     "itemLabels" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "items" JSON NOT NULL DEFAULT '[]',
ADD COLUMN     "makers" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "skus" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Existing items: their normalised SKUs and makers, and their details in position order.
UPDATE "Transaction" t
SET "skus" = f."skus", "makers" = f."makers", "items" = f."items"
FROM (
  SELECT i."transactionId",
         COALESCE(array_agg(DISTINCT i."skuNorm") FILTER (WHERE i."skuNorm" IS NOT NULL), ARRAY[]::TEXT[]) AS "skus",
         COALESCE(array_agg(DISTINCT i."makerNorm") FILTER (WHERE i."makerNorm" IS NOT NULL), ARRAY[]::TEXT[]) AS "makers",
         json_agg(json_build_object('sku', i."sku", 'name', i."name", 'quantity', i."quantity", 'grossValue', i."grossValue",
                                    'maker', i."maker", 'labels', i."labels") ORDER BY i."position") AS "items"
  FROM "TransactionItem" i
  GROUP BY i."transactionId"
) f
WHERE f."transactionId" = t."id";

-- Existing item labels (already normalised): distinct `["key","value"]` texts per transaction.
UPDATE "Transaction" t
SET "itemLabels" = l."itemLabels"
FROM (
  SELECT "transactionId", array_agg(DISTINCT to_json(ARRAY["key", "value"])::text) AS "itemLabels"
  FROM "TransactionItemLabel"
  GROUP BY "transactionId"
) l
WHERE l."transactionId" = t."id";

-- DropTable
DROP TABLE "TransactionItemLabel";

-- DropTable
DROP TABLE "TransactionItem";

-- CreateIndex
CREATE INDEX "Transaction_skus_idx" ON "Transaction" USING GIN ("skus");

-- CreateIndex
CREATE INDEX "Transaction_makers_idx" ON "Transaction" USING GIN ("makers");

-- CreateIndex
CREATE INDEX "Transaction_itemLabels_idx" ON "Transaction" USING GIN ("itemLabels");
