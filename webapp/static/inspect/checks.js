// Checklist items on the phone: judging a value (as sync/evaluate.py does),
// the server's rules for numbers, and the texts shown for standards and values.

const OPERATORS = { "<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=" };
const PERIODS = { term: "每学期", school_year: "每学年", year: "每年", three_years: "每三年" };
/** Outcome → [label, badge class]. */
export const OUTCOMES = { pass: ["达标", "ok"], fail: ["未达标", "bad"], na: ["不适用", "muted"] };
const COMPARE = {
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
  ">=": (a, b) => a >= b,
  ">": (a, b) => a > b,
  "==": (a, b) => a === b,
};

/** Every item of a checklist, section after section. */
export function itemsOf(checklist) {
  return checklist.sections.flatMap((section) => section.items);
}

function num(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
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

/** The requirement in words (标准：≥ 90%), or null for items without a threshold. */
export function standardText(check) {
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

/** The unit shown beside a number input. */
export function unitOf(check) {
  if (check.type === "percentage") return "%";
  if (check.type === "count_per_period") return check.unit || "次";
  return check.unit || "";
}

/** A recorded value in words (是 / 否 / 不适用 / 12 人 / the text). */
export function valueText(check, value) {
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
