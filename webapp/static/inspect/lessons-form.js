// One 教研员 record on the phone: a lesson (听评课 …: class, subject, teacher, rubric)
// or a session (教研指导 …: topic, participants). Saved to IndexedDB as it is typed
// (no save button to forget); a complete record is queued for the server at once.
// Once its term has ended a record is shown read-only.

import * as db from "./db.js";
import { isAssignedOn, isLockedDay, localToday } from "./lessons-count.js";
import { addPhoto, bundle as loadBundle, photosOf, problems, removePhoto, saveRecord } from "./lessons-sync.js";
import { preparePhoto } from "./photos.js";
import { onLeave } from "./router.js";
import { beginRender, config, state } from "./state.js";
import { kick } from "./status.js";
import { bar, h, root, setChrome, toast } from "./ui.js";
import * as unsaved from "./unsaved.js";

const { S } = db;
let editing = null; // {record, data, timer}
/** The unsaved.js key of a record. */
const unsavedKey = (id) => `activity:${id}`;

onLeave(() => flush());
// Leaving the app (another app, the tab closed): save now what waits for its debounce. What a closed page
// could not save is kept in unsaved.js from the keystroke on, and saved at the next start (lessons-sync.js).
window.addEventListener("pagehide", () => flush());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") flush();
});

function flush() {
  if (!editing || !editing.timer) return Promise.resolve();
  clearTimeout(editing.timer);
  editing.timer = null;
  return save();
}

async function save() {
  const current = editing;
  if (!current || current.locked) return;
  const { record } = current;
  current.record = await saveRecord(record, current.data.kinds);
  unsaved.settle(unsavedKey(record.id), { record });
  drawProblems();
  kick();
}

function change(name, value) {
  if (!editing || editing.locked) return;
  editing.record = { ...editing.record, [name]: value };
  unsaved.note(unsavedKey(editing.record.id), "activity", { record: editing.record });
  clearTimeout(editing.timer);
  editing.timer = setTimeout(() => {
    editing.timer = null;
    save();
  }, config.saveDelayMs);
}

function field(label, control, hint) {
  const note = hint ? h("span", { class: "meta" }, hint) : null;
  return h("label", { class: "stack field" }, h("span", {}, label), control, note);
}

function select(name, options, value, { blank = "请选择", onchange } = {}) {
  return h(
    "select",
    {
      name,
      disabled: editing.locked,
      onchange: (e) => (onchange ? onchange(e.target.value) : change(name, e.target.value)),
    },
    blank === null ? null : h("option", { value: "" }, blank),
    options.map((o) => h("option", { value: o.id, selected: String(o.id) === String(value ?? "") }, o.label)),
  );
}

function text(name, value, props = {}) {
  const tag = props.rows ? "textarea" : "input";
  return h(tag, {
    name,
    value: value ?? "",
    disabled: editing.locked,
    ...props,
    oninput: (e) => change(name, props.type === "number" ? numberOrNull(e.target) : e.target.value),
  });
}

/** The number typed, null when blank; NaN for what is not a number (1e309, "-"), which reads as "" but is no blank. */
function numberOrNull(input) {
  if (input.validity.badInput) return Number.NaN;
  return input.value === "" ? null : Number(input.value);
}

function schoolSelect(record, data) {
  const day = record.occurred_on || localToday();
  const assigned = data.schools.filter((s) => isAssignedOn(s, day));
  const others = data.schools.filter((s) => !isAssignedOn(s, day));
  const option = (s) => h("option", { value: s.id, selected: s.id === record.school_id }, s.name);
  return h(
    "select",
    {
      name: "school_id",
      disabled: editing.locked,
      onchange: (e) => {
        change("school_id", e.target.value ? Number(e.target.value) : null);
        drawTeachers();
        drawGrades();
      },
    },
    h("option", { value: "" }, "请选择学校"),
    h("optgroup", { label: "包片学校" }, assigned.map(option)),
    h("optgroup", { label: "其他学校（不计入指标）" }, others.map(option)),
  );
}

function drawTeachers() {
  const list = document.getElementById("teacher-names");
  if (!list || !editing) return;
  const schoolId = editing.record.school_id;
  const names = editing.data.teachers.filter((t) => t.school_id === schoolId).map((t) => t.name);
  list.replaceChildren(...names.map((name) => h("option", { value: name })));
}

/** Grades taught at each stage of school (a primary school has no 幼儿园 or 初中 grades). */
const STAGE_GRADES = {
  kindergarten: ["k"],
  primary: ["g1", "g2", "g3", "g4", "g5", "g6"],
  junior: ["g7", "g8", "g9"],
  nine_year: ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9"],
  senior: ["g10", "g11", "g12"],
};

/** The grades offered for the chosen school (all when none is chosen); a grade already recorded stays. */
function gradesFor(record, data) {
  const school = data.schools.find((s) => s.id === record.school_id);
  const allowed = school && STAGE_GRADES[school.stage];
  if (!allowed) return data.grades;
  return data.grades.filter((g) => allowed.includes(g.id) || g.id === record.grade);
}

function drawGrades() {
  const old = document.querySelector(".record-form select[name=grade]");
  if (!old || !editing) return;
  old.replaceWith(select("grade", gradesFor(editing.record, editing.data), editing.record.grade));
}

function lessonFields(record, data) {
  const rubric = data.rubric.map((d) => {
    const scores = Array.from({ length: d.max_score }, (_, i) => ({ id: i + 1, label: String(i + 1) }));
    return field(
      d.label,
      select(`score-${d.id}`, scores, (record.scores || {})[d.id], {
        blank: "未评",
        onchange: (v) => {
          const next = { ...(editing.record.scores || {}) };
          if (v) next[d.id] = Number(v);
          else delete next[d.id];
          change("scores", next);
        },
      }),
    );
  });
  return [
    field("年级", select("grade", gradesFor(record, data), record.grade)),
    field("班级", text("class_name", record.class_name, { placeholder: "如：2班", maxlength: 32 })),
    field("学科", select("subject", data.subjects, record.subject)),
    field(
      "授课教师",
      text("teacher_name", record.teacher_name, { list: "teacher-names", maxlength: 64, autocomplete: "off" }),
      "从本校教师名单选择，或直接填写姓名",
    ),
    h("datalist", { id: "teacher-names" }),
    field("课题", text("topic", record.topic, { maxlength: 200 })),
    h("fieldset", { class: "rubric" }, h("legend", {}, "课堂评价"), rubric),
    field("优点", text("strengths", record.strengths, { rows: 3, maxlength: 2000 })),
    field("建议", text("suggestions", record.suggestions, { rows: 3, maxlength: 2000 })),
  ];
}

function sessionFields(record, data) {
  return [
    field("主题", text("topic", record.topic, { maxlength: 200 })),
    field("学科（可选）", select("subject", data.subjects, record.subject, { blank: "不限学科" })),
    field("参加人数", text("participants", record.participants, { type: "number", min: 0, inputmode: "numeric" })),
  ];
}

function drawProblems() {
  const el = document.getElementById("record-problems");
  if (!el || !editing) return;
  const missing = problems(editing.record, editing.data.kinds);
  el.className = missing.length ? "alert warn" : "meta ok-text";
  el.textContent = missing.length ? `未填完（${missing.join("、")}），补全后自动上传。` : "已保存在手机上，联网后自动上传。";
}

async function drawPhotos() {
  const box = document.getElementById("record-photos");
  if (!box || !editing) return;
  const photos = await photosOf(editing.record.id);
  box.replaceChildren(
    ...photos.map((p) =>
      h(
        "figure",
        { class: "thumb", dataset: { photoId: p.id } },
        p.blob ? h("img", { src: URL.createObjectURL(p.blob), alt: p.caption || "活动照片" }) : null,
        h("figcaption", { class: "meta" }, p.uploaded ? "已上传" : "待上传"),
        editing.locked ? null : h("button", { class: "link", type: "button", onclick: () => dropPhoto(p.id) }, "删除"),
      ),
    ),
  );
}

async function dropPhoto(photoId) {
  await removePhoto(photoId);
  await drawPhotos();
  kick();
}

async function onPhoto(event) {
  const files = [...event.target.files];
  event.target.value = "";
  await flush(); // the record's write goes ahead of its photos
  for (const file of files) {
    try {
      await addPhoto(editing.record.id, await preparePhoto(file), "", state.deviceId);
    } catch (error) {
      toast(`照片无法读取：${error && error.message ? error.message : error}`);
    }
  }
  await drawPhotos();
  kick();
}

/** The record page (#/lessons/<id>). */
export async function showRecord(id) {
  const stale = beginRender();
  const [record, data] = await Promise.all([db.get(S.activities, id), loadBundle()]);
  if (stale()) return;
  if (!record || !data) {
    location.hash = "#/";
    return;
  }
  const kind = data.kinds.find((k) => k.id === record.kind) || { label: record.kind, forms: [], is_lesson: false };
  editing = { record, data, timer: null, locked: isLockedDay(data, record.occurred_on) && !record.incomplete };
  setChrome(kind.label, "#/");
  root.replaceChildren(
    h(
      "form",
      { class: "card stack record-form", onsubmit: (e) => e.preventDefault() },
      editing.locked ? h("p", { class: "alert warn" }, "该学期已结束，记录不能再修改。") : h("p", { id: "record-problems" }),
      field("日期", text("occurred_on", record.occurred_on, { type: "date", max: localToday() })),
      field("形式", select("form", kind.forms, record.form || (kind.forms[0] && kind.forms[0].id), { blank: null })),
      field(record.kind === "lesson" || record.kind === "guidance" ? "学校" : "学校（可选）", schoolSelect(record, data)),
      ...(kind.is_lesson ? lessonFields(record, data) : sessionFields(record, data)),
      field("备注", text("notes", record.notes, { rows: 2, maxlength: 2000 })),
      h("h3", {}, "照片"),
      h("div", { id: "record-photos", class: "photos" }),
      editing.locked
        ? null
        : h(
            "label",
            { class: "button" },
            "拍照 / 选照片",
            h("input", { type: "file", accept: "image/*", multiple: true, hidden: true, onchange: onPhoto }),
          ),
    ),
  );
  if (!record.form && kind.forms[0]) editing.record = { ...record, form: kind.forms[0].id };
  drawTeachers();
  drawProblems();
  drawPhotos();
  bar.replaceChildren(
    editing.locked
      ? null
      : h("button", { class: "button", type: "button", id: "delete-record", onclick: () => deleteRecord() }, "删除"),
    h("button", { class: "button primary wide", type: "button", id: "record-done", onclick: () => done() }, "完成"),
  );
}

async function done() {
  await flush();
  location.hash = "#/";
  window.scrollTo(0, 0); // the home starts at its top, not at the form's scroll position
}

async function deleteRecord() {
  if (!editing || !window.confirm("删除这条记录？")) return;
  clearTimeout(editing.timer);
  editing.record = { ...editing.record, is_deleted: true };
  unsaved.note(unsavedKey(editing.record.id), "activity", { record: editing.record });
  await save();
  location.hash = "#/";
}
