// The 学校 account's screens in the offline app:
//   #/            its 整改 tasks: open ones with their deadlines, then the closed ones
//   #/task/<id>   a task: what the inspector found and the reviewer said, its history,
//                 and the form to record progress with photos and 申请销号 (offline too).
//                 An entry the server refused (未能上传, with its reason) can be corrected
//                 (修改: back into the form, saved as a new entry in its place) or deleted.

import * as outbox from "./outbox.js";
import { explain } from "./downloads.js";
import { preparePhoto } from "./photos.js";
import { bundle as loadBundle, parkedKey, queued, queueProgress, recordOf, refreshBundle } from "./school-sync.js";
import { beginRender } from "./state.js";
import { drawStatuses, statusCard, syncNowButton } from "./status.js";
import { bar, errorText, h, online, root, setChrome, toast, when } from "./ui.js";

/**
 * Draw `parts` as the page; absent ones (null) are left out (replaceChildren would print "null"). A part already
 * on the page (the form being typed in) stays attached where it is: moving it would end the focus and a pinyin
 * composition under way, and the task page is drawn again whenever one of its entries moves in the outbox.
 */
function show(...parts) {
  const wanted = parts.filter((part) => part !== null && part !== undefined);
  const stay = wanted.find((part) => part.parentNode === root);
  if (!stay) {
    root.replaceChildren(...wanted);
    return;
  }
  for (const child of [...root.childNodes]) if (child !== stay) child.remove();
  const at = wanted.indexOf(stay);
  stay.before(...wanted.slice(0, at));
  stay.after(...wanted.slice(at + 1));
}

const NO_BUNDLE = "首次使用请联网打开本页，下载本校的整改任务后即可离线记录。";

async function refreshed(stale, redraw, what) {
  if (!online()) return;
  const outcome = await refreshBundle();
  if (outcome.type === "ok") {
    if (!stale()) await redraw(stale);
  } else if (outcome.type !== "network") {
    explain(outcome, what);
  }
}

/** The school's home: its tasks from the phone's copy, refreshed from the server when online. */
export async function showSchoolHome() {
  const stale = beginRender();
  setChrome("整改任务", null);
  await drawHome(stale);
  await refreshed(stale, drawHome, "更新整改任务");
}

function deadlineText(task) {
  if (task.state === "closed") return `整改期限 ${task.deadline}`;
  if (task.overdue) return `整改期限 ${task.deadline} · 已逾期 ${-task.days_left} 天`;
  return `整改期限 ${task.deadline} · 剩余 ${task.days_left} 天`;
}

/** Whether an entry waiting on the phone asks for 销号 (a refused one asks nothing until it is corrected). */
function asksClosure(entry) {
  return entry.body.request_closure && entry.status !== "failed";
}

function taskRow(task, waiting) {
  const requested = waiting.some(asksClosure);
  const label = requested && task.state === "open" ? "待销号（待同步）" : task.state_label;
  const badge = task.state === "closed" ? "ok" : task.overdue ? "bad" : "warn";
  return h(
    "li",
    { class: "card task", dataset: { taskId: String(task.id) } },
    h(
      "a",
      { class: "row", href: `#/task/${task.id}` },
      h("span", { class: "title" }, task.item_title),
      h("span", { class: "meta" }, h("span", { class: `badge ${badge} task-state` }, label), " ", deadlineText(task)),
    ),
    h("div", { class: "sync-line", dataset: { visitId: recordOf(task.id) } }),
  );
}

async function drawHome(stale) {
  const [data, summaries] = await Promise.all([loadBundle(), outbox.summary()]);
  if (stale()) return;
  if (!data) {
    root.replaceChildren(statusCard(), h("p", { class: "alert warn" }, NO_BUNDLE));
    bar.replaceChildren();
    return;
  }
  const waiting = new Map(await Promise.all(data.tasks.map(async (t) => [t.id, await queued(t.id)])));
  if (stale()) return;
  const open = data.tasks.filter((t) => t.state !== "closed");
  const closed = data.tasks.filter((t) => t.state === "closed");
  show(
    statusCard(),
    h("h2", {}, `${data.school.name} · 待整改（${open.length}）`),
    h(
      "ul",
      { class: "plain cards", id: "task-list" },
      open.length ? open.map((t) => taskRow(t, waiting.get(t.id))) : h("li", { class: "empty" }, "没有待整改的任务。"),
    ),
    closed.length ? h("h2", {}, `已销号（${closed.length}）`) : null,
    closed.length ? h("ul", { class: "plain cards", id: "closed-list" }, closed.map((t) => taskRow(t, []))) : null,
    h(
      "p",
      { class: "meta school-links" },
      h("a", { href: "/self-reports/mine" }, "自查报送"),
      " · ",
      h("a", { href: "/inbox/" }, "消息"),
      " · ",
      h("a", { href: "/" }, "返回网站首页"),
    ),
  );
  drawStatuses(summaries);
  bar.replaceChildren(syncNowButton(summaries));
}

/** One task: findings, history (with what waits on the phone) and the progress form. */
export async function showTask(id) {
  const stale = beginRender();
  setChrome("整改任务", "#/");
  const taskId = Number(id);
  const redraw = (s) => drawTask(s, taskId);
  await redraw(stale);
  await refreshed(stale, redraw, "更新整改任务");
}

function photoStrip(photos) {
  if (!photos.length) return null;
  return h(
    "div",
    { class: "photo-strip" },
    photos.map((p) => h("a", { href: p.full, target: "_blank", rel: "noopener" }, h("img", { src: p.thumb, alt: p.caption || "照片", loading: "lazy" }))),
  );
}

function historyEntry(update) {
  return h(
    "li",
    { class: "history-entry", dataset: { kind: update.kind } },
    h("p", {}, h("strong", {}, update.kind_label), h("span", { class: "meta" }, ` ${when(update.at)} · ${update.author}`)),
    update.note ? h("p", { class: "note" }, update.note) : null,
    photoStrip(update.photos),
  );
}

/**
 * An entry still on the phone. Only a parked one (refused: 未能上传) shows why and takes 修改 (when the form is
 * there) and 删除: one waiting to go (待同步) may be on its way to the server at any moment.
 */
function waitingEntry(entry, actions) {
  const label = entry.body.request_closure ? "申请销号" : "整改进展";
  const photos = (entry.photos || []).length;
  const parked = entry.status === "failed";
  const dataset = parked ? { kind: "local", itemId: parkedKey(entry) } : { kind: "local" };
  return h(
    "li",
    { class: parked ? "history-entry local parked" : "history-entry local", dataset },
    h("p", {}, h("strong", {}, label), " ", h("span", { class: `badge ${parked ? "bad" : "warn"}` }, parked ? "未能上传" : "待同步")),
    entry.body.note ? h("p", { class: "note" }, entry.body.note) : null,
    photos ? h("p", { class: "meta" }, `${photos} 张照片`) : null,
    parked ? h("p", { class: "refusal bad-text" }, `服务器未接受：${entry.error ? entry.error.message : "被服务器拒绝。"}`) : null,
    parked
      ? h(
          "div",
          { class: "actions" },
          actions.edit ? h("button", { class: "button small edit-entry", type: "button", onclick: () => actions.edit(entry) }, "修改") : null,
          h("button", { class: "button small delete-entry", type: "button", onclick: () => actions.remove(entry) }, "删除"),
        )
      : null,
  );
}

/**
 * 修改: the parked entry's note, 申请销号 and photos go into the form; saving puts the corrected entry in its place.
 * What the form held is replaced (asked first when something is typed there).
 */
function editParked(entry) {
  const form = root.querySelector("#progress-form");
  if (!form) return;
  const typed = typedProgress();
  const busy = typed && (typed.note.trim() || (typed.files && typed.files.length) || typed.replacing);
  if (busy && !window.confirm("表单中已填写的内容将被这条记录替换，继续？")) return;
  draft = {
    taskId: String(entry.body.task_id),
    note: entry.body.note || "",
    files: null,
    closure: Boolean(entry.body.request_closure),
    replacing: { seq: entry.seq, photos: entry.photos || [] },
  };
  fillForm(form, draft);
  // Characters the server refuses (an entry saved by an older version of the app) are taken out as if typed.
  form.querySelector("#progress-note").dispatchEvent(new Event("input", { bubbles: true }));
  form.scrollIntoView({ block: "start" });
  form.querySelector("#progress-note").focus({ preventScroll: true });
}

/** 删除 a parked entry, after asking; one sent again meanwhile (重试) is left alone. */
async function deleteParked(entry, redraw) {
  if (!window.confirm("删除这条未能上传的整改记录？删除后无法恢复。")) return;
  if (await outbox.dropParked([entry.seq])) {
    // The form held this entry for correction: there is nothing left to correct.
    if (draft && draft.replacing && draft.replacing.seq === entry.seq) emptyForms();
    toast("已删除这条记录。", "ok");
  } else {
    toast("这条记录正在重新上传或已不在手机上，没有删除。", "warn");
  }
  await redraw();
}

/** The form is empty again: nothing typed, nothing picked, nothing being corrected (every copy on the page). */
function emptyForms(...forms) {
  draft = null;
  for (const form of new Set([...forms, root.querySelector("#progress-form")])) {
    if (form) fillForm(form, { note: "", files: null, closure: false, replacing: null });
  }
}

/** Put `typed` ({note, files, closure, replacing}) into a progress form. */
function fillForm(form, typed) {
  form.querySelector("#progress-note").value = typed.note;
  const files = form.querySelector("#progress-photos");
  if (typed.files && typed.files.length) files.files = typed.files;
  else files.value = "";
  form.querySelector("#request-closure").checked = typed.closure;
  showReplacing(form, typed.replacing || null);
}

/** In the form: which parked entry is being corrected, the photos it keeps, and the way out. */
function showReplacing(form, replacing) {
  const box = form.querySelector(".replacing");
  box.hidden = !replacing;
  if (!replacing) {
    box.replaceChildren();
    return;
  }
  const photos = replacing.photos;
  box.replaceChildren(
    h("p", {}, h("strong", {}, "正在修改未能上传的记录"), "：保存后替换原记录。"),
    photos.length ? h("div", { class: "kept-photos" }, photos.map((photo) => blobThumb(photo.blob))) : null,
    photos.length ? h("p", { class: "meta" }, `沿用原记录的 ${photos.length} 张照片，还可以添加新照片。`) : null,
    h(
      "div",
      { class: "actions" },
      photos.length
        ? h("button", { class: "button small drop-photos", type: "button", onclick: () => changeReplacing((r) => ({ ...r, photos: [] })) }, "不用原照片")
        : null,
      h("button", { class: "button small cancel-edit", type: "button", onclick: () => emptyForms(form) }, "取消修改"),
    ),
  );
}

function changeReplacing(change) {
  if (!draft || !draft.replacing) return;
  draft.replacing = change(draft.replacing);
  for (const form of root.querySelectorAll("#progress-form")) showReplacing(form, draft.replacing);
}

function blobThumb(blob) {
  const url = URL.createObjectURL(blob);
  const done = () => URL.revokeObjectURL(url);
  return h("img", { class: "thumb", src: url, alt: "原记录的照片", onload: done, onerror: done });
}

function progressForm(task, onSaved) {
  const note = h("textarea", { id: "progress-note", rows: "4", maxlength: "4000", placeholder: "做了哪些整改" });
  const files = h("input", { id: "progress-photos", type: "file", accept: "image/*", multiple: true });
  const closure = h("input", { id: "request-closure", type: "checkbox" });
  const save = h("button", { class: "button primary wide", type: "button", id: "save-progress" }, "保存（无网络时先存手机）");
  // What is typed and picked is kept as it changes, so a redraw at any moment (two draws racing, a late
  // bundle) puts it back, not only one that finds this form still on the screen. Each field keeps only
  // itself: a change in one copy of the form must not overwrite what another copy holds of the others.
  const keep = (name, read) => () => {
    if (!draft || draft.taskId !== String(task.id)) draft = { taskId: String(task.id), note: "", files: null, closure: false, replacing: null };
    draft[name] = read();
  };
  for (const [input, name, read] of [
    [note, "note", () => note.value],
    [files, "files", () => files.files],
    [closure, "closure", () => closure.checked],
  ]) {
    input.addEventListener("input", keep(name, read));
    input.addEventListener("change", keep(name, read));
  }
  save.addEventListener("click", async () => {
    // Correcting a parked entry (修改): its photos stay unless dropped; the new ones come after them.
    const replacing = draft && draft.taskId === String(task.id) ? draft.replacing : null;
    const kept = replacing ? replacing.photos : [];
    const chosen = [...(files.files || [])].slice(0, Math.max(0, 6 - kept.length));
    if (!note.value.trim() && !chosen.length && !kept.length) {
      toast("请填写整改情况或添加照片。", "bad");
      return;
    }
    save.disabled = true;
    try {
      const photos = [...kept];
      for (const file of chosen) photos.push(await preparePhoto(file));
      const saved = await queueProgress(task.id, note.value.trim(), closure.checked, photos, replacing ? replacing.seq : null);
      if (!saved) {
        // The parked entry went back in the queue (重试) or is gone: a corrected copy could be recorded twice.
        changeReplacing(() => null);
        toast("原记录已重新上传或已删除，这次修改没有保存。请查看整改记录后再决定是否另记一条。", "warn");
        await onSaved();
        return;
      }
      // Saved: the next draw starts from an empty form. A redraw while the photos were being
      // prepared copied what was typed into a new form: empty that one too, or it could be saved twice.
      emptyForms(save.closest("#progress-form"));
      const where = online() ? "正在上传。" : "联网后自动上传。";
      toast(replacing ? `已保存修改，${where}` : online() ? "已保存，正在上传。" : "已保存在手机上，联网后自动上传。", "ok");
      await onSaved();
    } catch (error) {
      toast(`保存失败：${errorText(error)}`, "bad");
    } finally {
      save.disabled = false; // the redraw keeps this form: it takes the next entry
    }
  });
  return h(
    "section",
    { class: "card", id: "progress-form", dataset: { taskId: String(task.id) } },
    h("h3", {}, "记录整改进展"),
    h("div", { class: "replacing alert warn", hidden: true }),
    h("label", { for: "progress-note" }, "整改情况"),
    note,
    h("label", { for: "progress-photos" }, "整改照片（最多6张）"),
    files,
    h("label", { class: "check" }, closure, " 整改已完成，申请销号"),
    save,
  );
}

async function drawTask(stale, taskId) {
  if (!stale()) shown = { taskId, stale };
  const [data, waiting, summaries] = await Promise.all([loadBundle(), queued(taskId), outbox.summary()]);
  if (stale()) return;
  const task = data && data.tasks.find((t) => t.id === taskId);
  if (!task) {
    root.replaceChildren(h("p", { class: "alert warn" }, data ? "没有这项整改任务。" : NO_BUNDLE));
    bar.replaceChildren();
    return;
  }
  setChrome(task.item_title, "#/");
  const typed = typedProgress();
  // The form on screen for this task goes into the new page as it is: what is typed, the caret and a save in
  // progress stay (a new copy would lose the focus under the person's fingers).
  const onScreen = root.querySelector("#progress-form");
  const kept = onScreen && onScreen.dataset.taskId === String(task.id) ? onScreen : null;
  const focused = kept && kept.contains(document.activeElement) ? document.activeElement : null;
  const caret = focused && focused.tagName === "TEXTAREA" ? [focused.selectionStart, focused.selectionEnd] : null;
  const requested = task.state === "requested" || waiting.some(asksClosure);
  const redraw = () => drawTask(beginRender(), taskId);
  const actions = { edit: task.state === "closed" ? null : editParked, remove: (entry) => deleteParked(entry, redraw) };
  show(
    h(
      "section",
      { class: "card", id: "task-summary" },
      h("h2", {}, task.item_title),
      h("p", {}, h("span", { class: `badge ${task.overdue ? "bad" : "warn"} task-state` }, task.state_label), " ", deadlineText(task)),
      task.problem ? h("p", {}, `问题：${task.problem}`) : null,
      task.responsible_person ? h("p", { class: "meta" }, `责任人：${task.responsible_person}`) : null,
      h("div", { class: "sync-line", dataset: { visitId: recordOf(task.id) } }),
    ),
    h(
      "section",
      { class: "card", id: "findings" },
      h("h3", {}, "督导发现"),
      h("p", { class: "meta" }, `${task.visited_on} · 责任督学 ${task.inspector}`),
      task.observation ? h("p", { class: "note" }, task.observation) : null,
      photoStrip(task.inspector_photos),
      task.reviewer_comment ? h("p", {}, h("strong", {}, "督导室意见："), task.reviewer_comment) : null,
    ),
    task.state === "closed"
      ? h("p", { class: "alert ok" }, "该任务已销号。")
      : requested
        ? h("p", { class: "alert ok", id: "requested-note" }, "已申请销号，等待督导室审核；仍可补充整改情况。")
        : null,
    task.state === "closed" ? null : kept || progressForm(task, redraw),
    h("h3", {}, "整改记录"),
    h("ul", { class: "plain history", id: "task-history" }, [...task.updates].reverse().map(historyEntry), waiting.map((entry) => waitingEntry(entry, actions))),
  );
  if (!kept) restoreProgress(typed);
  else if (focused && kept.isConnected && document.activeElement !== focused) {
    focused.focus({ preventScroll: true });
    if (caret) focused.setSelectionRange(...caret);
  }
  drawStatuses(summaries);
  bar.replaceChildren(syncNowButton(summaries));
}

// A redraw (the bundle arrived, a sync finished) must not lose what is being typed or picked.
// replacing: {seq, photos} of the parked entry being corrected (修改), or null.
let draft = null; // the progress being typed: {taskId, note, files, closure, replacing}

function typedProgress() {
  const note = root.querySelector("#progress-note");
  if (draft || !note) return draft;
  return {
    taskId: root.querySelector("#progress-form").dataset.taskId,
    note: note.value,
    files: root.querySelector("#progress-photos").files,
    closure: root.querySelector("#request-closure").checked,
    replacing: null,
  };
}

function restoreProgress(typed) {
  const form = root.querySelector("#progress-form");
  if (!typed || !form || form.dataset.taskId !== typed.taskId) return;
  fillForm(form, typed);
}

// The task on screen follows its entries in the outbox: one sent leaves the list, one refused shows 未能上传
// with the reason, 修改 and 删除. Redraws come one after the other, with the page's own token (a newer page
// stops them; they do not stop the page's own late draw with the refreshed bundle).
let shown = null; // {taskId, stale} of the task page on screen
let followTimer = null;
let following = Promise.resolve();

function followOutbox(event) {
  const detail = event.detail || {};
  if (!shown || shown.stale() || (detail.visit_id !== recordOf(shown.taskId) && detail.task_id !== shown.taskId)) return;
  const { taskId, stale } = shown;
  clearTimeout(followTimer);
  followTimer = setTimeout(() => {
    following = following.then(() => (stale() ? null : drawTask(stale, taskId))).catch(() => {});
  }, 100);
}

outbox.events.addEventListener("progress", followOutbox);
outbox.events.addEventListener("task", followOutbox);
