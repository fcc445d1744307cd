import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * Real subscription clients for tests: graphql-ws over a WebSocket, and GraphQL over SSE
 * (POST /graphql with Accept: text/event-stream), each collecting what it receives.
 */

/**
 * A synthetic progress event a test publishes (straight into the app's pub/sub, or onto the Redis
 * channel) until a subscriber receives it: the subscription is then known to be live server-side,
 * so no event of the run the test starts next can be missed. Tests ignore probe events otherwise.
 */
export const PROBE_JOB_ID = 'probe';

export function probeEvent(segmentId: string, storeId: string) {
  return { jobId: PROBE_JOB_ID, segmentId, storeId, status: 'QUEUED' as const, at: new Date().toISOString() };
}

export function probeMembershipEvent(segmentId: string, storeId: string) {
  return { jobId: PROBE_JOB_ID, segmentId, storeId, joined: [], left: [], batch: 1, batches: 1 };
}

/** Republishes a probe every few milliseconds until `received()` is true. */
export async function untilReceived(what: string, publish: () => unknown, received: () => boolean, timeoutMs = 30_000) {
  await waitUntil(what, async () => {
    if (received()) return true;
    await publish();
    return false;
  }, timeoutMs, 25);
}

/** Polls until `check` returns a truthy value (returned), or fails after `timeoutMs` saying what it waited for. */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A graphql-ws client on ws://host:port/graphql; `token` goes into connectionParams as a Bearer. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client & { closeCodes: number[] } {
  const closeCodes: number[] = [];
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => closeCodes.push((event as { code: number }).code) },
  });
  return Object.assign(client, { closeCodes });
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** One subscription's received results, its end, and its error (a CloseEvent or GraphQL errors). */
export class Subscription<T = any> {
  readonly results: FormattedExecutionResult<Record<string, T>, unknown>[] = [];
  completed = false;
  error: unknown = undefined;
  private readonly unsubscribe: () => void;

  constructor(
    client: Client,
    private readonly field: string,
    query: string,
    variables: Record<string, unknown>,
  ) {
    this.unsubscribe = client.subscribe<Record<string, T>>(
      { query, variables },
      {
        next: (result) => void this.results.push(result),
        error: (error) => {
          this.error = error;
        },
        complete: () => {
          this.completed = true;
        },
      },
    );
  }

  /** The payloads received (results carrying data). */
  get events(): T[] {
    return payloads(this.results, this.field).filter((event) => (event as { jobId?: string }).jobId !== PROBE_JOB_ID);
  }

  /** Whether a probe event arrived (the subscription is live). */
  get probed(): boolean {
    return payloads(this.results, this.field).some((event) => (event as { jobId?: string }).jobId === PROBE_JOB_ID);
  }

  get errors() {
    return this.results.flatMap((result) => result.errors ?? []);
  }

  waitFor(what: string, predicate: (events: T[]) => boolean, timeoutMs = 60_000) {
    return waitUntil(what, () => {
      if (this.error !== undefined) throw new Error(`subscription failed while waiting for ${what}: ${describe(this.error)}`);
      return predicate(this.events);
    }, timeoutMs);
  }

  close() {
    this.unsubscribe();
  }
}

function payloads<T>(results: FormattedExecutionResult<Record<string, T>, unknown>[], field: string): T[] {
  return results.filter((result) => result.data?.[field]).map((result) => result.data![field]);
}

export function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) return `close ${(error as { code: number }).code} ${(error as { reason?: string }).reason ?? ''}`;
  if (Array.isArray(error)) return JSON.stringify(error);
  return String(error);
}

/** A subscription over SSE (graphql-yoga's single-connection-per-operation mode), parsed as it arrives. */
export class SseSubscription<T = any> {
  readonly results: FormattedExecutionResult<Record<string, T>, unknown>[] = [];
  status?: number;
  completed = false;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(
    url: string,
    private readonly field: string,
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    this.done = this.read(url, query, variables, headers).catch((error) => {
      if (!this.abort.signal.aborted) throw error;
    });
  }

  private async read(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: this.abort.signal,
    });
    this.status = response.status;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = message.split('\n');
        const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
        const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
        if (event === 'complete') this.completed = true;
        else if (data) this.results.push(JSON.parse(data));
      }
    }
    this.completed = true;
  }

  get events(): T[] {
    return payloads(this.results, this.field).filter((event) => (event as { jobId?: string }).jobId !== PROBE_JOB_ID);
  }

  /** Whether a probe event arrived (the subscription is live). */
  get probed(): boolean {
    return payloads(this.results, this.field).some((event) => (event as { jobId?: string }).jobId === PROBE_JOB_ID);
  }

  waitFor(what: string, predicate: (events: T[]) => boolean, timeoutMs = 60_000) {
    return waitUntil(what, () => predicate(this.events), timeoutMs);
  }

  async close() {
    this.abort.abort();
    await this.done;
  }
}

export const RECALCULATION_SUBSCRIPTION = /* GraphQL */ `
  subscription Recalculation($segmentId: ID!) {
    segmentRecalculation(segmentId: $segmentId) {
      jobId segmentId status processed total matched added removed message at
      segment { segmentId customersCount averageTransactions averageTransactionAmount averageClv calculatedAt }
    }
  }`;

export const MEMBERSHIP_SUBSCRIPTION = /* GraphQL */ `
  subscription Membership($segmentId: ID!) {
    segmentMembershipChanged(segmentId: $segmentId) { jobId segmentId joined left batch batches }
  }`;

export interface ProgressEvent {
  jobId: string;
  segmentId: string;
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  processed: number | null;
  total: number | null;
  matched: number | null;
  added: number | null;
  removed: number | null;
  message: string | null;
  at: string;
  segment: {
    segmentId: string;
    customersCount: number;
    averageTransactions: number;
    averageTransactionAmount: number;
    averageClv: number;
    calculatedAt: string | null;
  } | null;
}

export interface MembershipEvent {
  jobId: string;
  segmentId: string;
  joined: string[];
  left: string[];
  batch: number;
  batches: number;
}
