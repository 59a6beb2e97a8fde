// Downloads for offline use: the visit list and schools (merged into IndexedDB
// without losing local progress), a school's checklist, a visit's bundle.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import { itemsOf } from "./checks.js";
import { reviewedState } from "./review-state.js";
import { nowIso, online, signedOut, STATE_ORDER, toast } from "./ui.js";

const { S } = db;

/** Tell the user why a request (`what`) failed; a lost session gets the sign-in banner. */
export function explain(outcome, what) {
  if (outcome.type === "auth") {
    signedOut(outcome.reason);
    return;
  }
  if (outcome.type === "network") toast(`${what}失败：${online() ? "连接不上服务器" : "手机没有网络"}，请联网后重试。`);
  else toast(`${what}失败：${outcome.message}`);
}

/**
 * The server's copy of a visit over the phone's (`old`, may be undefined): the plan comes
 * from the server, progress from the phone; a visit never goes back to an earlier state.
 */
function mergedVisit(old, v) {
  const ordered = old && STATE_ORDER[old.local_state] > STATE_ORDER[v.state] ? old.local_state : v.state;
  const localState = reviewedState(old, v, ordered);
  return {
    summary: v.summary || "",
    ...(old || {}),
    id: v.id,
    school: v.school,
    checklist_version: v.checklist_version,
    visit_type: v.visit_type,
    planned_on: v.planned_on,
    server_state: v.state,
    local_state: localState,
    review_round: v.review_round || 0,
    started_at: (old && old.started_at) || v.started_at,
  };
}

/** Merge the server's list of visits and assigned schools into IndexedDB (unassigned schools are forgotten). */
export async function mergeServerList(body) {
  await db.transaction([S.visits, S.schools], "readwrite", async (s) => {
    for (const v of body.visits) {
      const old = await db.req(s[S.visits].get(v.id));
      const submittedAt = (old && old.submitted_at) || v.submitted_at;
      await db.req(s[S.visits].put({ downloaded: false, ...mergedVisit(old, v), submitted_at: submittedAt }));
    }
    for (const school of body.schools) {
      const old = await db.req(s[S.schools].get(school.id));
      await db.req(s[S.schools].put({ downloaded: false, ...(old || {}), ...school }));
    }
    // No longer assigned: forget the school (visits keep their own copy of its name and checklist).
    const assigned = new Set(body.schools.map((school) => school.id));
    for (const id of await db.req(s[S.schools].getAllKeys())) {
      if (!assigned.has(id)) await db.req(s[S.schools].delete(id));
    }
  });
}

async function storeSchoolBundle(bundle) {
  // A pack with nothing for the school (本政策包不适用于幼儿园): keep the message, offer no visit.
  const applicable = bundle.checklist.applicable !== false;
  await db.transaction([S.schools, S.checklists], "readwrite", async (s) => {
    if (applicable) await db.req(s[S.checklists].put(bundle.checklist));
    const old = await db.req(s[S.schools].get(bundle.school.id));
    await db.req(
      s[S.schools].put({
        ...(old || {}),
        ...bundle.school,
        checklist_version: applicable ? bundle.checklist.version : null,
        not_applicable: applicable ? null : bundle.checklist.not_applicable || "本政策包没有适用于这所学校的检查项。",
        rectifications: bundle.rectifications || [],
        item_count: itemsOf(bundle.checklist).length,
        downloaded: true,
        downloaded_at: nowIso(),
      }),
    );
  });
}

/** Download a school and its current checklist (to start visits there offline). */
export async function downloadSchool(schoolId, quiet = false) {
  const outcome = await outbox.call("GET", `/api/v1/schools/${schoolId}/bundle?visit_type=routine`);
  if (outcome.type !== "ok") {
    if (!quiet) explain(outcome, "下载学校");
    return false;
  }
  await storeSchoolBundle(outcome.body);
  return true;
}

/** Download a visit: its checklist, school, what the server already holds (newer wins), receipt. */
export async function downloadVisit(visitId) {
  const outcome = await outbox.call("GET", `/api/v1/visits/${visitId}/bundle`);
  if (outcome.type !== "ok") {
    explain(outcome, "下载");
    return false;
  }
  const bundle = outcome.body;
  const v = bundle.visit;
  await db.transaction([S.visits, S.checklists, S.results, S.photos, S.receipts, S.schools], "readwrite", async (s) => {
    await db.req(s[S.checklists].put(bundle.checklist));
    const old = await db.req(s[S.visits].get(v.id));
    // The bureau's comments (returned visit) and the school's open tasks to re-check (review.js shows them).
    const reviewed = { review: bundle.review || null, rectifications: bundle.rectifications || [] };
    await db.req(s[S.visits].put({ ...mergedVisit(old, v), ...reviewed, downloaded: true, downloaded_at: nowIso() }));
    const school = await db.req(s[S.schools].get(bundle.school.id));
    await db.req(s[S.schools].put({ downloaded: false, ...(school || {}), ...bundle.school }));
    // What the server already holds (recorded earlier, or on another phone): newer wins.
    for (const r of bundle.results) {
      const local = await db.req(s[S.results].get([v.id, r.item_id]));
      if (!local || (local.edited_at || "") < (r.edited_at || "")) {
        await db.req(
          s[S.results].put({
            visit_id: v.id,
            item_id: r.item_id,
            value: r.value,
            observation: r.observation || "",
            edited_at: r.edited_at,
            write_id: r.write_id,
          }),
        );
      }
    }
    for (const p of bundle.photos) {
      const local = await db.req(s[S.photos].get(p.id));
      if (!local) {
        await db.req(
          s[S.photos].put({ ...p, visit_id: v.id, blob: null, uploaded: true, deleted: false, server_only: true }),
        );
      }
    }
    if (bundle.receipt) await db.req(s[S.receipts].put({ ...bundle.receipt, kept_at: nowIso() }));
  });
  // The school's current checklist too, so a new visit can be started there offline.
  await downloadSchool(bundle.school.id, true);
  return true;
}

