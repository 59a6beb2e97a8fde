// The submit page: failed items, missing photos and unanswered items, the
// summary (督导小结), and marking the visit complete (read-only on the phone after).

import * as db from "./db.js";
import * as visitsSync from "./visits-sync.js";
import { evaluate, itemsOf, standardText, valueText } from "./checks.js";
import { showFill } from "./fill.js";
import { beginRender, config, state } from "./state.js";
import { drawStatus, kick, showItem } from "./status.js";
import { bar, h, nowIso, root, setChrome } from "./ui.js";
import * as unsaved from "./unsaved.js";
import { counts, headerBody, loadVisit, revokeUrls } from "./visit.js";

const { S } = db;

/** The submit page of a visit (the fill page if the phone lacks its checklist). */
export async function showSubmit(visitId) {
  const stale = beginRender();
  const [visitState, unprepared] = await Promise.all([loadVisit(visitId), db.all(S.photoIntake, "visit_id", visitId)]);
  if (stale()) return;
  revokeUrls();
  if (!visitState || !visitState.checklist) return showFill(visitId);
  state.current = { ...visitState, page: "submit" };
  setChrome("提交督导", `#/visit/${visitId}`);
  const items = itemsOf(visitState.checklist);
  const c = counts(visitState);
  const failed = items.filter((i) => {
    const r = visitState.results.get(i.id);
    return r && evaluate(i.check, r.value) === "fail";
  });
  const unanswered = items.filter((i) => !(visitState.results.get(i.id) && visitState.results.get(i.id).value));
  const noPhoto = items.filter((i) => i.photo_required && !visitState.photos.some((p) => p.item_id === i.id));
  // A 现场记录 waits on the phone for its item's answer (the server keeps a value with it): submitted without
  // one, the text would never reach the bureau. Say so before the submit, item by item.
  const notedOnly = items.filter((i) => {
    const r = visitState.results.get(i.id);
    return r && !r.value && (r.observation || "").trim();
  });
  const summary = h("textarea", {
    id: "summary",
    rows: "5",
    maxlength: "4000",
    placeholder: "总体情况、主要问题、整改建议",
    value: visitState.visit.summary || "",
    disabled: visitState.readOnly,
    oninput: (event) => {
      unsaved.note(summaryKey(visitId), "summary", { visit_id: visitId, summary: event.target.value });
      clearTimeout(visitState.summaryTimer);
      visitState.summaryTimer = setTimeout(() => saveSummary(visitState, event.target.value), config.saveDelayMs);
    },
  });
  // replaceChildren would print a null as the text "null": optional parts are filtered out.
  const parts = [
    h(
      "section",
      { class: "card" },
      h("h1", {}, visitState.visit.school.name),
      h("p", {}, `已答 ${c.answered} / 共 ${c.total} 项，照片 ${visitState.photos.length} 张。`),
      h("div", { class: "sync-line", dataset: { visitId } }),
    ),
    h(
      "section",
      { class: "card", id: "failed-items" },
      h("h2", {}, `未达标（${failed.length} 项）`),
      failed.length
        ? h(
            "ul",
            { class: "plain list" },
            failed.map((i) => {
              const r = visitState.results.get(i.id);
              const standard = standardText(i.check);
              return h(
                "li",
                { class: "row" },
                h("span", { class: "title" }, i.title),
                h("span", { class: "meta" }, valueText(i.check, r.value), standard ? `（${standard}）` : ""),
                r.observation ? h("span", { class: "meta" }, `现场记录：${r.observation}`) : null,
              );
            }),
          )
        : h("p", { class: "empty" }, "没有未达标的项目。"),
    ),
    noPhoto.length
      ? h(
          "details",
          { class: "alert warn", id: "missing-photos" },
          h("summary", {}, `${noPhoto.length} 项要求拍照，但还没有照片（点开查看）`),
          h("ul", {}, noPhoto.map((i) => h("li", {}, i.title))),
        )
      : null,
    notedOnly.length && !visitState.readOnly
      ? h(
          "details",
          { class: "alert warn", id: "noted-unanswered", open: true },
          h("summary", {}, `${notedOnly.length} 项写了现场记录但没有作答：不作答，这些记录提交后不会上传`),
          h(
            "ul",
            { class: "plain" },
            notedOnly.map((i) =>
              h("li", {}, h("button", { class: "link", type: "button", onclick: () => showItem(`#/visit/${visitId}`, i.id) }, i.title)),
            ),
          ),
        )
      : null,
    unprepared.length && !visitState.readOnly
      ? h(
          "p",
          { class: "alert warn", id: "unprepared-photos" },
          `还有 ${unprepared.length} 张照片没有处理完（正在处理或处理失败，见检查项），提交后就不能再随本次督导上传，请先返回处理。`,
        )
      : null,
    unanswered.length
      ? h("p", { class: "alert warn", id: "unanswered" }, `还有 ${unanswered.length} 项没有填写，可以返回继续填写。`)
      : null,
    h("section", { class: "card stack" }, h("label", { for: "summary" }, "督导小结"), summary),
  ];
  root.replaceChildren(...parts.filter(Boolean));
  drawStatus(root.querySelector(".sync-line"), visitId);
  if (visitState.readOnly) {
    bar.replaceChildren(h("span", { class: "progress" }, "已提交"), h("a", { class: "button", href: "#/" }, "返回列表"));
    return;
  }
  const confirmBox = h(
    "div",
    { class: "confirm", hidden: true },
    h("span", {}, "提交后手机上不能再修改。"),
    h(
      "button",
      { class: "button primary", type: "button", id: "confirm-submit", onclick: () => submit(visitState) },
      "确认提交",
    ),
  );
  bar.replaceChildren(
    h("a", { class: "button", href: `#/visit/${visitId}` }, "返回填写"),
    h(
      "button",
      {
        class: "button primary wide",
        type: "button",
        id: "submit",
        onclick: (event) => {
          event.currentTarget.hidden = true;
          confirmBox.hidden = false;
        },
      },
      "提交",
    ),
    confirmBox,
  );
}

/** The unsaved.js key of a visit's summary. */
const summaryKey = (visitId) => `summary:${visitId}`;

async function saveSummary(visitState, text) {
  const visit = await db.update(S.visits, visitState.visit.id, (old) => (old ? { ...old, summary: text } : undefined));
  unsaved.settle(summaryKey(visitState.visit.id), { summary: text });
  if (visit) visitState.visit = { ...visitState.visit, summary: text };
}

async function submit(visitState) {
  clearTimeout(visitState.summaryTimer);
  const summaryEl = document.getElementById("summary");
  const summary = summaryEl ? summaryEl.value : visitState.visit.summary || "";
  // Release held photos: they go now, and the declaration below names them.
  const pics = (await db.photosOf(visitState.visit.id)).filter((p) => !p.deleted);
  for (const photo of pics) if (!photo.uploaded) await visitsSync.updatePhoto(photo.id, { hold_until: 0 });
  const results = await db.resultsOf(visitState.visit.id);
  const answered = [...results.values()].filter((r) => r.value).length;
  const visit = { ...visitState.visit, summary, local_state: "submitted", submitted_at: nowIso() };
  visit.resubmitted_round = visit.review_round || 0; // answers the bureau's return, if any
  visit.started_at = visit.started_at || visit.submitted_at;
  await visitsSync.saveVisitHeader(
    visit,
    headerBody(visit, "submitted", {
      submitted_at: visit.submitted_at,
      declared: { result_count: answered, photo_hashes: [...new Set(pics.map((p) => p.sha256))] },
    }),
  );
  unsaved.settle(summaryKey(visit.id), { summary });
  kick();
  location.hash = `#/visit/${visit.id}`;
  window.scrollTo(0, 0);
}

