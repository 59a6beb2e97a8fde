// The bureau's side on the phone: the 督导室's comments on a returned visit (amend, then
// resubmit from the submit page) and the school's open rectification tasks, so the
// inspector re-checks them on site. Data comes from the bundles (downloads.js keeps
// `review` and `rectifications` on the visit and school records); nothing here writes.

import * as db from "./db.js";
import { registerHomeSection, route } from "./router.js";
import { h, online, root } from "./ui.js";

const { S } = db;
/** Visits whose comments were fetched in the background this session (one try each). */
const fetched = new Set();

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getMonth() + 1}月${d.getDate()}日 ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A returned visit whose comments this phone has not got yet (or only an older round's). */
function needsComments(visit) {
  return visit.local_state === "returned" && (!visit.review || visit.review.review_round !== visit.review_round);
}

async function fetchComments(visits) {
  const missing = visits.filter((v) => needsComments(v) && !fetched.has(v.id));
  if (!missing.length || !online()) return;
  for (const visit of missing) {
    fetched.add(visit.id);
    const { downloadVisit } = await import("./downloads.js"); // not on the start-up chain
    await downloadVisit(visit.id);
  }
  if ((location.hash || "#/") === "#/") route();
}

/** Home section: visits the bureau returned, with its comment, first on the screen. */
registerHomeSection(
  async () => {
    const returned = (await db.all(S.visits)).filter((v) => v.local_state === "returned");
    if (!returned.length) return null;
    fetchComments(returned);
    return h(
      "section",
      { class: "card returned-visits", id: "returned-visits" },
      h("h2", {}, `督导室退回修改（${returned.length}）`),
      h(
        "ul",
        { class: "plain list" },
        returned.map((visit) =>
          h(
            "li",
            { class: "row" },
            h("a", { class: "title", href: `#/visit/${visit.id}` }, visit.school.name),
            visit.review
              ? h("span", { class: "meta" }, visit.review.comment || `${Object.keys(visit.review.item_comments).length} 项检查项有意见`)
              : h("span", { class: "meta" }, online() ? "正在下载意见…" : "联网后下载退回意见"),
          ),
        ),
      ),
    );
  },
  { order: -10 },
);

function reviewCard(visit) {
  const review = visit.review;
  if (!review || review.decision !== "returned") {
    return visit.local_state === "accepted" ? h("p", { class: "alert ok review-card" }, "督导室已审核通过。") : null;
  }
  const current = visit.local_state === "returned";
  const count = Object.keys(review.item_comments || {}).length;
  return h(
    "section",
    { class: `card review-card ${current ? "alert warn" : ""}`, id: "review-card" },
    h("h2", {}, current ? "督导室退回修改" : "上次退回的意见"),
    h("p", { class: "meta" }, `${review.reviewer} · ${when(review.created_at)}`),
    review.comment ? h("p", { class: "review-comment" }, review.comment) : null,
    count ? h("p", {}, `${count} 项检查项有意见，见下方标注。`) : null,
    current ? h("p", { class: "meta" }, "修改后到“提交…”页面重新提交；原来的记录会保留在修改历史中。") : null,
  );
}

function tasksCard(tasks) {
  if (!tasks || !tasks.length) return null;
  return h(
    "section",
    { class: "card rectifications", id: "rectifications" },
    h("h2", {}, `本校未销号的整改（${tasks.length}）`),
    h("p", { class: "meta" }, "请现场复查下列问题是否已整改，并在对应检查项中如实记录。"),
    h(
      "ul",
      { class: "plain list" },
      tasks.map((task) =>
        h(
          "li",
          { class: "row", dataset: { taskId: String(task.id) } },
          h(
            "a",
            {
              class: "title",
              href: "#",
              onclick: (event) => {
                event.preventDefault();
                const card = root.querySelector(`[data-item-id="${CSS.escape(task.item_id)}"]`);
                if (card) card.scrollIntoView({ behavior: "smooth", block: "start" });
              },
            },
            task.item_title,
          ),
          h("span", { class: "meta" }, task.problem),
          h(
            "span",
            { class: "meta task-chips" },
            `期限 ${task.deadline}`,
            h("span", { class: "badge warn" }, task.state_label),
            task.is_overdue ? h("span", { class: "badge bad" }, "已逾期") : null,
          ),
        ),
      ),
    ),
  );
}

/** Add the review comments and the school's open tasks to a drawn fill page. */
export async function decorateFill(visitState) {
  const visit = visitState.visit;
  const school = await db.get(S.schools, visit.school.id);
  const tasks = visit.rectifications || (school && school.rectifications) || [];
  const header = root.querySelector(".visit-header");
  if (!header) return;
  const readonly = header.querySelector(".readonly");
  if (readonly && visit.local_state === "accepted") readonly.textContent = "已审核通过，不能再修改。";
  header.after(...[reviewCard(visit), tasksCard(tasks)].filter(Boolean));
  const comments = (visit.review && visit.review.decision === "returned" && visit.review.item_comments) || {};
  for (const [itemId, text] of Object.entries(comments)) {
    const card = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
    if (card) card.querySelector(".item-head").after(h("p", { class: "alert warn review-note" }, `督导室意见：${text}`));
  }
  for (const task of tasks) {
    const card = root.querySelector(`[data-item-id="${CSS.escape(task.item_id)}"]`);
    if (card) card.querySelector(".item-head").after(h("p", { class: "meta task-note" }, `整改复查：${task.problem}（期限 ${task.deadline}）`));
  }
}
