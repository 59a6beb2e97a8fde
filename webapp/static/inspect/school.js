// The 学校 account in the offline app: its task page and the outbox sender of its
// progress entries (loaded at start, so entries saved offline replay before a task is opened).
// Its home (#/) is chosen by role in lessons.js.

import "./school-sync.js";
import { lazy, registerView } from "./router.js";

registerView(/^#\/task\/(\d+)$/, lazy(() => import("./school-home.js"), "showTask"));
