// The hash router and the places other features plug into.
//
// A feature module registers its views and home-screen sections when it is
// imported (app.js imports the features), e.g. for a lesson log:
//
//   import { registerView, registerHomeSection } from "./router.js";
//   registerView(/^#\/lessons$/, showLessons);
//   registerView(/^#\/lessons\/([^/]+)$/, (id) => showLesson(id));   // groups arrive decoded
//   registerView(/^#\/lessons\/new$/, lazy(() => import("./lesson-form.js"), "showForm"));
//   registerHomeSection(async () => h("section", {class: "card"}, …), { order: 20 });
//
// A view draws into ui.root and ui.bar, sets the top bar with ui.setChrome,
// and guards its async draws with state.beginRender(). Before a view is shown
// the leave hooks run (unsaved typing is saved) and toasts are cleared.

import { state } from "./state.js";
import { clearToasts } from "./ui.js";

const views = [];
const homeSections = [];
const leaveHooks = [];
const homes = new Map();
let fallback = null;

/**
 * Show `handler(...groups)` for hashes matching `pattern` (a RegExp on location.hash).
 * `visitPage: true` keeps state.current (the visit on screen) for the handler to replace;
 * for other views it is cleared, so visit-page events leave them alone.
 */
export function registerView(pattern, handler, { visitPage = false } = {}) {
  views.push({ pattern, handler, visitPage });
}

/**
 * A handler that loads its module first: `lazy(() => import("./fill.js"), "showFill")`.
 * The home screen then does not wait for code it does not use (the service worker
 * precaches every module, so this works offline too). If the page changed while the
 * module loaded, the handler does nothing.
 */
export function lazy(load, name) {
  return async (...args) => {
    const hash = location.hash;
    const module = await load();
    if (location.hash !== hash) return undefined;
    return module[name](...args);
  };
}

/** The home page ("#/") of a role whose own module is loaded (教研员, 学校); others see the visit list. */
export function registerHome(role, handler) {
  homes.set(role, handler);
}

/** The home page registered for `role`, or null. */
export function homeOf(role) {
  return homes.get(role) || null;
}

/** The view for "#/" and any hash no view matches. */
export function setDefaultView(handler) {
  fallback = handler;
}

/**
 * Add a section to the home screen (the visit list). `render()` returns an element
 * (or a promise of one, or null for nothing); sections are drawn by `order`, low first,
 * below the status card and before the visit list when order < 0, after the school list otherwise.
 * The home screen waits for every section: render from IndexedDB, never wait on the network
 * (fetch in the background and redraw with route() when something new arrives).
 */
export function registerHomeSection(render, { order = 0 } = {}) {
  homeSections.push({ render, order });
  homeSections.sort((a, b) => a.order - b.order);
}

/** The home sections to draw before (`order < 0`) or after the built-in lists, rendered; failures are skipped. */
export async function renderHomeSections(before) {
  const chosen = homeSections.filter((section) => (section.order < 0) === before);
  const rendered = await Promise.all(chosen.map((section) => Promise.resolve().then(section.render).catch(() => null)));
  return rendered.filter(Boolean);
}

/** Run `hook()` whenever the page changes, before the next view (save what is typed). */
export function onLeave(hook) {
  leaveHooks.push(hook);
}

/** Show the view for the current hash. */
export function route() {
  for (const hook of leaveHooks) hook();
  clearToasts();
  const hash = location.hash || "#/";
  for (const view of views) {
    const match = view.pattern.exec(hash);
    if (!match) continue;
    if (!view.visitPage) state.current = null;
    return view.handler(...match.slice(1).map((group) => (group === undefined ? group : decodeURIComponent(group))));
  }
  return fallback ? fallback() : undefined;
}

/** Go to `hash` (the router draws it on hashchange). */
export function navigate(hash) {
  location.hash = hash;
}
