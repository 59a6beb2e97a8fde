// Sync status on screen (per visit: 待同步 / 同步中 / 已同步 / 失败, receipt),
// the status card (last contact, durable storage), the service worker, and the
// triggers that replay the outbox.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as visitsSync from "./visits-sync.js";
import { config, state } from "./state.js";
import { bar, h, online, reloadBanner, root, toast, when } from "./ui.js";

async function localCounts(visitId) {
  const [results, pics] = await Promise.all([db.resultsOf(visitId), db.photosOf(visitId)]);
  const answered = [...results.values()].filter((r) => r.value).length;
  const hashes = pics.filter((p) => !p.deleted).map((p) => p.sha256);
  return { answered, hashes };
}

/** Fill a `.sync-line` element for a visit: 待同步 / 同步中 / 已同步 / 失败, reasons, receipt. */
export async function drawStatus(el, visitId, summaries) {
  const all = summaries || (await outbox.summary());
  const s = all.get(visitId) || { pending: 0, failed: 0, syncing: false, errors: [], waiting: null };
  const receipt = await visitsSync.receiptOf(visitId);
  let label = "已同步";
  let kind = "ok";
  if (s.failed) [label, kind] = ["失败", "bad"];
  else if (s.syncing) [label, kind] = ["同步中", "busy"];
  else if (s.pending) [label, kind] = ["待同步", "warn"];
  const parts = [h("span", { class: `badge sync-status ${kind}`, dataset: { status: kind } }, label)];
  if (s.pending && !s.failed) parts.push(h("span", { class: "meta" }, ` ${s.pending} 条待上传`));
  if (s.waiting && !s.syncing) parts.push(h("p", { class: "meta waiting" }, `等待重试：${s.waiting}`));
  if (s.failed) {
    const reasons = new Map(); // one line per message, with where to change it
    for (const e of s.errors) if (!reasons.has(e.message) || (e.edit && !reasons.get(e.message))) reasons.set(e.message, e.edit);
    parts.push(
      h(
        "ul",
        { class: "failures" },
        [...reasons].map(([message, edit]) =>
          h("li", { class: "failure" }, message, edit ? h("button", editProps(edit), "修改") : null),
        ),
      ),
      h("p", { class: "meta" }, "暂停发送的记录仍保存在手机上：改正后会重新提交，也可以点“重试”；同一记录中不受影响的内容照常上传。"),
      h("button", { class: "button small retry", type: "button", onclick: () => outbox.retry(visitId) }, "重试"),
    );
  }
  if (receipt) {
    const [local, visit] = await Promise.all([localCounts(visitId), db.get(db.S.visits, visitId)]);
    const complete =
      receipt.result_count >= local.answered && local.hashes.every((hash) => receipt.photo_hashes.includes(hash));
    const started = receipt.result_count || receipt.photo_count || local.answered || local.hashes.length;
    // 完整/不完整 is a verdict on a sent visit; before 提交 the count alone says how far the upload is.
    const sent = visit && ["submitted", "accepted"].includes(visit.local_state);
    if (started) {
      parts.push(
        h(
          "p",
          { class: "receipt meta" },
          `服务器已收到 ${receipt.result_count} 项结果、${receipt.photo_count} 张照片`,
          sent ? " · " : null,
          sent ? h("strong", { class: complete ? "ok-text" : "bad-text" }, complete ? "完整" : "不完整") : null,
        ),
      );
    }
  }
  el.replaceChildren(...parts);
}

function editProps(edit) {
  return { class: "button small edit-failed", type: "button", onclick: () => showItem(edit.href, edit.item_id) };
}

/** Open the page `href` (where a parked entry can be changed, say) and bring the item `itemId` into view. */
export function showItem(href, itemId) {
  if (location.hash !== href) location.hash = href;
  if (!itemId) return;
  const started = Date.now();
  const look = () => {
    const card = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
    if (card) {
      card.scrollIntoView({ block: "center" });
      const control = card.querySelector("button, input, textarea");
      if (control) control.focus({ preventScroll: true });
    } else if (Date.now() - started < 3000) {
      setTimeout(look, 100);
    }
  };
  look();
}

/** Draw every `.sync-line[data-visit-id]` on the page. */
export function drawStatuses(summaries) {
  for (const el of root.querySelectorAll(".sync-line[data-visit-id]")) drawStatus(el, el.dataset.visitId, summaries);
}

/** The bottom bar's 立即同步 button, with the number of entries waiting (kept current by refreshSoon). */
export function syncNowButton(summaries) {
  const pending = pendingTotal(summaries);
  return h(
    "button",
    { class: "button primary wide", type: "button", id: "sync-now", onclick: () => outbox.replay({ force: true }) },
    "立即同步",
    h("span", { class: "pending-count" }, pending ? `（${pending}）` : ""),
  );
}

/** How many outbox entries wait, over all visits. */
export function pendingTotal(summaries) {
  return [...summaries.values()].reduce((n, s) => n + s.pending, 0);
}

let statusTimer = null;
let statusChain = Promise.resolve();

/** Redraw status lines soon: events come in bursts, and draws must not overtake each other. */
export function refreshSoon() {
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
  const pending = pendingTotal(summaries);
  const badge = bar.querySelector(".pending-count");
  if (badge) badge.textContent = pending ? `（${pending}）` : "";
}

/** Fill every `.last-contact` line: when the phone last reached the server. */
export async function drawContact() {
  const at = await db.getMeta("last_contact_at");
  for (const el of document.querySelectorAll(".last-contact")) el.textContent = `上次连接服务器：${when(at)}`;
}

/** The card at the top of the home screen: last contact and durable storage. */
export function statusCard() {
  const card = h("section", { class: "card status-card" }, h("p", { class: "meta last-contact" }, "上次连接服务器：…"));
  if (state.storageInfo) card.append(storageLine());
  drawContact();
  drawOthers(card);
  return card;
}

/** A shared phone: say that other accounts' records wait here (never what they are). */
async function drawOthers(card) {
  const waiting = await db.othersWaiting().catch(() => 0);
  if (!waiting) return;
  card.append(
    h("p", { class: "meta others-waiting" }, `本机还保存着其他账号的 ${waiting} 条待同步记录：该账号重新登录后会自动上传，请勿清除浏览器数据。`),
  );
}

function storageLine() {
  const { persisted, free } = state.storageInfo;
  const low = typeof free === "number" && free < config.lowStorageBytes;
  if (persisted && !low) return h("p", { class: "meta storage ok-text" }, "离线数据已设为持久保存。");
  if (low) {
    const mb = Math.max(0, Math.round(free / 1048576));
    return h(
      "p",
      { class: "alert warn storage" },
      `手机剩余空间不足（约 ${mb} MB），系统清理空间时可能删除未同步的记录。请清理手机空间，离开学校前务必联网同步，看到“已同步”再离开。`,
    );
  }
  // Not persistent: something can be done about it, so say what and offer it.
  return h(
    "div",
    { class: "alert warn storage" },
    h(
      "p",
      {},
      "浏览器尚未允许持久保存离线数据：手机空间紧张时，未同步的记录可能被系统清除。",
      standalone() ? "" : "把督导随行“添加到主屏幕”后，浏览器通常会允许。",
    ),
    h("button", { class: "button small persist", type: "button", onclick: askPersist }, "申请持久保存"),
  );
}

/** Whether the app runs installed (from the home screen), where browsers grant persistence readily. */
function standalone() {
  return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

async function askPersist() {
  const granted = navigator.storage && navigator.storage.persist ? await navigator.storage.persist() : false;
  await showStorage(granted);
  if (!granted) toast("浏览器这次没有允许。请把督导随行添加到主屏幕并常用；在此之前请及时联网同步。", "warn");
}

async function showStorage(persisted) {
  await db.setMeta("persisted", persisted);
  await readStorage();
  if (state.storageInfo) state.storageInfo.persisted = persisted; // the answer to persist() is what counts
  for (const el of root.querySelectorAll(".status-card .storage")) el.replaceWith(storageLine());
  const card = root.querySelector(".status-card");
  if (state.storageInfo && card && !card.querySelector(".storage")) card.append(storageLine());
}

// --- service worker, storage, replay triggers -------------------------------------------

/** Register /sw.js; say when a new version takes over; replay when the worker asks (Background Sync). */
export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  let controller = navigator.serviceWorker.controller;
  navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then((registration) => {
      state.swRegistration = registration;
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
    if (previous) reloadBanner("update", "督导随行已更新，刷新后使用新版本（已填写的内容不会丢失）。", "ok");
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "dudao-replay") outbox.replay({ force: true });
  });
}

const kept = new Set();

/**
 * Ask the service worker to keep a role's modules (`entry` and what it loads) for offline
 * use: they are not precached for everyone. Taken from the browser's HTTP cache when the
 * page has just loaded them; once per page, when a worker is active.
 * @param {string} entry  the feature module's URL
 */
export function keepOffline(entry) {
  if (!("serviceWorker" in navigator) || kept.has(entry)) return;
  kept.add(entry);
  navigator.serviceWorker.ready
    .then((registration) => registration.active && registration.active.postMessage({ type: "dudao-keep", entry }))
    .catch(() => {});
}

/**
 * Whether storage is persistent and how much is free, without asking the user anything
 * (quick: done before the first page is drawn, so the status card does not grow after).
 */
export async function readStorage() {
  if (!navigator.storage) return;
  try {
    const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    let free = null;
    if (navigator.storage.estimate) {
      const estimate = await navigator.storage.estimate();
      if (typeof estimate.quota === "number") free = estimate.quota - (estimate.usage || 0);
    }
    state.storageInfo = { persisted, free };
  } catch {
    /* not important enough to stop the app */
  }
}

/**
 * Ask for persistent storage when it can help (a browser may ask the user) and show the answer
 * on the status card: the first time, and again once the app runs installed (browsers grant
 * it to installed apps), which is also asked right after installing. Otherwise the card's
 * button asks, with the reason, when the person chooses to.
 */
export async function checkStorage() {
  if (!navigator.storage) return;
  try {
    let persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    const asked = await db.getMeta("persist_asked", null); // null, "browser" or "installed"
    const now = standalone() ? "installed" : "browser";
    if (!persisted && navigator.storage.persist && asked !== now && asked !== "installed") {
      await db.setMeta("persist_asked", now);
      persisted = await navigator.storage.persist();
    }
    await showStorage(persisted);
  } catch {
    /* not important enough to stop the app */
  }
}

// Just installed to the home screen: the moment a browser is most willing.
window.addEventListener("appinstalled", () => {
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().then(showStorage, () => {});
});

/** Replay soon: now if online, and via Background Sync where the browser has it. */
export function kick() {
  const registration = state.swRegistration;
  if (registration && registration.sync) registration.sync.register("dudao-outbox").catch(() => {});
  if (online()) outbox.replay();
}
