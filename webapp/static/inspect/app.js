// The inspector's offline app: visit list, filling a checklist, submitting.
//
// Everything shown comes from IndexedDB (db.js); the server is only asked to
// refresh lists and download bundles, and every change goes through the outbox
// (outbox.js). Routes: #/ (visits), #/visit/<id> (fill), #/visit/<id>/submit.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as photos from "./photos.js";

const { S } = db;

/** Timings; tests (and field debugging) may set window.DUDAO_CONFIG before the app loads. */
const config = {
  intervalMs: 30000,
  saveDelayMs: 300,
  photoHoldMs: 10000,
  lowStorageBytes: 50 * 1024 * 1024,
  ...(globalThis.DUDAO_CONFIG || {}),
};
outbox.configure(config);

const STATE_ORDER = { planned: 0, in_progress: 1, submitted: 2 };
const STATE_LABELS = { planned: "计划中", in_progress: "进行中", submitted: "已提交" };
const VISIT_TYPES = { routine: "经常性督导", safety: "平安校园专项督导", conditions: "办学条件专项督导", teaching: "教学常规专项督导" };
const OPERATORS = { "<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=" };
const PERIODS = { term: "每学期", school_year: "每学年", year: "每年", three_years: "每三年" };
const OUTCOMES = { pass: ["达标", "ok"], fail: ["未达标", "bad"], na: ["不适用", "muted"] };
const COMPARE = {
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
  ">=": (a, b) => a >= b,
  ">": (a, b) => a > b,
  "==": (a, b) => a === b,
};
const NUMBER_TYPES = new Set(["numeric", "percentage", "count_per_period"]);

const root = document.getElementById("app");
const bar = document.getElementById("bar");
const bannerBox = document.getElementById("banners");
const titleEl = document.getElementById("title");
const backEl = document.getElementById("back");
const netEl = document.getElementById("net");

let deviceId = null;
let renderToken = 0;
let swRegistration = null;
let storageInfo = null;
/** The visit on screen (fill or submit page), with everything needed to redraw parts of it. */
let current = null;
const objectUrls = [];

// --- small helpers ---------------------------------------------------------------

/**
 * Make an element: h("button", {class: "button", onclick}, "text", child…).
 * Strings become text nodes (never HTML), so server text cannot inject markup.
 */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function num(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

function when(iso) {
  if (!iso) return "从未";
  const date = new Date(iso);
  const options = { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false };
  return date.toLocaleString("zh-CN", options);
}

function nowIso() {
  return new Date().toISOString();
}

function online() {
  return navigator.onLine !== false;
}

function byItem(selector, itemId) {
  return root.querySelector(`[data-item-id="${CSS.escape(itemId)}"] ${selector}`);
}

function itemsOf(checklist) {
  return checklist.sections.flatMap((section) => section.items);
}

function setChrome(title, back) {
  titleEl.textContent = title;
  backEl.hidden = !back;
  if (back) backEl.setAttribute("href", back);
  document.title = `${title} · 督导随行`;
}

/**
 * Judge a value like sync/evaluate.py does (the server's verdict is the one stored).
 * @returns {"pass"|"fail"|"na"|null}
 */
export function evaluate(check, value) {
  if (!value) return null;
  if (value.answer === "na") return "na";
  if (check.type === "yes_no" || check.type === "deadline") return value.answer === "yes" ? "pass" : "fail";
  if (check.type === "count_per_period") return value.number >= check.count ? "pass" : "fail";
  if (check.type === "numeric" || check.type === "percentage") {
    if (check.value === null || check.value === undefined || !COMPARE[check.operator]) return null;
    return COMPARE[check.operator](value.number, check.value) ? "pass" : "fail";
  }
  return null;
}

/** The server's rules for a number (sync/evaluate.py validate_value), as a Chinese message or null. */
export function numberProblem(check, number) {
  if (!Number.isFinite(number)) return "请输入数字。";
  if (number < 0) return "数值不能为负数。";
  if (check.type === "percentage" && number > 100) return "百分比应在 0 到 100 之间。";
  if (check.type === "count_per_period" && !Number.isInteger(number)) return "次数应为整数。";
  if (number > 1e9) return "数值过大。";
  return null;
}

function standardText(check) {
  if (check.type === "numeric" || check.type === "percentage") {
    if (check.value === null || check.value === undefined) return null;
    const unit = check.unit || "";
    if (check.type === "percentage") {
      const whom = unit && unit !== "%" ? `（${unit}）` : "";
      return `标准：${OPERATORS[check.operator] || check.operator} ${num(check.value)}%${whom}`;
    }
    return `标准：${OPERATORS[check.operator] || check.operator} ${num(check.value)}${unit ? ` ${unit}` : ""}`;
  }
  if (check.type === "count_per_period") {
    return `标准：${PERIODS[check.period] || ""}至少 ${check.count} ${check.unit || "次"}`;
  }
  if (check.type === "deadline" && check.due) return `期限：${check.due} 前完成`;
  return null;
}

function unitOf(check) {
  if (check.type === "percentage") return "%";
  if (check.type === "count_per_period") return check.unit || "次";
  return check.unit || "";
}

function valueText(check, value) {
  if (!value) return "未填写";
  if (value.answer === "na") return "不适用";
  if (value.answer) return value.answer === "yes" ? "是" : "否";
  if (typeof value.number === "number") {
    const unit = unitOf(check);
    return `${num(value.number)}${unit === "%" || !unit ? unit : ` ${unit}`}`;
  }
  if (typeof value.text === "string") return value.text;
  return "";
}

// --- banners ----------------------------------------------------------------------

/**
 * Show (or replace) a banner by key; `kind` is "", "warn" or "ok"; `actions` are elements.
 * A banner with `ttl` disappears by itself.
 */
function banner(key, message, kind = "", actions = [], ttl = 0) {
  let el = bannerBox.querySelector(`[data-banner="${key}"]`);
  if (!el) {
    el = h("div", { class: "alert banner", dataset: { banner: key }, role: kind === "" ? "alert" : "status" });
    bannerBox.append(el);
  }
  el.className = `alert banner ${kind}`;
  el.replaceChildren(h("span", {}, message), ...actions);
  if (ttl) setTimeout(() => el.remove(), ttl);
}

function clearBanner(key) {
  const el = bannerBox.querySelector(`[data-banner="${key}"]`);
  if (el) el.remove();
}

function toast(message, kind = "") {
  banner(`toast-${Date.now()}`, message, kind, [], 6000);
}

function signedOut() {
  banner("auth", "登录已失效。手机上的记录都还在，请重新登录后继续同步。", "warn", [
    h("a", { class: "button primary", href: "/login?next=/inspect/" }, "重新登录"),
  ]);
}

function updateNet() {
  netEl.textContent = online() ? "在线" : "离线";
  netEl.className = `net ${online() ? "on" : "off"}`;
}

// --- status of a visit ---------------------------------------------------------------

async function localCounts(visitId) {
  const [results, pics] = await Promise.all([db.resultsOf(visitId), db.photosOf(visitId)]);
  const answered = [...results.values()].filter((r) => r.value).length;
  const hashes = pics.filter((p) => !p.deleted).map((p) => p.sha256);
  return { answered, hashes };
}

/** Fill a `.sync-line` element for a visit: 待同步 / 同步中 / 已同步 / 失败, reasons, receipt. */
async function drawStatus(el, visitId, summaries) {
  const all = summaries || (await outbox.summary());
  const s = all.get(visitId) || { pending: 0, failed: 0, syncing: false, errors: [], waiting: null };
  const receipt = await outbox.receiptOf(visitId);
  let label = "已同步";
  let kind = "ok";
  if (s.failed) [label, kind] = ["失败", "bad"];
  else if (s.syncing) [label, kind] = ["同步中", "busy"];
  else if (s.pending) [label, kind] = ["待同步", "warn"];
  const parts = [h("span", { class: `badge sync-status ${kind}`, dataset: { status: kind } }, label)];
  if (s.pending && !s.failed) parts.push(h("span", { class: "meta" }, ` ${s.pending} 条待上传`));
  if (s.waiting && !s.syncing) parts.push(h("p", { class: "meta waiting" }, `等待重试：${s.waiting}`));
  if (s.failed) {
    const reasons = [...new Set(s.errors.map((e) => e.message))];
    parts.push(
      h("ul", { class: "failures" }, reasons.map((m) => h("li", { class: "failure" }, m))),
      h("p", { class: "meta" }, "被服务器拒绝的记录仍保存在手机上：改正该项后会重新提交，也可以点“重试”。"),
      h("button", { class: "button small retry", type: "button", onclick: () => outbox.retry(visitId) }, "重试"),
    );
  }
  if (receipt) {
    const local = await localCounts(visitId);
    const complete =
      receipt.result_count >= local.answered && local.hashes.every((hash) => receipt.photo_hashes.includes(hash));
    parts.push(
      h(
        "p",
        { class: "receipt meta" },
        `服务器已收到 ${receipt.result_count} 项结果、${receipt.photo_count} 张照片 · `,
        h("strong", { class: complete ? "ok-text" : "bad-text" }, complete ? "完整" : "不完整"),
      ),
    );
  }
  el.replaceChildren(...parts);
}

let statusTimer = null;
let statusChain = Promise.resolve();

/** Redraw status lines soon: events come in bursts, and draws must not overtake each other. */
function refreshSoon() {
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    statusChain = statusChain.then(refreshStatuses).catch(() => {});
  }, 50);
}

async function refreshStatuses() {
  const summaries = await outbox.summary();
  for (const el of root.querySelectorAll(".sync-line[data-visit-id]")) {
    await drawStatus(el, el.dataset.visitId, summaries);
  }
  const pending = [...summaries.values()].reduce((n, s) => n + s.pending, 0);
  const badge = bar.querySelector(".pending-count");
  if (badge) badge.textContent = pending ? `（${pending}）` : "";
}

async function drawContact() {
  const at = await db.getMeta("last_contact_at");
  for (const el of document.querySelectorAll(".last-contact")) el.textContent = `上次连接服务器：${when(at)}`;
}

function statusCard() {
  const card = h("section", { class: "card status-card" }, h("p", { class: "meta last-contact" }, "上次连接服务器：…"));
  if (storageInfo) card.append(storageLine());
  drawContact();
  return card;
}

function storageLine() {
  const { persisted, free } = storageInfo;
  const low = typeof free === "number" && free < config.lowStorageBytes;
  if (persisted && !low) return h("p", { class: "meta storage ok-text" }, "离线数据已设为持久保存。");
  const why = low ? `手机剩余空间不足（约 ${Math.max(0, Math.round(free / 1048576))} MB）` : "浏览器没有允许持久保存离线数据";
  return h(
    "p",
    { class: "alert warn storage" },
    `${why}，系统清理空间时可能删除未同步的记录。离开学校前请务必联网同步，看到“已同步”再离开。`,
  );
}

// --- service worker, storage, replay triggers -------------------------------------------

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let controller = navigator.serviceWorker.controller;
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then((registration) => {
      swRegistration = registration;
      if (online()) registration.update().catch(() => {});
    })
    .catch(() => {
      /* no offline shell this time; the app still works while online */
    });
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // A new worker took over (skipWaiting): data is in IndexedDB, only the code is newer.
    // The first worker claiming the page is not an update.
    const previous = controller;
    controller = navigator.serviceWorker.controller;
    if (previous) {
      banner("update", "督导随行已更新，刷新后使用新版本（已填写的内容不会丢失）。", "ok", [
        h("button", { class: "button", type: "button", onclick: () => location.reload() }, "刷新"),
      ]);
    }
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "dudao-replay") outbox.replay({ force: true });
  });
}

async function checkStorage() {
  if (!navigator.storage) return;
  try {
    let persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    // Ask once: browsers remember the answer, and asking again can nag.
    if (!persisted && navigator.storage.persist && !(await db.getMeta("persist_asked", false))) {
      await db.setMeta("persist_asked", true);
      persisted = await navigator.storage.persist();
    }
    await db.setMeta("persisted", persisted);
    let free = null;
    if (navigator.storage.estimate) {
      const estimate = await navigator.storage.estimate();
      if (typeof estimate.quota === "number") free = estimate.quota - (estimate.usage || 0);
    }
    storageInfo = { persisted, free };
    for (const el of root.querySelectorAll(".status-card .storage")) el.replaceWith(storageLine());
    const card = root.querySelector(".status-card");
    if (card && !card.querySelector(".storage")) card.append(storageLine());
  } catch {
    /* not important enough to stop the app */
  }
}

/** Replay soon: now if online, and via Background Sync where the browser has it. */
function kick() {
  if (swRegistration && swRegistration.sync) swRegistration.sync.register("dudao-outbox").catch(() => {});
  if (online()) outbox.replay();
}

// --- downloads ------------------------------------------------------------------------

function explain(outcome, what) {
  if (outcome.type === "auth") {
    signedOut();
    return;
  }
  if (outcome.type === "network") toast(`${what}失败：${online() ? "连接不上服务器" : "手机没有网络"}，请联网后重试。`);
  else toast(`${what}失败：${outcome.message}`);
}

async function mergeServerList(body) {
  await db.transaction([S.visits, S.schools], "readwrite", async (s) => {
    for (const v of body.visits) {
      const old = await db.req(s[S.visits].get(v.id));
      const localState = old && STATE_ORDER[old.local_state] > STATE_ORDER[v.state] ? old.local_state : v.state;
      await db.req(
        s[S.visits].put({
          ...(old || { downloaded: false, summary: v.summary || "" }),
          id: v.id,
          school: v.school,
          checklist_version: v.checklist_version,
          visit_type: v.visit_type,
          planned_on: v.planned_on,
          server_state: v.state,
          local_state: localState,
          submitted_at: (old && old.submitted_at) || v.submitted_at,
          started_at: (old && old.started_at) || v.started_at,
        }),
      );
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
  await db.transaction([S.schools, S.checklists], "readwrite", async (s) => {
    await db.req(s[S.checklists].put(bundle.checklist));
    const old = await db.req(s[S.schools].get(bundle.school.id));
    await db.req(
      s[S.schools].put({
        ...(old || {}),
        ...bundle.school,
        checklist_version: bundle.checklist.version,
        item_count: itemsOf(bundle.checklist).length,
        downloaded: true,
        downloaded_at: nowIso(),
      }),
    );
  });
}

async function downloadSchool(schoolId, quiet = false) {
  const outcome = await outbox.call("GET", `/api/v1/schools/${schoolId}/bundle?visit_type=routine`);
  if (outcome.type !== "ok") {
    if (!quiet) explain(outcome, "下载学校");
    return false;
  }
  await storeSchoolBundle(outcome.body);
  return true;
}

async function downloadVisit(visitId) {
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
    const localState = old && STATE_ORDER[old.local_state] > STATE_ORDER[v.state] ? old.local_state : v.state;
    await db.req(
      s[S.visits].put({
        summary: v.summary || "",
        ...(old || {}),
        id: v.id,
        school: v.school,
        checklist_version: v.checklist_version,
        visit_type: v.visit_type,
        planned_on: v.planned_on,
        server_state: v.state,
        local_state: localState,
        started_at: (old && old.started_at) || v.started_at,
        downloaded: true,
        downloaded_at: nowIso(),
      }),
    );
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

function headerBody(visit, state, extra = {}) {
  return {
    school_id: visit.school.id,
    checklist_version: visit.checklist_version,
    visit_type: visit.visit_type || "routine",
    state,
    started_at: visit.started_at || null,
    summary: visit.summary || "",
    device_id: deviceId,
    ...extra,
  };
}

async function startVisit(schoolId) {
  const school = await db.get(S.schools, schoolId);
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
  await outbox.saveVisitHeader(visit, headerBody(visit, "in_progress"));
  kick();
  location.hash = `#/visit/${visit.id}`;
}

// --- the visit list ----------------------------------------------------------------------

async function showList() {
  const token = ++renderToken;
  current = null;
  setChrome("离线督导", null);
  await drawList(token);
  if (online()) {
    const outcome = await outbox.call("GET", "/api/v1/visits");
    if (outcome.type === "ok") {
      clearBanner("auth");
      await mergeServerList(outcome.body);
      if (token === renderToken) await drawList(token);
    } else if (outcome.type === "auth") {
      signedOut();
    }
  }
}

function sortVisits(visits) {
  const open = visits.filter((v) => v.local_state !== "submitted");
  const done = visits.filter((v) => v.local_state === "submitted");
  open.sort((a, b) => (a.planned_on || "9999").localeCompare(b.planned_on || "9999"));
  done.sort((a, b) => (b.submitted_at || "").localeCompare(a.submitted_at || ""));
  return [...open, ...done.slice(0, 20)];
}

async function drawList(token) {
  const [visits, schools, summaries] = await Promise.all([db.all(S.visits), db.all(S.schools), outbox.summary()]);
  if (token !== renderToken) return;
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
    h("h2", {}, "督导任务"),
    visitList,
    h("h2", {}, "我负责的学校"),
    h("p", { class: "meta" }, "下载学校后，没有网络也能在该校开始一次新的督导。"),
    schoolList,
    h("p", { class: "meta" }, h("a", { href: "/" }, "返回网站首页")),
  );
  for (const el of root.querySelectorAll(".sync-line[data-visit-id]")) drawStatus(el, el.dataset.visitId, summaries);
  const pending = [...summaries.values()].reduce((n, s) => n + s.pending, 0);
  bar.replaceChildren(
    h(
      "button",
      { class: "button primary wide", type: "button", id: "sync-now", onclick: () => outbox.replay({ force: true }) },
      "立即同步",
      h("span", { class: "pending-count" }, pending ? `（${pending}）` : ""),
    ),
  );
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
              const ok = await downloadVisit(visit.id);
              if (ok) toast("已下载，没有网络也可以填写。", "ok");
              showList();
            },
          },
          "下载离线",
        ),
      ),
    );
    return card;
  }
  const action = visit.local_state === "submitted" ? "查看" : visit.local_state === "planned" ? "开始督导" : "继续填写";
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
        if (await downloadSchool(school.id)) toast("已下载学校，可离线新建督导。", "ok");
        showList();
      },
    },
    school.downloaded ? "更新" : "下载学校",
  );
  const actions = h("div", { class: "actions" });
  if (school.downloaded) {
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

// --- filling a visit -----------------------------------------------------------------------

async function loadVisit(visitId) {
  const visit = await db.get(S.visits, visitId);
  if (!visit) return null;
  const checklist = visit.downloaded ? await db.checklist(visit.checklist_version) : null;
  const [results, pics] = await Promise.all([db.resultsOf(visitId), db.photosOf(visitId)]);
  return {
    visit,
    checklist,
    results,
    photos: pics.filter((p) => !p.deleted),
    drafts: new Map(),
    timers: new Map(),
    saving: Promise.resolve(),
    readOnly: visit.local_state === "submitted",
  };
}

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

function revokeUrls() {
  while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
}

function counts(state) {
  const items = itemsOf(state.checklist);
  const answered = items.filter((i) => state.results.get(i.id) && state.results.get(i.id).value).length;
  const missingPhotos = items.filter((i) => i.photo_required && !state.photos.some((p) => p.item_id === i.id)).length;
  return { total: items.length, answered, missingPhotos };
}

async function showFill(visitId) {
  const token = ++renderToken;
  const state = await loadVisit(visitId);
  if (token !== renderToken) return;
  revokeUrls();
  if (!state) {
    current = null;
    setChrome("督导", "#/");
    root.replaceChildren(h("p", { class: "alert" }, "手机上没有这次督导。"));
    bar.replaceChildren();
    return;
  }
  setChrome(state.visit.school.name, "#/");
  if (!state.checklist) {
    current = null;
    notDownloaded(visitId);
    return;
  }
  current = { ...state, page: "fill" };
  const header = h(
    "section",
    { class: "card visit-header" },
    h(
      "div",
      { class: "visit-head" },
      h("strong", {}, VISIT_TYPES[state.visit.visit_type] || "督导"),
      h("span", { class: `badge visit-state state-${state.visit.local_state}` }, STATE_LABELS[state.visit.local_state]),
    ),
    state.readOnly ? h("p", { class: "alert ok readonly" }, "已提交，手机上不能再修改。") : null,
    h("div", { class: "sync-line", dataset: { visitId } }),
    h("p", { class: "meta last-contact" }, ""),
  );
  const sections = state.checklist.sections.map((section) =>
    h(
      "section",
      { class: "section", dataset: { sectionId: section.id } },
      h("h2", {}, section.title, " ", h("span", { class: "count" }, "")),
      section.items.map((item) => itemCard(item)),
    ),
  );
  const general = h(
    "section",
    { class: "section" },
    h("h2", {}, "其他照片"),
    h(
      "article",
      { class: "item", dataset: { itemId: "" } },
      h("p", { class: "meta" }, "不属于某一检查项的现场照片。"),
      photoList(""),
      state.readOnly ? null : photoButtons(""),
    ),
  );
  root.replaceChildren(header, ...sections, general);
  drawContact();
  drawStatus(header.querySelector(".sync-line"), visitId);
  updateProgress();
  bar.replaceChildren(
    h("span", { class: "progress", id: "progress" }, ""),
    state.readOnly
      ? h("a", { class: "button", href: "#/" }, "返回列表")
      : h("a", { class: "button primary", href: `#/visit/${visitId}/submit`, id: "to-submit" }, "提交…"),
  );
  updateProgress();
  if (online()) outbox.refreshReceipt(visitId).then(refreshSoon);
}

function itemCard(item) {
  const state = current;
  const check = item.check;
  const result = state.results.get(item.id);
  const value = result ? result.value : null;
  const standard = standardText(check);
  const card = h(
    "article",
    { class: "item", dataset: { itemId: item.id, type: check.type } },
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
    disabled: state.readOnly,
    oninput: (event) => {
      draft(item.id).observation = event.target.value;
      schedule(item.id);
    },
  });
  const obsWrap = h("div", { class: "obs-wrap", hidden: !observation }, obsBox);
  const tools = h("div", { class: "tools" });
  if (!state.readOnly) tools.append(photoButtons(item.id));
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

function draft(itemId) {
  const state = current;
  if (!state.drafts.has(itemId)) {
    const result = state.results.get(itemId);
    state.drafts.set(itemId, {
      value: result ? result.value : null,
      observation: result ? result.observation || "" : "",
    });
  }
  return state.drafts.get(itemId);
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
          disabled: current.readOnly,
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
      disabled: current.readOnly,
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
    disabled: current.readOnly,
    oninput: (event) => {
      const raw = event.target.value.trim();
      const error = byItem(".field-error", item.id);
      if (raw === "") {
        draft(item.id).value = null;
        error.hidden = true;
      } else {
        const number = Number(raw);
        const problem = event.target.validity.badInput ? "请输入数字。" : numberProblem(check, number);
        error.hidden = !problem;
        error.textContent = problem || "";
        if (problem) return; // never store (or send) what the server would refuse
        draft(item.id).value = { number };
      }
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
        disabled: current.readOnly,
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

function drawItemState(item) {
  const state = current;
  if (!state) return;
  const card = root.querySelector(`[data-item-id="${CSS.escape(item.id)}"]`);
  if (!card) return;
  const d = state.drafts.get(item.id);
  const value = d ? d.value : state.results.get(item.id) ? state.results.get(item.id).value : null;
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
  needs.hidden = !(item.photo_required && !state.photos.some((p) => p.item_id === item.id));
}

/** Save an item after `delay` ms of quiet (typing), or at once with 0. */
function schedule(itemId, delay = config.saveDelayMs) {
  const state = current;
  clearTimeout(state.timers.get(itemId));
  if (delay === 0) {
    state.timers.delete(itemId);
    persist(state, itemId);
    return;
  }
  state.timers.set(
    itemId,
    setTimeout(() => {
      state.timers.delete(itemId);
      persist(state, itemId);
    }, delay),
  );
}

/** Save now whatever is still waiting for its debounce (leaving the page, hiding the app). */
function flushAll() {
  const state = current;
  if (!state) return Promise.resolve();
  for (const [itemId, timer] of state.timers) {
    clearTimeout(timer);
    persist(state, itemId);
  }
  state.timers.clear();
  return state.saving;
}

function persist(state, itemId) {
  // One save at a time per visit, in the order made: the outbox keeps that order.
  state.saving = state.saving
    .then(async () => {
      const d = state.drafts.get(itemId);
      if (!d) return;
      await ensureStarted(state);
      const record = await outbox.recordResult({
        visit_id: state.visit.id,
        item_id: itemId,
        value: d.value,
        observation: d.observation,
        device_id: deviceId,
      });
      state.results.set(itemId, record);
      if (current === state || (current && current.visit.id === state.visit.id)) updateProgress();
      kick();
    })
    .catch((error) => toast(`保存失败：${error && error.message ? error.message : error}`));
  return state.saving;
}

/** The first change to a planned visit starts it: its header goes first in the outbox. */
async function ensureStarted(state) {
  if (state.visit.local_state !== "planned") return;
  const visit = { ...state.visit, local_state: "in_progress", started_at: state.visit.started_at || nowIso() };
  state.visit = visit;
  await outbox.saveVisitHeader(visit, headerBody(visit, "in_progress"));
  const badge = root.querySelector(".visit-header .visit-state");
  if (badge) {
    badge.textContent = STATE_LABELS.in_progress;
    badge.className = "badge visit-state state-in_progress";
  }
}

function updateProgress() {
  const state = current;
  if (!state || !state.checklist) return;
  const c = counts(state);
  const text = `已答 ${c.answered} / 共 ${c.total}，缺照片 ${c.missingPhotos}`;
  const el = document.getElementById("progress");
  if (el) el.textContent = text;
  for (const section of root.querySelectorAll("section[data-section-id]")) {
    const items = state.checklist.sections.find((s) => s.id === section.dataset.sectionId).items;
    const done = items.filter((i) => state.results.get(i.id) && state.results.get(i.id).value).length;
    section.querySelector(".count").textContent = `${done}/${items.length}`;
  }
}

// --- photos on the fill page ------------------------------------------------------------

function photoButtons(itemId) {
  const onchange = async (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    await addFiles(itemId, files);
  };
  const name = itemId ? "" : "（其他）";
  return h(
    "span",
    { class: "photo-buttons" },
    h(
      "label",
      { class: "button photo-take" },
      "拍照",
      h("input", {
        type: "file",
        accept: "image/*",
        capture: "environment",
        class: "visually-hidden take",
        "aria-label": `拍照${name}`,
        onchange,
      }),
    ),
    h(
      "label",
      { class: "button photo-pick" },
      "相册",
      h("input", {
        type: "file",
        accept: "image/*",
        multiple: true,
        class: "visually-hidden pick",
        "aria-label": `从相册选择${name}`,
        onchange,
      }),
    ),
  );
}

function photoList(itemId) {
  const list = h("ul", { class: "photos plain", dataset: { photosFor: itemId } });
  queueMicrotask(() => drawPhotos(itemId));
  return list;
}

async function drawPhotos(itemId) {
  const state = current;
  if (!state) return;
  const entries = await outbox.entries(state.visit.id);
  if (current !== state) return;
  const card = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
  const list = card && card.querySelector(".photos");
  if (!list) return;
  const pending = new Map(entries.filter((e) => e.kind === "photo").map((e) => [e.id, e]));
  const mine = state.photos.filter((p) => (p.item_id || "") === itemId);
  const keep = new Set(mine.map((p) => p.id));
  for (const row of list.querySelectorAll("li.photo")) if (!keep.has(row.dataset.photoId)) row.remove();
  // Update rows in place: replacing them would drop a caption being typed.
  for (const photo of mine) {
    const row = list.querySelector(`li.photo[data-photo-id="${CSS.escape(photo.id)}"]`);
    if (!row) {
      list.insertBefore(photoRow(photo, pending.get(photo.id)), list.querySelector("li.busy"));
      continue;
    }
    const [text, kind] = photoStatus(photo, pending.get(photo.id));
    const status = row.querySelector(".photo-status");
    if (!(kind === "warn" && status.classList.contains("busy"))) {
      status.textContent = text;
      status.className = `photo-status ${kind}`;
    }
    if (photo.uploaded) row.querySelector(".caption").disabled = true;
  }
}

function photoStatus(photo, entry) {
  if (photo.uploaded) return ["已上传", "ok"];
  if (entry && entry.status === "failed") return [`失败：${entry.error ? entry.error.message : ""}`, "bad"];
  if (entry && entry.last_error) return [`等待重试：${entry.last_error}`, "warn"];
  return ["待上传", "warn"];
}

function photoRow(photo, entry) {
  const state = current;
  let thumb;
  if (photo.blob) {
    const url = URL.createObjectURL(photo.blob);
    objectUrls.push(url);
    thumb = h("img", { class: "thumb", src: url, alt: photo.caption || "现场照片" });
  } else {
    thumb = h("span", { class: "thumb placeholder" }, "已在服务器");
  }
  const [text, kind] = photoStatus(photo, entry);
  const caption = h("input", {
    class: "caption",
    type: "text",
    maxlength: "200",
    placeholder: "照片说明",
    "aria-label": "照片说明",
    value: photo.caption || "",
    disabled: photo.uploaded || state.readOnly,
    oninput: (event) => captionChanged(photo, event.target.value),
    onblur: (event) => releasePhoto(photo, event.target),
  });
  return h(
    "li",
    { class: "photo", dataset: { photoId: photo.id } },
    thumb,
    h(
      "div",
      { class: "photo-meta" },
      caption,
      h("span", { class: `photo-status ${kind}` }, text),
      state.readOnly
        ? null
        : h("button", { class: "button small delete-photo", type: "button", onclick: () => deletePhoto(photo) }, "删除"),
    ),
  );
}

const captionTimers = new Map();

function captionChanged(photo, caption) {
  clearTimeout(captionTimers.get(photo.id));
  captionTimers.set(
    photo.id,
    setTimeout(async () => {
      captionTimers.delete(photo.id);
      // Typing keeps the upload waiting a little, so the caption goes with it.
      const updated = await outbox.updatePhoto(photo.id, { caption, hold_until: Date.now() + config.photoHoldMs });
      if (updated) photo.caption = caption;
      setTimeout(kick, config.photoHoldMs + 100);
    }, config.saveDelayMs),
  );
}

/** Leaving the caption field: save it now and let the photo go. */
async function releasePhoto(photo, input) {
  const changes = { hold_until: 0 };
  if (captionTimers.has(photo.id)) {
    clearTimeout(captionTimers.get(photo.id));
    captionTimers.delete(photo.id);
    changes.caption = input.value;
  }
  const updated = await outbox.updatePhoto(photo.id, changes);
  if (updated) photo.caption = updated.caption;
  kick();
}

async function addFiles(itemId, files) {
  const state = current;
  if (!state || state.readOnly || !files.length) return;
  const list = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"] .photos`);
  const busy = h("li", { class: "meta busy" }, "正在处理照片…");
  list.append(busy);
  for (const file of files) {
    try {
      const prepared = await photos.preparePhoto(file);
      if (state.photos.some((p) => p.sha256 === prepared.sha256)) {
        toast("这张照片已经添加过了。", "warn");
        continue;
      }
      await ensureStarted(state);
      const position = photos.recentPosition();
      const record = await outbox.addPhoto({
        id: db.uuid(),
        visit_id: state.visit.id,
        item_id: itemId || null,
        caption: "",
        device_id: deviceId,
        hold_until: Date.now() + config.photoHoldMs,
        ...prepared,
        ...(position
          ? { latitude: position.latitude, longitude: position.longitude, accuracy_m: position.accuracy_m }
          : {}),
      });
      state.photos.push(record);
      if (!position) {
        // Never wait for GPS: the photo is saved now; a position found in time goes with the upload.
        photos.currentPosition().then((found) => {
          if (found) {
            outbox.updatePhoto(record.id, {
              latitude: found.latitude,
              longitude: found.longitude,
              accuracy_m: found.accuracy_m,
            });
          }
        });
      }
    } catch (error) {
      toast(`照片没有保存：${error && error.message ? error.message : error}`);
    }
  }
  busy.remove();
  if (current !== state) return;
  await drawPhotos(itemId);
  const item = itemId && itemsOf(state.checklist).find((i) => i.id === itemId);
  if (item) drawItemState(item);
  updateProgress();
  setTimeout(kick, config.photoHoldMs + 100);
  kick();
}

async function deletePhoto(photo) {
  const state = current;
  if (!state || state.readOnly) return;
  await outbox.removePhoto(photo.id);
  state.photos = state.photos.filter((p) => p.id !== photo.id);
  await drawPhotos(photo.item_id || "");
  const item = photo.item_id && itemsOf(state.checklist).find((i) => i.id === photo.item_id);
  if (item) drawItemState(item);
  updateProgress();
  kick();
}

// --- submitting ------------------------------------------------------------------------------

async function showSubmit(visitId) {
  const token = ++renderToken;
  const state = await loadVisit(visitId);
  if (token !== renderToken) return;
  revokeUrls();
  if (!state || !state.checklist) return showFill(visitId);
  current = { ...state, page: "submit" };
  setChrome("提交督导", `#/visit/${visitId}`);
  const items = itemsOf(state.checklist);
  const c = counts(state);
  const failed = items.filter((i) => {
    const r = state.results.get(i.id);
    return r && evaluate(i.check, r.value) === "fail";
  });
  const unanswered = items.filter((i) => !(state.results.get(i.id) && state.results.get(i.id).value));
  const noPhoto = items.filter((i) => i.photo_required && !state.photos.some((p) => p.item_id === i.id));
  const summary = h("textarea", {
    id: "summary",
    rows: "5",
    maxlength: "4000",
    placeholder: "总体情况、主要问题、整改建议",
    value: state.visit.summary || "",
    disabled: state.readOnly,
    oninput: (event) => {
      clearTimeout(state.summaryTimer);
      state.summaryTimer = setTimeout(() => saveSummary(state, event.target.value), config.saveDelayMs);
    },
  });
  root.replaceChildren(
    h(
      "section",
      { class: "card" },
      h("h1", {}, state.visit.school.name),
      h("p", {}, `已答 ${c.answered} / 共 ${c.total} 项，照片 ${state.photos.length} 张。`),
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
              const r = state.results.get(i.id);
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
    unanswered.length
      ? h("p", { class: "alert warn", id: "unanswered" }, `还有 ${unanswered.length} 项没有填写，可以返回继续填写。`)
      : null,
    h("section", { class: "card stack" }, h("label", { for: "summary" }, "督导小结"), summary),
  );
  drawStatus(root.querySelector(".sync-line"), visitId);
  if (state.readOnly) {
    bar.replaceChildren(h("span", { class: "progress" }, "已提交"), h("a", { class: "button", href: "#/" }, "返回列表"));
    return;
  }
  const confirmBox = h(
    "div",
    { class: "confirm", hidden: true },
    h("span", {}, "提交后手机上不能再修改。"),
    h(
      "button",
      { class: "button primary", type: "button", id: "confirm-submit", onclick: () => submit(state) },
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

async function saveSummary(state, text) {
  const visit = await db.update(S.visits, state.visit.id, (old) => (old ? { ...old, summary: text } : undefined));
  if (visit) state.visit = { ...state.visit, summary: text };
}

async function submit(state) {
  clearTimeout(state.summaryTimer);
  const summaryEl = document.getElementById("summary");
  const summary = summaryEl ? summaryEl.value : state.visit.summary || "";
  // Release held photos: they go now, and the declaration below names them.
  const pics = (await db.photosOf(state.visit.id)).filter((p) => !p.deleted);
  for (const photo of pics) if (!photo.uploaded) await outbox.updatePhoto(photo.id, { hold_until: 0 });
  const results = await db.resultsOf(state.visit.id);
  const answered = [...results.values()].filter((r) => r.value).length;
  const visit = { ...state.visit, summary, local_state: "submitted", submitted_at: nowIso() };
  visit.started_at = visit.started_at || visit.submitted_at;
  await outbox.saveVisitHeader(
    visit,
    headerBody(visit, "submitted", {
      submitted_at: visit.submitted_at,
      declared: { result_count: answered, photo_hashes: [...new Set(pics.map((p) => p.sha256))] },
    }),
  );
  kick();
  location.hash = `#/visit/${visit.id}`;
}

// --- start ---------------------------------------------------------------------------------

function route() {
  flushAll();
  for (const el of bannerBox.querySelectorAll('[data-banner^="toast-"]')) el.remove();
  const hash = location.hash || "#/";
  let match = /^#\/visit\/([^/]+)\/submit$/.exec(hash);
  if (match) return showSubmit(decodeURIComponent(match[1]));
  match = /^#\/visit\/([^/]+)$/.exec(hash);
  if (match) return showFill(decodeURIComponent(match[1]));
  return showList();
}

function listen() {
  outbox.events.addEventListener("progress", refreshSoon);
  outbox.events.addEventListener("receipt", refreshSoon);
  outbox.events.addEventListener("idle", async () => {
    refreshSoon();
    if (current) {
      const fresh = (await db.photosOf(current.visit.id)).filter((p) => !p.deleted);
      current.photos = fresh;
      const items = new Set(fresh.map((p) => p.item_id || ""));
      for (const el of root.querySelectorAll("[data-photos-for]")) items.add(el.dataset.photosFor);
      for (const itemId of items) drawPhotos(itemId);
    }
  });
  outbox.events.addEventListener("photo", (event) => {
    const { photo_id: photoId, state, message } = event.detail;
    const el = root.querySelector(`[data-photo-id="${CSS.escape(photoId)}"] .photo-status`);
    if (!el) return;
    const labels = {
      uploading: ["上传中…", "busy"],
      done: ["已上传", "ok"],
      failed: [`失败：${message}`, "bad"],
      waiting: [`等待重试：${message}`, "warn"],
    };
    const [text, kind] = labels[state] || ["", ""];
    el.textContent = text;
    el.className = `photo-status ${kind}`;
    if (state === "done") {
      const caption = el.parentElement.querySelector(".caption");
      if (caption) caption.disabled = true;
    }
  });
  outbox.events.addEventListener("contact", () => drawContact());
  outbox.events.addEventListener("auth", (event) => {
    if (event.detail.signed_in) clearBanner("auth");
    else signedOut();
  });
  db.events.addEventListener("versionchange", () => {
    banner("dbversion", "督导随行已在另一个页面更新，请刷新本页（记录不会丢失）。", "warn", [
      h("button", { class: "button", type: "button", onclick: () => location.reload() }, "刷新"),
    ]);
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("online", () => {
    updateNet();
    outbox.replay({ force: true });
  });
  window.addEventListener("offline", updateNet);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flushAll();
    else if (online()) outbox.replay();
  });
  window.addEventListener("pagehide", () => flushAll());
  setInterval(() => {
    if (online()) outbox.replay();
  }, config.intervalMs);
}

async function start() {
  updateNet();
  deviceId = await db.deviceId();
  listen();
  registerServiceWorker();
  await route();
  checkStorage();
  if (online()) {
    await outbox.checkSession();
    outbox.replay({ force: true });
  }
}

const ready = start().catch((error) => {
  root.replaceChildren(h("p", { class: "alert" }, `离线督导无法启动：${error && error.message ? error.message : error}`));
  throw error;
});

// A handle for tests and support staff (no secrets here: the same data is in IndexedDB).
window.dudao = {
  ready,
  replayNow: () => outbox.replay({ force: true }),
  flush: () => flushAll(),
  outbox,
  db,
  config,
};
