// 教研员 lesson log in the offline app: the routes, and the outbox senders. app.js loads it
// for a 教研员 only (before the first page, so records queued offline replay even before a
// lesson page is opened; the outbox also loads it when it meets a lesson entry).
//
//   #/                      a 教研员's home: progress and records (lessons-home.js)
//   #/lessons/new/<kind>    start a record of that kind (听评课, 教研指导 …)
//   #/lessons/<id>          a record (lessons-form.js)

import { recoverUnsaved } from "./lessons-sync.js";
import { lazy, registerHome, registerView } from "./router.js";

/** Settled once what a closed page left unsaved is saved (app.js waits for it before the first page). */
export const ready = recoverUnsaved().catch(() => 0);

registerHome("researcher", lazy(() => import("./lessons-home.js"), "showLessonsHome"));
registerView(/^#\/lessons\/new\/([a-z_]+)$/, lazy(() => import("./lessons-home.js"), "startRecord"));
registerView(/^#\/lessons\/([0-9a-f-]{36})$/, lazy(() => import("./lessons-form.js"), "showRecord"));
