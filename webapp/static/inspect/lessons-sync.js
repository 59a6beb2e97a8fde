// The 教研员's records on the phone and their way to the server.
//
// Records live in IndexedDB (store `activities`); every saved change of a complete
// record is one write (its own UUID) in the same outbox as visits, sent as
// PUT /api/v1/activities/<id>. A write carries the whole record, so an unsent older
// write of the same record is dropped when a newer one is queued. A record still
// missing required fields is kept on the phone only (nothing to refuse yet).
// Photos go after their record: resumable chunks (visits-sync.js `upload`), then PUT …/photos/<id>.
// This module never touches the DOM.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import { isLockedDay, localToday, tally } from "./lessons-count.js";
import * as unsaved from "./unsaved.js";
import { upload } from "./visits-sync.js";

const { S } = db;
const BUNDLE_KEY = "lessons_bundle";

/** The record fields the API takes (besides the write stamp). */
const FIELDS = [
  "kind",
  "form",
  "occurred_on",
  "school_id",
  "grade",
  "class_name",
  "subject",
  "teacher_id",
  "teacher_name",
  "topic",
  "participants",
  "scores",
  "strengths",
  "suggestions",
  "notes",
];

/** The last bundle downloaded (schools, teachers, quotas …), or null. */
export function bundle() {
  return db.getMeta(db.userKey(BUNDLE_KEY), null);
}

/** Every record on the phone. */
export function records() {
  return db.all(S.activities);
}

/** A new, empty record of `kind` for today. */
export function blank(kind, deviceId) {
  return {
    id: db.uuid(),
    kind,
    form: "",
    occurred_on: localToday(),
    school_id: null,
    grade: "",
    class_name: "",
    subject: "",
    teacher_id: null,
    teacher_name: "",
    topic: "",
    participants: null,
    scores: {},
    strengths: "",
    suggestions: "",
    notes: "",
    is_deleted: false,
    device_id: deviceId,
    write_id: null,
    synced_write_id: null,
    created_locally: true,
  };
}

/** What a record still lacks before it can be sent, in Chinese (empty when complete). */
export function problems(record, kinds) {
  const kind = kinds.find((k) => k.id === record.kind);
  const missing = [];
  if (!record.occurred_on) missing.push("日期");
  else if (record.occurred_on > localToday()) missing.push("日期不能晚于今天");
  if (kind && kind.is_lesson) {
    if (!record.school_id) missing.push("学校");
    if (!record.grade) missing.push("年级");
    if (!record.subject) missing.push("学科");
    if (!String(record.teacher_name || "").trim() && !record.teacher_id) missing.push("授课教师");
  } else {
    if (record.kind === "guidance" && !record.school_id) missing.push("学校");
    if (!String(record.topic || "").trim()) missing.push("主题");
    // The server's rule (lessons/schemas.py): a whole number from 0 to 100000, or nothing.
    const n = record.participants;
    if (n !== null && n !== undefined && !(Number.isInteger(n) && n >= 0 && n <= 100000)) {
      missing.push("参加人数应为 0 到 100000 的整数");
    }
  }
  return missing;
}

function body(record, writeId, editedAt) {
  const out = { write_id: writeId, edited_at: editedAt, device_id: record.device_id || "" };
  out.is_deleted = Boolean(record.is_deleted);
  for (const name of FIELDS) out[name] = record[name];
  return out;
}

/**
 * Save a record on the phone; when it is complete, queue its write in the same transaction
 * (a saved change always has its outbox entry). Returns the stored record.
 */
export async function saveRecord(record, kinds) {
  const complete = problems(record, kinds).length === 0;
  const editedAt = new Date().toISOString();
  const writeId = complete ? db.uuid() : record.write_id;
  const stored = { ...record, edited_at: editedAt, write_id: writeId, incomplete: !complete };
  await db.transaction([S.activities, S.outbox], "readwrite", async (s) => {
    await db.req(s[S.activities].put(stored));
    if (!complete) return;
    const queued = await db.req(s[S.outbox].index("visit_id").getAll(IDBKeyRange.only(record.id)));
    for (const entry of queued) {
      // The new write carries the whole record: an older unsent one is not needed.
      if (entry.kind === "activity" && entry.status !== "failed") await db.req(s[S.outbox].delete(entry.seq));
    }
    const payload = body(stored, writeId, editedAt);
    await db.req(s[S.outbox].add(outbox.newEntry("activity", { id: writeId, visit_id: record.id, body: payload })));
  });
  return stored;
}

/**
 * At start: save the records a page closed too soon left in unsaved.js (lessons-form.js), where they differ
 * from what IndexedDB holds. A record of a closed term, deleted since or gone takes nothing; an edit that
 * fails to save (or finds no bundle yet) is kept for the next start.
 * @returns {Promise<number>} how many records were saved
 */
export async function recoverUnsaved() {
  const data = unsaved.left(["activity"]).length ? await bundle() : null;
  if (!data) return 0;
  return unsaved.recover(["activity"], async (entry) => {
    const stored = await db.get(S.activities, entry.record.id);
    const typed = { is_deleted: Boolean(entry.record.is_deleted) };
    for (const name of FIELDS) typed[name] = entry.record[name];
    const locked = !stored || stored.is_deleted || (isLockedDay(data, stored.occurred_on) && !stored.incomplete);
    if (locked || Object.keys(typed).every((name) => unsaved.sameValue(stored[name], typed[name]))) return false;
    await saveRecord({ ...stored, ...typed }, data.kinds);
    return true;
  });
}

/** Keep a photo of a record and queue its upload (after the record's own write). */
export async function addPhoto(activityId, prepared, caption, deviceId) {
  const photo = { id: db.uuid(), activity_id: activityId, caption, device_id: deviceId, ...prepared };
  Object.assign(photo, { uploaded: false, deleted: false });
  await db.transaction([S.activityPhotos, S.outbox], "readwrite", async (s) => {
    await db.req(s[S.activityPhotos].put(photo));
    await db.req(s[S.outbox].add(outbox.newEntry("activity_photo", { id: photo.id, visit_id: activityId })));
  });
  return photo;
}

/** Remove a photo: dropped with its upload if not sent yet, else deleted on the server too. */
export async function removePhoto(photoId) {
  await db.transaction([S.activityPhotos, S.outbox], "readwrite", async (s) => {
    const photo = await db.req(s[S.activityPhotos].get(photoId));
    if (!photo || photo.deleted) return;
    if (!photo.uploaded) {
      const queued = await db.req(s[S.outbox].index("visit_id").getAll(IDBKeyRange.only(photo.activity_id)));
      for (const entry of queued) {
        if (entry.kind === "activity_photo" && entry.id === photoId) await db.req(s[S.outbox].delete(entry.seq));
      }
      await db.req(s[S.activityPhotos].delete(photoId));
      return;
    }
    await db.req(s[S.activityPhotos].put({ ...photo, deleted: true, blob: null }));
    const entry = outbox.newEntry("activity_photo_delete", { id: photoId, visit_id: photo.activity_id });
    await db.req(s[S.outbox].add(entry));
  });
}

/** The live photos of a record. */
export async function photosOf(activityId) {
  return (await db.all(S.activityPhotos, "activity_id", activityId)).filter((p) => !p.deleted);
}

/** The fields that decide how a record counts (kept as the bundle's copy of it). */
const COUNTED_FIELDS = ["kind", "form", "occurred_on", "school_id", "is_deleted"];
/** The server sends at most this many records (the newest); older ones stay on the server only. */
export const RECORD_LIMIT = 2000;

/** Whether the server's standing counts records the bundle did not send (older ones). */
function missingFromCounts(data, serverRecords) {
  const schools = new Map(data.schools.map((school) => [school.id, school]));
  return data.quotas.some((quota) => {
    if (!quota.standing) return false;
    const { counted, apart } = tally(quota, serverRecords, schools);
    return quota.standing.done + quota.standing.apart > counted + apart;
  });
}

/**
 * Download the bundle (If-None-Match: 304 when nothing changed) and merge the server's
 * records: a record with a change not yet confirmed by the server keeps the phone's version.
 * Every record remembers the server's copy of it at that moment (`bundle_copy`, `bundle_write_id`):
 * progress is the server's standing plus what changed on the phone since. Returns the outcome.
 */
export async function refreshBundle() {
  const known = await bundle();
  const headers = known && known.etag ? { "If-None-Match": known.etag } : {};
  const outcome = await outbox.call("GET", "/api/v1/researcher/bundle", { headers });
  if (outcome.type !== "ok" || outcome.status === 304) return outcome;
  const { records: serverRecords, ...rest } = outcome.body;
  const value = {
    ...rest,
    etag: outcome.etag || null,
    older_not_on_phone: serverRecords.length >= RECORD_LIMIT || missingFromCounts(rest, serverRecords),
    downloaded_at: new Date().toISOString(),
  };
  await db.transaction([S.activities, S.meta], "readwrite", async (s) => {
    await db.req(s[S.meta].put({ key: db.userKey(BUNDLE_KEY), value }));
    for (const record of serverRecords) {
      const local = await db.req(s[S.activities].get(record.id));
      const copy = Object.fromEntries(COUNTED_FIELDS.map((name) => [name, record[name]]));
      const seen = { bundle_copy: copy, bundle_write_id: record.write_id };
      if (local && local.write_id !== local.synced_write_id) {
        await db.req(s[S.activities].put({ ...local, ...seen }));
        continue;
      }
      await db.req(s[S.activities].put({ ...(local || {}), ...record, synced_write_id: record.write_id, ...seen }));
    }
  });
  return outcome;
}

// --- sending (the outbox calls these) ------------------------------------------------

function activityRequest([entry]) {
  return { method: "PUT", url: `/api/v1/activities/${entry.visit_id}`, json: entry.body, target: entry.visit_id };
}

async function activitySent([entry], outcome) {
  await outbox.finish([entry]);
  const server = outcome.body.activity;
  await db.transaction([S.activities], "readwrite", async (s) => {
    const local = await db.req(s[S.activities].get(entry.visit_id));
    if (!local) return;
    if (local.write_id === entry.id) {
      // The phone's latest change is on the server (or a newer one from another device won).
      const merged = { ...local, ...server, synced_write_id: server.write_id, write_id: server.write_id };
      await db.req(s[S.activities].put(merged));
    }
  });
  // Photos held back until their record reached the server go in the next round.
  if ((await photosOf(entry.visit_id)).some((p) => !p.uploaded)) outbox.replay();
}

async function sendPhoto([entry]) {
  const photo = await db.get(S.activityPhotos, entry.id);
  if (!photo || photo.uploaded || photo.deleted) return { type: "ok", status: 200, body: {} };
  // The record first: until the server has it, the photo waits (a record still missing
  // required fields is not sent, and neither are its photos).
  const record = await db.get(S.activities, entry.visit_id);
  if (record && !record.synced_write_id) return { type: "held" };
  if (!photo.blob) return { type: "rejected", status: 0, code: "photo_lost", message: "照片文件已不在手机上。", fields: {} };
  const meta = { sha256: photo.sha256, caption: photo.caption || "", device_id: photo.device_id || "" };
  if (photo.captured_at) meta.captured_at = photo.captured_at;
  const url = `/api/v1/activities/${entry.visit_id}/photos/${photo.id}`;
  let outcome = await upload(photo.blob, photo.sha256);
  if (outcome.type === "ok") {
    outcome = await outbox.write("PUT", url, { json: { upload: photo.sha256, ...meta } });
  } else if (outcome.type === "missing") {
    const form = new FormData();
    form.append("file", photo.blob, `${photo.id}.${photo.blob.type === "image/webp" ? "webp" : "jpg"}`);
    for (const [key, value] of Object.entries(meta)) form.append(key, value);
    outcome = await outbox.write("PUT", url, { form, timeoutMs: 120000 });
  }
  if (outcome.type === "ok") {
    await db.update(S.activityPhotos, photo.id, (current) => (current ? { ...current, uploaded: true } : current));
  }
  return outcome;
}

async function sendPhotoDelete([entry]) {
  const outcome = await outbox.write("DELETE", `/api/v1/activities/${entry.visit_id}/photos/${entry.id}`);
  if (outcome.type === "ok") await db.remove(S.activityPhotos, entry.id);
  return outcome;
}

const photoKey = (entry) => `photo:${entry.id}`;
const recordPage = (entry) => ({ href: `#/lessons/${entry.visit_id}`, item_id: null });

// A record's write waits for its earlier writes; a photo for its record (it is held
// until the record is on the server) and a photo's DELETE for its upload.
outbox.registerSender("activity", { sync: "activity_put", request: activityRequest, accept: activitySent, edit: recordPage });
outbox.registerSender("activity_photo", { send: sendPhoto, item: photoKey, edit: recordPage });
outbox.registerSender("activity_photo_delete", { send: sendPhotoDelete, item: photoKey });
