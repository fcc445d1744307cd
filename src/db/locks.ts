/**
 * Transaction-scoped advisory locks on text keys ("what:id"), the one way the services order
 * writers that row locks alone cannot: held until the transaction ends, shared by writers that
 * may overlap, exclusive for the one that must be alone.
 */
export type LockMode = 'shared' | 'exclusive';

/** The statement that takes the lock; its key is the parameter $1. */
export const advisoryLockSql = (mode: LockMode) =>
  `SELECT pg_advisory_xact_lock${mode === 'shared' ? '_shared' : ''}(hashtextextended($1::text, 0))::text`;

/** Takes the lock on `key` in the transaction of `tx` (a Prisma transaction client). */
export async function lockKey(tx: { $queryRawUnsafe(sql: string, ...values: unknown[]): Promise<unknown> }, key: string, mode: LockMode) {
  await tx.$queryRawUnsafe(advisoryLockSql(mode), key);
}
