import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { ExecutionArgs } from 'graphql';
import type { App } from './app.ts';

/**
 * The HTTP server of an app: GraphQL, REST, SSE and the dashboard through yoga, plus GraphQL
 * over WebSocket (graphql-ws) on the same /graphql path. Not listening yet.
 */
export function createHttpServer(app: App) {
  const server = createServer(app.yoga);
  const sockets = new WebSocketServer({ server, path: app.yoga.graphqlEndpoint });

  // yoga's envelop runs for WebSocket operations too: same schema, context, limits and auth.
  const wsServer = useServer(
    {
      execute: (args: ExecutionArgs) => (args as unknown as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args: ExecutionArgs) => (args as unknown as EnvelopedArgs).rootValue.subscribe(args) as never,
      // A socket without valid credentials is refused at connection time.
      onConnect: async (ctx) => {
        const headers = new Headers();
        const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
        const authorization = params.Authorization ?? params.authorization;
        const apiKey = params['X-AUTH-TOKEN'] ?? params['x-auth-token'];
        if (typeof authorization === 'string') headers.set('authorization', authorization);
        if (typeof apiKey === 'string') headers.set('x-auth-token', apiKey);
        try {
          const viewer = await app.services.auth.authenticate(headers);
          if (!viewer || viewer.kind !== 'admin') return false;
          (ctx.extra as Record<string, unknown>).viewer = viewer;
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = app.yoga.getEnveloped({
          ...ctx,
          req: (ctx.extra as { request: unknown }).request,
          socket: (ctx.extra as { socket: unknown }).socket,
          params: payload,
          viewer: (ctx.extra as Record<string, unknown>).viewer,
        });
        const args = {
          schema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    sockets,
  );

  return {
    server,
    /** Listens on the port (0: any free one) and resolves with the port bound. */
    listen(port: number, host?: string): Promise<number> {
      return new Promise((resolve) =>
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port)),
      );
    },
    /** Closes WebSockets cleanly (code 1001) and stops accepting HTTP connections. */
    async close(): Promise<void> {
      await wsServer.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

interface EnvelopedArgs {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
}

export type HttpServer = ReturnType<typeof createHttpServer> & { server: Server };
