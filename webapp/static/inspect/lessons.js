// 教研员 lesson log in the offline app: the routes, and the outbox senders (loaded at
// start, so records queued offline replay even before a lesson page is opened).
//
//   #/                      a 教研员's home: progress and records (lessons-home.js); a 学校's
//                           tasks (school-home.js, routes in school.js); inspectors: the visit list
//   #/lessons/new/<kind>    start a record of that kind (听评课, 教研指导 …)
//   #/lessons/<id>          a record (lessons-form.js)

import "./lessons-sync.js";
import { role } from "./lessons-sync.js";
import { showList } from "./list.js";
import { lazy, registerView } from "./router.js";

const home = lazy(() => import("./lessons-home.js"), "showLessonsHome");
const schoolHome = lazy(() => import("./school-home.js"), "showSchoolHome");
const homes = { researcher: home, school: schoolHome };

registerView(/^#\/?$/, async () => (homes[await role()] || showList)());
registerView(/^#\/lessons\/new\/([a-z_]+)$/, lazy(() => import("./lessons-home.js"), "startRecord"));
registerView(/^#\/lessons\/([0-9a-f-]{36})$/, lazy(() => import("./lessons-form.js"), "showRecord"));
