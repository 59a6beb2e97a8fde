// The fill page: a visit's checklist grouped by section, one card per item with
// its control (是/否/不适用, numbers with their threshold, text), observation and photos.

import * as visitsSync from "./visits-sync.js";
import { numberProblem, standardText, unitOf } from "./checks.js";
import { downloadVisit } from "./downloads.js";
import { photoButtons, photoList, resumeIntake } from "./fill-photos.js";
import { route } from "./router.js";
import { beginRender, state } from "./state.js";
import { drawContact, drawStatus, refreshSoon } from "./status.js";
import { bar, byItem, h, online, root, setChrome, STATE_LABELS, VISIT_TYPES } from "./ui.js";
import { decorateFill } from "./review.js";
import { draft, schedule } from "./saving.js";
import { checklistNotes, itemMarks } from "./fill-marks.js";
import { drawItemState, loadVisit, revokeUrls, updateProgress } from "./visit.js";

function notDownloaded(visitId) {
  root.replaceChildren(
    h(
      "section",
      { class: "card" },
      h("p", {}, "这次督导还没有下载到手机上。"),
      h(
        "button",
        {
          class: "button primary",
          type: "button",
          onclick: async () => {
            if (await downloadVisit(visitId)) route();
          },
        },
        "下载离线",
      ),
    ),
  );
  bar.replaceChildren();
}

/** The fill page of a visit (or why it cannot be shown). */
export async function showFill(visitId) {
  const stale = beginRender();
  const visitState = await loadVisit(visitId);
  if (stale()) return;
  revokeUrls();
  if (!visitState) {
    state.current = null;
    setChrome("督导", "#/");
    root.replaceChildren(h("p", { class: "alert" }, "手机上没有这次督导。"));
    bar.replaceChildren();
    return;
  }
  setChrome(visitState.visit.school.name, "#/");
  if (!visitState.checklist) {
    state.current = null;
    notDownloaded(visitId);
    return;
  }
  state.current = { ...visitState, page: "fill" };
  const header = h(
    "section",
    { class: "card visit-header" },
    h(
      "div",
      { class: "visit-head" },
      h("strong", {}, VISIT_TYPES[visitState.visit.visit_type] || "督导"),
      h("span", { class: `badge visit-state state-${visitState.visit.local_state}` }, STATE_LABELS[visitState.visit.local_state]),
    ),
    ...checklistNotes(visitState.checklist),
    visitState.readOnly ? h("p", { class: "alert ok readonly" }, "已提交，手机上不能再修改。") : null,
    visitState.heldSubmit
      ? h("p", { class: "alert warn held-submit" }, "提交暂缓：服务器没有接受标出的记录，改正后会自动提交。")
      : null,
    h("div", { class: "sync-line", dataset: { visitId } }),
    h("p", { class: "meta last-contact" }, ""),
  );
  const sections = visitState.checklist.sections.map((section) => {
    // Items of documents past their end date come last, under one note (not a mark on each).
    const current = section.items.filter((item) => item.status !== "expired");
    const expired = section.items.filter((item) => item.status === "expired");
    return h(
      "section",
      { class: "section", dataset: { sectionId: section.id } },
      h("h2", {}, section.title, " ", h("span", { class: "count" }, "")),
      current.map((item) => itemCard(item)),
      expired.length
        ? h("p", { class: "expired-note" }, `文件已到期：以下 ${expired.length} 项所依据的文件已过有效期，仍列出供核查。`)
        : null,
      expired.map((item) => itemCard(item)),
    );
  });
  const general = h(
    "section",
    { class: "section" },
    h("h2", {}, "其他照片"),
    h(
      "article",
      { class: "item", dataset: { itemId: "" } },
      h("p", { class: "meta" }, "不属于某一检查项的现场照片。"),
      photoList(""),
      visitState.readOnly ? null : photoButtons(""),
    ),
  );
  root.replaceChildren(header, ...sections, general);
  await decorateFill(visitState);
  if (stale()) return;
  drawContact();
  drawStatus(header.querySelector(".sync-line"), visitId);
  updateProgress();
  bar.replaceChildren(
    h("span", { class: "progress", id: "progress" }, ""),
    visitState.readOnly
      ? h("a", { class: "button", href: "#/" }, "返回列表")
      : h("a", { class: "button primary", href: `#/visit/${visitId}/submit`, id: "to-submit" }, "提交…"),
  );
  updateProgress();
  resumeIntake(visitId); // photos a closed page left unprepared: shown on their items meanwhile
  if (online()) visitsSync.refreshReceipt(visitId).then(refreshSoon);
}

function itemCard(item) {
  const visitState = state.current;
  const check = item.check;
  const result = visitState.results.get(item.id);
  const value = result ? result.value : null;
  const standard = standardText(check);
  const card = h(
    "article",
    { class: `item${item.status === "expired" ? " expired" : ""}`, dataset: { itemId: item.id, type: check.type } },
    h(
      "div",
      { class: "item-head" },
      h("span", { class: "item-title" }, item.title),
      h(
        "span",
        { class: "badges" },
        h("span", { class: "badge photo-needed bad", hidden: true }, "须拍照"),
        h("span", { class: "badge outcome", hidden: true }, ""),
      ),
    ),
    standard ? h("p", { class: "threshold" }, standard) : null,
    ...itemMarks(item),
    item.guidance
      ? h("details", { class: "guidance" }, h("summary", {}, "检查方法"), h("p", {}, item.guidance))
      : null,
    control(item, value),
    h("p", { class: "field-error", hidden: true }),
    photoList(item.id),
  );
  const observation = result ? result.observation || "" : "";
  const obsBox = h("textarea", {
    class: "obs",
    rows: "2",
    maxlength: "4000",
    placeholder: "现场记录（可选）",
    "aria-label": `${item.title} 现场记录`,
    value: observation,
    disabled: visitState.readOnly,
    oninput: (event) => {
      draft(item.id).observation = event.target.value;
      schedule(item.id);
    },
  });
  const obsWrap = h("div", { class: "obs-wrap", hidden: !observation }, obsBox);
  const tools = h("div", { class: "tools" });
  if (!visitState.readOnly) tools.append(photoButtons(item.id));
  tools.append(
    h(
      "button",
      {
        class: "button obs-toggle",
        type: "button",
        "aria-expanded": observation ? "true" : "false",
        onclick: (event) => {
          obsWrap.hidden = !obsWrap.hidden;
          event.currentTarget.setAttribute("aria-expanded", obsWrap.hidden ? "false" : "true");
          if (!obsWrap.hidden) obsBox.focus();
        },
      },
      "现场记录",
    ),
  );
  card.append(tools, obsWrap);
  queueMicrotask(() => drawItemState(item));
  return card;
}

function segmented(item, value) {
  const options = [
    ["yes", "是"],
    ["no", "否"],
    ["na", "不适用"],
  ];
  return h(
    "div",
    { class: "segmented", role: "group", "aria-label": item.title },
    options.map(([answer, label]) =>
      h(
        "button",
        {
          type: "button",
          class: `seg seg-${answer}`,
          dataset: { answer },
          "aria-pressed": value && value.answer === answer ? "true" : "false",
          disabled: state.current.readOnly,
          onclick: () => {
            draft(item.id).value = { answer };
            setPressed(item.id, answer);
            drawItemState(item);
            schedule(item.id, 0);
          },
        },
        label,
      ),
    ),
  );
}

function setPressed(itemId, answer) {
  const card = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
  for (const button of card.querySelectorAll("button[data-answer]")) {
    button.setAttribute("aria-pressed", button.dataset.answer === answer ? "true" : "false");
  }
}

function control(item, value) {
  const check = item.check;
  if (check.type === "yes_no" || check.type === "deadline") return segmented(item, value);
  if (check.type === "text") {
    return h("textarea", {
      class: "text-value",
      rows: "3",
      maxlength: "4000",
      "aria-label": item.title,
      value: value && typeof value.text === "string" ? value.text : "",
      disabled: state.current.readOnly,
      oninput: (event) => {
        const text = event.target.value;
        draft(item.id).value = text.trim() ? { text } : null;
        drawItemState(item);
        schedule(item.id);
      },
    });
  }
  const integer = check.type === "count_per_period";
  const unit = unitOf(check);
  const isNa = Boolean(value && value.answer === "na");
  const input = h("input", {
    class: "num",
    type: "number",
    inputmode: integer ? "numeric" : "decimal",
    min: "0",
    step: integer ? "1" : "any",
    max: check.type === "percentage" ? "100" : null,
    "aria-label": item.title,
    value: value && typeof value.number === "number" ? String(value.number) : "",
    disabled: state.current.readOnly,
    oninput: (event) => {
      const raw = event.target.value.trim();
      const error = byItem(".field-error", item.id);
      // What is not a number (1e309, "1e", "-") reads as "": it is an error, not an empty answer.
      const problem = event.target.validity.badInput
        ? "请输入数字。"
        : raw === ""
          ? null
          : numberProblem(check, Number(raw));
      error.hidden = !problem;
      error.textContent = problem || "";
      // The answer is what the field shows: a refused value leaves the item unanswered (never sent as it is),
      // not holding the last keystroke's number (typing 99999999999 kept 999999999 and said 达标).
      draft(item.id).value = raw === "" || problem ? null : { number: Number(raw) };
      setPressed(item.id, null);
      drawItemState(item);
      schedule(item.id);
    },
  });
  return h(
    "div",
    { class: "number-row" },
    input,
    unit ? h("span", { class: "unit" }, unit) : null,
    h(
      "button",
      {
        type: "button",
        class: "seg seg-na",
        dataset: { answer: "na" },
        "aria-pressed": isNa ? "true" : "false",
        disabled: state.current.readOnly,
        onclick: () => {
          input.value = "";
          byItem(".field-error", item.id).hidden = true;
          draft(item.id).value = { answer: "na" };
          setPressed(item.id, "na");
          drawItemState(item);
          schedule(item.id, 0);
        },
      },
      "不适用",
    ),
  );
}

