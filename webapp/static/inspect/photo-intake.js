// Photos taken but not prepared yet. Shrinking a camera's 12-megapixel picture (photos.js) takes seconds
// and a lot of memory; a tab closed, a browser killed for memory (cheap Android phones) or a battery gone
// in that moment lost the photo, and a picture taken with the camera from a web page is usually not in
// the phone's gallery: it could not be taken again once the inspector had left the school.
//
// So the file itself is kept in IndexedDB (S.photoIntake) the moment it arrives, before any decoding, and
// dropped only in the transaction that stores its prepared copy and queues the upload
// (visits-sync.js addPreparedPhoto): the photo is always in one of the two stores. What is left at the next
// start, or when its visit's page opens, is prepared again (`resume`).
//
// A picture that makes the browser crash while it is decoded would crash it at every start: each try is
// counted in the record before it begins (`attempts`), and after AUTO_ATTEMPTS the file is no longer
// prepared by itself. A try holds a Web Lock named after the file, which the browser releases when the tab
// dies: another tab of the app leaves a file alone while one prepares it (no second 12-MP decode, no try
// counted for nothing), and takes it up when that tab is gone. The page shows it on its item with 重试处理, 原图上传 (the file as it is, when the
// server takes it: `rawProblem`) and 删除; nothing is ever dropped without the person saying so.
//
// Record: {id (the photo's id once prepared), visit_id, item_id, blob (the File), name, type, size, caption,
//          device_id, captured_at, created_at, latitude?, longitude?, accuracy_m?, attempts, last_error}
//
// This module never touches the DOM: it reports through `events`
//   "intake" {id, visit_id, item_id, state, record?}   state "preparing" | "stored" (record: the photo) |
//            "duplicate" (the visit had the same picture) | "failed" (this try) | "gone" (deleted or stored elsewhere)
// (a file another tab is preparing is left alone: outcome "elsewhere", no event).

import * as db from "./db.js";
import * as photos from "./photos.js";
import { config } from "./state.js";
import * as visitsSync from "./visits-sync.js";

const { S } = db;

/** Tries made without being asked; after these the person decides (重试处理, 原图上传, 删除). */
export const AUTO_ATTEMPTS = 2;
/** What the server takes as a photo (sync/images.py DEFAULT_MAX_BYTES, ALLOWED_FORMATS). */
export const RAW_MAX_BYTES = 15 * 1024 * 1024;
const RAW_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
/** A position asked for after the photo is stored is the place of the picture only this soon after it was taken. */
const POSITION_FRESH_MS = 2 * 60 * 1000;

/** Events for the page (see the module comment). */
export const events = new EventTarget();

const preparing = new Set(); // ids being prepared in this tab
let queue = Promise.resolve(); // one picture decoded at a time: two 12-MP decodes at once may not fit in memory

function emit(record, state, extra = {}) {
  const detail = { id: record.id, visit_id: record.visit_id, item_id: record.item_id || null, state, ...extra };
  events.dispatchEvent(new CustomEvent("intake", { detail }));
}

function enqueue(job) {
  const run = queue.then(job, job);
  queue = run.catch(() => {});
  return run;
}

/**
 * Keep a file just taken or picked, before anything else is done with it.
 * @param {File|Blob} file
 * @param {{visit_id: string, item_id: string|null, device_id: string, position?: object|null}} fields
 * @returns {Promise<object>} the kept record
 */
export async function keep(file, { visit_id, item_id, device_id, position = null }) {
  const taken = file.lastModified && file.lastModified > 0 ? file.lastModified : Date.now();
  const record = {
    id: db.uuid(),
    visit_id,
    item_id: item_id || null,
    blob: file,
    name: file.name || "",
    type: file.type || "",
    size: file.size,
    caption: "",
    device_id,
    captured_at: new Date(taken).toISOString(),
    created_at: new Date().toISOString(),
    attempts: 0,
    last_error: null,
    ...(position ? { latitude: position.latitude, longitude: position.longitude, accuracy_m: position.accuracy_m } : {}),
  };
  await db.put(S.photoIntake, record);
  return record;
}

/** The kept files of a visit (all visits without one), oldest first. */
export async function waiting(visitId = null) {
  const rows = visitId ? await db.all(S.photoIntake, "visit_id", visitId) : await db.all(S.photoIntake);
  return rows.sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
}

/** Whether this tab is preparing the file right now. */
export function isPreparing(id) {
  return preparing.has(id);
}

/** Whether the file is no longer prepared by itself (the person decides). */
export function stuck(record) {
  return record.attempts >= AUTO_ATTEMPTS && !preparing.has(record.id);
}

/** Why the file cannot be uploaded as it is (Chinese), or null when the server takes it. */
export function rawProblem(record) {
  if (!RAW_TYPES.has(record.type)) {
    return `原图格式（${record.type || "未知"}）服务器不接受（只接受 JPEG、PNG、WebP），无法原图上传。`;
  }
  if (record.size > RAW_MAX_BYTES) {
    const mb = (n) => (n / 1024 / 1024).toFixed(1);
    return `原图 ${mb(record.size)} MB，超过服务器上限 ${mb(RAW_MAX_BYTES)} MB，无法原图上传。`;
  }
  return null;
}

/**
 * Prepare a kept file until it is stored or AUTO_ATTEMPTS tries were made (a failure is tried once more at
 * once: a lack of memory may have passed). Resolves when done; the page follows through `events`.
 * @param {string} id
 */
export function prepare(id) {
  return enqueue(async () => {
    for (;;) {
      const record = await db.get(S.photoIntake, id);
      if (!record || record.attempts >= AUTO_ATTEMPTS) return;
      if ((await attempt(id, (kept) => photos.preparePhoto(kept.blob))) !== "failed") return; // stored, gone, elsewhere
    }
  });
}

/** At start and when a visit's page opens: prepare what a closed page left (of `visitId`, or of all visits). */
export async function resume(visitId = null) {
  const left = (await waiting(visitId)).filter((r) => r.attempts < AUTO_ATTEMPTS && !preparing.has(r.id));
  await Promise.all(left.map((r) => prepare(r.id)));
}

/** 重试处理: one more try, asked by the person. */
export function retry(id) {
  return enqueue(() => attempt(id, (kept) => photos.preparePhoto(kept.blob)));
}

/** 原图上传: store the file as it is (no decoding), to be uploaded like a prepared photo. */
export function sendRaw(id) {
  return enqueue(() =>
    attempt(id, async (kept) => {
      const problem = rawProblem(kept);
      if (problem) throw new Error(problem);
      const blob = kept.blob;
      return { blob, sha256: await photos.sha256Hex(blob), byte_size: blob.size, raw: true };
    }),
  );
}

/** 删除: the person gives the photo up. */
export async function discard(id) {
  const record = await db.get(S.photoIntake, id);
  await db.remove(S.photoIntake, id);
  if (record) emit(record, "gone");
}

/**
 * One try: count it, make the photo (`make(record)` → {blob, sha256, …}), store it and drop the file together.
 * Returns the outcome ("stored", "duplicate", "gone", "failed"; "elsewhere" when another tab is preparing it).
 */
function attempt(id, make) {
  const locks = globalThis.navigator && navigator.locks;
  if (!locks) return tryOnce(id, make); // older browsers: a second tab may prepare it too (stored once all the same)
  return locks.request(`dudao-photo-intake:${id}`, { ifAvailable: true }, (lock) =>
    lock ? tryOnce(id, make) : "elsewhere",
  );
}

async function tryOnce(id, make) {
  const record = await db.update(S.photoIntake, id, (old) =>
    old ? { ...old, attempts: (old.attempts || 0) + 1, tried_at: new Date().toISOString() } : undefined,
  );
  if (!record) return "gone";
  preparing.add(id);
  emit(record, "preparing");
  let outcome;
  try {
    const made = await make(record);
    const stored = await store(record, made);
    outcome = stored.outcome;
    preparing.delete(id);
    emit(record, outcome, { record: stored.record });
  } catch (error) {
    outcome = "failed";
    const lastError = { name: (error && error.name) || "Error", message: String((error && error.message) || error) };
    await db.update(S.photoIntake, id, (old) => (old ? { ...old, last_error: lastError } : undefined)).catch(() => {});
    preparing.delete(id);
    emit(record, outcome);
  }
  return outcome;
}

async function store(record, made) {
  const visit = await db.get(S.visits, record.visit_id);
  if (!visit) throw new Error("手机上没有这次督导。");
  // The visit's header goes before its first photo (a planned visit starts with its first change).
  const { headerBody } = await import("./visit.js");
  await visitsSync.startVisit(record.visit_id, (started) => headerBody(started, "in_progress"));
  const located = typeof record.latitude === "number";
  const photo = {
    id: record.id,
    visit_id: record.visit_id,
    item_id: record.item_id,
    caption: record.caption || "",
    device_id: record.device_id,
    // Just taken: its caption may still be typed; it goes with the upload.
    hold_until: Date.now() + config.photoHoldMs,
    ...made,
    captured_at: record.captured_at,
    ...(located ? { latitude: record.latitude, longitude: record.longitude, accuracy_m: record.accuracy_m } : {}),
  };
  const stored = await visitsSync.addPreparedPhoto(photo);
  if (stored.outcome === "stored" && !located && Date.now() - Date.parse(record.created_at) < POSITION_FRESH_MS) {
    // Never wait for GPS: the photo is saved now; a position found in time goes with the upload.
    photos.currentPosition().then((found) => {
      if (found) {
        visitsSync.updatePhoto(record.id, {
          latitude: found.latitude,
          longitude: found.longitude,
          accuracy_m: found.accuracy_m,
        });
      }
    });
  }
  return stored;
}
