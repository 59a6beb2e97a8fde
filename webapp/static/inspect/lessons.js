// 教研员 lesson log in the offline app: the routes, and the outbox senders (loaded at
// start, so records queued offline replay even before a lesson page is opened).
//
//   #/                      a 教研员's home: progress and records (lessons-home.js); inspectors: the visit list
//   #/lessons/new/<kind>    start a record of that kind (听评课, 教研指导 …)
//   #/lessons/<id>          a record (lessons-form.js)

import "./lessons-sync.js";
import { role } from "./lessons-sync.js";
import { showList } from "./list.js";
import { lazy, registerView } from "./router.js";

const home = lazy(() => import("./lessons-home.js"), "showLessonsHome");

registerView(/^#\/?$/, async () => ((await role()) === "researcher" ? home() : showList()));
registerView(/^#\/lessons\/new\/([a-z_]+)$/, lazy(() => import("./lessons-home.js"), "startRecord"));
registerView(/^#\/lessons\/([0-9a-f-]{36})$/, lazy(() => import("./lessons-form.js"), "showRecord"));
