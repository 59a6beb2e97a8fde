// The 教研员's home screen in the offline app: progress against the term's quotas
// (counted on the phone, so offline records move it at once), schools without a
// lesson yet this term, buttons to log an activity, and the records with their sync state.

import * as outbox from "./outbox.js";
import { localToday, progress, schoolsThisTerm } from "./lessons-count.js";
import { blank, bundle as loadBundle, records as loadRecords, refreshBundle, saveRecord } from "./lessons-sync.js";
import { explain } from "./downloads.js";
import { beginRender, state } from "./state.js";
import { drawStatuses, statusCard, syncNowButton } from "./status.js";
import { bar, h, online, root, setChrome } from "./ui.js";

/** The home screen; redrawn when the bundle has been refreshed from the server. */
export async function showLessonsHome() {
  const stale = beginRender();
  setChrome("听评课记录", null);
  await draw(stale);
  if (online()) {
    const outcome = await refreshBundle();
    if (outcome.type === "ok") {
      if (!stale()) await draw(stale);
    } else if (outcome.type !== "network") {
      explain(outcome, "更新学校和指标");
    }
  }
}

/** Start a new record of `kind` (kept on the phone at once) and open it. */
export async function startRecord(kind) {
  const data = await loadBundle();
  if (!data) {
    location.hash = "#/";
    return;
  }
  const record = blank(kind, state.deviceId);
  await saveRecord(record, data.kinds);
  // From the home, 返回 leads back to it; a #/lessons/new/<kind> link is replaced, so 返回 makes no second record.
  if (location.hash.startsWith("#/lessons/new/")) location.replace(`#/lessons/${record.id}`);
  else location.hash = `#/lessons/${record.id}`;
}

function termLine(data) {
  const term = data.term;
  if (!term) return h("p", { class: "alert warn" }, "县里尚未设置学期，无法统计学期进度。");
  const today = localToday();
  let left = "";
  if (term.is_closed || today > term.ends_on) left = "已结束";
  else {
    const days = Math.round((Date.parse(term.ends_on) - Date.parse(today)) / 86400000) + 1;
    left = `剩余 ${days} 天`;
  }
  return h("p", { class: "meta term-line" }, `${term.name} · ${term.starts_on} 至 ${term.ends_on} · ${left}`);
}

function quotaCard(row) {
  const { quota, done, apart, target, pace } = row;
  const percent = target ? Math.min(100, Math.round((100 * done) / target)) : 100;
  const card = h(
    "article",
    { class: `card quota ${done >= target ? "met" : ""}`, dataset: { quota: quota.item_id } },
    h("h3", {}, quota.kinds_label),
    h("p", { class: "figure" }, h("strong", { class: "done" }, String(done)), ` / ${target} ${quota.unit}`),
    h("div", { class: "bar-track" }, h("span", { style: `width:${percent}%` })),
    h("p", { class: "pace" }, pace),
    h("p", { class: "meta" }, `${quota.title} · ${quota.window.label}`),
  );
  if (apart) card.append(h("p", { class: "meta" }, `另有 ${apart} ${quota.unit}在非包片学校，不计入。`));
  // The note above the cards says why once; each card only carries the mark.
  if (isExpired(quota)) card.append(h("p", { class: "meta expired-mark" }, h("span", { class: "badge warn" }, "※ 按原标准")));
  return card;
}

function isExpired(quota) {
  return Boolean(quota.effective_until) && quota.effective_until < quota.window.start;
}

function expiredNote(quotas) {
  const expired = quotas.filter(isExpired);
  if (!expired.length) return null;
  const docs = [...new Set(expired.flatMap((q) => q.doc_nos))].join("、");
  return h(
    "p",
    { class: "alert warn" },
    `文件已到期：${docs}有效期至 ${expired[0].effective_until}；新文件出台前，标有“※”的指标仍按原标准统计。`,
  );
}

function recordRow(record, data) {
  const kind = data.kinds.find((k) => k.id === record.kind);
  const school = data.schools.find((s) => s.id === record.school_id);
  const title = [record.occurred_on, kind ? kind.label : record.kind, school && school.name].filter(Boolean).join(" · ");
  const detail = kind && kind.is_lesson ? [record.teacher_name, record.topic] : [record.topic];
  return h(
    "li",
    { class: "card activity", dataset: { activityId: record.id } },
    h(
      "a",
      { class: "row", href: `#/lessons/${record.id}` },
      h("span", { class: "title" }, title),
      h("span", { class: "meta" }, detail.filter(Boolean).join(" · ")),
    ),
    record.incomplete
      ? h("p", { class: "alert warn" }, "未填完，尚未上传：请补全必填项。")
      : h("div", { class: "sync-line", dataset: { visitId: record.id } }),
  );
}

async function draw(stale) {
  const [data, all, summaries] = await Promise.all([loadBundle(), loadRecords(), outbox.summary()]);
  if (stale()) return;
  if (!data) {
    root.replaceChildren(
      statusCard(),
      h("p", { class: "alert warn" }, "首次使用请联网打开本页，下载包片学校、教师名单和本学期指标后即可离线记录。"),
    );
    bar.replaceChildren();
    return;
  }
  const live = all.filter((r) => !r.is_deleted);
  const silent = schoolsThisTerm(data, live).filter((row) => row.lessons === 0);
  const since = data.term ? data.term.starts_on : "0000";
  const shown = live
    .filter((r) => r.occurred_on >= since || r.incomplete)
    .sort((a, b) => b.occurred_on.localeCompare(a.occurred_on) || String(b.edited_at).localeCompare(a.edited_at));
  const kinds = data.kinds.filter((k) => k.id === "lesson" || k.id === "guidance" || k.is_counted);
  root.replaceChildren(
    statusCard(),
    h(
      "section",
      { class: "card", id: "lesson-progress" },
      h("h2", {}, "本学期进度"),
      termLine(data),
      data.older_not_on_phone
        ? h(
            "p",
            { class: "meta older-records" },
            "本机只保存最近 2000 条记录，更早的记录在服务器上：进度按服务器的统计，加上本机尚未同步的记录。",
          )
        : null,
      expiredNote(data.quotas),
      data.quotas.length
        ? h("div", { class: "quotas" }, progress(data, live).map(quotaCard))
        : h("p", { class: "meta" }, "本县政策包未设定听评课、教研指导的数量要求。"),
      silent.length
        ? h("p", { class: "alert warn silent-schools" }, `本学期尚未听课的包片学校：${silent.map((r) => r.school.name).join("、")}`)
        : null,
    ),
    h(
      "div",
      { class: "actions new-record" },
      kinds.map((k) =>
        h(
          "button",
          { class: "button primary", type: "button", dataset: { kind: k.id }, onclick: () => startRecord(k.id) },
          `记录${k.label}`,
        ),
      ),
    ),
    h("h2", {}, `我的记录（${shown.length}）`),
    h(
      "ul",
      { class: "plain cards", id: "activity-list" },
      shown.length ? shown.map((r) => recordRow(r, data)) : h("li", { class: "empty" }, "本学期还没有记录。"),
    ),
    h("p", { class: "meta" }, h("a", { href: "/" }, "返回网站首页")),
  );
  drawStatuses(summaries);
  bar.replaceChildren(syncNowButton(summaries));
}
