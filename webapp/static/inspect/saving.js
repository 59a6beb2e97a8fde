// Saving what the inspector types: drafts per item, a short debounce, then the
// outbox (IndexedDB first, the server later). There is no save button to forget.

import * as visitsSync from "./visits-sync.js";
import { config, state } from "./state.js";
import { kick } from "./status.js";
import { errorText, toast } from "./ui.js";

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
      // visit.js: already loaded whenever a visit is on screen; not on the start-up chain.
      const { ensureStarted, updateProgress } = await import("./visit.js");
      await ensureStarted(visitState);
      const record = await visitsSync.recordResult({
        visit_id: visitState.visit.id,
        item_id: itemId,
        value: d.value,
        observation: d.observation,
        device_id: state.deviceId,
      });
      visitState.results.set(itemId, record);
      const current = state.current;
      if (current === visitState || (current && current.visit.id === visitState.visit.id)) updateProgress();
      kick();
    })
    .catch((error) => toast(`保存失败：${errorText(error)}`));
  return visitState.saving;
}
