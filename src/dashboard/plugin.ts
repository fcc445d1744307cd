import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from 'graphql-yoga';

/**
 * The live dashboard: three static files under /dashboard, served from this folder as they are
 * (no build step), and graphql-ws's browser client from its npm package. The page talks to the
 * same service: REST login, GraphQL queries over HTTP, subscriptions over graphql-ws on /graphql.
 */

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function asset(file: string | URL, type: string): Asset {
  const body = readFileSync(typeof file === 'string' ? new URL(file, import.meta.url) : file, 'utf8');
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** Same-origin only: no inline script or style, no external host, no framing. */
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // The files are read at start-up; revalidate so a redeploy shows at once.
  'Cache-Control': 'no-cache',
};

/** graphql-ws ships a browser build (UMD, global `graphqlWs`) beside its modules. */
function graphqlWsBrowserClient(): URL {
  const packageJson = createRequire(import.meta.url).resolve('graphql-ws/package.json');
  return pathToFileURL(path.join(path.dirname(packageJson), 'umd', 'graphql-ws.min.js'));
}

export function dashboardPlugin(): Plugin {
  const html = asset('index.html', 'text/html; charset=utf-8');
  const assets = new Map<string, Asset>([
    ['/dashboard', html],
    ['/dashboard/', html],
    ['/dashboard/dashboard.js', asset('dashboard.js', 'text/javascript; charset=utf-8')],
    ['/dashboard/dashboard.css', asset('dashboard.css', 'text/css; charset=utf-8')],
    ['/dashboard/graphql-ws.js', asset(graphqlWsBrowserClient(), 'text/javascript; charset=utf-8')],
  ]);
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const found = assets.get(url.pathname);
      if (!found) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return endResponse(new fetchAPI.Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } }));
      }
      const headers = { ...SECURITY_HEADERS, ETag: found.etag };
      if (request.headers.get('if-none-match') === found.etag) {
        return endResponse(new fetchAPI.Response(null, { status: 304, headers }));
      }
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : found.body, {
          status: 200,
          headers: { ...headers, 'Content-Type': found.type },
        }),
      );
    },
  };
}
