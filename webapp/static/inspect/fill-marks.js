// What a checklist item says about itself beyond its check: the section of a
// mixed school (小学部), its due state, soft wording (倡导性（力争）), a reference
// figure not from the county's document; and the checklist's draft banner.

import { dueText } from "./due.js";
import { h } from "./ui.js";

/** Notes at the top of a checklist: a draft pack's banner. */
export function checklistNotes(checklist) {
  const notes = [];
  if (checklist && checklist.pack && checklist.pack.status === "draft") {
    notes.push(h("p", { class: "alert warn draft-banner", role: "note" }, "征求意见稿 · 仅供试行"));
  }
  return notes;
}

/** The lines under an item's title: section and binding badges, due state, reference. */
export function itemMarks(item, today = new Date()) {
  const badges = [];
  if (item.section_label) badges.push(h("span", { class: "badge section-part" }, item.section_label));
  if (item.binding === "soft") {
    badges.push(h("span", { class: "badge soft" }, item.binding_word ? `倡导性（${item.binding_word}）` : "倡导性"));
  }
  const lines = badges.length ? [h("p", { class: "marks" }, badges)] : [];
  const due = dueText(item.due, today);
  if (due) {
    const overdue = due.startsWith("已逾期");
    const rule = item.due.label && !due.includes(item.due.label) ? `（${item.due.label}）` : "";
    lines.push(h("p", { class: `due ${overdue ? "overdue" : ""}`.trim() }, `时限：${due}${rule}`));
  }
  if (item.reference) {
    lines.push(
      h("p", { class: "reference" }, `参考：${item.reference.standard} ${item.reference.text}（非本县文件规定，不作判定）`),
    );
  }
  return lines;
}
