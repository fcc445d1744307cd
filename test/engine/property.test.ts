import { afterAll, beforeAll, expect, it } from 'vitest';
import { criterionTypes } from '../../src/criteria/definitions.ts';
import type { Database } from '../../src/db/database.ts';
import { describeEachDatabase, freshDatabase } from '../support/databases.ts';
import { CLOCKS, Rng, TIME_ZONES, randomCriterion, randomSegment, randomWorld } from './random-data.ts';
import { Scenario } from './support.ts';

/**
 * Property: for random segments over random data, the member set the compiled SQL returns equals
 * the set the plain-TypeScript reference evaluator of DOMAIN.md computes. Deterministic: each
 * dataset comes from a fixed seed, and a failure names the seed, the clock, the zone and the
 * criterion.
 */

const SEEDS = Array.from({ length: 16 }, (_, i) => 1000 + i);
const MEMBERS = 40;
const SEGMENTS_PER_SEED = 25;

/** Per criterion type: how often it matched nobody, some, and every active member. */
const outcomes = new Map<string, { none: number; some: number; all: number }>();

describeEachDatabase('engine property: SQL equals the reference evaluator', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await freshDatabase(kind);
  });
  afterAll(() => database?.close());

  for (const seed of SEEDS) {
    it(`random data and segments, seed ${seed}`, async () => {
      const rng = new Rng(seed);
      const scenario = new Scenario(database, TIME_ZONES[seed % TIME_ZONES.length], `p${seed}${kind}`);
      const world = randomWorld(rng, scenario, MEMBERS, CLOCKS[seed % CLOCKS.length]);
      await scenario.load();
      const activeCount = scenario.records.filter((r) => r.kind === 'member' && r.active !== false).length;
      const where = `seed ${seed}, now ${world.now}, zone ${world.timezone}`;

      // Every criterion type alone, three times, then random segments.
      for (const type of [...criterionTypes, ...criterionTypes, ...criterionTypes]) {
        const raw = randomCriterion(world, type);
        const parts = [{ criteria: [scenario.criterion(raw)] }];
        const sql = await scenario.sqlNames(parts, world.now);
        expect(sql, `${where}: ${JSON.stringify(raw)}`).toEqual(scenario.referenceNames(parts, world.now));
        const tally = outcomes.get(type) ?? { none: 0, some: 0, all: 0 };
        if (sql.length === 0) tally.none++;
        else if (sql.length === activeCount) tally.all++;
        else tally.some++;
        outcomes.set(type, tally);
      }
      for (let i = 0; i < SEGMENTS_PER_SEED; i++) {
        const raw = randomSegment(world);
        const parts = raw.map((criteria) => ({ criteria: criteria.map((c) => scenario.criterion(c)) }));
        expect(await scenario.sqlNames(parts, world.now), `${where}: ${JSON.stringify(raw)}`).toEqual(
          scenario.referenceNames(parts, world.now),
        );
      }
    });
  }

  it('the random criteria were not vacuous: every type matched some members and not others', () => {
    if (process.env.ENGINE_DEBUG) console.log(JSON.stringify(Object.fromEntries(outcomes)));
    const vacuous = criterionTypes.filter((type) => !outcomes.get(type)?.some);
    expect(vacuous, JSON.stringify(Object.fromEntries(outcomes))).toEqual([]);
  });
});
