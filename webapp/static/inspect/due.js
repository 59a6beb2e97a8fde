// Time rules on the phone: an item's resolved due date as 应于2026年12月5日前 or
// 已逾期 12 天, mirroring checklists' due_state (the server's words for the same).

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days since 1970 of an ISO date ("2026-12-05"), or of a Date's local calendar day. */
function dayNumber(value) {
  if (value instanceof Date) return Math.floor(Date.UTC(value.getFullYear(), value.getMonth(), value.getDate()) / DAY_MS);
  const [y, m, d] = String(value).split("-").map(Number);
  return Math.floor(Date.UTC(y, m - 1, d) / DAY_MS);
}

/** 2026-12-05 → 2026年12月5日. */
export function chineseDate(iso) {
  const [y, m, d] = String(iso).split("-").map(Number);
  return `${y}年${m}月${d}日`;
}

/**
 * ["due", days left] up to and on the due day, ["overdue", days late] after it
 * (checklists.due_state(due_on, today)).
 */
export function dueState(dueOn, today = new Date()) {
  const late = dayNumber(today) - dayNumber(dueOn);
  return late > 0 ? ["overdue", late] : ["due", -late];
}

/** The words shown on an item: 应于2026年12月5日前 / 已逾期 12 天; null without a resolved date. */
export function dueText(due, today = new Date()) {
  if (!due || !due.on) return null;
  const [state, days] = dueState(due.on, today);
  return state === "overdue" ? `已逾期 ${days} 天` : `应于${chineseDate(due.on)}前`;
}
