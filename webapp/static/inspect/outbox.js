// The outbox: every change made on the phone waits here until the server has it.
//
// Policy
// - Entries are replayed in order (seq). Consecutive result writes of one visit
//   go in one POST (at most `batchSize`). Every request is idempotent on the
//   server (client UUIDs), so sending twice is harmless; losing one is not.
// - Network errors and 5xx keep the entry and back off: base × 2^n with jitter,
//   capped (2 s … 5 min). A 5xx on a photo (storage down) holds back the photos
//   only; results of other entries still go.
// - 409/422 (and other 4xx) mark the entry `failed` with the server's Chinese
//   message; it stays until the user retries or edits the item; the rest goes on.
// - 401 pauses everything until the user signs in again; nothing is dropped.
// - Photos go one at a time; an uploaded photo is never sent again.
//
// This module never touches the DOM: it reports through `events`
//   "progress" {visit_id, pending, failed, syncing}   after any change of a visit's entries
//   "photo"    {photo_id, visit_id, state: "uploading"|"done"|"failed"|"waiting", message}
//   "receipt"  {visit_id, receipt}
//   "contact"  {at}                                   any answer from the server
//   "auth"     {signed_in, user}
//   "backoff"  {delay, message}
//   "idle"                                            a replay round ended

import { S, all, get, getMeta, req, setMeta, transaction, uuid } from "./db.js";

/** Progress and status events for the page (see the module comment). */
export const events = new EventTarget();

const settings = {
  baseDelayMs: 2000,
  maxDelayMs: 5 * 60 * 1000,
  batchSize: 200,
  jsonTimeoutMs: 30000,
  photoTimeoutMs: 120000,
};

let csrfToken = null;
let running = null;
let again = false;
let againForced = false;
let failures = 0;
let nextAttemptAt = 0;
let retryTimer = null;
let paused = null;
let lastError = null;
let currentUser = null;
const inFlight = new Set();
/** Senders of entry kinds other features add: kind → async (entry) => outcome. */
const senders = new Map();

/**
 * Teach the outbox a new kind of entry. `send(entry)` makes the request (use `write`)
 * and returns its outcome; on "ok" the outbox removes the entry. Entries carry their
 * record's id in `visit_id`, which groups them for status and progress.
 * @param {string} kind
 * @param {(entry: object) => Promise<object>} send
 */
export function registerSender(kind, send) {
  senders.set(kind, send);
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

function emit(type, detail) {
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

/**
 * One API request, answered as an outcome instead of an exception:
 * {type: "ok", status, body} | {type: "network", message} | {type: "transient", status, code, message}
 * | {type: "auth", message} | {type: "csrf"} | {type: "rejected", status, code, message, fields}.
 * @param {string} method
 * @param {string} url
 * @param {{json?: any, form?: FormData, timeoutMs?: number}} [options]
 */
export async function call(method, url, options = {}) {
  const headers = { Accept: "application/json" };
  let body;
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
    response = await fetch(url, {
      method,
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
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
  if (status >= 200 && status < 300) {
    // A 200 that is not our JSON is a captive portal or proxy page, not the server.
    if (data === null) return { type: "transient", status, code: "not_json", message: "网络被拦截（不是服务器的回答）。" };
    return { type: "ok", status, body: data };
  }
  if (status === 401) return { type: "auth", message: error.message || "请先登录。" };
  if (status === 400 && error.code === "csrf_failed") return { type: "csrf" };
  if (status >= 500 || status === 408 || status === 429) {
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
 * Sign-in check and CSRF token: GET /api/v1/me. Returns its outcome; on success
 * the token is kept for writes and a paused outbox resumes.
 */
export async function checkSession() {
  const outcome = await call("GET", "/api/v1/me");
  if (outcome.type === "ok") {
    csrfToken = outcome.body.csrf_token;
    currentUser = outcome.body.user;
    paused = null;
    emit("auth", { signed_in: true, user: currentUser });
  } else if (outcome.type === "auth") {
    pause();
  }
  return outcome;
}

function pause() {
  csrfToken = null;
  paused = "auth";
  emit("auth", { signed_in: false, user: null });
}

/**
 * A write with the CSRF token; a stale token is fetched again once.
 * Same outcomes as `call`.
 */
export async function write(method, url, options = {}) {
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
      outcome = { type: "transient", status: 400, code: "csrf_failed", message: "登录凭据校验失败，稍后重试。" };
    }
  }
  if (outcome.type === "auth") pause();
  return outcome;
}

// --- enqueueing ----------------------------------------------------------------

/**
 * Save an item's result and, if it has a value, enqueue its write, in one
 * transaction (a saved change always has its outbox entry). Unsent older writes
 * of the same item are dropped: the new write carries the whole value.
 * @param {{visit_id: string, item_id: string, value: object|null, observation: string, device_id: string}} change
 * @returns {Promise<object>} the stored result record
 */
export async function recordResult(change) {
  const editedAt = now();
  const writeId = uuid();
  const record = {
    visit_id: change.visit_id,
    item_id: change.item_id,
    value: change.value,
    observation: change.observation || "",
    edited_at: editedAt,
    write_id: writeId,
  };
  await transaction([S.results, S.outbox], "readwrite", async (s) => {
    await req(s[S.results].put(record));
    // The server has no "unanswered": an observation alone waits for a value.
    if (change.value === null || change.value === undefined) return;
    const entries = await req(s[S.outbox].index("visit_id").getAll(IDBKeyRange.only(change.visit_id)));
    for (const entry of entries) {
      if (entry.kind === "result" && entry.write.item_id === change.item_id && !inFlight.has(entry.seq)) {
        await req(s[S.outbox].delete(entry.seq));
      }
    }
    const write = {
      id: writeId,
      item_id: change.item_id,
      value: change.value,
      observation: record.observation,
      edited_at: editedAt,
      device_id: change.device_id,
    };
    await req(s[S.outbox].add(newEntry("result", { id: writeId, visit_id: change.visit_id, write })));
  });
  progress(change.visit_id);
  return record;
}

/**
 * Save a visit record and enqueue its header (PUT /api/v1/visits/<id>) together.
 * @param {object} visit the local visit record to store
 * @param {object} body the VisitUpsert payload
 */
export async function saveVisitHeader(visit, body) {
  await transaction([S.visits, S.outbox], "readwrite", async (s) => {
    await req(s[S.visits].put(visit));
    await req(s[S.outbox].add(newEntry("visit", { id: visit.id, visit_id: visit.id, body })));
  });
  progress(visit.id);
}

/**
 * Store a new photo (blob and metadata) and enqueue its upload together.
 * @param {object} photo {id, visit_id, item_id, blob, sha256, caption, captured_at, …}
 */
export async function addPhoto(photo) {
  const record = { uploaded: false, deleted: false, created_at: now(), ...photo };
  await transaction([S.photos, S.outbox], "readwrite", async (s) => {
    await req(s[S.photos].put(record));
    await req(s[S.outbox].add(newEntry("photo", { id: record.id, visit_id: record.visit_id })));
  });
  progress(record.visit_id);
  return record;
}

/**
 * Change a photo's caption or position; only before upload (the server keeps
 * what it received). Returns the record, or null if it can no longer change.
 */
export async function updatePhoto(photoId, changes) {
  return transaction([S.photos], "readwrite", async (s) => {
    const photo = await req(s[S.photos].get(photoId));
    if (!photo || photo.uploaded || photo.deleted) return null;
    const next = { ...photo, ...changes };
    await req(s[S.photos].put(next));
    return next;
  });
}

/**
 * Delete a photo before submit: a photo not yet sent is simply dropped with
 * its pending upload; an uploaded one (or one being sent) gets a DELETE.
 */
export async function removePhoto(photoId) {
  let visitId = null;
  await transaction([S.photos, S.outbox], "readwrite", async (s) => {
    const photo = await req(s[S.photos].get(photoId));
    if (!photo || photo.deleted) return;
    visitId = photo.visit_id;
    const entries = await req(s[S.outbox].index("visit_id").getAll(IDBKeyRange.only(photo.visit_id)));
    const upload = entries.find((e) => e.kind === "photo" && e.id === photoId);
    if (!photo.uploaded && upload && !inFlight.has(upload.seq)) {
      await req(s[S.outbox].delete(upload.seq));
      await req(s[S.photos].delete(photoId));
      return;
    }
    await req(s[S.photos].put({ ...photo, deleted: true, blob: null }));
    if (photo.uploaded) {
      await req(s[S.outbox].add(newEntry("photo_delete", { id: photoId, visit_id: photo.visit_id })));
    }
    // Being sent right now: when the upload succeeds, `sendPhoto` enqueues the DELETE.
  });
  if (visitId) progress(visitId);
}

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
 * Per-visit status: {pending, failed, syncing, errors: [{kind, message}], waiting: message|null}.
 * @returns {Promise<Map<string, object>>}
 */
export async function summary() {
  const rows = await entries();
  const byVisit = new Map();
  for (const entry of rows) {
    const s = byVisit.get(entry.visit_id) || { pending: 0, failed: 0, syncing: false, errors: [], waiting: null };
    if (entry.status === "failed") {
      s.failed += 1;
      s.errors.push({ kind: entry.kind, message: entry.error ? entry.error.message : "被服务器拒绝。" });
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

async function progress(visitId) {
  try {
    const rows = await all(S.outbox, "visit_id", visitId);
    const failed = rows.filter((e) => e.status === "failed").length;
    emit("progress", { visit_id: visitId, pending: rows.length - failed, failed, syncing: syncing.has(visitId) });
  } catch {
    emit("progress", { visit_id: visitId });
  }
}

/**
 * Put a visit's failed entries (or all failed entries) back in the queue and replay now.
 * @param {string} [visitId]
 */
export async function retry(visitId) {
  await transaction([S.outbox], "readwrite", async (s) => {
    const rows = await req(s[S.outbox].getAll());
    for (const entry of rows) {
      if (entry.status === "failed" && (!visitId || entry.visit_id === visitId)) {
        await req(s[S.outbox].put({ ...entry, status: "pending", error: null }));
      }
    }
  });
  if (visitId) progress(visitId);
  return replay({ force: true });
}

/** The last receipt kept for a visit (or undefined). */
export function receiptOf(visitId) {
  return get(S.receipts, visitId);
}

/** Ask the server what it holds for a visit; keep and return the receipt (null when unreachable). */
export async function refreshReceipt(visitId) {
  const outcome = await call("GET", `/api/v1/visits/${visitId}/receipt`);
  if (outcome.type === "auth") pause();
  if (outcome.type !== "ok") return null;
  await keepReceipt(outcome.body.receipt);
  return outcome.body.receipt;
}

async function keepReceipt(receipt) {
  if (!receipt) return;
  await transaction([S.receipts], "readwrite", (s) => req(s[S.receipts].put({ ...receipt, kept_at: now() })));
  emit("receipt", { visit_id: receipt.visit_id, receipt });
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

function backoff(message) {
  const base = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(failures, 20));
  // Equal jitter: phones coming back online together do not all retry at once.
  const delay = Math.round(base / 2 + (Math.random() * base) / 2);
  failures += 1;
  nextAttemptAt = Date.now() + delay;
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

async function round(force) {
  if (typeof navigator !== "undefined" && navigator.onLine === false) return;
  if (!force && (paused || Date.now() < nextAttemptAt)) return;
  const queue = (await entries()).filter((e) => e.status === "pending");
  if (!queue.length) {
    succeeded();
    return;
  }
  if (!csrfToken) {
    const session = await checkSession();
    if (session.type === "auth") return;
    if (session.type !== "ok") {
      backoff(session.message);
      return;
    }
  }
  let photosHeld = null;
  let i = 0;
  while (i < queue.length) {
    const first = queue[i];
    const isPhoto = first.kind === "photo" || first.kind === "photo_delete";
    if (isPhoto && photosHeld) {
      i += 1;
      continue;
    }
    const batch = [first];
    if (first.kind === "result") {
      for (let j = i + 1; j < queue.length && batch.length < settings.batchSize; j += 1) {
        if (queue[j].kind !== "result" || queue[j].visit_id !== first.visit_id) break;
        batch.push(queue[j]);
      }
    }
    const outcome = await send(batch);
    if (outcome.type === "ok" || outcome.type === "held") {
      i += batch.length;
      continue;
    }
    if (outcome.type === "auth") return;
    if (outcome.type === "rejected") {
      const blamed = blame(outcome, batch);
      await markFailed(blamed, outcome);
      if (blamed.length === batch.length) {
        i += batch.length;
      } else {
        // The server saved nothing of the batch: drop the refused writes and resend the rest.
        const refused = new Set(blamed.map((e) => e.seq));
        for (let k = queue.length - 1; k >= i; k -= 1) if (refused.has(queue[k].seq)) queue.splice(k, 1);
      }
      continue;
    }
    // Network error or the server is unwell: keep the entries, say why, wait.
    await noteWaiting(batch, outcome.message);
    if (outcome.type === "transient" && isPhoto) {
      photosHeld = outcome.message;
      i += 1;
      continue;
    }
    backoff(outcome.message);
    return;
  }
  if (photosHeld) backoff(photosHeld);
  else succeeded();
}

/** The entries of a refused batch the server's field errors point at (all when it does not say). */
function blame(outcome, batch) {
  if (batch.length === 1) return batch;
  const indexes = new Set();
  for (const key of Object.keys(outcome.fields || {})) {
    const match = /^writes\.(\d+)\./.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  const blamed = batch.filter((_, index) => indexes.has(index));
  return blamed.length ? blamed : batch;
}

/** The server's message, with the field errors that concern this entry (for results: its index in the batch). */
function messageFor(entry, outcome) {
  const picked = [];
  for (const [key, messages] of Object.entries(outcome.fields || {})) {
    const mine =
      entry.kind !== "result" || !key.startsWith("writes.") || key.startsWith(`writes.${entry.batch_index ?? 0}.`);
    if (mine) picked.push(...(Array.isArray(messages) ? messages : [String(messages)]));
  }
  if (!picked.length) return outcome.message;
  // Per-item messages are Chinese and name the item; other field errors need the general message.
  return outcome.code === "invalid_results" ? picked.join("；") : `${outcome.message}（${picked.join("；")}）`;
}

async function markFailed(blamed, outcome) {
  await transaction([S.outbox], "readwrite", async (s) => {
    for (const entry of blamed) {
      const current = await req(s[S.outbox].get(entry.seq));
      if (!current) continue;
      const error = { status: outcome.status, code: outcome.code, message: messageFor(entry, outcome), at: now() };
      await req(s[S.outbox].put({ ...current, status: "failed", last_error: null, error }));
    }
  });
  for (const entry of blamed) {
    if (entry.kind === "photo") {
      emit("photo", { photo_id: entry.id, visit_id: entry.visit_id, state: "failed", message: outcome.message });
    }
  }
  for (const id of new Set(blamed.map((e) => e.visit_id))) progress(id);
}

async function noteWaiting(batch, message) {
  await transaction([S.outbox], "readwrite", async (s) => {
    for (const entry of batch) {
      const current = await req(s[S.outbox].get(entry.seq));
      if (current) {
        await req(s[S.outbox].put({ ...current, last_error: message, attempts: (current.attempts || 0) + 1 }));
      }
    }
  });
  for (const entry of batch) {
    if (entry.kind === "photo") {
      emit("photo", { photo_id: entry.id, visit_id: entry.visit_id, state: "waiting", message });
    }
  }
}

async function send(batch) {
  const visitId = batch[0].visit_id;
  for (const entry of batch) inFlight.add(entry.seq);
  syncing.add(visitId);
  progress(visitId);
  try {
    switch (batch[0].kind) {
      case "visit":
        return await sendVisit(batch[0]);
      case "result":
        batch.forEach((entry, index) => {
          entry.batch_index = index;
        });
        return await sendResults(batch);
      case "photo":
        return await sendPhoto(batch[0]);
      case "photo_delete":
        return await sendPhotoDelete(batch[0]);
      default: {
        const custom = senders.get(batch[0].kind);
        if (!custom) {
          return { type: "rejected", status: 0, code: "unknown_kind", message: "无法识别的待同步记录。", fields: {} };
        }
        const outcome = await custom(batch[0]);
        if (outcome.type === "ok") await done(batch, null);
        return outcome;
      }
    }
  } finally {
    for (const entry of batch) inFlight.delete(entry.seq);
    syncing.delete(visitId);
    progress(visitId);
  }
}

async function done(batch, receipt, extra) {
  await transaction([S.outbox, S.receipts, S.photos], "readwrite", async (s) => {
    for (const entry of batch) await req(s[S.outbox].delete(entry.seq));
    if (receipt) await req(s[S.receipts].put({ ...receipt, kept_at: now() }));
    if (extra) await extra(s);
  });
  if (receipt) emit("receipt", { visit_id: receipt.visit_id, receipt });
}

async function sendVisit(entry) {
  const outcome = await write("PUT", `/api/v1/visits/${entry.visit_id}`, { json: entry.body });
  if (outcome.type !== "ok") return outcome;
  const serverVisit = outcome.body.visit;
  await done([entry], outcome.body.receipt);
  await transaction([S.visits], "readwrite", async (s) => {
    const visit = await req(s[S.visits].get(entry.visit_id));
    if (visit) await req(s[S.visits].put({ ...visit, server_state: serverVisit.state }));
  });
  return outcome;
}

async function sendResults(batch) {
  const visitId = batch[0].visit_id;
  const outcome = await write("POST", `/api/v1/visits/${visitId}/results`, {
    json: { writes: batch.map((entry) => entry.write) },
  });
  if (outcome.type === "ok") await done(batch, outcome.body.receipt);
  return outcome;
}

async function sendPhoto(entry) {
  const photo = await get(S.photos, entry.id);
  if (!photo || photo.uploaded || photo.deleted) {
    // Uploaded already, or deleted before it was sent: nothing to send, ever.
    await done([entry], null, async (s) => {
      if (photo && photo.deleted && !photo.uploaded) await req(s[S.photos].delete(photo.id));
    });
    return { type: "ok", status: 200, body: {} };
  }
  // Just taken and its caption still being typed: it goes in a later round.
  if (photo.hold_until && photo.hold_until > Date.now()) return { type: "held" };
  if (!photo.blob) {
    return { type: "rejected", status: 0, code: "photo_lost", message: "照片文件已不在手机上，无法上传。", fields: {} };
  }
  emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: "uploading" });
  const form = new FormData();
  form.append("file", photo.blob, `${photo.id}.jpg`);
  form.append("sha256", photo.sha256);
  if (photo.item_id) form.append("item_id", photo.item_id);
  form.append("caption", photo.caption || "");
  if (photo.captured_at) form.append("captured_at", photo.captured_at);
  for (const key of ["latitude", "longitude", "accuracy_m"]) {
    if (typeof photo[key] === "number" && Number.isFinite(photo[key])) form.append(key, String(photo[key]));
  }
  form.append("device_id", photo.device_id || (await getMeta("device_id", "")));
  const outcome = await write("PUT", `/api/v1/visits/${photo.visit_id}/photos/${photo.id}`, {
    form,
    timeoutMs: settings.photoTimeoutMs,
  });
  if (outcome.type !== "ok") {
    if (outcome.type !== "rejected") {
      emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: "waiting", message: outcome.message });
    }
    return outcome;
  }
  let deletedMeanwhile = false;
  await done([entry], outcome.body.receipt, async (s) => {
    const current = await req(s[S.photos].get(photo.id));
    if (current) await req(s[S.photos].put({ ...current, uploaded: true, uploaded_at: now() }));
    // Deleted while it was being sent: the server has it now, so remove it there too.
    if (!current || current.deleted) {
      deletedMeanwhile = true;
      await req(s[S.outbox].add(newEntry("photo_delete", { id: photo.id, visit_id: photo.visit_id })));
    }
  });
  emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: deletedMeanwhile ? "deleted" : "done" });
  return outcome;
}

async function sendPhotoDelete(entry) {
  const outcome = await write("DELETE", `/api/v1/visits/${entry.visit_id}/photos/${entry.id}`);
  if (outcome.type === "ok") {
    await done([entry], outcome.body.receipt, async (s) => {
      const photo = await req(s[S.photos].get(entry.id));
      if (photo && photo.deleted) await req(s[S.photos].delete(entry.id));
    });
  }
  return outcome;
}
