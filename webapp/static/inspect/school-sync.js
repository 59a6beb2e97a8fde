// The 学校 account's rectification tasks on the phone and its way to the server.
//
// The tasks come in one bundle (GET /api/v1/school/bundle), kept in the meta store for
// offline use. Each 整改进展 (optionally 申请销号) is one outbox entry with its own UUID,
// its text and its photos (Blobs, in the entry itself), sent as
// PUT /api/v1/tasks/<task>/progress/<uuid> (multipart): the server records it once,
// however often the phone resends it. Entries of one task go in order.
// This module never touches the DOM.

import * as db from "./db.js";
import * as outbox from "./outbox.js";

const { S } = db;
const BUNDLE_KEY = "school_bundle";
const KIND = "task_progress";

/** The outbox record key of a task (entries are grouped by it for status lines). */
export function recordOf(taskId) {
  return `task:${taskId}`;
}

/** The last bundle downloaded ({school, tasks}), or null. */
export function bundle() {
  return db.getMeta(db.userKey(BUNDLE_KEY), null);
}

/** Download the school's tasks; returns the outcome. */
export async function refreshBundle() {
  const outcome = await outbox.call("GET", "/api/v1/school/bundle");
  if (outcome.type === "ok") {
    await db.setMeta(db.userKey(BUNDLE_KEY), { ...outcome.body, downloaded_at: new Date().toISOString() });
  }
  return outcome;
}

/**
 * Keep a progress entry on the phone and queue it (sent at once when online).
 * `replaces`: the seq of a parked entry this one corrects (修改). The correction is a new entry (a new UUID:
 * the server may have seen the old one) and the parked one goes in the same transaction; when it is no longer
 * parked (重试 sent it meanwhile) nothing is saved and the answer is null.
 * @param {number} taskId
 * @param {string} note
 * @param {boolean} requestClosure  申请销号
 * @param {{blob: Blob, sha256: string}[]} photos  prepared by photos.js (or kept from the parked entry)
 * @param {number|null} [replaces]
 */
export async function queueProgress(taskId, note, requestClosure, photos, replaces = null) {
  const entry = outbox.newEntry(KIND, {
    id: db.uuid(),
    visit_id: recordOf(taskId),
    body: { task_id: taskId, note, request_closure: requestClosure, saved_at: new Date().toISOString() },
    photos: photos.map((p) => ({ blob: p.blob, sha256: p.sha256, caption: p.caption || "" })),
  });
  const add = async (s) => {
    await db.req(s[S.outbox].add(entry));
  };
  if (replaces === null) await db.transaction([S.outbox], "readwrite", add);
  else if (!(await outbox.dropParked([replaces], add))) return null;
  outbox.progress(entry.visit_id);
  outbox.replay({ force: true });
  return entry;
}

/** The `data-item-id` of a parked entry on its task page (status.js brings it into view). */
export function parkedKey(entry) {
  return `progress:${entry.seq}`;
}

/** A task's entries still on the phone (not yet confirmed by the server), in order. */
export async function queued(taskId) {
  return (await outbox.entries(recordOf(taskId))).filter((e) => e.kind === KIND);
}

async function keepTask(task) {
  const data = await bundle();
  if (!data) return;
  const tasks = data.tasks.map((t) => (t.id === task.id ? task : t));
  await db.setMeta(db.userKey(BUNDLE_KEY), { ...data, tasks });
}

async function sendProgress([entry]) {
  const form = new FormData();
  form.append("note", entry.body.note || "");
  form.append("request_closure", entry.body.request_closure ? "true" : "false");
  (entry.photos || []).forEach((photo, n) => {
    form.append("photos", photo.blob, `${n + 1}.jpg`);
    form.append("caption", photo.caption || "");
  });
  const url = `/api/v1/tasks/${entry.body.task_id}/progress/${entry.id}`;
  const outcome = await outbox.write("PUT", url, { form, timeoutMs: 120000 });
  if (outcome.type === "ok") {
    await keepTask(outcome.body.task);
    outbox.emit("task", { task_id: entry.body.task_id });
  } else if (outcome.type === "rejected") {
    // Refused (the task closed meanwhile, say): the phone's copy of the task is out of date; the page must not
    // offer to correct an entry for a task that takes none.
    await refreshBundle();
    outbox.emit("task", { task_id: entry.body.task_id });
  }
  return outcome;
}

outbox.registerSender(KIND, {
  send: sendProgress,
  lane: "photo",
  // 修改 on a status line leads to the parked entry on its task page (its own 修改 and 删除).
  edit: (entry) => ({ href: `#/task/${entry.body.task_id}`, item_id: parkedKey(entry) }),
});
