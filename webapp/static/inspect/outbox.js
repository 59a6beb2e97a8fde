// The outbox: every change made on the phone waits here until the server has it.
//
// This module is the queue only (storage, order, backoff, parking); it knows no
// kinds of entries. Each feature registers the senders of its kinds
// (`registerSender`): visits-sync.js (visit headers, results, photos) and
// lessons-sync.js (教研员 records) — the split of queue and requests Workbox makes.
//
// Policy
// - Entries are replayed in order (seq). Consecutive entries of one kind and one
//   record go in one request when their sender takes batches (`batch`). Every
//   request is idempotent on the server (client UUIDs), so sending twice is
//   harmless; losing one is not.
// - Never stall behind one entry. An entry that is refused (4xx other than 401/429)
//   is parked at once; one that meets a 5xx of its own (500 …) is parked after
//   `parkAfter` tries. Parked entries stay on the phone with the server's Chinese
//   message until the person presses 重试, changes the item (a new write replaces
//   them) or deletes them (`dropParked`). Meanwhile everything that does not depend
//   on them goes on: other records, other items of the same record. What depends on
//   them waits (later writes of the same item; a record's header or submit waits for
//   everything before it).
// - The network, or the whole server, unreachable (502/503/504/408/429, a proxy's
//   page): keep everything and back off, base × 2^n with jitter, capped (2 s … 5 min),
//   and never sooner than a Retry-After says. A 503 on an entry of a sender with a
//   `lane` (photos while storage is down) holds back that lane only.
// - 401 (`auth_required`) pauses everything until the person signs in again; nothing is dropped.
// - Every write names its records' owner (X-Dudao-User): signed in as someone else by now (another tab),
//   the server refuses it (409 `user_changed`), the round stops and the page switches to that person.
//
// This module never touches the DOM: it reports through `events`
//   "progress" {visit_id, pending, failed, syncing}   after any change of a record's entries
//   "contact"  {at}                                   any answer from the server
//   "auth"     {signed_in, user, reason}   reason "password": the account must change its password first
//   "owner"    {user, changed, adopted}               another user signed in, or old records were adopted
//   "backoff"  {delay, message}
//   "idle"                                            a replay round ended
// and senders add their own events on the same target ("photo", "receipt" …).

import { S, all, currentOwner, req, setMeta, setOwner, transaction } from "./db.js";

/** Progress and status events for the page (see the module comment). */
export const events = new EventTarget();

const settings = {
  baseDelayMs: 2000,
  maxDelayMs: 5 * 60 * 1000,
  batchSize: 200,
  jsonTimeoutMs: 30000,
  photoTimeoutMs: 120000,
  parkAfter: 5,
  retryAfterCapMs: 60 * 60 * 1000, // tests shorten it
  syncMaxEntries: 500,
};

let csrfToken = null;
let running = null;
let again = false;
let againForced = false;
let failures = 0;
let nextAttemptAt = 0;
let retryTimer = null;
let notBefore = 0;
let batchMissingUntil = 0; // the server has no POST /api/v1/sync (404): entry by entry until then
const BATCH_RETRY_MS = 10 * 60 * 1000;
let paused = null;
let lastError = null;
let currentUser = null;
const inFlight = new Set();
/** Senders by entry kind (see registerSender). */
const senders = new Map();

/**
 * Teach the outbox a kind of entry. Entries carry their record's id in `visit_id`,
 * which groups them for status and progress.
 * `sender` is `send` alone or an object:
 *   send(batch)          makes the request(s) for a batch of entries (one entry unless
 *                        `batch` > 1) and returns its outcome (see `call`); on "ok" the
 *                        outbox removes the entries (a sender that removes them together
 *                        with its own records uses `finish`). "held": not yet, next round.
 *   batch                how many consecutive entries of this kind and record go together (1)
 *   lane                 a transient failure holds back this lane only (e.g. "photo")
 *   parallel             how many entries of this kind may be in flight together (1)
 *   blame(outcome, batch) → [{entry, message}]   which entries a refusal concerns (all)
 *   report(entry, state, message)               "waiting" | "failed": tell the page
 *   item(entry) → key    what the entry depends on within its record: an earlier entry with
 *                        the same key; none (null): everything earlier of the record
 *   edit(entry) → {href, item_id}   where the person can change a parked entry (修改)
 * A JSON write instead of `send` gives `request(batch)` → {method, url, json, target} and
 * `accept(batch, outcome)` (keep what the server answered; remove the entries with `finish`),
 * and `sync`: its kind in POST /api/v1/sync, which carries many such entries in one request.
 * @param {string} kind
 * @param {Function|object} sender
 */
export function registerSender(kind, sender) {
  senders.set(kind, typeof sender === "function" ? { send: sender } : sender);
}

/** Loaders of sender modules not loaded at start (a role's own), by entry kind (see registerLoader). */
const loaders = new Map();

/**
 * Kinds whose sender registers itself when `load()` (a dynamic import) runs: the outbox
 * loads it before sending such an entry, so an entry never meets a missing sender.
 * @param {string[]} kinds
 * @param {() => Promise<unknown>} load
 */
export function registerLoader(kinds, load) {
  for (const kind of kinds) loaders.set(kind, load);
}

/** Load the senders of these entries' kinds that are not registered yet. */
async function loadSenders(queue) {
  const missing = new Set(queue.map((e) => e.kind).filter((kind) => !senders.has(kind) && loaders.has(kind)));
  await Promise.all([...new Set([...missing].map((kind) => loaders.get(kind)))].map((load) => load()));
}

/** Whether an entry (by seq) is being sent right now (it must not be deleted under the sender). */
export function isInFlight(seq) {
  return inFlight.has(seq);
}

const syncing = new Set();

/**
 * Change timing settings (tests shorten the backoff).
 * @param {{baseDelayMs?: number, maxDelayMs?: number, batchSize?: number}} options
 */
export function configure(options) {
  Object.assign(settings, options || {});
}

/** What the replay loop is doing: for status lines and tests. */
export function state() {
  return { failures, nextAttemptAt, paused, running: Boolean(running), lastError, user: currentUser };
}

/** Fire an event on `events` (senders report through it too). */
export function emit(type, detail) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

function now() {
  return new Date().toISOString();
}

/** A new outbox entry of `kind` (other features add theirs with `registerSender`). */
export function newEntry(kind, fields) {
  return { kind, status: "pending", error: null, last_error: null, attempts: 0, created_at: now(), ...fields };
}

// --- talking to the server ---------------------------------------------------

async function noteContact() {
  const at = now();
  try {
    await setMeta("last_contact_at", at);
  } catch {
    /* only a status line */
  }
  emit("contact", { at });
}

/** `sent` (a fetch already under way), or a rejection once `signal` aborts (the call's timeout). */
function abortable(sent, signal) {
  return Promise.race([
    sent,
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("timeout")), { once: true })),
  ]);
}

/**
 * A GET the shell page started before the modules loaded (visits/boot.js), taken once: the
 * response promise, or undefined when there is none (offline start, or already taken).
 */
export function takeEarly(url) {
  const early = globalThis.dudaoEarly;
  const sent = early && early[url];
  if (sent) delete early[url];
  return sent;
}

/**
 * One API request, answered as an outcome instead of an exception:
 * {type: "ok", status, body} | {type: "network", message}
 * | {type: "transient", status, code, message, busy, retryAfterMs} | {type: "auth", message} | {type: "csrf"}
 * | {type: "switched", message} (a write for another account than the one signed in now: see `write`)
 * | {type: "rejected", status, code, message, fields, body}.
 * `busy`: the server as a whole cannot answer now (502/503/504/408/429, a proxy's page), not this entry's fault.
 * @param {string} method
 * @param {string} url
 * @param {{json?: any, form?: FormData, body?: BodyInit, headers?: object, timeoutMs?: number, started?: Promise<Response>}} [options]
 *   `started`: the same request, already sent (takeEarly); read instead of sending another.
 */
export async function call(method, url, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  if (method !== "GET" && csrfToken) headers["X-CSRFToken"] = csrfToken;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs || settings.jsonTimeoutMs);
  let response;
  let data = null;
  try {
    response = await (options.started
      ? abortable(options.started, controller.signal)
      : fetch(url, { method, headers, body, credentials: "same-origin", cache: "no-store", signal: controller.signal }));
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) data = await response.json();
  } catch {
    clearTimeout(timer);
    const offline = typeof navigator !== "undefined" && navigator.onLine === false;
    return { type: "network", message: offline ? "手机没有网络连接。" : "连接不上服务器。" };
  }
  clearTimeout(timer);
  await noteContact();
  const error = (data && data.error) || {};
  const status = response.status;
  // Asked with If-None-Match and unchanged: what the phone holds is current.
  if (status === 304) return { type: "ok", status, body: null, etag: response.headers.get("ETag") };
  if (status >= 200 && status < 300) {
    // A 200 that is not our JSON is a captive portal or proxy page, not the server.
    if (data === null) {
      return { type: "transient", status, code: "not_json", busy: true, message: "网络被拦截（不是服务器的回答）。" };
    }
    return { type: "ok", status, body: data, etag: response.headers.get("ETag") };
  }
  if (status === 401) return { type: "auth", message: error.message || "请先登录。" };
  // An imported or reset account must choose its own password first: pause like a sign-out (nothing is parked).
  if (status === 403 && error.code === "password_change_required") {
    return { type: "auth", reason: "password", message: error.message || "请先修改初始密码。" };
  }
  if (status === 400 && error.code === "csrf_failed") return { type: "csrf" };
  if (status === 409 && error.code === "user_changed") return { type: "switched", message: error.message || "" };
  if (status >= 500 || status === 408 || status === 429) {
    const seconds = Number(response.headers.get("Retry-After"));
    return {
      type: "transient",
      status,
      code: error.code || "",
      message: error.message || `服务器暂时不可用（${status}）。`,
      busy: [408, 429, 502, 503, 504].includes(status),
      retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, settings.retryAfterCapMs) : 0,
    };
  }
  return {
    type: "rejected",
    status,
    code: error.code || String(status),
    message: error.message || `服务器拒绝了这条记录（${status}）。`,
    fields: error.fields || {},
    body: data,
  };
}

/**
 * Sign-in check and CSRF token: GET /api/v1/me. Returns its outcome; on success
 * the token is kept for writes, the signed-in user becomes the owner of what the
 * phone shows and sends (db.setOwner; "owner" {user, changed, adopted} when that
 * changes or older records were adopted) and a paused outbox resumes.
 */
export async function checkSession(asked = null) {
  // `asked`: the GET /api/v1/me the app started at once (app.js), read here in order.
  const outcome = await (asked || call("GET", "/api/v1/me"));
  if (outcome.type === "ok") {
    csrfToken = outcome.body.csrf_token;
    currentUser = outcome.body.user;
    paused = null;
    const { changed, adopted } = await setOwner(currentUser.id);
    if (changed || adopted) emit("owner", { user: currentUser, changed, adopted });
    emit("auth", { signed_in: true, user: currentUser });
  } else if (outcome.type === "auth") {
    signedOut(outcome.reason);
  }
  return outcome;
}

/**
 * The session ended, or the account must change its password first (`reason` "password"):
 * pause until the person signs in again (nothing is dropped).
 */
export function signedOut(reason = "session") {
  csrfToken = null;
  paused = "auth";
  emit("auth", { signed_in: false, user: null, reason });
}

/**
 * A write with the CSRF token; a stale token is fetched again once.
 * Same outcomes as `call`.
 */
export async function write(method, url, options = {}) {
  // Whose records these are (taken before any session check below): another tab may have signed someone else
  // in since (one cookie jar for all tabs); the server then refuses the write (409 user_changed).
  const owner = currentOwner();
  if (owner !== null) {
    options = { ...options, headers: { ...(options.headers || {}), "X-Dudao-User": String(owner) } };
  }
  if (!csrfToken) {
    const session = await checkSession();
    if (session.type !== "ok") return session;
  }
  let outcome = await call(method, url, options);
  if (outcome.type === "csrf") {
    csrfToken = null;
    const session = await checkSession();
    if (session.type !== "ok") return session;
    outcome = await call(method, url, options);
    if (outcome.type === "csrf") {
      outcome = { type: "transient", status: 400, code: "csrf_failed", busy: true, message: "登录凭据校验失败，稍后重试。" };
    }
  }
  if (outcome.type === "auth") signedOut(outcome.reason);
  // Someone else is signed in now: learn who (the page switches to their records); these wait for their owner.
  if (outcome.type === "switched") await checkSession();
  return outcome;
}

// --- the queue -------------------------------------------------------------------

/**
 * Put raw entries (copies, same UUIDs) back in the outbox: tests replay a
 * batch this way, and it is how a support person can resend a visit.
 * @param {object[]} entries
 */
export async function enqueueRaw(entries) {
  await transaction([S.outbox], "readwrite", async (s) => {
    for (const entry of entries) {
      const copy = { ...entry, status: "pending", error: null };
      delete copy.seq;
      await req(s[S.outbox].add(copy));
    }
  });
  for (const id of new Set(entries.map((e) => e.visit_id))) progress(id);
}

/** Outbox entries (all, or one visit's) in replay order. */
export async function entries(visitId) {
  const rows = visitId ? await all(S.outbox, "visit_id", visitId) : await all(S.outbox);
  return rows.sort((a, b) => a.seq - b.seq);
}

/**
 * Per-record status: {pending, failed, syncing, errors: [{kind, message, edit, seq}], waiting: message|null}.
 * `failed` counts parked entries (refused, or failing again and again): they wait for 重试 or a change;
 * `edit` is where the person can change what was refused (a hash, from the sender), when there is one.
 * @returns {Promise<Map<string, object>>}
 */
export async function summary() {
  const rows = await entries();
  const byVisit = new Map();
  for (const entry of rows) {
    const s = byVisit.get(entry.visit_id) || { pending: 0, failed: 0, syncing: false, errors: [], waiting: null };
    if (entry.status === "failed") {
      s.failed += 1;
      const sender = senders.get(entry.kind);
      s.errors.push({
        kind: entry.kind,
        seq: entry.seq,
        message: entry.error ? entry.error.message : "被服务器拒绝。",
        edit: sender && sender.edit ? sender.edit(entry) : null,
      });
    } else {
      s.pending += 1;
      if (entry.last_error) s.waiting = entry.last_error;
    }
    byVisit.set(entry.visit_id, s);
  }
  for (const id of syncing) {
    const s = byVisit.get(id) || { pending: 0, failed: 0, syncing: false, errors: [], waiting: null };
    s.syncing = true;
    byVisit.set(id, s);
  }
  return byVisit;
}

/** Tell the page how a record's entries stand (after a change). */
export async function progress(visitId) {
  try {
    const rows = await all(S.outbox, "visit_id", visitId);
    const failed = rows.filter((e) => e.status === "failed").length;
    emit("progress", { visit_id: visitId, pending: rows.length - failed, failed, syncing: syncing.has(visitId) });
  } catch {
    emit("progress", { visit_id: visitId });
  }
}

/**
 * Put a record's parked entries (or all parked entries) back in the queue and replay now (重试).
 * @param {string} [visitId]
 */
export async function retry(visitId) {
  await transaction([S.outbox], "readwrite", async (s) => {
    const rows = await req(s[S.outbox].getAll());
    for (const entry of rows) {
      if (entry.status === "failed" && (!visitId || entry.visit_id === visitId)) {
        await req(s[S.outbox].put({ ...entry, status: "pending", error: null, attempts: 0 }));
      }
    }
  });
  if (visitId) progress(visitId);
  return replay({ force: true });
}

/**
 * Take parked entries out of the queue for good (the person deleted them, or saved a corrected copy:
 * `more(s)` writes it in the same transaction, so nothing is lost or doubled). All or nothing: when one of
 * them is no longer parked (重试 put it back, it is being sent, it is gone) nothing changes and the answer
 * is false. What waited behind them goes now.
 * @param {number[]} seqs
 * @param {(s: Record<string, IDBObjectStore>) => Promise<void>} [more]
 * @returns {Promise<boolean>}
 */
export async function dropParked(seqs, more = null) {
  const records = new Set();
  const dropped = await transaction([S.outbox], "readwrite", async (s) => {
    const rows = [];
    for (const seq of seqs) rows.push(await req(s[S.outbox].get(seq)));
    if (rows.some((entry) => !entry || entry.status !== "failed" || inFlight.has(entry.seq))) return false;
    if (more) await more(s); // first: a copy may carry the parked entries' photos (Blobs read from them)
    for (const entry of rows) {
      records.add(entry.visit_id);
      await req(s[S.outbox].delete(entry.seq));
    }
    return true;
  });
  for (const id of records) progress(id);
  if (dropped) replay({ force: true });
  return dropped;
}

// --- replay ----------------------------------------------------------------------

/**
 * Send what is waiting. Rounds never overlap (a call during a round asks for
 * one more round), nor across tabs where Web Locks exist.
 * @param {{force?: boolean}} [options] force: ignore the backoff wait (user action, `online`, app start)
 * @returns {Promise<void>}
 */
export function replay(options = {}) {
  const force = Boolean(options.force);
  if (running) {
    again = true;
    againForced = againForced || force;
    return running;
  }
  running = (async () => {
    try {
      await lockedRound(force);
      while (again) {
        const forced = againForced;
        again = false;
        againForced = false;
        await lockedRound(forced);
      }
    } catch (error) {
      // An IndexedDB failure: keep everything, try again later.
      backoff(`本机存储出错：${error && error.message ? error.message : error}`);
    } finally {
      running = null;
      emit("idle", {});
    }
  })();
  return running;
}

function lockedRound(force) {
  if (typeof navigator !== "undefined" && navigator.locks && navigator.locks.request) {
    return navigator.locks.request("dudao-outbox", { ifAvailable: true }, async (lock) => {
      if (lock) await round(force);
    });
  }
  return round(force);
}

function backoff(message, atLeastMs = 0) {
  const base = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(failures, 20));
  // Equal jitter: phones coming back online together do not all retry at once.
  const delay = Math.max(atLeastMs, Math.round(base / 2 + (Math.random() * base) / 2));
  failures += 1;
  nextAttemptAt = Date.now() + delay;
  // The server said how long to wait (Retry-After): not even a forced replay goes before.
  if (atLeastMs) notBefore = Date.now() + atLeastMs;
  lastError = { message, at: now() };
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => replay(), delay);
  emit("backoff", { delay, message });
}

function succeeded() {
  failures = 0;
  nextAttemptAt = 0;
  lastError = null;
  clearTimeout(retryTimer);
}

/**
 * What waits on what within one record. An entry with an item key (a result's item,
 * a photo) waits only for earlier entries of the same item; an entry without one (a
 * header, a submit) waits for everything earlier of its record, and everything later
 * of its record waits for it. Other records never wait for each other.
 */
class Blocked {
  constructor() {
    this.records = new Map(); // visit_id → {all: boolean, items: Set<string>}
  }

  of(entry) {
    let record = this.records.get(entry.visit_id);
    if (!record) {
      record = { all: false, items: new Set() };
      this.records.set(entry.visit_id, record);
    }
    return record;
  }

  /** Whether `entry` must wait for an earlier one that did not go. */
  has(entry) {
    const record = this.records.get(entry.visit_id);
    if (!record) return false;
    const key = itemOf(entry);
    return record.all || (key === null ? record.items.size > 0 : record.items.has(key));
  }

  /** `entry` did not go: what depends on it waits. */
  add(entry) {
    const record = this.of(entry);
    const key = itemOf(entry);
    if (key === null) record.all = true;
    else record.items.add(key);
  }
}

function itemOf(entry) {
  const sender = senders.get(entry.kind);
  const key = sender && sender.item ? sender.item(entry) : null;
  return key === null || key === undefined ? null : String(key);
}

async function round(force) {
  if (typeof navigator !== "undefined" && navigator.onLine === false) return;
  if (Date.now() < notBefore) return;
  if (!force && (paused || Date.now() < nextAttemptAt)) return;
  const all = await entries();
  let queue = all.filter((e) => e.status === "pending");
  if (!queue.length) {
    succeeded();
    return;
  }
  await loadSenders(queue);
  if (!csrfToken) {
    const session = await checkSession();
    if (session.type === "auth") return;
    if (session.type !== "ok") {
      backoff(session.message, session.retryAfterMs || 0);
      return;
    }
  }
  const blocked = new Blocked();
  for (const entry of all) if (entry.status === "failed") blocked.add(entry);
  const held = new Map(); // lane → why it waits
  // unwell: a 5xx of some entry; single: one by one this round (batch refused or failed); retryAfterMs: a lane's wait
  const trouble = { unwell: null, single: false, retryAfterMs: 0 };
  for (;;) {
    // What may go now: not blocked, not in a held lane.
    const ready = [];
    for (const entry of queue) {
      const sender = senderOf(entry);
      if ((sender.lane && held.has(sender.lane)) || blocked.has(entry)) blocked.add(entry);
      else ready.push(entry);
    }
    if (!ready.length) break;
    const useBatch = !trouble.single && Date.now() >= batchMissingUntil && senderOf(ready[0]).sync;
    let groups;
    let answers;
    if (useBatch) {
      groups = syncGroups(ready);
      answers = [await sendBatch(groups, { blocked, trouble })];
    } else if ((senderOf(ready[0]).parallel || 1) > 1) {
      ({ groups, answers } = await sendInLanes(ready, { blocked, held, trouble }));
    } else {
      groups = [groupAt(ready, 0)];
      answers = [await sendOne(groups[0], { blocked, held, trouble })];
    }
    const sent = new Set(groups.flat().map((e) => e.seq));
    if (answers.some((answer) => answer.stop)) return;
    const again = answers.flatMap((answer) => answer.again || []);
    // Entries the server saved nothing of (a refused batch, a missing endpoint) go again.
    const resend = new Set(again.map((e) => e.seq));
    queue = queue.filter((e) => !sent.has(e.seq) || resend.has(e.seq));
  }
  if (held.size || trouble.unwell) backoff(trouble.unwell || [...held.values()][0], trouble.retryAfterMs || 0);
  else succeeded();
}

/** Consecutive entries of one kind and record from ready[start] that go in one request. */
function groupAt(ready, start) {
  const first = ready[start];
  const max = Math.min(senderOf(first).batch || 1, settings.batchSize);
  const group = [first];
  for (let j = start + 1; j < ready.length && group.length < max; j += 1) {
    if (ready[j].kind !== first.kind || ready[j].visit_id !== first.visit_id) break;
    group.push(ready[j]);
  }
  return group;
}

/**
 * The ready entries of the first one's kind, `parallel` (its sender's) at a time, one request
 * each: a lane takes the next entry as soon as its own is done, so one lane's round trips
 * (asking, attaching) overlap the other's transfer instead of both waiting in step.
 * A held lane or a stop ends the lanes; entries not taken stay for the next turn.
 */
async function sendInLanes(ready, context) {
  const sender = senderOf(ready[0]);
  const todo = ready.filter((e) => e.kind === ready[0].kind);
  const groups = [];
  const answers = [];
  let stop = false;
  const lane = async () => {
    while (!stop && todo.length && !(sender.lane && context.held.has(sender.lane))) {
      // Readiness was decided before the lanes began: what is blocked since depends on these, not the reverse.
      const entry = todo.shift();
      groups.push([entry]);
      const answer = await sendOne([entry], context);
      answers.push(answer);
      if (answer.stop) stop = true;
    }
  };
  await Promise.all(Array.from({ length: sender.parallel }, lane));
  return { groups, answers };
}

/**
 * The JSON entries that go together in one POST /api/v1/sync, in order. An entry that
 * depends on one staying behind (a photo, which goes on its own) stays behind too. A
 * header may follow its record's writes in the same batch (a visit recorded offline goes
 * whole: start, answers, submit): the server applies entries in order and answers a
 * header after a refused entry of its record 424 without applying it, and sendBatch keeps
 * that header (not parked) behind the refused one, so a submit never goes without the
 * writes it declares.
 */
function syncGroups(ready) {
  const later = new Blocked();
  const groups = [];
  let count = 0;
  let start = 0;
  while (start < ready.length && count < settings.syncMaxEntries) {
    const entry = ready[start];
    if (!senderOf(entry).sync || later.has(entry)) {
      later.add(entry);
      start += 1;
      continue;
    }
    const group = groupAt(ready, start).filter((e) => !later.has(e));
    groups.push(group);
    count += 1;
    start += group.length;
  }
  return groups;
}

/**
 * Send one group by its own request. Returns true when the round must stop
 * (signed out, another user, the server or network out of reach).
 */
async function sendOne(group, { blocked, held, trouble }) {
  const sender = senderOf(group[0]);
  const outcome = await send(group, sender);
  if (outcome.type === "ok" || outcome.type === "held") return {};
  if (outcome.type === "auth" || outcome.type === "switched") return { stop: true };
  if (outcome.type === "rejected") {
    const blamed = blame(sender, outcome, group);
    await park(blamed, outcome, sender);
    blamed.forEach(({ entry }) => blocked.add(entry));
    // The server saved nothing of the group: the entries it did not refuse go again.
    const refused = new Set(blamed.map((b) => b.entry.seq));
    return { again: group.filter((e) => !refused.has(e.seq)) };
  }
  // Network error or the server is unwell: keep the entries, say why.
  const attempts = await noteWaiting(group, outcome.message, sender);
  if (outcome.type === "transient" && sender.lane) {
    // Photo storage down (503, maybe with Retry-After): the photos wait, the rest goes on.
    held.set(sender.lane, outcome.message);
    trouble.retryAfterMs = Math.max(trouble.retryAfterMs || 0, outcome.retryAfterMs || 0);
    group.forEach((entry) => blocked.add(entry));
    return {};
  }
  if (outcome.type === "network" || outcome.busy || outcome.retryAfterMs) {
    // The whole server (or the network) is out of reach: everything waits.
    backoff(outcome.message, outcome.retryAfterMs || 0);
    return { stop: true };
  }
  // A 5xx for this entry only (a bug meeting its data): the others go on; after
  // `parkAfter` tries it is parked like a refusal, so it cannot stall the phone.
  if (attempts >= settings.parkAfter) {
    const message = `服务器处理这条记录时出错（${outcome.status}），已暂停发送：${outcome.message}`;
    await park(group.map((entry) => ({ entry, message })), { ...outcome, code: outcome.code || "server_error" }, sender);
  }
  group.forEach((entry) => blocked.add(entry));
  trouble.unwell = trouble.unwell || outcome.message;
  return {};
}

/** The answer of the batch endpoint for one entry, as an outcome of `call`. */
function entryOutcome(answer) {
  const status = answer ? answer.status : 0;
  const body = (answer && answer.body) || {};
  const error = body.error || {};
  if (status >= 200 && status < 300) return { type: "ok", status, body };
  if (!answer || status >= 500) {
    return { type: "transient", status, code: error.code || "", message: error.message || `服务器暂时不可用（${status}）。` };
  }
  return {
    type: "rejected",
    status,
    code: error.code || String(status),
    message: error.message || `服务器拒绝了这条记录（${status}）。`,
    fields: error.fields || {},
  };
}

/**
 * Send groups of JSON entries in one POST /api/v1/sync and settle each by its own answer.
 * Without the endpoint (404: an older server) the outbox sends entry by entry for a while;
 * when the batch as a whole fails for a reason of its own (a 5xx that is not "busy", 400,
 * 413) the round goes on entry by entry, so one bad entry cannot hold back the others.
 */
async function sendBatch(groups, { blocked, trouble }) {
  const all = groups.flat();
  const owner = currentOwner();
  if (!currentUser || currentUser.id !== owner || all.some((e) => (e.owner ?? null) !== owner)) return { stop: true };
  const payload = groups.map((group) => {
    const request = senderOf(group[0]).request(group);
    return { id: String(group[0].seq), kind: senderOf(group[0]).sync, target: request.target, body: request.json };
  });
  for (const entry of all) inFlight.add(entry.seq);
  const records = new Set(all.map((e) => e.visit_id));
  for (const id of records) {
    syncing.add(id);
    progress(id);
  }
  try {
    const outcome = await write("POST", "/api/v1/sync", { json: { entries: payload } });
    if (outcome.type === "auth" || outcome.type === "switched") return { stop: true };
    if (outcome.type === "rejected" && outcome.status === 404) {
      batchMissingUntil = Date.now() + BATCH_RETRY_MS;
      trouble.single = true;
      return { again: all };
    }
    if (outcome.type === "network" || outcome.busy || outcome.retryAfterMs) {
      for (const group of groups) await noteWaiting(group, outcome.message, senderOf(group[0]));
      backoff(outcome.message, outcome.retryAfterMs || 0);
      return { stop: true };
    }
    if (outcome.type !== "ok") {
      trouble.single = true; // resent one by one in this round: the bad one is found and parked
      return { again: all };
    }
    const answers = new Map((outcome.body.entries || []).map((a) => [a.id, a]));
    const again = [];
    const failed = new Blocked(); // a later entry refused because an earlier one was is not at fault
    for (const group of groups) {
      const sender = senderOf(group[0]);
      const result = entryOutcome(answers.get(String(group[0].seq)));
      if (result.type === "ok") {
        const receipt = outcome.body.receipts && outcome.body.receipts[group[0].visit_id];
        if (receipt && result.body && !result.body.receipt && sender.sync !== "activity_put") result.body.receipt = receipt;
        await sender.accept(group, result);
        continue;
      }
      if (group.some((e) => failed.has(e)) || result.type === "transient") {
        group.forEach((entry) => {
          failed.add(entry);
          blocked.add(entry);
        });
        if (result.type === "transient") trouble.unwell = trouble.unwell || result.message;
        continue;
      }
      const blamed = blame(sender, result, group);
      await park(blamed, result, sender);
      blamed.forEach(({ entry }) => {
        failed.add(entry);
        blocked.add(entry);
      });
      // Entries of a refused group it did not blame were not saved: they go again.
      const refused = new Set(blamed.map((b) => b.entry.seq));
      again.push(...group.filter((e) => !refused.has(e.seq)));
    }
    return { again };
  } finally {
    for (const entry of all) inFlight.delete(entry.seq);
    for (const id of records) {
      syncing.delete(id);
      progress(id);
    }
  }
}

const UNKNOWN = {
  send: async () => ({ type: "rejected", status: 0, code: "unknown_kind", message: "无法识别的待同步记录。", fields: {} }),
};

function senderOf(entry) {
  return senders.get(entry.kind) || UNKNOWN;
}

/** The entries of a refused batch it concerns, with their messages (the sender may say; else all). */
function blame(sender, outcome, batch) {
  if (sender.blame) {
    const blamed = sender.blame(outcome, batch);
    if (blamed && blamed.length) return blamed;
  }
  return batch.map((entry) => ({ entry, message: outcome.message }));
}

/** Park entries: kept, shown with their message, sent again on 重试 or when the person changes them. */
async function park(blamed, outcome, sender) {
  await transaction([S.outbox], "readwrite", async (s) => {
    for (const { entry, message } of blamed) {
      const current = await req(s[S.outbox].get(entry.seq));
      if (!current) continue;
      const error = { status: outcome.status, code: outcome.code, message, at: now() };
      await req(s[S.outbox].put({ ...current, status: "failed", last_error: null, error }));
    }
  });
  if (sender.report) for (const { entry } of blamed) sender.report(entry, "failed", outcome.message);
  for (const id of new Set(blamed.map((b) => b.entry.visit_id))) progress(id);
}

/** Note why entries wait; returns the most tries any of them has had. */
async function noteWaiting(batch, message, sender) {
  let most = 0;
  await transaction([S.outbox], "readwrite", async (s) => {
    for (const entry of batch) {
      const current = await req(s[S.outbox].get(entry.seq));
      if (current) {
        const attempts = (current.attempts || 0) + 1;
        most = Math.max(most, attempts);
        await req(s[S.outbox].put({ ...current, last_error: message, attempts }));
      }
    }
  });
  if (sender.report) for (const entry of batch) sender.report(entry, "waiting", message);
  return most;
}

async function send(batch, sender) {
  // Someone else signed in during the round: their session must not carry these.
  const owner = currentOwner();
  if (!currentUser || currentUser.id !== owner || batch.some((e) => (e.owner ?? null) !== owner)) {
    return { type: "switched" };
  }
  const visitId = batch[0].visit_id;
  for (const entry of batch) inFlight.add(entry.seq);
  syncing.add(visitId);
  progress(visitId);
  try {
    if (!sender.send) {
      const request = sender.request(batch);
      const outcome = await write(request.method, request.url, { json: request.json });
      if (outcome.type === "ok") await sender.accept(batch, outcome);
      return outcome;
    }
    const outcome = await sender.send(batch);
    if (outcome.type === "ok" && !outcome.finished) await finish(batch);
    return outcome;
  } finally {
    for (const entry of batch) inFlight.delete(entry.seq);
    syncing.delete(visitId);
    progress(visitId);
  }
}

/**
 * Remove sent entries; `stores` and `more(s)` let a sender change its own records in
 * the same transaction (the entry goes exactly when its record says "sent").
 * Returns `{finished: true}` for the sender to merge into its outcome.
 * @param {object[]} batch
 * @param {string[]} [stores]
 * @param {(s: Record<string, IDBObjectStore>) => Promise<void>} [more]
 */
export async function finish(batch, stores = [], more = null) {
  await transaction([S.outbox, ...stores], "readwrite", async (s) => {
    for (const entry of batch) await req(s[S.outbox].delete(entry.seq));
    if (more) await more(s);
  });
  return { finished: true };
}
