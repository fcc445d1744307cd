import { randomUUID } from 'node:crypto';

/**
 * The members the recalculation-run tests (subscriptions, several instances) segment: every other
 * one a woman, each with one sell whose value cycles through 7 amounts, so that a segment of women
 * has statistics known in advance.
 */
export interface Fixture {
  id: string;
  female: boolean;
  /** The member's one sell transaction, in cents. */
  cents: number;
}

export const fixtures = (count: number): Fixture[] =>
  Array.from({ length: count }, (_, i) => ({ id: randomUUID(), female: i % 2 === 0, cents: 1000 + (i % 7) * 125 }));

/** The NDJSON records of the fixtures: each member, then each member's sell. */
export const fixtureRecords = (members: Fixture[]) => [
  ...members.map((m) => ({ kind: 'member', customerId: m.id, gender: m.female ? 'female' : 'male' })),
  ...members.map((m) => ({
    kind: 'transaction',
    transactionId: randomUUID(),
    customerId: m.id,
    documentType: 'sell',
    purchasedAt: '2024-03-01T10:00:00Z',
    grossValue: m.cents / 100,
  })),
];

/** `numerator / denominator` rounded half-up to 2 decimals (non-negative integers in, cents out). */
const ratio2 = (numerator: number, denominator: number) =>
  denominator === 0 ? 0 : Math.floor((2 * numerator * 100 + denominator) / (2 * denominator)) / 100;

/** The statistics DOMAIN.md gives a segment of exactly these fixtures. */
export function expectedStatistics(set: Fixture[]) {
  const cents = set.reduce((sum, m) => sum + m.cents, 0);
  return {
    customersCount: set.length,
    averageTransactions: ratio2(set.length, set.length),
    averageTransactionAmount: ratio2(cents / 100, set.length),
    averageClv: ratio2(cents / 100, set.length),
  };
}
