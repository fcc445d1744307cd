import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * One execution per event for all the subscribers that asked the same thing (an envelop plugin).
 *
 * GraphQL executes a subscription's selection once per event per subscriber: with 1,000 dashboards
 * watching one segment, each progress event ran the same resolvers and built the same result
 * 1,000 times. Here a subscription's source stream is created as usual (the field's `subscribe`,
 * with its authorization, per subscriber), and each event is then executed once per distinct
 * (document, operation, variables, scope) and the result handed to every such subscriber. The
 * events are the pub/sub's own objects (src/jobs/events.ts hands one object to all subscribers
 * of a topic, also through Redis), so the results hang off them in a WeakMap and go when the
 * event does.
 *
 * `scope` names what, beyond the document and variables, a result may depend on: subscribers
 * share results only within one scope (here: the viewer's stores).
 * Anything the subscription could not start with (bad variables, not found, refused) goes through
 * the original subscribe function unchanged, so errors look exactly as they did.
 */
export function useSharedSubscriptionResults<Context extends Record<string, any>>(options: { scope: (context: Context) => string }): Plugin<Context> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();

  return {
    onSubscribe({ setSubscribeFn, subscribeFn: original }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        if (!isAsyncIterable(source)) return original(args);
        let documentId = documentIds.get(args.document);
        if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
        const key = JSON.stringify([documentId, args.operationName ?? null, args.variableValues ?? null, options.scope(args.contextValue as Context)]);
        return mapStream(source, (event) => {
          const executeEvent = () => execute({ ...(args as ExecutionArgs), rootValue: event });
          if (typeof event !== 'object' || event === null) return executeEvent();
          let perKey = results.get(event);
          if (!perKey) results.set(event, (perKey = new Map()));
          let result = perKey.get(key);
          if (!result) perKey.set(key, (result = executeEvent()));
          return result;
        });
      });
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** `source` with each value mapped; returning or throwing ends the source. */
function mapStream<T, R>(source: AsyncIterable<T>, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const stream: AsyncIterableIterator<R> = {
    next: () =>
      iterator.next().then((step): IteratorResult<R> | Promise<IteratorResult<R>> => {
        if (step.done) return { value: undefined, done: true };
        const value = map(step.value);
        return value instanceof Promise ? value.then((resolved) => ({ value: resolved, done: false })) : { value, done: false };
      }),
    return: async () => {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    throw: async (error?: unknown) => {
      if (iterator.throw) await iterator.throw(error);
      else await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
