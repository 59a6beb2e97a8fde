// IndexedDB: the phone's copy of everything. All reads and writes go through here.
//
// Stores
//   visits      {id, school, checklist_version, visit_type, state, local_state, downloaded, …}
//   checklists  {version, sections, …}           one per checklist version (immutable)
//   schools     {id, name, code, profile…, checklist_version, downloaded}
//   results     {visit_id, item_id, value, observation, edited_at, write_id}   key [visit_id, item_id]
//   photos      {id, visit_id, item_id, blob, sha256, caption, captured_at, …, uploaded, deleted}
//   outbox      {seq, kind, id, visit_id, …, status}   autoIncrement: replay order is seq order
//   receipts    {visit_id, …}                    the last receipt the server gave per visit
//   meta        {key, value}                      device_id, last_contact_at, persisted …
//   activities  {id, kind, occurred_on, school_id, …, write_id, edited_at, synced_write_id}   教研员 records (v2)
//   activity_photos {id, activity_id, blob, sha256, caption, …, uploaded, deleted}           their photos (v2)
//   photo_intake {id, visit_id, item_id, blob, caption, captured_at, attempts, last_error, …}  a photo's file as the
//                camera gave it, kept until its prepared copy is in `photos` (photo-intake.js) (v3)
//
// Owners: a phone may be shared. Records of the stores in OWNED carry `owner`, the id
// of the user who recorded (or downloaded) them; every read through this module sees
// only the current owner's records (`setOwner`, from the signed-in user) and every
// write stamps new records with it. Another user neither sees nor sends them: they
// wait until their owner signs in again. Records from before owners existed are
// adopted by the first user who signs in (`setOwner` says how many).
//
// iOS Safari closes IndexedDB connections under memory pressure (and after the
// app was in the background); a transaction then throws InvalidStateError or
// "UnknownError: Connection to Indexed Database server lost". Every operation
// reopens the database and retries once instead of losing the inspector's save.

const DB_NAME = "dudao";
const DB_VERSION = 3;

/** Store names, so callers cannot misspell them. */
export const S = Object.freeze({
  visits: "visits",
  checklists: "checklists",
  schools: "schools",
  results: "results",
  photos: "photos",
  outbox: "outbox",
  receipts: "receipts",
  meta: "meta",
  activities: "activities",
  activityPhotos: "activity_photos",
  photoIntake: "photo_intake",
});

/** Stores whose records belong to the user who made them. */
const OWNED = new Set([
  S.visits,
  S.results,
  S.photos,
  S.outbox,
  S.receipts,
  S.activities,
  S.activityPhotos,
  S.photoIntake,
]);
let owner = null; // the signed-in user's id (or the last one seen, offline)

/** Fired on `events`: "versionchange" when a newer app version needs the database. */
export const events = new EventTarget();

let connecting = null; // Promise<IDBDatabase> of the open connection
let current = null; // that connection, once open

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore(S.visits, { keyPath: "id" });
    db.createObjectStore(S.checklists, { keyPath: "version" });
    db.createObjectStore(S.schools, { keyPath: "id" });
    const results = db.createObjectStore(S.results, { keyPath: ["visit_id", "item_id"] });
    results.createIndex("visit_id", "visit_id");
    const photos = db.createObjectStore(S.photos, { keyPath: "id" });
    photos.createIndex("visit_id", "visit_id");
    const outbox = db.createObjectStore(S.outbox, { keyPath: "seq", autoIncrement: true });
    outbox.createIndex("visit_id", "visit_id");
    db.createObjectStore(S.receipts, { keyPath: "visit_id" });
    db.createObjectStore(S.meta, { keyPath: "key" });
  }
  if (oldVersion < 2) {
    // 教研员 lesson log (lessons-*.js).
    db.createObjectStore(S.activities, { keyPath: "id" });
    const activityPhotos = db.createObjectStore(S.activityPhotos, { keyPath: "id" });
    activityPhotos.createIndex("activity_id", "activity_id");
  }
  if (oldVersion < 3) {
    // Photos not prepared yet (photo-intake.js). Only a new store: a phone's records stay as they are.
    const intake = db.createObjectStore(S.photoIntake, { keyPath: "id" });
    intake.createIndex("visit_id", "visit_id");
  }
  // Later versions add steps here; never drop a store that may hold unsynced records.
}

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion);
    request.onsuccess = () => {
      const db = request.result;
      // A newer version of the app (another tab) wants to upgrade: let it, and tell the page.
      db.onversionchange = () => {
        db.close();
        forget(db);
        events.dispatchEvent(new Event("versionchange"));
      };
      // Closed by the browser (memory pressure, storage cleared): reopen on next use.
      db.onclose = () => forget(db);
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => {
      /* an old tab still has it open; it closes on versionchange */
    };
  });
}

function connection() {
  if (!connecting) {
    connecting = open().then(
      (db) => {
        current = db;
        return db;
      },
      (error) => {
        connecting = null;
        throw error;
      },
    );
  }
  return connecting;
}

function forget(db) {
  if (current === db) {
    current = null;
    connecting = null;
  }
}

function dropConnection() {
  if (current) {
    try {
      current.close();
    } catch {
      /* already closed */
    }
  }
  current = null;
  connecting = null;
}

function isClosedConnection(error) {
  if (!error) return false;
  if (error.name === "InvalidStateError" || error.name === "UnknownError") return true;
  return /connection|closing|closed/i.test(String(error.message || ""));
}

/** Promise of an IDBRequest's result. */
export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function run(db, names, mode, body, raw = false) {
  return new Promise((resolve, reject) => {
    // Throws InvalidStateError at once if the connection is closing: caught by the executor.
    const tx = db.transaction(names, mode);
    let result;
    let failed = false;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => {
      if (!failed) reject(tx.error || new DOMException("事务已中止", "AbortError"));
    };
    const stores = {};
    for (const name of names) {
      const store = tx.objectStore(name);
      stores[name] = !raw && OWNED.has(name) ? ownedStore(store) : store;
    }
    let out;
    try {
      out = body(stores, tx);
    } catch (error) {
      failed = true;
      try {
        tx.abort();
      } catch {
        /* already finished */
      }
      reject(error);
      return;
    }
    Promise.resolve(out).then(
      (value) => {
        result = value;
      },
      (error) => {
        failed = true;
        try {
          tx.abort();
        } catch {
          /* already finished */
        }
        reject(error);
      },
    );
  });
}

/**
 * Run `body(stores, tx)` in one transaction over `names`; resolve with its result
 * once the transaction has committed (so "saved" means on disk).
 * `body` may only wait on IndexedDB requests (use `req`), not on other promises.
 * A closed connection is reopened and the whole transaction retried once.
 * @template T
 * @param {string[]} names
 * @param {"readonly"|"readwrite"} mode
 * @param {(stores: Record<string, IDBObjectStore>, tx: IDBTransaction) => T|Promise<T>} body
 * @returns {Promise<T>}
 */
export async function transaction(names, mode, body, raw = false) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const db = await connection();
      return await run(db, names, mode, body, raw);
    } catch (error) {
      if (attempt === 1 && isClosedConnection(error)) {
        dropConnection();
        continue;
      }
      throw error;
    }
  }
}

// --- owners -------------------------------------------------------------------

function mine(record) {
  return (record.owner ?? null) === owner;
}

/** A request-like object (for `req`) whose result is `pick(request.result)`. */
function filtered(request, pick) {
  const out = { result: undefined, error: null, onsuccess: null, onerror: null };
  request.onsuccess = (event) => {
    out.result = pick(request.result);
    if (out.onsuccess) out.onsuccess(event);
  };
  request.onerror = (event) => {
    out.error = request.error;
    if (out.onerror) out.onerror(event);
  };
  return out;
}

function readers(source) {
  return {
    get: (key) => filtered(source.get(key), (r) => (r && mine(r) ? r : undefined)),
    getAll: (query) => filtered(source.getAll(query), (rows) => rows.filter(mine)),
  };
}

/** An object store seen as the current owner: others' records are absent, new ones are stamped. */
function ownedStore(store) {
  const stamp = (value) => ({ ...value, owner: value.owner === undefined ? owner : value.owner });
  return {
    ...readers(store),
    put: (value, key) => store.put(stamp(value), key),
    add: (value, key) => store.add(stamp(value), key),
    delete: (key) => store.delete(key),
    index: (name) => readers(store.index(name)),
  };
}

/** The user whose records are shown and sent (null before anyone signed in). */
export function currentOwner() {
  return owner;
}

/** At start: the last signed-in user owns what is shown until the server says who is signed in. */
export async function restoreOwner() {
  owner = await getMeta("owner", null);
  return owner;
}

/**
 * The signed-in user (from the server). Records with no owner yet (made before owners
 * existed) are adopted by the first user who signs in; returns how many were adopted.
 * @param {number|string} userId
 * @returns {Promise<{changed: boolean, adopted: number}>} changed: another user's records were the ones shown
 */
export async function setOwner(userId) {
  // From nobody (a first sign-in) is no change: nothing of anyone else's was shown.
  const changed = owner !== null && owner !== userId;
  owner = userId;
  const adopted = await transaction([...OWNED, S.meta], "readwrite", async (s) => {
    await req(s[S.meta].put({ key: "owner", value: userId }));
    if (await req(s[S.meta].get("owners_adopted"))) return 0;
    await req(s[S.meta].put({ key: "owners_adopted", value: userId }));
    let n = 0;
    for (const name of OWNED) {
      for (const record of await req(s[name].getAll())) {
        if (record.owner !== undefined && record.owner !== null) continue;
        await req(s[name].put({ ...record, owner: userId }));
        if (name !== S.receipts) n += 1;
      }
    }
    return n;
  }, true);
  return { changed, adopted };
}

/** How many outbox entries of other users wait on this phone (their content is not shown). */
export function othersWaiting() {
  return transaction([S.outbox], "readonly", async (s) => {
    const rows = await req(s[S.outbox].getAll());
    return rows.filter((r) => !mine(r)).length;
  }, true);
}

/** A meta key that is the current user's own (their role, their bundle). */
export function userKey(key) {
  return `${key}@${owner ?? ""}`;
}

/** One record by key (undefined when absent). */
export function get(store, key) {
  return transaction([store], "readonly", (s) => req(s[store].get(key)));
}

/** All records of a store, or of one index value (`index`, `value`). */
export function all(store, index, value) {
  return transaction([store], "readonly", (s) => {
    const source = index ? s[store].index(index) : s[store];
    return req(index ? source.getAll(IDBKeyRange.only(value)) : source.getAll());
  });
}

/** Insert or replace a record. */
export function put(store, value) {
  return transaction([store], "readwrite", (s) => req(s[store].put(value)));
}

/** Delete a record by key (deleting a missing key is fine). */
export function remove(store, key) {
  return transaction([store], "readwrite", (s) => req(s[store].delete(key)));
}

/**
 * Read-modify-write one record atomically: `change(old)` returns the new record,
 * or undefined to leave it as it is.
 */
export function update(store, key, change) {
  return transaction([store], "readwrite", async (s) => {
    const old = await req(s[store].get(key));
    const next = change(old);
    if (next !== undefined) await req(s[store].put(next));
    return next === undefined ? old : next;
  });
}

/** A value from the meta store. */
export async function getMeta(key, fallback = null) {
  const row = await get(S.meta, key);
  return row === undefined ? fallback : row.value;
}

/** Set a value in the meta store. */
export function setMeta(key, value) {
  return put(S.meta, { key, value });
}

/**
 * For tests: close the connection behind this module's back, as iOS Safari
 * does under memory pressure. The next operation must reopen and succeed.
 */
export async function simulateConnectionLoss() {
  const db = await connection();
  db.close();
}

/** A random UUID (v4), also where crypto.randomUUID is missing (older iOS). */
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** This phone's id (a UUID made once and kept in IndexedDB). */
export function deviceId() {
  return transaction([S.meta], "readwrite", async (s) => {
    const row = await req(s[S.meta].get("device_id"));
    if (row) return row.value;
    const value = uuid();
    await req(s[S.meta].put({ key: "device_id", value }));
    return value;
  });
}

// --- domain reads -----------------------------------------------------------

/** The results recorded for a visit, as a Map item_id → record. */
export async function resultsOf(visitId) {
  const rows = await all(S.results, "visit_id", visitId);
  return new Map(rows.map((row) => [row.item_id, row]));
}

/** The photos of a visit in the order they were taken (deleted ones included; callers filter). */
export async function photosOf(visitId) {
  const rows = await all(S.photos, "visit_id", visitId);
  const taken = (photo) => String(photo.created_at || photo.captured_at || "");
  return rows.sort((a, b) => taken(a).localeCompare(taken(b)));
}

/** A checklist version's content. */
export function checklist(version) {
  return get(S.checklists, version);
}
