// @ts-check
/**
 * Segments dashboard: log in, list a store's segments, recalculate one and follow the run live.
 * Plain ES module; its one dependency is graphql-ws's browser client (the global `graphqlWs`,
 * served by the service from the npm package). Every segment on screen is followed live through
 * the GraphQL subscriptions `segmentRecalculation` and `segmentMembershipChanged`, all over one
 * WebSocket, so the page shows every run: the schedule's, other users' and its own.
 */

/* global graphqlWs */

const PAGE_SIZE = 20;

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

const SEGMENT = /* GraphQL */ `query DashboardSegment($storeCode: String!, $segmentId: ID!) {
  segment(storeCode: $storeCode, segmentId: $segmentId) { ... on Segment { segmentId active customersCount calculatedAt } }
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
const liveStatus = element('live-status');
const rowTemplate = /** @type {HTMLTemplateElement} */ (element('segment-row'));

/** @type {Auth | null} */
let auth = readAuth();
let page = 1;
let listTicket = 0;
/** The segments on screen, and their rows. @type {Map<string, Segment>} */
const segments = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const rows = new Map();
/** The runs of the segments on screen, as the subscriptions tell them. @type {Map<string, SegmentRuns>} */
const runs = new Map();

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

// ---------------------------------------------------------------------------------------------
// Live updates: one graphql-ws WebSocket for the whole page, carrying two subscriptions per
// segment on screen, so every run is seen (the schedule's, other users', this page's).

/** @type {import('graphql-ws').Client | null} */
let live = null;
/** Why the server last closed the socket (4403: the token was refused at connection). */
let lastCloseCode = 0;
/** The subscriptions of the segments on screen: segment id -> unsubscribe functions. @type {Map<string, (() => void)[]>} */
const following = new Map();

/** Seconds since the epoch at which the access token expires (from its payload), or 0. */
function tokenExpiry(/** @type {string} */ token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp : 0;
  } catch {
    return 0;
  }
}

function liveClient() {
  if (live) return live;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  live = graphqlWs.createClient({
    url,
    lazy: true,
    // The token is checked when the socket connects, so a (re)connection sends a fresh one; a
    // refused token is traded for a new pair once, and the session ends when that fails.
    connectionParams: async () => {
      const current = auth;
      if (!current) throw new SessionEnded();
      const refused = lastCloseCode === 4403;
      if (refused || tokenExpiry(current.token) * 1000 < Date.now() + 10_000) {
        if (!(await refreshTokens()) && refused) {
          logOut('Your session has expired. Log in again.');
          throw new SessionEnded();
        }
      }
      lastCloseCode = 0;
      return { Authorization: `Bearer ${auth?.token}` };
    },
    retryAttempts: Infinity,
    shouldRetry: () => Boolean(auth),
    on: {
      connected: () => showLive('Live'),
      closed: (event) => {
        lastCloseCode = /** @type {CloseEvent} */ (event)?.code ?? 0;
        if (auth && following.size) showLive('Reconnecting…');
      },
    },
  });
  return live;
}

/** @param {string} text */
function showLive(text) {
  liveStatus.textContent = text;
}

function stopLive() {
  for (const unsubscribe of [...following.values()].flat()) unsubscribe();
  following.clear();
  live?.dispose();
  live = null;
  showLive('');
}

/**
 * Follows the given segments (the ones on screen) and stops following the others.
 * @param {string[]} segmentIds
 */
function follow(segmentIds) {
  const wanted = new Set(segmentIds);
  for (const [segmentId, unsubscribes] of following) {
    if (wanted.has(segmentId)) continue;
    for (const unsubscribe of unsubscribes) unsubscribe();
    following.delete(segmentId);
  }
  const client = liveClient();
  for (const segmentId of wanted) {
    if (following.has(segmentId)) continue;
    /** @param {string} query @param {(data: any) => void} onData */
    const subscription = (query, onData) =>
      client.subscribe(
        { query, variables: { segmentId } },
        {
          next: (result) => {
            if (result.errors?.length) return liveError(segmentId, result.errors[0].message);
            if (result.data) onData(result.data);
          },
          error: (error) => {
            if (!(error instanceof SessionEnded)) liveError(segmentId, errorMessage(error));
          },
          complete: () => {},
        },
      );
    following.set(segmentId, [
      subscription(PROGRESS, (data) => onProgress(segmentId, data.segmentRecalculation)),
      subscription(MEMBERSHIP, (data) => onMembership(segmentId, data.segmentMembershipChanged)),
    ]);
  }
}

/** @param {unknown} error */
function errorMessage(error) {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error[0]?.message ?? 'the server refused the subscription';
  if (error && typeof error === 'object' && 'code' in error) return `the connection closed (${/** @type {CloseEvent} */ (error).code})`;
  return String(error);
}

/** A subscription of the segment failed: the row says so (the runs themselves may well go on). @param {string} segmentId @param {string} message */
function liveError(segmentId, message) {
  runsOf(segmentId).error = message;
  renderRun(segmentId);
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
  stopLive();
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
  // Runs of segments no longer on screen are no longer followed.
  for (const segmentId of runs.keys()) if (!segments.has(segmentId)) runs.delete(segmentId);
  follow([...segments.keys()]);
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

/**
 * What a row shows: the job of the segment that spoke last. While any job of the segment is under
 * way (or this page's request is), the segment is busy and its button is disabled.
 * @param {string} segmentId
 */
function renderRun(segmentId) {
  const row = rows.get(segmentId);
  if (!row) return;
  const state = runs.get(segmentId);
  const job = state?.shown ? state.jobs.get(state.shown) : undefined;
  const progress = /** @type {HTMLProgressElement} */ (row.querySelector('progress'));
  const status = /** @type {HTMLElement} */ (row.querySelector('.run-status'));
  const membership = /** @type {HTMLElement} */ (row.querySelector('.membership'));
  /** @type {HTMLButtonElement} */ (row.querySelector('.recalculate')).disabled = Boolean(state && busy(state));
  const shownStatus = state?.error ? 'ERROR' : job?.status ?? (state?.requesting ? 'STARTING' : '');
  status.className = `run-status ${shownStatus.toLowerCase()}`;
  progress.hidden = !['STARTING', 'QUEUED', 'RUNNING', 'COMPLETED'].includes(shownStatus);
  membership.textContent = '';
  switch (shownStatus) {
    case '':
      status.textContent = '';
      return;
    case 'STARTING':
      progress.removeAttribute('value');
      status.textContent = 'Starting…';
      return;
    case 'ERROR': // the page lost track of the run (the run itself may well go on)
      status.textContent = `Live updates stopped: ${state?.error}`;
      return;
  }
  if (!job) return;
  switch (shownStatus) {
    case 'QUEUED':
      progress.removeAttribute('value'); // indeterminate
      status.textContent = 'QUEUED';
      break;
    case 'RUNNING':
      if (job.total) {
        progress.max = job.total;
        progress.value = job.processed ?? 0;
      } else progress.removeAttribute('value');
      status.textContent = `RUNNING ${number(job.processed)} / ${number(job.total)}`;
      break;
    case 'COMPLETED':
      progress.max = 1;
      progress.value = 1;
      status.textContent = `COMPLETED: ${number(job.matched)} matched, ${number(job.added)} added, ${number(job.removed)} removed`;
      break;
    case 'FAILED':
      status.textContent = `FAILED: ${job.message ?? 'no reason given'}`;
      break;
  }
  if (job.joined || job.left || shownStatus === 'COMPLETED') membership.textContent = `${number(job.joined)} joined, ${number(job.left)} left`;
}

// ---------------------------------------------------------------------------------------------
// Runs, as the subscriptions tell them

/**
 * @typedef {{ status: string, processed?: number | null, total?: number | null, matched?: number | null,
 *   added?: number | null, removed?: number | null, message?: string | null,
 *   batches: number | null, seen: Set<number>, joined: number, left: number, heardAt: number }} Job
 * @typedef {{ jobs: Map<string, Job>, shown: string | null, requesting: boolean, error: string | null }} SegmentRuns
 */

/** A job has nothing more to say once it ended and its membership batches have all arrived. @param {Job} job */
function over(job) {
  if (!TERMINAL.has(job.status)) return false;
  // No membership event comes for a failed run, nor for one that changed nobody.
  return job.status === 'FAILED' || !(job.added || job.removed) || (job.batches !== null && job.seen.size >= job.batches);
}

/** @param {SegmentRuns} state */
const busy = (state) => state.requesting || [...state.jobs.values()].some((job) => !over(job));

/** @param {string} segmentId @returns {SegmentRuns} */
function runsOf(segmentId) {
  let state = runs.get(segmentId);
  if (!state) runs.set(segmentId, (state = { jobs: new Map(), shown: null, requesting: false, error: null }));
  return state;
}

/** @param {SegmentRuns} state @param {string} jobId @returns {Job} */
function jobOf(state, jobId) {
  let job = state.jobs.get(jobId);
  if (!job) state.jobs.set(jobId, (job = { status: '', batches: null, seen: new Set(), joined: 0, left: 0, heardAt: Date.now() }));
  return job;
}

/** Jobs that ended long ago are forgotten (a segment recalculated every 10 minutes for days). @param {SegmentRuns} state */
function forgetOldJobs(state) {
  for (const [jobId, job] of state.jobs) if (jobId !== state.shown && over(job)) state.jobs.delete(jobId);
}

/** @param {string} segmentId @param {Progress} event */
function onProgress(segmentId, event) {
  const state = runsOf(segmentId);
  const job = jobOf(state, event.jobId);
  const { status, processed, total, matched, added, removed, message } = event;
  Object.assign(job, { status, processed, total, matched, added, removed, message, heardAt: Date.now() });
  // A queued follow-up does not hide the run under way: it is shown once that one has ended.
  const shown = state.shown ? state.jobs.get(state.shown) : undefined;
  if (!(status === 'QUEUED' && shown && shown.status === 'RUNNING')) state.shown = event.jobId;
  state.error = null;
  if (status === 'COMPLETED' && event.segment) showSegment(segmentId, event.segment);
  forgetOldJobs(state);
  renderRun(segmentId);
}

/** @param {string} segmentId @param {{ jobId: string, batch: number, batches: number, joined: string[], left: string[] }} event */
function onMembership(segmentId, event) {
  const state = runsOf(segmentId);
  const job = jobOf(state, event.jobId);
  job.batches = event.batches;
  job.heardAt = Date.now();
  if (!job.seen.has(event.batch)) {
    job.seen.add(event.batch);
    job.joined += event.joined.length;
    job.left += event.left.length;
  }
  renderRun(segmentId);
}

/** @param {string} segmentId @param {Partial<Segment>} changes */
function showSegment(segmentId, changes) {
  const segment = segments.get(segmentId);
  if (!segment) return;
  Object.assign(segment, changes);
  const row = rows.get(segmentId);
  if (row) fillSegment(row, segment);
}

/**
 * Asks for a recalculation; the subscriptions already open for the row follow the job it
 * queues (or the run it was merged into).
 * @param {string} segmentId
 */
async function recalculate(segmentId) {
  const state = runsOf(segmentId);
  if (busy(state)) return;
  Object.assign(state, { requesting: true, error: null });
  renderRun(segmentId);
  try {
    const data = await graphql(RECALCULATE, { storeCode: storeSelect.value, segmentId });
    const result = data.recalculateSegment;
    if (result.__typename !== 'RecalculationJob') throw new Error(result.message);
    const job = jobOf(state, result.id);
    job.status ||= result.status; // its own events may have come first
    if (!state.shown || !state.jobs.get(state.shown) || over(/** @type {Job} */ (state.jobs.get(state.shown)))) state.shown = result.id;
  } catch (error) {
    if (error instanceof SessionEnded) return;
    state.error = error instanceof Error ? error.message : String(error);
  } finally {
    state.requesting = false;
    renderRun(segmentId);
  }
}

/**
 * A job that has been silent for a while (a running one reports every second) is asked about
 * directly: its events may have been published before the subscription was in place, or while
 * the socket was reconnecting. Joined/left then come from its added/removed counts.
 */
const QUIET_MS = 3000;
async function catchUp() {
  for (const [segmentId, state] of runs) {
    for (const [jobId, job] of state.jobs) {
      if (over(job) || Date.now() - job.heardAt < QUIET_MS) continue;
      job.heardAt = Date.now();
      const found = (await graphql(JOB, { jobId }).catch(() => null))?.recalculationJob;
      if (!found?.status || !TERMINAL.has(found.status) || over(job)) continue;
      Object.assign(job, { status: found.status, matched: found.matched, added: found.added, removed: found.removed, message: found.error });
      if (!over(job)) Object.assign(job, { joined: found.added ?? 0, left: found.removed ?? 0, batches: 0 });
      if (found.status === 'COMPLETED') {
        const refreshed = (await graphql(SEGMENT, { storeCode: storeSelect.value, segmentId }).catch(() => null))?.segment;
        if (refreshed?.segmentId) showSegment(segmentId, refreshed);
      }
      renderRun(segmentId);
    }
  }
}
let catchingUp = false;
setInterval(() => {
  if (!auth || catchingUp) return;
  catchingUp = true;
  void catchUp().finally(() => (catchingUp = false));
}, 1000);

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
