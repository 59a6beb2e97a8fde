// The inspector's offline app: start-up, routes, and the events that keep the
// screen and the outbox moving.
//
// Everything shown comes from IndexedDB (db.js); the server is only asked to
// refresh lists and download bundles, and every change goes through the outbox
// (outbox.js). Routes: #/ (visits, list.js), #/visit/<id> (fill.js),
// #/visit/<id>/submit (submit.js). Other features register their own views and
// home sections through router.js; import them below, or, for a role's own pages
// (教研员, 学校), name them in FEATURES: those load for that role only.

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import { showList } from "./list.js";
import { homeOf, lazy, onLeave, registerView, route, setDefaultView } from "./router.js";
import { flushAll, recoverUnsaved } from "./saving.js";
import { config, role, state } from "./state.js";
import {
  checkStorage,
  drawContact,
  keepOffline,
  readStorage,
  refreshSoon,
  registerServiceWorker,
} from "./status.js";
import {
  banner,
  clearBanner,
  dropControlCharacters,
  errorText,
  h,
  online,
  reloadBanner,
  root,
  signedOut,
  updateNet,
  warnPasteTooLong,
} from "./ui.js";
import * as visitsSync from "./visits-sync.js"; // visit headers, results and photos: registers their outbox senders
import "./review.js"; // 督导室 review: returned visits on the home screen, comments and tasks on the fill page

/**
 * A role's own pages and outbox senders, by role: an inspector's phone neither downloads nor
 * precaches them. Once loaded, the service worker keeps the feature's modules for offline use
 * (keepOffline); `kinds` are its outbox entries, whose sender the outbox loads when it meets one.
 */
const FEATURES = {
  researcher: {
    load: () => import("./lessons.js"),
    entry: "./lessons.js",
    kinds: ["activity", "activity_photo", "activity_photo_delete"],
  },
  school: { load: () => import("./school.js"), entry: "./school.js", kinds: ["task_progress"] },
};
for (const feature of Object.values(FEATURES)) outbox.registerLoader(feature.kinds, feature.load);

/** Load the signed-in role's own modules (once), and have the service worker keep them. */
async function loadFeature() {
  const feature = FEATURES[await role()];
  if (!feature) return;
  await (await feature.load()).ready; // a feature may first save what a closed page left (lessons.js)
  keepOffline(new URL(feature.entry, import.meta.url).href);
}

/** "#/": the role's home (教研员: lesson log; 学校: tasks), else the visit list. */
async function showHome() {
  await loadFeature();
  const home = homeOf(await role());
  return (home || showList)();
}

// The visit pages load on first use: the home screen draws without their code.
registerView(/^#\/?$/, showHome);
registerView(/^#\/visit\/([^/]+)\/submit$/, lazy(() => import("./submit.js"), "showSubmit"), { visitPage: true });
registerView(/^#\/visit\/([^/]+)$/, lazy(() => import("./fill.js"), "showFill"), { visitPage: true });
setDefaultView(showList);
onLeave(flushAll);

function listen() {
  outbox.events.addEventListener("progress", refreshSoon);
  outbox.events.addEventListener("receipt", refreshSoon);
  outbox.events.addEventListener("idle", refreshSoon);
  outbox.events.addEventListener("contact", () => drawContact());
  outbox.events.addEventListener("owner", ownerChanged);
  outbox.events.addEventListener("auth", (event) => {
    if (event.detail.signed_in) clearBanner("auth");
    else signedOut(event.detail.reason);
  });
  db.events.addEventListener("versionchange", () => {
    reloadBanner("dbversion", "督导随行已在另一个页面更新，请刷新本页（记录不会丢失）。", "warn");
  });
  document.addEventListener("input", dropControlCharacters, true);
  document.addEventListener("paste", warnPasteTooLong, true);
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

/** Another person signed in on this phone (or old records were adopted): show their records only. */
function ownerChanged(event) {
  const { user, changed, adopted } = event.detail;
  if (adopted) banner("adopted", `本机原有的 ${adopted} 条记录已归入当前账号（${user.display_name}）。`, "ok", [], 15000);
  if (changed && starting === null) {
    state.current = null;
    location.hash = "#/";
    recoverUnsaved()
      .catch(() => 0)
      .then(loadFeature)
      .finally(route);
  }
}

/** Who is signed in, before the first draw (so nobody sees another person's records); offline, the last user. */
async function whoIsSignedIn(asked) {
  await db.restoreOwner();
  if (!asked) return;
  // A slow link must not keep the app closed: after a moment draw for the last user, switch if the answer differs.
  const late = new Promise((resolve) => setTimeout(resolve, config.sessionWaitMs || 2500));
  await Promise.race([outbox.checkSession(asked), late]);
}

let starting = true;

async function start() {
  // Asked before IndexedDB opens (the first draw waits for the answer), by the shell's boot script before the modules
  // arrived when it could; handled after the owner is read.
  const asked = online() ? outbox.call("GET", "/api/v1/me", { started: outbox.takeEarly("/api/v1/me") }) : null;
  updateNet();
  state.deviceId = await db.deviceId();
  listen();
  await Promise.all([readStorage(), whoIsSignedIn(asked)]);
  // What a page closed within a save's debounce left: saved before anything is drawn or sent.
  await recoverUnsaved().catch(() => 0);
  // Before the first page: a role's routes (#/lessons/…) must exist when the page opens on one.
  await loadFeature().catch(() => {}); // not loadable: the home page says so
  starting = null;
  try {
    await route();
  } finally {
    // After the first page is drawn: the worker's precache downloads must not delay it.
    registerServiceWorker();
  }
  checkStorage();
  if (online()) outbox.replay({ force: true });
  resumeIntake();
}

/** Photos a closed page (a killed browser, a flat battery) left unprepared: prepared again, in the background. */
async function resumeIntake() {
  try {
    // Its modules load only when there is something to prepare: not on every start's way.
    if ((await db.all(db.S.photoIntake)).length) await (await import("./photo-intake.js")).resume();
  } catch {
    /* tried again when the visit's page opens, and at the next start */
  }
}

const ready = start().catch((error) => {
  root.replaceChildren(h("p", { class: "alert" }, `离线督导无法启动：${errorText(error)}`));
  throw error;
});

// A handle for tests and support staff (no secrets here: the same data is in IndexedDB).
window.dudao = {
  ready,
  replayNow: () => outbox.replay({ force: true }),
  flush: () => flushAll(),
  outbox,
  visitsSync,
  db,
  config,
  state,
};
