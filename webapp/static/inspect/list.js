// The home screen: the inspector's visits (download, open) and assigned schools
// (download, start an unplanned visit offline), plus sections other features add.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as visitsSync from "./visits-sync.js";
import { LOCKED } from "./review-state.js";
import { renderHomeSections } from "./router.js";
import { beginRender, state } from "./state.js";
import { drawStatuses, kick, statusCard, syncNowButton } from "./status.js";
import { afterPaint, bar, clearBanner, h, nowIso, online, root, setChrome, signedOut, STATE_LABELS, toast, VISIT_TYPES } from "./ui.js";

const { S } = db;

// Not needed for the first draw, so not on the start-up chain (one request fewer each, with
// checks.js behind them): loaded when the server's list arrives or a button is pressed.
const downloads = () => import("./downloads.js");

/** Start an unplanned visit at a downloaded school (works offline) and open it. */
export async function startVisit(schoolId) {
  const school = await db.get(S.schools, schoolId);
  if (school && school.not_applicable) {
    toast(school.not_applicable);
    return;
  }
  if (!school || !school.checklist_version) {
    toast("请先下载这所学校。");
    return;
  }
  const visit = {
    id: db.uuid(),
    school: { id: school.id, name: school.name, code: school.code },
    checklist_version: school.checklist_version,
    visit_type: "routine",
    planned_on: null,
    server_state: null,
    local_state: "in_progress",
    started_at: nowIso(),
    summary: "",
    downloaded: true,
    created_locally: true,
  };
  const { headerBody } = await import("./visit.js");
  await visitsSync.saveVisitHeader(visit, headerBody(visit, "in_progress"));
  kick();
  location.hash = `#/visit/${visit.id}`;
}

/** The home screen; redrawn once the server's list (when online) is merged in. */
export async function showList() {
  const stale = beginRender();
  state.current = null;
  setChrome("离线督导", null);
  await drawList(stale);
  if (online()) {
    await afterPaint(); // what the phone holds shows first; the server's list follows
    const outcome = await outbox.call("GET", "/api/v1/visits");
    if (outcome.type === "ok") {
      clearBanner("auth");
      await (await downloads()).mergeServerList(outcome.body);
      if (!stale()) await drawList(stale);
    } else if (outcome.type === "auth") {
      signedOut(outcome.reason);
    }
  }
}

function sortVisits(visits) {
  const done = visits.filter((v) => LOCKED.has(v.local_state));
  const open = visits.filter((v) => !LOCKED.has(v.local_state));
  open.sort((a, b) => (a.planned_on || "9999").localeCompare(b.planned_on || "9999"));
  done.sort((a, b) => (b.submitted_at || "").localeCompare(a.submitted_at || ""));
  return [...open, ...done.slice(0, 20)];
}

async function drawList(stale) {
  const [visits, schools, summaries, before, after] = await Promise.all([
    db.all(S.visits),
    db.all(S.schools),
    outbox.summary(),
    renderHomeSections(true),
    renderHomeSections(false),
  ]);
  if (stale()) return;
  const visitList = h("ul", { class: "plain cards", id: "visit-list" });
  for (const visit of sortVisits(visits)) visitList.append(visitCard(visit));
  if (!visits.length) {
    visitList.append(h("li", { class: "empty" }, online() ? "暂无督导任务。" : "暂无督导任务（离线，联网后刷新）。"));
  }
  const schoolList = h("ul", { class: "plain cards", id: "school-list" });
  for (const school of schools.sort((a, b) => String(a.code).localeCompare(String(b.code)))) {
    schoolList.append(schoolCard(school));
  }
  if (!schools.length) schoolList.append(h("li", { class: "empty" }, "联网后显示您负责的学校。"));
  root.replaceChildren(
    statusCard(),
    ...before,
    h("h2", {}, "督导任务"),
    visitList,
    h("h2", {}, "我负责的学校"),
    h("p", { class: "meta" }, "下载学校后，没有网络也能在该校开始一次新的督导。"),
    schoolList,
    ...after,
    h("p", { class: "meta" }, h("a", { href: "/" }, "返回网站首页")),
  );
  drawStatuses(summaries);
  bar.replaceChildren(syncNowButton(summaries));
}

function visitCard(visit) {
  const stateLabel = STATE_LABELS[visit.local_state] || visit.local_state;
  const card = h(
    "li",
    { class: "card visit", dataset: { visitId: visit.id } },
    h(
      "div",
      { class: "visit-head" },
      h("strong", { class: "school-name" }, visit.school.name),
      h("span", { class: `badge state-${visit.local_state}` }, stateLabel),
    ),
    h(
      "p",
      { class: "meta" },
      [
        visit.planned_on ? `计划 ${visit.planned_on}` : visit.created_locally ? "现场新建" : "",
        VISIT_TYPES[visit.visit_type] || "",
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
  if (!visit.downloaded && LOCKED.has(visit.local_state)) {
    // Submitted or accepted: nothing to fill in, so nothing to download.
    const note = visit.local_state === "accepted" ? "督导室已审核通过。" : "已提交，等待督导室审核。";
    card.append(h("p", { class: "meta locked-note" }, note));
    return card;
  }
  if (!visit.downloaded) {
    card.append(
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            class: "button primary download",
            type: "button",
            onclick: async (event) => {
              event.target.disabled = true;
              event.target.textContent = "下载中…";
              const ok = await (await downloads()).downloadVisit(visit.id);
              if (ok) toast("已下载，没有网络也可以填写。", "ok");
              showList();
            },
          },
          visit.local_state === "returned" ? "下载并修改" : "下载离线",
        ),
      ),
    );
    return card;
  }
  const action = LOCKED.has(visit.local_state) ? "查看" : visit.local_state === "planned" ? "开始督导" : "继续填写";
  card.append(
    h("div", { class: "sync-line", dataset: { visitId: visit.id } }),
    h(
      "div",
      { class: "actions" },
      h("span", { class: "badge ok downloaded" }, "已下载"),
      h("a", { class: "button primary open", href: `#/visit/${visit.id}` }, action),
    ),
  );
  return card;
}

function schoolCard(school) {
  const card = h(
    "li",
    { class: "card school", dataset: { schoolId: String(school.id) } },
    h("div", { class: "visit-head" }, h("strong", {}, school.name), h("span", { class: "meta" }, school.code || "")),
  );
  const download = h(
    "button",
    {
      class: `button ${school.downloaded ? "" : "primary"} download-school`,
      type: "button",
      onclick: async (event) => {
        event.target.disabled = true;
        event.target.textContent = "下载中…";
        if (await (await downloads()).downloadSchool(school.id)) toast("已下载学校，可离线新建督导。", "ok");
        showList();
      },
    },
    school.downloaded ? "更新" : "下载学校",
  );
  const actions = h("div", { class: "actions" });
  if (school.downloaded && school.not_applicable) {
    card.append(h("p", { class: "alert warn not-applicable" }, school.not_applicable));
  } else if (school.downloaded) {
    actions.append(
      h("span", { class: "badge ok downloaded" }, `已下载 · ${school.item_count || ""}项`),
      h(
        "button",
        { class: "button primary start-visit", type: "button", onclick: () => startVisit(school.id) },
        "开始新督导",
      ),
    );
  }
  actions.append(download);
  card.append(actions);
  return card;
}

