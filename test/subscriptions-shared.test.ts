import { GraphQLError, GraphQLID, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, type ExecutionResult } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { createEvents, type RecalculationEvent } from '../src/jobs/events.ts';
import { useSharedSubscriptionResults } from '../src/graphql/shared-subscription-results.ts';

/**
 * The subscription fan-out's parts without a server: the pub/sub (one event object to every
 * subscriber, in order) and the envelop plugin executing each event once per distinct
 * document, variables and scope.
 */

const event = (processed: number, segmentId = 's1'): RecalculationEvent => ({
  jobId: 'j1', segmentId, storeId: 'st', status: 'RUNNING', processed, total: 10, at: new Date(0).toISOString(),
});

describe('events', () => {
  it('hands every subscriber of a topic the same event object, in the order published, until it returns', async () => {
    const events = createEvents();
    const a = events.subscribe('segmentRecalculation', 's1');
    const b = events.subscribe('segmentRecalculation', 's1');
    const other = events.subscribe('segmentRecalculation', 's2');
    const published = [event(1), event(2), event(3)];
    for (const e of published) events.publish('segmentRecalculation', 's1', e);
    events.publish('segmentRecalculation', 's2', event(9, 's2'));
    for (const stream of [a, b]) {
      for (const e of published) expect((await stream.next()).value).toBe(e);
    }
    expect((await other.next()).value).toMatchObject({ processed: 9, segmentId: 's2' });

    // A consumer waiting before the publish gets it too; after return() nothing more arrives.
    const waiting = a.next();
    events.publish('segmentRecalculation', 's1', event(4));
    expect((await waiting).value).toMatchObject({ processed: 4 });
    expect(await a.return()).toEqual({ value: undefined, done: true });
    events.publish('segmentRecalculation', 's1', event(5));
    expect(await a.next()).toEqual({ value: undefined, done: true });
    expect((await b.next()).value).toMatchObject({ processed: 4 });
    expect((await b.next()).value).toMatchObject({ processed: 5 });

    // for-await and break end a subscription like return() does.
    const c = events.subscribe('segmentRecalculation', 's1');
    events.publish('segmentRecalculation', 's1', event(6));
    for await (const e of c) {
      expect(e.processed).toBe(6);
      break;
    }
    expect(await c.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers to subscribers of a topic that earlier ones left (the listener comes and goes with them)', async () => {
    const events = createEvents();
    const first = events.subscribe('segmentRecalculation', 's1');
    await first.return();
    const second = events.subscribe('segmentRecalculation', 's1');
    events.publish('segmentRecalculation', 's1', event(1));
    expect((await second.next()).value).toMatchObject({ processed: 1 });
  });
});

describe('useSharedSubscriptionResults', () => {
  function setup() {
    const events = createEvents();
    const executions: string[] = [];
    const Progress = new GraphQLObjectType<RecalculationEvent, { scope: string }>({
      name: 'Progress',
      fields: {
        processed: { type: GraphQLInt },
        label: {
          type: GraphQLString,
          args: { prefix: { type: GraphQLString } },
          resolve: (e, args, ctx) => {
            executions.push(`${ctx.scope}:${args.prefix}:${e.processed}`);
            return `${args.prefix ?? ''}${e.processed}`;
          },
        },
      },
    });
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType<unknown, { scope: string }>({
        name: 'Subscription',
        fields: {
          progress: {
            type: Progress,
            args: { segmentId: { type: new GraphQLNonNull(GraphQLID) } },
            subscribe: (_, args: { segmentId: string }, ctx) => {
              if (args.segmentId === 'forbidden') throw new GraphQLError(`Segment ${args.segmentId} not found.`);
              return events.subscribe('segmentRecalculation', args.segmentId);
            },
            resolve: (e) => e,
          },
        },
      }),
    });
    const yoga = createYoga<{ scope: string }>({ schema, plugins: [useSharedSubscriptionResults<{ scope: string }>({ scope: (ctx) => ctx.scope })] });
    async function subscribe(query: string, variables: Record<string, unknown>, scope = 'all') {
      const { parse, subscribe, contextFactory, schema } = yoga.getEnveloped({ scope });
      const result = await subscribe({ schema, document: parse(query), variableValues: variables, contextValue: await contextFactory() });
      return result as AsyncIterableIterator<ExecutionResult> | ExecutionResult;
    }
    return { events, executions, subscribe };
  }

  const QUERY = 'subscription($id: ID!, $prefix: String) { progress(segmentId: $id) { processed label(prefix: $prefix) } }';

  it('executes an event once for all subscribers with the same document, variables and scope; apart otherwise', async () => {
    const { events, executions, subscribe } = setup();
    const same = await Promise.all([1, 2, 3].map(() => subscribe(QUERY, { id: 's1', prefix: '#' })));
    const otherVariables = await subscribe(QUERY, { id: 's1', prefix: '>' });
    const otherScope = await subscribe(QUERY, { id: 's1', prefix: '#' }, 'store-2');
    const streams = [...same, otherVariables, otherScope] as AsyncIterableIterator<ExecutionResult>[];
    for (const stream of streams) expect(Symbol.asyncIterator in stream).toBe(true);

    events.publish('segmentRecalculation', 's1', event(1));
    events.publish('segmentRecalculation', 's1', event(2));
    const received = await Promise.all(streams.map(async (stream) => [(await stream.next()).value, (await stream.next()).value]));
    for (const results of received.slice(0, 3)) {
      expect(results).toEqual([{ data: { progress: { processed: 1, label: '#1' } } }, { data: { progress: { processed: 2, label: '#2' } } }]);
    }
    expect(received[3]).toEqual([{ data: { progress: { processed: 1, label: '>1' } } }, { data: { progress: { processed: 2, label: '>2' } } }]);
    expect(received[4]).toEqual(received[0]);
    // Three distinct (variables, scope) pairs, two events: six executions, not ten.
    expect(executions.sort()).toEqual(['all:#:1', 'all:#:2', 'all:>:1', 'all:>:2', 'store-2:#:1', 'store-2:#:2']);
    for (const stream of streams) await stream.return?.();
  });

  it('a subscription that cannot start answers with the errors it did before', async () => {
    const { subscribe } = setup();
    const refused = (await subscribe(QUERY, { id: 'forbidden' })) as ExecutionResult;
    expect(refused.errors?.map((error) => error.message)).toEqual(['Segment forbidden not found.']);
    const badVariables = (await subscribe(QUERY, { prefix: 1 })) as ExecutionResult;
    expect(badVariables.errors?.length).toBeGreaterThan(0);
  });

  it('returning a subscription ends its source: later events reach only the others', async () => {
    const { events, executions, subscribe } = setup();
    const [a, b] = (await Promise.all([subscribe(QUERY, { id: 's1' }), subscribe(QUERY, { id: 's1' })])) as AsyncIterableIterator<ExecutionResult>[];
    await a.return?.();
    events.publish('segmentRecalculation', 's1', event(7));
    expect((await b.next()).value).toEqual({ data: { progress: { processed: 7, label: '7' } } });
    expect(await a.next()).toMatchObject({ done: true });
    expect(executions).toEqual(['all:undefined:7']);
    await b.return?.();
  });
});
