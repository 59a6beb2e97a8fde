// Edits typed but not in IndexedDB yet. Saves wait for a short quiet after typing and IndexedDB
// answers asynchronously, so a tab closed, a link followed or a browser killed in that moment
// would lose what was just typed (a page being unloaded runs no more of its saves). Each edit is
// also kept here, synchronously (localStorage), as it is made, and forgotten once IndexedDB has
// it; at the next start what is left is saved (saving.js and lessons-sync.js recoverUnsaved).
//
// Entries by key (what they edit; a later edit of it replaces the entry):
//   {kind, owner, at, …fields}   kind "result" {visit_id, item_id, value, observation},
//                                "summary" {visit_id, summary}, "caption" {photo_id, caption} (saving.js),
//                                "activity" {record} (a 教研员's record, lessons-form.js and lessons-sync.js)
// Only the signed-in person's entries are recovered; another person's wait for them.

import { currentOwner } from "./db.js";

const KEY = "dudao-unsaved";

function read() {
  try {
    const all = JSON.parse(localStorage.getItem(KEY) || "{}");
    return all && typeof all === "object" ? all : {};
  } catch {
    return {};
  }
}

function write(all) {
  try {
    if (Object.keys(all).length) localStorage.setItem(KEY, JSON.stringify(all));
    else localStorage.removeItem(KEY);
  } catch {
    /* no localStorage (full, or refused): the debounced save is all there is, as before */
  }
}

/** Whether two saved values are the same (JSON values; absent and null alike). */
export const sameValue = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Keep an edit until IndexedDB has it.
 * @param {string} key what it edits ("result:<visit>:<item>" …)
 * @param {string} kind
 * @param {object} fields the whole edit (what its save writes)
 */
export function note(key, kind, fields) {
  const all = read();
  all[key] = { kind, owner: currentOwner(), at: Date.now(), ...fields };
  write(all);
}

/**
 * IndexedDB has `fields` for `key`: forget the entry, unless it holds a later edit (typed since the save began).
 * @param {string} key
 * @param {object} fields
 */
export function settle(key, fields) {
  const all = read();
  const entry = all[key];
  if (!entry || Object.entries(fields).some(([name, value]) => !sameValue(entry[name], value))) return;
  delete all[key];
  write(all);
}

/** Forget an entry (recovered, or nothing left to save). */
export function forget(key) {
  const all = read();
  if (!(key in all)) return;
  delete all[key];
  write(all);
}

/**
 * The signed-in person's entries of these kinds left unsaved, oldest first: [{key, kind, at, …fields}].
 * Each feature recovers its own kinds (another's may not be loaded yet).
 * @param {string[]} kinds
 */
export function left(kinds) {
  const owner = currentOwner();
  return Object.entries(read())
    .filter(([, entry]) => entry && (entry.owner ?? null) === owner && kinds.includes(entry.kind))
    .map(([key, entry]) => ({ ...entry, key }))
    .sort((a, b) => a.at - b.at);
}

/**
 * Save what is left of these kinds, oldest first: `apply(entry)` saves one and answers whether it changed
 * anything (false: IndexedDB had it after all, or it no longer applies). The entry is forgotten then; when
 * `apply` throws (IndexedDB failed) it is kept for the next start.
 * @param {string[]} kinds
 * @param {(entry: object) => Promise<boolean>} apply
 * @returns {Promise<number>} how many entries changed something
 */
export async function recover(kinds, apply) {
  let saved = 0;
  for (const entry of left(kinds)) {
    try {
      if (await apply(entry)) saved += 1;
      forget(entry.key);
    } catch {
      /* kept for the next start */
    }
  }
  return saved;
}
