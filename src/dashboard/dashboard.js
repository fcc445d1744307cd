// @ts-check
/**
 * Segments dashboard: log in, list a store's segments, recalculate one and follow the run live.
 * Plain ES module, no dependencies. Live updates come from the GraphQL subscriptions
 * `segmentRecalculation` and `segmentMembershipChanged` over Server-Sent Events: the
 * subscription is POSTed to /graphql with `Accept: text/event-stream` and the response body is
 * read as a stream (EventSource cannot send the Authorization header).
 */

const PAGE_SIZE = 20;
/**
 * Browsers open at most 6 HTTP/1.1 connections to one host, and each SSE stream holds one for
 * as long as it is open. A live segment takes two streams, so at most two segments are followed
 * live at once (4 connections), leaving room for queries; further runs wait for a free slot.
 */
const MAX_LIVE_SEGMENTS = 2;

const STORES = /* GraphQL */ `query DashboardStores { stores { code name } }`;

const SEGMENTS = /* GraphQL */ `query DashboardSegments($storeCode: String!, $page: Int!, $itemsOnPage: Int!) {
  segments(storeCode: $storeCode, page: $page, itemsOnPage: $itemsOnPage, orderBy: [{ field: NAME, direction: ASC }]) {
    __typename
    ... on SegmentPage { total { filtered } items { segmentId name active customersCount calculatedAt } }
    ... on NotFoundError { message }
    ... on ValidationError { message }
  }
}`;

const RECALCULATE = /* GraphQL */ `mutation DashboardRecalculate($storeCode: String!, $segmentId: ID!) {
  recalculateSegment(storeCode: $storeCode, segmentId: $segmentId) {
    __typename
    ... on RecalculationJob { id status }
    ... on NotFoundError { message }
  }
}`;

const JOB = /* GraphQL */ `query DashboardJob($jobId: ID!) {
  recalculationJob(jobId: $jobId) { ... on RecalculationJob { id status matched added removed error } }
}`;

const PROGRESS = /* GraphQL */ `subscription DashboardProgress($segmentId: ID!) {
  segmentRecalculation(segmentId: $segmentId) {
    jobId status processed total matched added removed message
    segment { segmentId active customersCount calculatedAt }
  }
}`;

const MEMBERSHIP = /* GraphQL */ `subscription DashboardMembership($segmentId: ID!) {
  segmentMembershipChanged(segmentId: $segmentId) { jobId batch batches joined left }
}`;

const TERMINAL = new Set(['COMPLETED', 'FAILED']);
const AUTH_KEY = 'segments-dashboard.auth';
const STORE_KEY = 'segments-dashboard.store';

/**
 * @typedef {{ token: string, refreshToken: string, username: string }} Auth
 * @typedef {{ segmentId: string, name?: string, active: boolean, customersCount: number, calculatedAt: string | null }} Segment
 * @typedef {{ jobId: string, status: string, processed?: number | null, total?: number | null, matched?: number | null,
 *   added?: number | null, removed?: number | null, message?: string | null, segment?: Segment | null }} Progress
 * @typedef {{ status: string, processed?: number | null, total?: number | null, matched?: number | null,
 *   added?: number | null, removed?: number | null, message?: string | null, joined: number, left: number, live: boolean }} Run
 */

/** @param {string} id */
const element = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const loginView = element('login-view');
const loginForm = /** @type {HTMLFormElement} */ (element('login-form'));
const loginError = element('login-error');
const segmentsView = element('segments-view');
const sessionBox = element('session');
const storeSelect = /** @type {HTMLSelectElement} */ (element('store'));
const listStatus = element('list-status');
const rowsBody = element('segment-rows');
const pageInfo = element('page-info');
const previousPage = /** @type {HTMLButtonElement} */ (element('previous-page'));
const nextPage = /** @type {HTMLButtonElement} */ (element('next-page'));
const rowTemplate = /** @type {HTMLTemplateElement} */ (element('segment-row'));

/** @type {Auth | null} */
let auth = readAuth();
let page = 1;
let listTicket = 0;
/** The segments on screen, and their rows. @type {Map<string, Segment>} */
const segments = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const rows = new Map();
/** The last run started from this page, per segment (kept across pages and reloads of the list). @type {Map<string, Run>} */
const runs = new Map();
/** Closes the open streams of this session (on log out). @type {Set<() => void>} */
const openStreams = new Set();

class SessionEnded extends Error {}

// ---------------------------------------------------------------------------------------------
// Session

function readAuth() {
  try {
    const value = JSON.parse(sessionStorage.getItem(AUTH_KEY) ?? 'null');
    return value && typeof value.token === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** @param {Auth | null} value */
function setAuth(value) {
  auth = value;
  if (value) sessionStorage.setItem(AUTH_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(AUTH_KEY);
}

/** @type {Promise<boolean> | undefined} */
let refreshing;
/** Trades the refresh token (it works once) for a new pair; false when that is not possible. */
function refreshTokens() {
  const current = auth;
  if (!current?.refreshToken) return Promise.resolve(false);
  refreshing ??= fetch('/api/token/refresh', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: current.refreshToken }),
  })
    .then(async (response) => {
      const pair = response.ok ? await response.json() : null;
      if (!pair?.token || auth !== current) return false;
      setAuth({ ...current, token: pair.token, refreshToken: pair.refresh_token });
      return true;
    })
    .catch(() => false)
    .finally(() => (refreshing = undefined));
  return refreshing;
}

/**
 * fetch with the bearer token; on 401 refreshes the tokens once and retries, and when that
 * fails ends the session (back to the login form).
 * @param {string} url @param {RequestInit} init
 * @returns {Promise<Response>}
 */
async function authorizedFetch(url, init, retry = true) {
  if (!auth) throw new SessionEnded();
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${auth.token}`);
  const response = await fetch(url, { ...init, headers });
  if (response.status !== 401) return response;
  await response.body?.cancel();
  if (retry && (await refreshTokens())) return authorizedFetch(url, init, false);
  logOut('Your session has expired. Log in again.');
  throw new SessionEnded();
}

/**
 * One GraphQL query or mutation over HTTP; resolves with `data` or throws the first error.
 * @param {string} query @param {Record<string, unknown>} [variables]
 */
async function graphql(query, variables = {}) {
  const response = await authorizedFetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json;q=0.9' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (body?.errors?.length) throw new Error(body.errors[0].message);
  if (!response.ok || !body?.data) throw new Error(`The request failed (HTTP ${response.status}).`);
  return body.data;
}

/**
 * A GraphQL subscription over SSE. `ready` resolves once the server has answered (it starts
 * every stream with a comment, sent after the subscription is set up); `done` settles when the
 * stream ends: it rejects on errors, and resolves when the server completes it or on close().
 * @param {string} query @param {Record<string, unknown>} variables @param {(data: any) => void} onData
 */
function subscribe(query, variables, onData) {
  const controller = new AbortController();
  /** @type {() => void} */
  let markReady = () => {};
  const answered = new Promise((resolve) => (markReady = () => resolve(undefined)));
  const close = () => controller.abort();
  openStreams.add(close);

  const done = (async () => {
    const response = await authorizedFetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: controller.signal,
    });
    if (!response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.errors?.[0]?.message ?? `The live update stream failed (HTTP ${response.status}).`);
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      markReady();
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (message.event === 'complete') return;
        if (message.event !== 'next' || !message.data) continue;
        const payload = JSON.parse(message.data);
        if (payload.errors?.length) throw new Error(payload.errors[0].message);
        onData(payload.data);
      }
    }
  })()
    .catch((error) => {
      if (controller.signal.aborted) return; // closed on purpose
      throw error;
    })
    .finally(() => openStreams.delete(close));

  return { ready: Promise.race([answered, done]), done, close };
}

/** @param {string} block one SSE message: `event:` and `data:` lines; `:` lines are comments */
function parseEvent(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}

// ---------------------------------------------------------------------------------------------
// Views

/** @param {string} [message] */
function showLogin(message = '') {
  segmentsView.hidden = true;
  sessionBox.hidden = true;
  loginView.hidden = false;
  loginError.textContent = message;
  /** @type {HTMLInputElement} */ (element('username')).focus();
}

async function showDashboard() {
  if (!auth) return showLogin();
  loginView.hidden = true;
  segmentsView.hidden = false;
  sessionBox.hidden = false;
  element('session-user').textContent = auth.username;
  try {
    await loadStores();
    await loadSegments();
  } catch (error) {
    if (!(error instanceof SessionEnded)) showListError(error);
  }
}

/** @param {string} [message] */
function logOut(message) {
  for (const close of [...openStreams]) close();
  setAuth(null);
  sessionStorage.removeItem(STORE_KEY);
  runs.clear();
  segments.clear();
  rows.clear();
  rowsBody.replaceChildren();
  storeSelect.replaceChildren();
  showLogin(message);
}

async function loadStores() {
  const data = await graphql(STORES);
  /** @type {{ code: string, name: string }[]} */
  const stores = data.stores.length ? data.stores : [{ code: 'DEFAULT', name: 'Default store' }];
  storeSelect.replaceChildren(...stores.map((store) => new Option(`${store.name} (${store.code})`, store.code)));
  const saved = sessionStorage.getItem(STORE_KEY);
  const codes = stores.map((store) => store.code);
  storeSelect.value = saved && codes.includes(saved) ? saved : codes.includes('DEFAULT') ? 'DEFAULT' : codes[0];
}

async function loadSegments() {
  const ticket = ++listTicket;
  const storeCode = storeSelect.value;
  listStatus.classList.remove('error');
  listStatus.textContent = 'Loading segments…';
  const data = await graphql(SEGMENTS, { storeCode, page, itemsOnPage: PAGE_SIZE });
  if (ticket !== listTicket) return; // a newer load (store or page change) is under way
  const result = data.segments;
  if (result.__typename !== 'SegmentPage') throw new Error(result.message);
  const pages = Math.max(1, Math.ceil(result.total.filtered / PAGE_SIZE));
  if (page > pages) {
    page = pages;
    return loadSegments();
  }
  segments.clear();
  rows.clear();
  rowsBody.replaceChildren(...result.items.map((/** @type {Segment} */ segment) => segmentRow(segment)));
  const count = result.total.filtered;
  listStatus.textContent = count ? `${count} segment${count === 1 ? '' : 's'} in ${storeCode}.` : `Store ${storeCode} has no segments yet.`;
  pageInfo.textContent = `Page ${page} of ${pages}`;
  previousPage.disabled = page <= 1;
  nextPage.disabled = page >= pages;
  /** @type {HTMLElement} */ (previousPage.parentElement).hidden = pages === 1;
}

/** @param {unknown} error */
function showListError(error) {
  listStatus.classList.add('error');
  listStatus.textContent = `Could not load the segments: ${error instanceof Error ? error.message : error}`;
}

/** @param {Segment} segment */
function segmentRow(segment) {
  const row = /** @type {HTMLTableRowElement} */ (/** @type {Element} */ (rowTemplate.content.firstElementChild).cloneNode(true));
  row.dataset.segmentId = segment.segmentId;
  const button = /** @type {HTMLButtonElement} */ (row.querySelector('.recalculate'));
  button.setAttribute('aria-label', `Recalculate ${segment.name}`);
  button.addEventListener('click', () => void recalculate(segment.segmentId));
  /** @type {HTMLElement} */ (row.querySelector('progress')).setAttribute('aria-label', `Recalculation of ${segment.name}`);
  segments.set(segment.segmentId, segment);
  rows.set(segment.segmentId, row);
  fillSegment(row, segment);
  renderRun(segment.segmentId);
  return row;
}

/** @param {HTMLTableRowElement} row @param {Segment} segment */
function fillSegment(row, segment) {
  const cell = (/** @type {string} */ selector) => /** @type {HTMLElement} */ (row.querySelector(selector));
  cell('.name').textContent = segment.name ?? '';
  cell('.active').textContent = segment.active ? 'Yes' : 'No';
  cell('.customers').textContent = number(segment.customersCount);
  const time = /** @type {HTMLTimeElement} */ (row.querySelector('time'));
  time.dateTime = segment.calculatedAt ?? '';
  time.textContent = segment.calculatedAt ? new Date(segment.calculatedAt).toLocaleString() : 'never';
}

/** @param {number | null | undefined} value */
const number = (value) => (value ?? 0).toLocaleString();

/** Draws a segment's run in its row, when the row is on screen. @param {string} segmentId */
function renderRun(segmentId) {
  const row = rows.get(segmentId);
  if (!row) return;
  const run = runs.get(segmentId);
  const progress = /** @type {HTMLProgressElement} */ (row.querySelector('progress'));
  const status = /** @type {HTMLElement} */ (row.querySelector('.run-status'));
  const membership = /** @type {HTMLElement} */ (row.querySelector('.membership'));
  /** @type {HTMLButtonElement} */ (row.querySelector('.recalculate')).disabled = Boolean(run?.live);
  status.className = `run-status ${run ? run.status.toLowerCase() : ''}`;
  progress.hidden = !run || !['QUEUED', 'RUNNING', 'COMPLETED'].includes(run.status);
  if (!run) {
    status.textContent = '';
    membership.textContent = '';
    return;
  }
  switch (run.status) {
    case 'WAITING':
      status.textContent = 'Waiting for a free live slot…';
      break;
    case 'CONNECTING':
      status.textContent = 'Connecting…';
      break;
    case 'QUEUED':
      progress.removeAttribute('value'); // indeterminate
      status.textContent = 'QUEUED';
      break;
    case 'RUNNING':
      if (run.total) {
        progress.max = run.total;
        progress.value = run.processed ?? 0;
      } else progress.removeAttribute('value');
      status.textContent = `RUNNING ${number(run.processed)} / ${number(run.total)}`;
      break;
    case 'COMPLETED':
      progress.max = 1;
      progress.value = 1;
      status.textContent = `COMPLETED: ${number(run.matched)} matched, ${number(run.added)} added, ${number(run.removed)} removed`;
      break;
    case 'FAILED':
      status.textContent = `FAILED: ${run.message ?? 'no reason given'}`;
      break;
    default: // ERROR: the page lost track of the run (the run itself may well go on)
      status.textContent = `Live updates stopped: ${run.message}`;
  }
  membership.textContent = run.joined || run.left || run.status === 'COMPLETED' ? `${number(run.joined)} joined, ${number(run.left)} left` : '';
}

/** @param {string} segmentId @param {Run} run @param {Partial<Run>} changes */
function updateRun(segmentId, run, changes) {
  Object.assign(run, changes);
  if (runs.get(segmentId) === run) renderRun(segmentId);
}

// ---------------------------------------------------------------------------------------------
// Recalculation, followed live

let freeSlots = MAX_LIVE_SEGMENTS;
/** @type {(() => void)[]} */
const slotWaiters = [];
function acquireSlot() {
  if (freeSlots > 0) {
    freeSlots--;
    return Promise.resolve();
  }
  return new Promise((resolve) => slotWaiters.push(() => resolve(undefined)));
}
function releaseSlot() {
  const next = slotWaiters.shift();
  if (next) next();
  else freeSlots++;
}

/**
 * Opens both subscriptions of the segment, then asks for the recalculation, and follows the job
 * that request queued until it completes or fails and its membership changes have all arrived.
 * @param {string} segmentId
 */
async function recalculate(segmentId) {
  if (runs.get(segmentId)?.live) return;
  const storeCode = storeSelect.value;
  /** @type {Run} */
  const run = { status: 'WAITING', joined: 0, left: 0, live: true };
  runs.set(segmentId, run);
  renderRun(segmentId);
  await acquireSlot();
  if (runs.get(segmentId) !== run) return releaseSlot(); // logged out while waiting

  /** The job our request queued (or merged into); known when the mutation answers. @type {string | undefined} */
  let jobId;
  /** Latest progress and membership batches of every job of the segment seen meanwhile. */
  /** @type {Map<string, Progress>} */
  const latest = new Map();
  /** @type {Map<string, { batches: number, seen: Set<number>, joined: number, left: number }>} */
  const changes = new Map();
  /** @type {(final: Progress) => void} */
  let finish = () => {};
  /** @type {Promise<Progress>} */
  const finished = new Promise((resolve) => (finish = resolve));

  const show = () => {
    if (!jobId) return;
    const progress = latest.get(jobId);
    const change = changes.get(jobId);
    if (progress) {
      const { status, processed, total, matched, added, removed, message } = progress;
      updateRun(segmentId, run, { status, processed, total, matched, added, removed, message });
    }
    if (change) updateRun(segmentId, run, { joined: change.joined, left: change.left });
    const final = progress && TERMINAL.has(progress.status) ? progress : undefined;
    // No membership event comes for a run that changed nobody.
    if (final && (final.status === 'FAILED' || !(final.added || final.removed) || (change && change.seen.size >= change.batches)))
      finish(final);
  };

  const progressStream = subscribe(PROGRESS, { segmentId }, (data) => {
    /** @type {Progress} */
    const event = data.segmentRecalculation;
    latest.set(event.jobId, event);
    if (!jobId) {
      // Before the request has answered, any event of the segment is news worth showing.
      const { status, processed, total } = event;
      updateRun(segmentId, run, { status, processed, total });
    } else if (event.jobId !== jobId && TERMINAL.has(event.status)) {
      // Another run of the segment ended: ours may have been merged into it without events.
      void checkJob();
    }
    show();
  });
  const membershipStream = subscribe(MEMBERSHIP, { segmentId }, (data) => {
    const event = data.segmentMembershipChanged;
    const change = changes.get(event.jobId) ?? { batches: event.batches, seen: new Set(), joined: 0, left: 0 };
    if (!change.seen.has(event.batch)) {
      change.seen.add(event.batch);
      change.joined += event.joined.length;
      change.left += event.left.length;
    }
    changes.set(event.jobId, change);
    show();
  });

  const checkJob = async () => {
    const job = jobId && (await graphql(JOB, { jobId }).catch(() => null))?.recalculationJob;
    if (job && TERMINAL.has(job.status) && !latest.has(job.id)) {
      latest.set(job.id, { jobId: job.id, status: job.status, matched: job.matched, added: job.added, removed: job.removed, message: job.error });
      changes.set(job.id, { batches: 0, seen: new Set(), joined: 0, left: 0 });
      show();
    }
  };

  /** Settles when a stream stops before the run is over. */
  const streamsEnded = Promise.race([progressStream.done, membershipStream.done]).then(() => {
    throw new Error('the server closed the stream.');
  });

  try {
    updateRun(segmentId, run, { status: 'CONNECTING' });
    await Promise.race([Promise.all([progressStream.ready, membershipStream.ready]), streamsEnded]);
    const data = await graphql(RECALCULATE, { storeCode, segmentId });
    const result = data.recalculateSegment;
    if (result.__typename !== 'RecalculationJob') throw new Error(result.message);
    jobId = /** @type {string} */ (result.id);
    if (!latest.has(jobId)) latest.set(jobId, { jobId, status: result.status });
    show();
    const final = await Promise.race([finished, streamsEnded]);
    if (final.status === 'COMPLETED' && final.segment) {
      const segment = { ...segments.get(segmentId), ...final.segment };
      if (segments.has(segmentId)) segments.set(segmentId, segment);
      const row = rows.get(segmentId);
      if (row) fillSegment(row, segment);
    }
  } catch (error) {
    if (error instanceof SessionEnded) return;
    updateRun(segmentId, run, { status: 'ERROR', message: error instanceof Error ? error.message : String(error) });
  } finally {
    progressStream.close();
    membershipStream.close();
    releaseSlot();
    updateRun(segmentId, run, { live: false });
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(loginForm);
  const username = String(form.get('username') ?? '').trim();
  const password = String(form.get('password') ?? '');
  if (!username || !password) {
    loginError.textContent = 'Enter a username and a password.';
    return;
  }
  const submit = /** @type {HTMLButtonElement} */ (loginForm.querySelector('button[type="submit"]'));
  submit.disabled = true;
  loginError.textContent = '';
  try {
    const response = await fetch('/api/admin/login_check', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok || !body?.token) {
      loginError.textContent = body?.message ?? `Login failed (HTTP ${response.status}).`;
      return;
    }
    setAuth({ token: body.token, refreshToken: body.refresh_token, username });
    loginForm.reset();
    await showDashboard();
  } catch {
    loginError.textContent = 'The service cannot be reached.';
  } finally {
    submit.disabled = false;
  }
});

element('logout').addEventListener('click', () => logOut());

/** @param {() => void} change */
const reloadAfter = (change) => () => {
  change();
  loadSegments().catch((error) => {
    if (!(error instanceof SessionEnded)) showListError(error);
  });
};
storeSelect.addEventListener(
  'change',
  reloadAfter(() => {
    sessionStorage.setItem(STORE_KEY, storeSelect.value);
    page = 1;
  }),
);
element('reload').addEventListener('click', reloadAfter(() => {}));
previousPage.addEventListener('click', reloadAfter(() => (page = Math.max(1, page - 1))));
nextPage.addEventListener('click', reloadAfter(() => (page += 1)));

void showDashboard();
