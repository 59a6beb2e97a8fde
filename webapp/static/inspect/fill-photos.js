// Photos on the fill page: take or pick, keep the file at once and prepare it (photo-intake.js, photos.js),
// caption, delete before submit, and each photo's upload state. A file not prepared yet is shown on its item
// (正在处理照片…, or when its tries failed, what the person can do: 重试处理, 原图上传, 删除).

import * as db from "./db.js";
import * as outbox from "./outbox.js";
import * as visitsSync from "./visits-sync.js";
import * as intake from "./photo-intake.js";
import * as photos from "./photos.js";
import { itemsOf } from "./checks.js";
import { config, state } from "./state.js";
import { kick } from "./status.js";
import { errorText, h, root, toast } from "./ui.js";
import * as unsaved from "./unsaved.js";
import { drawItemState, ensureStarted, objectUrls, updateProgress } from "./visit.js";

/** The 拍照 (camera) and 相册 (gallery) buttons for an item ("" for photos of no item). */
export function photoButtons(itemId) {
  const onchange = async (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    await addFiles(itemId, files);
  };
  const name = itemId ? "" : "（其他）";
  return h(
    "span",
    { class: "photo-buttons" },
    h(
      "label",
      { class: "button photo-take" },
      "拍照",
      h("input", {
        type: "file",
        accept: "image/*",
        capture: "environment",
        class: "visually-hidden take",
        "aria-label": `拍照${name}`,
        onchange,
      }),
    ),
    h(
      "label",
      { class: "button photo-pick" },
      "相册",
      h("input", {
        type: "file",
        accept: "image/*",
        multiple: true,
        class: "visually-hidden pick",
        "aria-label": `从相册选择${name}`,
        onchange,
      }),
    ),
  );
}

/** The list of an item's photos; filled once the card is on the page. */
export function photoList(itemId) {
  const list = h("ul", { class: "photos plain", dataset: { photosFor: itemId } });
  queueMicrotask(() => drawPhotos(itemId));
  return list;
}

/** Redraw an item's photo rows in place (status, caption lock), adding and removing rows. */
export async function drawPhotos(itemId) {
  const visitState = state.current;
  if (!visitState) return;
  const [entries, kept] = await Promise.all([outbox.entries(visitState.visit.id), intake.waiting(visitState.visit.id)]);
  if (state.current !== visitState) return;
  const card = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"]`);
  const list = card && card.querySelector(".photos");
  if (!list) return;
  const pending = new Map(entries.filter((e) => e.kind === "photo").map((e) => [e.id, e]));
  const mine = visitState.photos.filter((p) => (p.item_id || "") === itemId);
  const keep = new Set(mine.map((p) => p.id));
  for (const row of list.querySelectorAll("li.photo")) if (!keep.has(row.dataset.photoId)) row.remove();
  drawIntake(list, kept.filter((r) => (r.item_id || "") === itemId));
  // Update rows in place: replacing them would drop a caption being typed.
  for (const photo of mine) {
    const row = list.querySelector(`li.photo[data-photo-id="${CSS.escape(photo.id)}"]`);
    if (!row) {
      list.insertBefore(photoRow(photo, pending.get(photo.id)), list.querySelector("li.intake, li.busy"));
      continue;
    }
    const [text, kind] = photoStatus(photo, pending.get(photo.id));
    const status = row.querySelector(".photo-status");
    if (!(kind === "warn" && status.classList.contains("busy"))) {
      status.textContent = text;
      status.className = `photo-status ${kind}`;
    }
    if (photo.uploaded) row.querySelector(".caption").disabled = true;
  }
}

function photoStatus(photo, entry) {
  if (photo.uploaded) return ["已上传", "ok"];
  if (entry && entry.status === "failed") return [`失败：${entry.error ? entry.error.message : ""}`, "bad"];
  if (entry && entry.last_error) return [`等待重试：${entry.last_error}`, "warn"];
  return ["待上传", "warn"];
}

/** The rows of files not prepared yet, after the photos: redrawn whole (they have nothing typed in them). */
function drawIntake(list, kept) {
  for (const row of list.querySelectorAll("li.intake")) row.remove();
  const anchor = list.querySelector("li.busy");
  for (const record of kept) list.insertBefore(intakeRow(record), anchor);
}

function intakeRow(record) {
  const row = h("li", { class: "intake", dataset: { intakeId: record.id } });
  if (!intake.stuck(record)) {
    row.append(
      h("span", { class: "thumb placeholder" }, "处理中"),
      h("div", { class: "photo-meta" }, h("span", { class: "photo-status busy" }, "正在处理照片…")),
    );
    return row;
  }
  let reason = record.last_error ? `：${errorText(record.last_error)}` : "（手机内存可能不足，或处理时页面被关闭）";
  if (!/[。！？]$/.test(reason)) reason += "。";
  const problem = intake.rawProblem(record);
  const act = (job) => async (event) => {
    for (const button of event.currentTarget.parentElement.querySelectorAll("button")) button.disabled = true;
    await job();
    await drawPhotos(record.item_id || "");
  };
  row.append(
    h("span", { class: "thumb placeholder" }, "未处理"),
    h(
      "div",
      { class: "photo-meta" },
      h(
        "span",
        { class: "photo-status bad" },
        `照片处理没有成功（已试 ${record.attempts} 次）${reason}原图仍保存在手机上，没有丢失。`,
      ),
      problem ? h("span", { class: "meta raw-problem" }, problem) : null,
      h(
        "span",
        { class: "intake-actions" },
        h("button", { class: "button small retry-intake", type: "button", onclick: act(() => intake.retry(record.id)) }, "重试处理"),
        problem
          ? null
          : h(
              "button",
              { class: "button small raw-intake", type: "button", onclick: act(() => intake.sendRaw(record.id)) },
              "原图上传",
            ),
        h(
          "button",
          {
            class: "button small delete-intake",
            type: "button",
            onclick: (event) => {
              if (!window.confirm("删除这张照片？删除后无法恢复，也无法再上传。")) return;
              act(() => intake.discard(record.id))(event);
            },
          },
          "删除",
        ),
      ),
    ),
  );
  return row;
}

function photoRow(photo, entry) {
  const visitState = state.current;
  let thumb;
  if (photo.raw) {
    // The camera's file as it is: decoding 12 MP for a thumbnail is what may not fit in the phone's memory.
    thumb = h("span", { class: "thumb placeholder" }, "原图");
  } else if (photo.blob) {
    const url = URL.createObjectURL(photo.blob);
    objectUrls.push(url);
    thumb = h("img", { class: "thumb", src: url, alt: photo.caption || "现场照片" });
  } else {
    thumb = h("span", { class: "thumb placeholder" }, "已在服务器");
  }
  const [text, kind] = photoStatus(photo, entry);
  const caption = h("input", {
    class: "caption",
    type: "text",
    maxlength: "200",
    placeholder: "照片说明",
    "aria-label": "照片说明",
    value: photo.caption || "",
    disabled: photo.uploaded || visitState.readOnly,
    oninput: (event) => captionChanged(photo, event.target.value),
    onblur: (event) => releasePhoto(photo, event.target),
  });
  return h(
    "li",
    { class: "photo", dataset: { photoId: photo.id } },
    thumb,
    h(
      "div",
      { class: "photo-meta" },
      caption,
      h("span", { class: `photo-status ${kind}` }, text),
      visitState.readOnly
        ? null
        : h("button", { class: "button small delete-photo", type: "button", onclick: () => deletePhoto(photo) }, "删除"),
    ),
  );
}

const captionTimers = new Map();
/** The unsaved.js key of a photo's caption. */
const captionKey = (photoId) => `caption:${photoId}`;

function captionChanged(photo, caption) {
  unsaved.note(captionKey(photo.id), "caption", { photo_id: photo.id, caption });
  clearTimeout(captionTimers.get(photo.id));
  captionTimers.set(
    photo.id,
    setTimeout(async () => {
      captionTimers.delete(photo.id);
      // Typing keeps the upload waiting a little, so the caption goes with it.
      const updated = await visitsSync.updatePhoto(photo.id, { caption, hold_until: Date.now() + config.photoHoldMs });
      unsaved.settle(captionKey(photo.id), { caption }); // or uploaded already: nothing left to save
      if (updated) photo.caption = caption;
      setTimeout(kick, config.photoHoldMs + 100);
    }, config.saveDelayMs),
  );
}

/** Leaving the caption field: save it now and let the photo go. */
async function releasePhoto(photo, input) {
  const changes = { hold_until: 0 };
  if (captionTimers.has(photo.id)) {
    clearTimeout(captionTimers.get(photo.id));
    captionTimers.delete(photo.id);
    changes.caption = input.value;
  }
  const updated = await visitsSync.updatePhoto(photo.id, changes);
  if ("caption" in changes) unsaved.settle(captionKey(photo.id), { caption: changes.caption });
  if (updated) photo.caption = updated.caption;
  kick();
}

async function addFiles(itemId, files) {
  const visitState = state.current;
  if (!visitState || visitState.readOnly || !files.length) return;
  // Each file is kept as it came before it is decoded: a page closed or a browser killed while it is
  // prepared loses nothing (it is prepared at the next start).
  const kept = [];
  const loose = [];
  for (const file of files) {
    try {
      const fields = { visit_id: visitState.visit.id, item_id: itemId, device_id: state.deviceId };
      kept.push(await intake.keep(file, { ...fields, position: photos.recentPosition() }));
    } catch {
      loose.push(file); // not kept (a full phone): prepared at once as before; its smaller copy may still fit
    }
  }
  if (kept.length) await drawPhotos(itemId);
  await Promise.all(kept.map((record) => intake.prepare(record.id)));
  if (loose.length) await addLoose(visitState, itemId, loose);
}

/** Prepare and store files that could not be kept first (the way photos were added before photo-intake.js). */
async function addLoose(visitState, itemId, files) {
  const list = root.querySelector(`[data-item-id="${CSS.escape(itemId)}"] .photos`);
  const busy = h("li", { class: "meta busy" }, "正在处理照片…");
  list.append(busy);
  for (const file of files) {
    try {
      const prepared = await photos.preparePhoto(file);
      if (visitState.photos.some((p) => p.sha256 === prepared.sha256)) {
        toast("这张照片已经添加过了。", "warn");
        continue;
      }
      await ensureStarted(visitState);
      const position = photos.recentPosition();
      const record = await visitsSync.addPhoto({
        id: db.uuid(),
        visit_id: visitState.visit.id,
        item_id: itemId || null,
        caption: "",
        device_id: state.deviceId,
        hold_until: Date.now() + config.photoHoldMs,
        ...prepared,
        ...(position
          ? { latitude: position.latitude, longitude: position.longitude, accuracy_m: position.accuracy_m }
          : {}),
      });
      visitState.photos.push(record);
      if (!position) {
        // Never wait for GPS: the photo is saved now; a position found in time goes with the upload.
        photos.currentPosition().then((found) => {
          if (found) {
            visitsSync.updatePhoto(record.id, {
              latitude: found.latitude,
              longitude: found.longitude,
              accuracy_m: found.accuracy_m,
            });
          }
        });
      }
    } catch (error) {
      toast(`照片没有保存：${errorText(error)}`);
    }
  }
  busy.remove();
  if (state.current !== visitState) return;
  await photoAdded(visitState, itemId);
}

/** A photo of the visit on screen was stored: its item, the progress line, and the upload soon. */
async function photoAdded(visitState, itemId) {
  await drawPhotos(itemId);
  const item = itemId && itemsOf(visitState.checklist).find((i) => i.id === itemId);
  if (item) drawItemState(item);
  updateProgress();
  setTimeout(kick, config.photoHoldMs + 100);
  kick();
}

/** A kept file changed (photo-intake.js events): show it, or the photo made from it, on its item. */
async function intakeChanged(event) {
  const { visit_id: visitId, item_id: itemId, state: what, record } = event.detail;
  const visitState = state.current;
  if (!visitState || visitState.visit.id !== visitId || visitState.page !== "fill") return;
  if (what === "duplicate") toast("这张照片已经添加过了。", "warn");
  if (what !== "stored") {
    await drawPhotos(itemId || "");
    return;
  }
  if (!visitState.photos.some((p) => p.id === record.id)) visitState.photos.push(record);
  await ensureStarted(visitState); // started by photo-intake.js: the page's copy and badge follow
  if (state.current === visitState) await photoAdded(visitState, itemId || "");
}

/** When a visit's page opens: prepare what a closed page left of it (shown on its items meanwhile). */
export function resumeIntake(visitId) {
  intake.resume(visitId).catch(() => {}); // IndexedDB failed: tried again next time
}

async function deletePhoto(photo) {
  const visitState = state.current;
  if (!visitState || visitState.readOnly) return;
  await visitsSync.removePhoto(photo.id);
  visitState.photos = visitState.photos.filter((p) => p.id !== photo.id);
  await drawPhotos(photo.item_id || "");
  const item = photo.item_id && itemsOf(visitState.checklist).find((i) => i.id === photo.item_id);
  if (item) drawItemState(item);
  updateProgress();
  kick();
}


/** Show an outbox "photo" event (uploading / done / failed / waiting) on the photo's row. */
export function showPhotoEvent(event) {
  const { photo_id: photoId, state: upload, message } = event.detail;
  const el = root.querySelector(`[data-photo-id="${CSS.escape(photoId)}"] .photo-status`);
  if (!el) return;
  const labels = {
    uploading: ["上传中…", "busy"],
    done: ["已上传", "ok"],
    failed: [`失败：${message}`, "bad"],
    waiting: [`等待重试：${message}`, "warn"],
  };
  const [text, kind] = labels[upload] || ["", ""];
  el.textContent = text;
  el.className = `photo-status ${kind}`;
  if (upload === "done") {
    const caption = el.parentElement.querySelector(".caption");
    if (caption) caption.disabled = true;
  }
}

/** After a replay round: reload the visit's photos and redraw every photo list on the page. */
export async function redrawAllPhotos() {
  const visitState = state.current;
  if (!visitState) return;
  const fresh = (await db.photosOf(visitState.visit.id)).filter((p) => !p.deleted);
  if (state.current !== visitState) return; // another page by now: it loaded its own photos
  visitState.photos = fresh;
  const items = new Set(fresh.map((p) => p.item_id || ""));
  for (const el of root.querySelectorAll("[data-photos-for]")) items.add(el.dataset.photosFor);
  for (const itemId of items) drawPhotos(itemId);
}

// Photo rows exist only on the fill page, which loads this module: listen from then on.
outbox.events.addEventListener("photo", showPhotoEvent);
outbox.events.addEventListener("idle", redrawAllPhotos);
intake.events.addEventListener("intake", intakeChanged);
