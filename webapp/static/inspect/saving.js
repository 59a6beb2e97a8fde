// Saving what the inspector types: drafts per item, a short debounce, then the
// outbox (IndexedDB first, the server later). There is no save button to forget.
// Each edit is kept in unsaved.js from the moment it is made until IndexedDB has it:
// a page closed within the debounce loses nothing (recoverUnsaved, at the next start).

import * as db from "./db.js";
import * as visitsSync from "./visits-sync.js";
import { LOCKED } from "./review-state.js";
import { config, state } from "./state.js";
import { kick } from "./status.js";
import { errorText, toast } from "./ui.js";
import * as unsaved from "./unsaved.js";

const { S } = db;

/** The unsaved.js key of an item's result. */
const resultKey = (visitId, itemId) => `result:${visitId}:${itemId}`;

/** The unsaved edit of an item on the visit on screen (made from its stored result). */
export function draft(itemId) {
  const visitState = state.current;
  if (!visitState.drafts.has(itemId)) {
    const result = visitState.results.get(itemId);
    visitState.drafts.set(itemId, {
      value: result ? result.value : null,
      observation: result ? result.observation || "" : "",
    });
  }
  return visitState.drafts.get(itemId);
}

/** Save an item after `delay` ms of quiet (typing), or at once with 0. */
export function schedule(itemId, delay = config.saveDelayMs) {
  const visitState = state.current;
  const d = visitState.drafts.get(itemId);
  if (d) {
    const { id } = visitState.visit;
    const fields = { visit_id: id, item_id: itemId, value: d.value, observation: d.observation };
    unsaved.note(resultKey(id, itemId), "result", fields);
  }
  clearTimeout(visitState.timers.get(itemId));
  if (delay === 0) {
    visitState.timers.delete(itemId);
    persist(visitState, itemId);
    return;
  }
  visitState.timers.set(
    itemId,
    setTimeout(() => {
      visitState.timers.delete(itemId);
      persist(visitState, itemId);
    }, delay),
  );
}

/** Save now whatever is still waiting for its debounce (leaving the page, hiding the app). */
export function flushAll() {
  const visitState = state.current;
  if (!visitState) return Promise.resolve();
  for (const [itemId, timer] of visitState.timers) {
    clearTimeout(timer);
    persist(visitState, itemId);
  }
  visitState.timers.clear();
  return visitState.saving;
}

function persist(visitState, itemId) {
  // One save at a time per visit, in the order made: the outbox keeps that order.
  visitState.saving = visitState.saving
    .then(async () => {
      const d = visitState.drafts.get(itemId);
      if (!d) return;
      const saved = { value: d.value, observation: d.observation }; // the draft may change while this saves
      // visit.js: already loaded whenever a visit is on screen; not on the start-up chain.
      const { ensureStarted, updateProgress } = await import("./visit.js");
      await ensureStarted(visitState);
      const record = await visitsSync.recordResult({
        visit_id: visitState.visit.id,
        item_id: itemId,
        ...saved,
        device_id: state.deviceId,
      });
      unsaved.settle(resultKey(visitState.visit.id, itemId), saved);
      visitState.results.set(itemId, record);
      const current = state.current;
      if (current === visitState || (current && current.visit.id === visitState.visit.id)) updateProgress();
      kick();
    })
    .catch((error) => toast(`保存失败：${errorText(error)}`));
  return visitState.saving;
}

/**
 * At start: save the edits a page closed too soon left in unsaved.js, where they differ from what
 * IndexedDB holds (the page's own save may have finished after all, or another tab saved the same).
 * A visit submitted since, or gone, takes nothing. An edit that fails to save is kept for the next start.
 * @returns {Promise<number>} how many edits were saved
 */
export function recoverUnsaved() {
  return unsaved.recover(["result", "summary", "caption"], recover);
}

async function recover(entry) {
  if (entry.kind === "caption") {
    const photo = await db.get(S.photos, entry.photo_id);
    if (!photo || (photo.caption || "") === entry.caption) return false;
    // Uploaded meanwhile: the server keeps what it received (updatePhoto changes nothing).
    return Boolean(await visitsSync.updatePhoto(entry.photo_id, { caption: entry.caption }));
  }
  const visit = await db.get(S.visits, entry.visit_id);
  if (!visit || LOCKED.has(visit.local_state)) return false;
  if (entry.kind === "summary") {
    if ((visit.summary || "") === entry.summary) return false;
    await db.update(S.visits, visit.id, (old) => (old ? { ...old, summary: entry.summary } : undefined));
    return true;
  }
  const stored = await db.get(S.results, [entry.visit_id, entry.item_id]);
  const observation = entry.observation || "";
  const unchanged = stored
    ? unsaved.sameValue(stored.value, entry.value) && (stored.observation || "") === observation
    : !entry.value && !observation;
  if (unchanged) return false;
  const { headerBody } = await import("./visit.js");
  await visitsSync.startVisit(visit.id, (started) => headerBody(started, "in_progress"));
  await visitsSync.recordResult({
    visit_id: visit.id,
    item_id: entry.item_id,
    value: entry.value ?? null,
    observation,
    device_id: state.deviceId,
  });
  return true;
}
