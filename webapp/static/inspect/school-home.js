// The 学校 account's screens in the offline app:
//   #/            its 整改 tasks: open ones with their deadlines, then the closed ones
//   #/task/<id>   a task: what the inspector found and the reviewer said, its history,
//                 and the form to record progress with photos and 申请销号 (offline too)

import * as outbox from "./outbox.js";
import { explain } from "./downloads.js";
import { preparePhoto } from "./photos.js";
import { bundle as loadBundle, queued, queueProgress, recordOf, refreshBundle } from "./school-sync.js";
import { beginRender } from "./state.js";
import { drawStatuses, statusCard, syncNowButton } from "./status.js";
import { bar, errorText, h, online, root, setChrome, toast, when } from "./ui.js";

/** Draw `parts` as the page; absent ones (null) are left out (replaceChildren would print "null"). */
function show(...parts) {
  root.replaceChildren(...parts.filter((part) => part !== null && part !== undefined));
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

function taskRow(task, waiting) {
  const requested = waiting.some((e) => e.body.request_closure);
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

function waitingEntry(entry) {
  const label = entry.body.request_closure ? "申请销号" : "整改进展";
  const photos = (entry.photos || []).length;
  return h(
    "li",
    { class: "history-entry local", dataset: { kind: "local" } },
    h("p", {}, h("strong", {}, label), " ", h("span", { class: "badge warn" }, entry.status === "failed" ? "未能上传" : "待同步")),
    entry.body.note ? h("p", { class: "note" }, entry.body.note) : null,
    photos ? h("p", { class: "meta" }, `${photos} 张照片`) : null,
  );
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
    if (!draft || draft.taskId !== String(task.id)) draft = { taskId: String(task.id), note: "", files: null, closure: false };
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
    const chosen = [...(files.files || [])].slice(0, 6);
    if (!note.value.trim() && !chosen.length) {
      toast("请填写整改情况或添加照片。", "bad");
      return;
    }
    save.disabled = true;
    try {
      const photos = [];
      for (const file of chosen) photos.push(await preparePhoto(file));
      await queueProgress(task.id, note.value.trim(), closure.checked, photos);
      draft = null;
      // Saved: the next draw starts from an empty form. A redraw while the photos were being
      // prepared copied what was typed into a new form: empty that one too, or it could be saved twice.
      for (const form of new Set([save.closest("#progress-form"), root.querySelector("#progress-form")])) {
        if (!form) continue;
        form.querySelector("#progress-note").value = "";
        form.querySelector("#progress-photos").value = "";
        form.querySelector("#request-closure").checked = false;
      }
      toast(online() ? "已保存，正在上传。" : "已保存在手机上，联网后自动上传。", "ok");
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
    h("label", { for: "progress-note" }, "整改情况"),
    note,
    h("label", { for: "progress-photos" }, "整改照片（最多6张）"),
    files,
    h("label", { class: "check" }, closure, " 整改已完成，申请销号"),
    save,
  );
}

async function drawTask(stale, taskId) {
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
  const requested = task.state === "requested" || waiting.some((e) => e.body.request_closure);
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
    task.state === "closed" ? null : kept || progressForm(task, () => drawTask(beginRender(), taskId)),
    h("h3", {}, "整改记录"),
    h("ul", { class: "plain history", id: "task-history" }, [...task.updates].reverse().map(historyEntry), waiting.map(waitingEntry)),
  );
  if (!kept) restoreProgress(typed);
  else if (focused && kept.isConnected) {
    focused.focus({ preventScroll: true });
    if (caret) focused.setSelectionRange(...caret);
  }
  drawStatuses(summaries);
  bar.replaceChildren(syncNowButton(summaries));
}

// A redraw (the bundle arrived, a sync finished) must not lose what is being typed or picked.
let draft = null; // the progress being typed: {taskId, note, files, closure}

function typedProgress() {
  const note = root.querySelector("#progress-note");
  if (draft || !note) return draft;
  return { taskId: root.querySelector("#progress-form").dataset.taskId, note: note.value, files: root.querySelector("#progress-photos").files, closure: root.querySelector("#request-closure").checked };
}

function restoreProgress(typed) {
  const note = root.querySelector("#progress-note");
  if (!typed || !note || root.querySelector("#progress-form").dataset.taskId !== typed.taskId) return;
  note.value = typed.note;
  if (typed.files && typed.files.length) root.querySelector("#progress-photos").files = typed.files;
  root.querySelector("#request-closure").checked = typed.closure;
}
