// The 学校 account in the offline app: its home, its task page and the outbox sender of
// its progress entries. app.js loads it for a 学校 only (before the first page, so entries
// saved offline replay before a task is opened; the outbox also loads it when it meets one).

import "./school-sync.js";
import { lazy, registerHome, registerView } from "./router.js";

registerHome("school", lazy(() => import("./school-home.js"), "showSchoolHome"));
registerView(/^#\/task\/(\d+)$/, lazy(() => import("./school-home.js"), "showTask"));
