import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError } from 'graphql';
import { AccessError, NotFound } from '../errors.ts';

/**
 * graphql-armor rules, added one by one with limits that fit this schema: the REST documents
 * (which select every criterion type's parameters) and GraphiQL's introspection must pass.
 */
export const ARMOR_LIMITS = { aliases: 20, directives: 20, depth: 12, tokens: 2500, cost: 20_000 };

const LIMIT_CODE = 'QUERY_LIMIT_EXCEEDED';

/** Marks an armor rejection as the client's fault: HTTP 400 whatever the Accept header. */
const onReject = [
  (_context: unknown, error: GraphQLError) => {
    Object.assign(error.extensions, { code: LIMIT_CODE, http: { status: 400 } });
  },
];

export function armorPlugins() {
  return [
    maxAliasesPlugin({ n: ARMOR_LIMITS.aliases, onReject }),
    maxDirectivesPlugin({ n: ARMOR_LIMITS.directives, onReject }),
    maxDepthPlugin({ n: ARMOR_LIMITS.depth, ignoreIntrospection: true, flattenFragments: true, onReject }),
    maxTokensPlugin({ n: ARMOR_LIMITS.tokens, onReject }),
    costLimitPlugin({ maxCost: ARMOR_LIMITS.cost, ignoreIntrospection: true, onReject }),
    blockFieldSuggestionsPlugin(),
    {
      // yoga treats the token limit as a parse error and resets its status; put the 400 back.
      onResultProcess({ result }: { result: unknown }) {
        for (const item of Array.isArray(result) ? result : [result]) {
          for (const error of (item as { errors?: GraphQLError[] })?.errors ?? []) {
            if (error.extensions?.code === LIMIT_CODE) (error.extensions as Record<string, unknown>).http = { status: 400 };
          }
        }
      },
    },
  ];
}

/**
 * What clients see of an error: access errors keep their status, anything unexpected becomes
 * a 500 with a request id and no stack, whatever NODE_ENV is.
 */
export function maskError(error: unknown, requestId: () => string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof AccessError) {
    return new GraphQLError(original.message, {
      extensions: { code: original.code, http: { status: original.status } },
    });
  }
  if (original instanceof NotFound) {
    // Outside a typed result (a subscription, say) a missing thing is still a 404, not a 500.
    return new GraphQLError(original.message, { extensions: { code: 'NOT_FOUND', http: { status: 404 } } });
  }
  if (error instanceof GraphQLError && !error.originalError) return error; // parse/validation errors
  if (original instanceof GraphQLError) return original; // errors raised on purpose (complexity, ...)
  const id = requestId();
  console.error(`[${id}]`, original);
  return new GraphQLError('Unexpected error.', {
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: id, http: { status: 500 } },
  });
}
