// A visit's way to the server: what the inspector records is saved on the phone
// together with its outbox entry, and the senders of those entries (registered
// with the outbox, which is only the queue).
//
// Kinds
//   visit          PUT /api/v1/visits/<id>                  the header (start, submit)
//   result         POST /api/v1/visits/<id>/results         consecutive writes of a visit in one request
//   photo          chunks to PUT /api/v1/uploads/<sha256> (resumable), then PUT /api/v1/visits/<id>/photos/<photo>
//                  {upload: sha256, …}; multipart on a server without uploads. Two at a time; never sent twice.
//   photo_delete   DELETE …/photos/<photo>                  a photo deleted after upload (before submit)
// A 5xx on a photo (storage down) holds back the photos only (lane "photo").
//
// This module never touches the DOM: it reports through outbox.events
//   "photo"    {photo_id, visit_id, state: "uploading"|"done"|"failed"|"waiting"|"deleted", message}
//   "receipt"  {visit_id, receipt}

import { S, get, getMeta, req, transaction, uuid } from "./db.js";
import * as outbox from "./outbox.js";

const { emit, newEntry, progress } = outbox;
const PHOTO_TIMEOUT_MS = 120000;

function now() {
  return new Date().toISOString();
}

// --- enqueueing ----------------------------------------------------------------

/**
 * An edit's time: now, but never before the item's previous edit on this phone. The server keeps the write
 * with the latest time (last write wins); a phone whose clock is set back (the network corrects a clock that
 * ran an hour fast) would otherwise stamp its next edit earlier than the one it replaces, and lose it there.
 * @param {string|undefined} previous the previous edit's edited_at
 * @param {string} current now
 */
function after(previous, current) {
  const last = previous ? Date.parse(previous) : NaN;
  return Number.isFinite(last) && last >= Date.parse(current) ? new Date(last + 1).toISOString() : current;
}

/**
 * Save an item's result and, if it has a value, enqueue its write, in one
 * transaction (a saved change always has its outbox entry). Unsent older writes
 * of the same item are dropped: the new write carries the whole value.
 * @param {{visit_id: string, item_id: string, value: object|null, observation: string, device_id: string}} change
 * @returns {Promise<object>} the stored result record
 */
export async function recordResult(change) {
  const writeId = uuid();
  const record = {
    visit_id: change.visit_id,
    item_id: change.item_id,
    value: change.value,
    observation: change.observation || "",
    edited_at: now(),
    write_id: writeId,
  };
  await transaction([S.results, S.outbox], "readwrite", async (s) => {
    const before = await req(s[S.results].get([change.visit_id, change.item_id]));
    record.edited_at = after(before && before.edited_at, record.edited_at);
    await req(s[S.results].put(record));
    // The server has no "unanswered": an observation alone waits for a value.
    if (change.value === null || change.value === undefined) return;
    const entries = await req(s[S.outbox].index("visit_id").getAll(IDBKeyRange.only(change.visit_id)));
    for (const entry of entries) {
      if (entry.kind === "result" && entry.write.item_id === change.item_id && !outbox.isInFlight(entry.seq)) {
        await req(s[S.outbox].delete(entry.seq));
      }
    }
    const write = {
      id: writeId,
      item_id: change.item_id,
      value: change.value,
      observation: record.observation,
      edited_at: record.edited_at,
      device_id: change.device_id,
    };
    await req(s[S.outbox].add(newEntry("result", { id: writeId, visit_id: change.visit_id, write })));
    // A submit still on the phone (held behind a refused answer) declares the visit's answers: it goes after
    // this one, or it would lock the visit before the mended answer arrives.
    for (const entry of entries) {
      if (entry.kind === "visit" && entry.body.state === "submitted" && !outbox.isInFlight(entry.seq)) {
        await req(s[S.outbox].delete(entry.seq));
        const { seq, ...moved } = entry;
        await req(s[S.outbox].add(moved));
      }
    }
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
 * Start a planned visit (its first change): the stored record becomes in_progress and its header
 * (`header(record)`) is enqueued, in one transaction. The record is read here, not taken from the page:
 * another tab of the app may have changed it since the page loaded it (the summary typed there) or started
 * the visit already (then nothing is enqueued). Returns the stored record (undefined when gone).
 * @param {string} visitId
 * @param {(visit: object) => object} header the VisitUpsert payload of the started record
 */
export async function startVisit(visitId, header) {
  const visit = await transaction([S.visits, S.outbox], "readwrite", async (s) => {
    const stored = await req(s[S.visits].get(visitId));
    if (!stored || stored.local_state !== "planned") return stored;
    const started = { ...stored, local_state: "in_progress", started_at: stored.started_at || now() };
    await req(s[S.visits].put(started));
    await req(s[S.outbox].add(newEntry("visit", { id: visitId, visit_id: visitId, body: header(started) })));
    return started;
  });
  progress(visitId);
  return visit;
}

/**
 * Store a new photo (blob and metadata) and enqueue its upload together.
 * @param {object} photo {id, visit_id, item_id, blob, sha256, caption, captured_at, …}
 */
export async function addPhoto(photo) {
  const record = newPhoto(photo);
  await transaction([S.photos, S.outbox], "readwrite", (s) => storePhoto(s, record));
  progress(record.visit_id);
  return record;
}

/** A photo record as first stored (not uploaded, not deleted). */
function newPhoto(photo) {
  return { uploaded: false, deleted: false, created_at: now(), ...photo };
}

/** In a transaction over S.photos and S.outbox: store a new photo and enqueue its upload. */
async function storePhoto(s, record) {
  await req(s[S.photos].put(record));
  await req(s[S.outbox].add(newEntry("photo", { id: record.id, visit_id: record.visit_id })));
}

/**
 * Store a photo prepared from a file kept in S.photoIntake (photo-intake.js), enqueue its upload and drop the kept
 * file, in one transaction: the photo is never in both stores nor in neither. The photo's id is the kept file's.
 * Returns "stored"; "duplicate" when the visit has the same picture already (the kept file is dropped, nothing
 * added); "gone" when the kept file is no longer there (stored by another tab, or deleted): nothing is changed.
 * @param {object} photo as for addPhoto, with id = the kept file's id
 * @returns {Promise<{outcome: "stored"|"duplicate"|"gone", record: object}>}
 */
export async function addPreparedPhoto(photo) {
  const record = newPhoto(photo);
  const outcome = await transaction([S.photoIntake, S.photos, S.outbox], "readwrite", async (s) => {
    if (!(await req(s[S.photoIntake].get(record.id)))) return "gone";
    await req(s[S.photoIntake].delete(record.id));
    const pics = await req(s[S.photos].index("visit_id").getAll(IDBKeyRange.only(record.visit_id)));
    if (pics.some((p) => p.sha256 === record.sha256 && !p.deleted)) return "duplicate";
    await storePhoto(s, record);
    return "stored";
  });
  if (outcome === "stored") progress(record.visit_id);
  return { outcome, record };
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
    if (!photo.uploaded && upload && !outbox.isInFlight(upload.seq)) {
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

// --- receipts --------------------------------------------------------------------

/** The last receipt kept for a visit (or undefined). */
export function receiptOf(visitId) {
  return get(S.receipts, visitId);
}

/** Ask the server what it holds for a visit; keep and return the receipt (null when unreachable). */
export async function refreshReceipt(visitId) {
  const outcome = await outbox.call("GET", `/api/v1/visits/${visitId}/receipt`);
  if (outcome.type === "auth") outbox.signedOut(outcome.reason);
  if (outcome.type !== "ok") return null;
  await keepReceipt(outcome.body.receipt);
  return outcome.body.receipt;
}

/** Keep a receipt the server gave and tell the page. */
async function keepReceipt(receipt) {
  if (!receipt) return;
  await transaction([S.receipts], "readwrite", (s) => req(s[S.receipts].put({ ...receipt, kept_at: now() })));
  emit("receipt", { visit_id: receipt.visit_id, receipt });
}

/** Remove sent entries and keep the receipt together; `more(s)` changes photos in the same transaction. */
async function done(batch, receipt, more) {
  await outbox.finish(batch, [S.receipts, S.photos], async (s) => {
    if (receipt) await req(s[S.receipts].put({ ...receipt, kept_at: now() }));
    if (more) await more(s);
  });
  if (receipt) emit("receipt", { visit_id: receipt.visit_id, receipt });
}

// --- senders ----------------------------------------------------------------------

function visitRequest([entry]) {
  return { method: "PUT", url: `/api/v1/visits/${entry.visit_id}`, json: entry.body, target: entry.visit_id };
}

async function visitSent([entry], outcome) {
  await done([entry], outcome.body.receipt);
  await transaction([S.visits], "readwrite", async (s) => {
    const visit = await req(s[S.visits].get(entry.visit_id));
    if (visit) await req(s[S.visits].put({ ...visit, server_state: outcome.body.visit.state }));
  });
}

function resultsRequest(batch) {
  const visitId = batch[0].visit_id;
  const json = { writes: batch.map((entry) => entry.write) };
  return { method: "POST", url: `/api/v1/visits/${visitId}/results`, json, target: visitId };
}

async function resultsSent(batch, outcome) {
  await done(batch, outcome.body.receipt);
}

/** The writes of a refused results batch its field errors point at (all when it does not say), with their messages. */
function blameResults(outcome, batch) {
  const byIndex = new Map();
  for (const [key, messages] of Object.entries(outcome.fields || {})) {
    const match = /^writes\.(\d+)\./.exec(key);
    const index = match ? Number(match[1]) : null;
    const list = byIndex.get(index) || [];
    list.push(...(Array.isArray(messages) ? messages : [String(messages)]));
    byIndex.set(index, list);
  }
  const pointed = [...byIndex.keys()].filter((k) => k !== null && k < batch.length);
  const blamed = batch.length === 1 || !pointed.length ? batch.map((_, index) => index) : pointed;
  return blamed.map((index) => {
    const picked = [...(byIndex.get(index) || []), ...(byIndex.get(null) || [])];
    if (batch.length === 1 && !picked.length) {
      for (const list of byIndex.values()) picked.push(...list);
    }
    // Per-item messages are Chinese and name the item; other field errors need the general message.
    let message = outcome.message;
    if (picked.length) {
      message = outcome.code === "invalid_results" ? picked.join("；") : `${outcome.message}（${picked.join("；")}）`;
    }
    return { entry: batch[index], message };
  });
}

function reportPhoto(entry, state, message) {
  if (entry.kind === "photo") emit("photo", { photo_id: entry.id, visit_id: entry.visit_id, state, message });
}

async function sendPhoto([entry]) {
  const photo = await get(S.photos, entry.id);
  if (!photo || photo.uploaded || photo.deleted) {
    // Uploaded already, or deleted before it was sent: nothing to send, ever.
    await done([entry], null, async (s) => {
      if (photo && photo.deleted && !photo.uploaded) await req(s[S.photos].delete(photo.id));
    });
    return { type: "ok", status: 200, body: {}, finished: true };
  }
  // Just taken and its caption still being typed: it goes in a later round.
  if (photo.hold_until && photo.hold_until > Date.now()) return { type: "held" };
  if (!photo.blob) {
    return { type: "rejected", status: 0, code: "photo_lost", message: "照片文件已不在手机上，无法上传。", fields: {} };
  }
  emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: "uploading" });
  const meta = await photoMeta(photo);
  const url = `/api/v1/visits/${photo.visit_id}/photos/${photo.id}`;
  let outcome = await upload(photo.blob, photo.sha256, { fresh: !entry.attempts });
  if (outcome.type === "ok") {
    outcome = await outbox.write("PUT", url, { json: { upload: photo.sha256, ...meta } });
  } else if (outcome.type === "missing") {
    // A server without resumable uploads: the whole photo in one multipart request.
    const form = new FormData();
    form.append("file", photo.blob, `${photo.id}.${extension(photo.blob)}`);
    for (const [key, value] of Object.entries(meta)) form.append(key, String(value));
    outcome = await outbox.write("PUT", url, { form, timeoutMs: PHOTO_TIMEOUT_MS });
  }
  if (outcome.type !== "ok") {
    if (outcome.type !== "rejected") {
      emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: "waiting", message: outcome.message });
    }
    return outcome;
  }
  await photoSent(entry, photo, outcome.body.receipt);
  return { ...outcome, finished: true };
}

/** The metadata fields sent with a photo (multipart form or JSON attach alike). */
async function photoMeta(photo) {
  const meta = { sha256: photo.sha256, caption: photo.caption || "" };
  if (photo.item_id) meta.item_id = photo.item_id;
  if (photo.captured_at) meta.captured_at = photo.captured_at;
  for (const key of ["latitude", "longitude", "accuracy_m"]) {
    if (typeof photo[key] === "number" && Number.isFinite(photo[key])) meta[key] = photo[key];
  }
  meta.device_id = photo.device_id || (await getMeta("device_id", ""));
  return meta;
}

function extension(blob) {
  return blob.type === "image/webp" ? "webp" : blob.type === "image/png" ? "png" : "jpg";
}

// --- resumable uploads (chunks keyed by the photo's sha256) ---------------------------

/** Largest chunk: a dropped link costs at most this much again. */
export const CHUNK_BYTES = 256 * 1024;
let uploadsMissingUntil = 0; // the server has no /api/v1/uploads (404): multipart until then

/**
 * Send a blob in chunks to PUT /api/v1/uploads/<sha256>, starting where the server
 * says it holds (GET; skipped on a `fresh` first try), so a dropped link resends at most one chunk. Returns an outcome:
 * "ok" once the server has it whole, "missing" when the server has no such endpoint.
 * Also used by other features' photo senders (lessons-sync.js).
 * @param {Blob} blob
 * @param {string} sha256
 */
export async function upload(blob, sha256, { fresh = false } = {}) {
  if (Date.now() < uploadsMissingUntil) return { type: "missing" };
  const url = `/api/v1/uploads/${sha256}`;
  // A first try sends the first chunk at once (one round trip less per photo); if the server
  // holds parts after all (a page closed mid-upload), it answers with its offset: one chunk lost at most.
  const asked = fresh ? { type: "rejected", status: 404 } : await outbox.call("GET", url);
  let received = 0;
  if (asked.type === "ok") {
    if (asked.body.complete) return asked;
    received = Number(asked.body.received) || 0;
  } else if (!(asked.type === "rejected" && asked.status === 404)) {
    if (asked.type === "auth") outbox.signedOut(asked.reason);
    return asked;
  }
  for (let turns = 0; turns < 4 * Math.ceil(blob.size / CHUNK_BYTES) + 8; turns += 1) {
    const end = Math.min(blob.size, received + CHUNK_BYTES);
    const outcome = await outbox.write("PUT", url, {
      body: blob.slice(received, end),
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `bytes ${received}-${end - 1}/${blob.size}` },
      timeoutMs: PHOTO_TIMEOUT_MS,
    });
    if (outcome.type === "ok") {
      if (outcome.body.complete) return outcome;
      received = Number(outcome.body.received) || end;
      continue;
    }
    if (outcome.type === "rejected" && outcome.code === "offset_mismatch") {
      // The server holds a different amount (a chunk whose answer was lost): go on from there.
      received = serverOffset(outcome);
      if (received >= blob.size) return { type: "ok", status: 200, body: { received, complete: true } };
      continue;
    }
    if (outcome.type === "rejected" && (outcome.status === 404 || outcome.status === 405) && received === 0) {
      uploadsMissingUntil = Date.now() + 10 * 60 * 1000;
      return { type: "missing" };
    }
    return outcome;
  }
  return { type: "transient", status: 0, code: "upload_stuck", message: "照片上传没有进展，稍后重试。" };
}

function serverOffset(outcome) {
  const body = outcome.body || {};
  const error = body.error || {};
  for (const value of [body.received, error.received, error.fields && error.fields.received]) {
    const n = Number(Array.isArray(value) ? value[0] : value);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  return 0;
}

async function photoSent(entry, photo, receipt) {
  let deletedMeanwhile = false;
  await done([entry], receipt, async (s) => {
    const current = await req(s[S.photos].get(photo.id));
    if (current) await req(s[S.photos].put({ ...current, uploaded: true, uploaded_at: now() }));
    // Deleted while it was being sent: the server has it now, so remove it there too.
    if (!current || current.deleted) {
      deletedMeanwhile = true;
      await req(s[S.outbox].add(newEntry("photo_delete", { id: photo.id, visit_id: photo.visit_id })));
    }
  });
  emit("photo", { photo_id: photo.id, visit_id: photo.visit_id, state: deletedMeanwhile ? "deleted" : "done" });
}

async function sendPhotoDelete([entry]) {
  const outcome = await outbox.write("DELETE", `/api/v1/visits/${entry.visit_id}/photos/${entry.id}`);
  if (outcome.type !== "ok") return outcome;
  await done([entry], outcome.body.receipt, async (s) => {
    const photo = await req(s[S.photos].get(entry.id));
    if (photo && photo.deleted) await req(s[S.photos].delete(entry.id));
  });
  return { ...outcome, finished: true };
}

const photoKey = (entry) => `photo:${entry.id}`;
const visitPage = (entry) => ({ href: `#/visit/${entry.visit_id}`, item_id: null });

// A header waits for everything before it in its visit (the submit for every write);
// a result waits only for earlier writes of its item, a photo's DELETE for its upload.
// Headers and results are JSON writes: the outbox sends them through POST /api/v1/sync (`sync`).
outbox.registerSender("visit", { sync: "visit_put", request: visitRequest, accept: visitSent, edit: visitPage });
outbox.registerSender("result", {
  sync: "results_post",
  request: resultsRequest,
  accept: resultsSent,
  batch: 200,
  blame: blameResults,
  item: (entry) => `item:${entry.write.item_id}`,
  edit: (entry) => ({ href: `#/visit/${entry.visit_id}`, item_id: entry.write.item_id }),
});
outbox.registerSender("photo", {
  send: sendPhoto,
  lane: "photo",
  parallel: 2,
  report: reportPhoto,
  item: photoKey,
  edit: visitPage,
});
outbox.registerSender("photo_delete", { send: sendPhotoDelete, lane: "photo", item: photoKey });
