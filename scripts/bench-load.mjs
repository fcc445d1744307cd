// Load generator for scripts/bench-graphql.ts, run in its own process so that it does not share
// an event loop with the server it measures:
//
//   node scripts/bench-load.mjs '{"url":"http://127.0.0.1:4000/graphql","method":"POST","headers":{},
//     "body":"...","connections":10,"duration":10,"warmup":2}'
//
// Prints one line of JSON: requests per second, latency percentiles (ms), bytes per second,
// and the counts of errors, timeouts and non-2xx answers.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
const result = await autocannon({
  url: options.url,
  method: options.method ?? 'GET',
  headers: options.headers ?? {},
  body: options.body,
  connections: options.connections ?? 10,
  duration: options.duration ?? 10,
  timeout: options.timeout ?? 30,
  ...(options.warmup > 0 ? { warmup: { connections: options.connections ?? 10, duration: options.warmup } } : {}),
});

process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    latency: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    bytesPerSecond: result.throughput.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  })}\n`,
);
