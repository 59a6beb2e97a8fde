// One visit on the phone: loading it from IndexedDB, its counts, the header
// sent to the server, and the parts of the fill page that several modules redraw
// (an item's badges, the progress line).

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as visitsSync from "./visits-sync.js";
import { evaluate, itemsOf, OUTCOMES } from "./checks.js";
import { LOCKED } from "./review-state.js";
import { state } from "./state.js";
import { root, STATE_LABELS } from "./ui.js";

const { S } = db;
/** Object URLs of photo thumbnails on screen, revoked when the page changes. */
export const objectUrls = [];

/** Everything the fill and submit pages need about a visit, or null if the phone does not have it. */
export async function loadVisit(visitId) {
  const visit = await db.get(S.visits, visitId);
  if (!visit) return null;
  const checklist = visit.downloaded ? await db.checklist(visit.checklist_version) : null;
  const [results, pics, waiting] = await Promise.all([
    db.resultsOf(visitId),
    db.photosOf(visitId),
    outbox.entries(visitId),
  ]);
  const held = LOCKED.has(visit.local_state) && heldSubmit(waiting);
  return {
    visit,
    checklist,
    results,
    photos: pics.filter((p) => !p.deleted),
    drafts: new Map(),
    timers: new Map(),
    saving: Promise.resolve(),
    readOnly: LOCKED.has(visit.local_state) && !held,
    heldSubmit: held,
  };
}

/**
 * Whether the visit's submit still waits on the phone behind a record the server refused (it holds a submit
 * after a refused entry of its visit): the server's visit is not submitted yet, so what was refused can be
 * changed here, and the submit follows once it is accepted.
 */
function heldSubmit(waiting) {
  const submit = waiting.some((e) => e.kind === "visit" && e.body && e.body.state === "submitted");
  return submit && waiting.some((e) => e.status === "failed");
}

/** Free the thumbnails of the previous page. */
export function revokeUrls() {
  while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
}

/** Answered items, all items, and items still missing a required photo. */
export function counts(visitState) {
  const items = itemsOf(visitState.checklist);
  const answered = items.filter((i) => visitState.results.get(i.id) && visitState.results.get(i.id).value).length;
  const missingPhotos = items.filter(
    (i) => i.photo_required && !visitState.photos.some((p) => p.item_id === i.id),
  ).length;
  return { total: items.length, answered, missingPhotos };
}

/** The visit header as the sync API takes it (PUT /api/v1/visits/<id>). */
export function headerBody(visit, visitState, extra = {}) {
  return {
    school_id: visit.school.id,
    checklist_version: visit.checklist_version,
    visit_type: visit.visit_type || "routine",
    state: visitState,
    started_at: visit.started_at || null,
    summary: visit.summary || "",
    device_id: state.deviceId,
    // A returned visit is resubmitted by naming the review round it answers.
    review_round: visit.review_round || 0,
    ...extra,
  };
}

/**
 * The first change to a planned visit starts it: its header goes first in the outbox. The page's copy of the
 * visit is replaced by the stored one (another tab may have changed it: its summary must not be undone).
 */
export async function ensureStarted(visitState) {
  if (visitState.visit.local_state !== "planned") return;
  const visit = await visitsSync.startVisit(visitState.visit.id, (started) => headerBody(started, "in_progress"));
  if (visit) visitState.visit = visit;
  const badge = root.querySelector(".visit-header .visit-state");
  const shown = visitState.visit.local_state;
  if (badge && STATE_LABELS[shown]) {
    badge.textContent = STATE_LABELS[shown];
    badge.className = `badge visit-state state-${shown}`;
  }
}

/** Redraw an item's card state: outcome badge (达标 / 未达标), answered, 须拍照. */
export function drawItemState(item) {
  const visitState = state.current;
  if (!visitState) return;
  const card = root.querySelector(`[data-item-id="${CSS.escape(item.id)}"]`);
  if (!card) return;
  const d = visitState.drafts.get(item.id);
  const stored = visitState.results.get(item.id);
  const value = d ? d.value : stored ? stored.value : null;
  const outcome = evaluate(item.check, value);
  const badge = card.querySelector(".outcome");
  if (outcome && OUTCOMES[outcome]) {
    badge.hidden = false;
    badge.textContent = OUTCOMES[outcome][0];
    badge.className = `badge outcome ${OUTCOMES[outcome][1]}`;
  } else {
    badge.hidden = true;
  }
  card.classList.toggle("answered", Boolean(value));
  const needs = card.querySelector(".photo-needed");
  needs.hidden = !(item.photo_required && !visitState.photos.some((p) => p.item_id === item.id));
}

/** The progress line in the bottom bar and the per-section counts. */
export function updateProgress() {
  const visitState = state.current;
  if (!visitState || !visitState.checklist) return;
  const c = counts(visitState);
  const text = `已答 ${c.answered} / 共 ${c.total}，缺照片 ${c.missingPhotos}`;
  const el = document.getElementById("progress");
  if (el) el.textContent = text;
  for (const section of root.querySelectorAll("section[data-section-id]")) {
    const items = visitState.checklist.sections.find((s) => s.id === section.dataset.sectionId).items;
    const done = items.filter((i) => visitState.results.get(i.id) && visitState.results.get(i.id).value).length;
    section.querySelector(".count").textContent = `${done}/${items.length}`;
  }
}
