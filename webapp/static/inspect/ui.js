// Page furniture shared by every view: the element helper, the shell's fixed
// elements, formatting, labels, banners and toasts. No data access here.

/** The shell's fixed elements (visits/shell.html). */
export const root = document.getElementById("app");
export const bar = document.getElementById("bar");
export const bannerBox = document.getElementById("banners");
const titleEl = document.getElementById("title");
const backEl = document.getElementById("back");
const netEl = document.getElementById("net");

export const STATE_ORDER = { planned: 0, in_progress: 1, submitted: 2, returned: 2, accepted: 3 };
export const STATE_LABELS = { planned: "计划中", in_progress: "进行中", submitted: "已提交", returned: "已退回", accepted: "已通过" };
export const VISIT_TYPES = {
  routine: "经常性督导",
  safety: "平安校园专项督导",
  conditions: "办学条件专项督导",
  teaching: "教学常规专项督导",
};

/**
 * Make an element: h("button", {class: "button", onclick}, "text", child…).
 * Strings become text nodes (never HTML), so server text cannot inject markup.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A short local date and time (月/日 时:分), or 从未 for none. */
export function when(iso) {
  if (!iso) return "从未";
  const date = new Date(iso);
  const options = { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false };
  return date.toLocaleString("zh-CN", options);
}

/** Now as an ISO timestamp (the phone's edit times). */
export function nowIso() {
  return new Date().toISOString();
}

/** Whether the browser believes it has a network (unknown counts as yes). */
export function online() {
  return navigator.onLine !== false;
}

/** The element matching `selector` inside the card of checklist item `itemId`. */
export function byItem(selector, itemId) {
  return root.querySelector(`[data-item-id="${CSS.escape(itemId)}"] ${selector}`);
}

/** Set the top bar: title, and a back link (or none). */
export function setChrome(title, back) {
  titleEl.textContent = title;
  backEl.hidden = !back;
  if (back) backEl.setAttribute("href", back);
  document.title = `${title} · 督导随行`;
}

/** The network indicator in the top bar. */
export function updateNet() {
  netEl.textContent = online() ? "在线" : "离线";
  netEl.className = `net ${online() ? "on" : "off"}`;
}

/** Resolves once the page has painted what was just drawn (at most ~100 ms: hidden tabs do not paint). */
export function afterPaint() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/** The message of an error (or the thing thrown itself); a full phone is said in Chinese, with what to do. */
export function errorText(error) {
  // IndexedDB refuses a write when the phone (or the browser's share of it) is full: the browser's own message
  // is English ("The quota has been exceeded.") and says nothing of what still holds.
  if (error && (error.name === "QuotaExceededError" || /quota/i.test(String(error.message || "")))) {
    return "手机存储空间不足。请删除手机上不需要的照片、视频或文件后再试（已保存的记录都还在）。";
  }
  return error && error.message ? error.message : error;
}

// --- banners ----------------------------------------------------------------------

/**
 * Show (or replace) a banner by key; `kind` is "", "warn" or "ok"; `actions` are elements.
 * A banner with `ttl` disappears by itself.
 */
export function banner(key, message, kind = "", actions = [], ttl = 0) {
  let el = bannerBox.querySelector(`[data-banner="${key}"]`);
  if (!el) {
    el = h("div", { class: "alert banner", dataset: { banner: key }, role: kind === "" ? "alert" : "status" });
    bannerBox.append(el);
  }
  el.className = `alert banner ${kind}`;
  el.replaceChildren(h("span", {}, message), ...actions);
  if (ttl) setTimeout(() => el.remove(), ttl);
}

/** Remove the banner `key`, if shown. */
export function clearBanner(key) {
  const el = bannerBox.querySelector(`[data-banner="${key}"]`);
  if (el) el.remove();
}

/** Remove every toast (a new page starts clean). */
export function clearToasts() {
  for (const el of bannerBox.querySelectorAll('[data-banner^="toast-"]')) el.remove();
}

// What the server refuses in any text field (webapp/guard.py FORBIDDEN): C0 controls but tab, LF and CR, DEL,
// C1 controls, lone surrogates.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_ALL = new RegExp(CONTROL.source, "g");

/**
 * An input listener (capturing, on the document): characters the server would refuse are taken out of a text
 * field as they are typed or pasted, before the field's own listeners save it, so no record waits on the phone
 * for an invisible character.
 */
export function dropControlCharacters(event) {
  if (takeOutControls(event.target)) toast("已去掉文字中不可见的控制字符（服务器不接受这类字符）。");
}

/**
 * Take out of a text field (textarea, text or search input) the characters the server refuses; whether any
 * were there. The web pages use it too (static/page.js): one rule for the phone and the forms.
 */
export function takeOutControls(field) {
  const text = field instanceof HTMLTextAreaElement || (field instanceof HTMLInputElement && ["text", "search"].includes(field.type));
  if (!text || !CONTROL.test(field.value)) return false;
  field.value = field.value.replace(CONTROL_ALL, "");
  return true;
}

/**
 * A paste listener (capturing, on the document): a field with a length limit takes only what fits, without a
 * word, so the person is told that the end of what they pasted (a long 现场记录 from a document) is not there.
 */
export function warnPasteTooLong(event) {
  const field = event.target;
  const text = field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement;
  if (!text || !(field.maxLength > 0) || !event.clipboardData) return;
  const pasted = event.clipboardData.getData("text").replace(/\r\n/g, "\n");
  const selected = (field.selectionEnd ?? 0) - (field.selectionStart ?? 0);
  const room = field.maxLength - (field.value.length - selected);
  if (pasted.length > room) toast(`此处最多 ${field.maxLength} 字，粘贴内容超出的部分没有粘贴进来。`, "warn");
}

/** A banner that goes away by itself after a few seconds. */
export function toast(message, kind = "") {
  banner(`toast-${Date.now()}`, message, kind, [], 6000);
}

/** A banner with a 刷新 button (a new version of the code, another tab upgraded the database). */
export function reloadBanner(key, message, kind) {
  banner(key, message, kind, [h("button", { class: "button", type: "button", onclick: () => location.reload() }, "刷新")]);
}

/** The session ended: say so, with a way to sign in again (records stay on the phone). */
export function signedOut(reason = "session") {
  if (reason === "password") {
    banner("auth", "请先修改初始密码，改好后手机上的记录会继续同步（都还在手机上）。", "warn", [
      h("a", { class: "button primary", href: "/account/password?next=/inspect/" }, "修改密码"),
    ]);
    return;
  }
  banner("auth", "登录已失效。手机上的记录都还在，请重新登录后继续同步。", "warn", [
    h("a", { class: "button primary", href: "/login?next=/inspect/" }, "重新登录"),
  ]);
}
