// Shared mutable state of the inspector's app, in one place.
//
// ES modules cannot assign another module's `let` exports, so what several
// modules change lives on the `state` object; `config` is read-only after start.

import * as db from "./db.js";
import * as outbox from "./outbox.js";

const ROLE_KEY = "role";

/** Timings; tests (and field debugging) may set window.DUDAO_CONFIG before the app loads. */
export const config = {
  intervalMs: 30000,
  saveDelayMs: 300,
  photoHoldMs: 10000,
  lowStorageBytes: 50 * 1024 * 1024,
  ...(globalThis.DUDAO_CONFIG || {}),
};
outbox.configure(config);

export const state = {
  /** This phone's id (db.deviceId()), set at start. */
  deviceId: null,
  /** Bumped by every page draw; an async draw whose token is stale stops. */
  renderToken: 0,
  /** The service worker registration, once registered (for Background Sync). */
  swRegistration: null,
  /** {persisted, free} once navigator.storage has answered. */
  storageInfo: null,
  /** The visit on screen (fill or submit page), with everything needed to redraw parts of it. */
  current: null,
};

/** Start a page draw: returns a function telling whether a newer draw has started since. */
export function beginRender() {
  const token = ++state.renderToken;
  return () => token !== state.renderToken;
}

/** The signed-in user's role as last seen ("researcher", "inspector" …), asking the server when unknown. */
export async function role() {
  // Asked at start (app.js): no second GET /api/v1/me.
  const signedIn = outbox.state().user;
  if (signedIn) return signedIn.role;
  const known = await db.getMeta(db.userKey(ROLE_KEY), null);
  if (known) return known;
  if (navigator.onLine === false) return null;
  const session = await outbox.checkSession();
  if (session.type !== "ok") return null;
  await db.setMeta(db.userKey(ROLE_KEY), session.body.user.role);
  return session.body.user.role;
}

// Remembered for offline starts (the role decides the home page and which modules load).
outbox.events.addEventListener("auth", (event) => {
  if (event.detail.signed_in && event.detail.user) db.setMeta(db.userKey(ROLE_KEY), event.detail.user.role).catch(() => {});
});
