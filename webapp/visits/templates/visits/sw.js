/* 督导随行 service worker (a classic script, served from /sw.js with scope /).
 *
 * It precaches the versioned app shell and serves it cache-first, so the app
 * opens with no network at a school. It never caches /api/ responses: all
 * records live in IndexedDB, which is independent of this cache, so replacing
 * the worker or deleting an old cache can never lose a visit.
 *
 * Update policy: the new worker calls skipWaiting() on install and claims the
 * open pages on activate. That is safe because no data lives in the cache;
 * an open page keeps running the code it loaded and picks up the new shell on
 * its next load (the page shows a "刷新" notice).
 *
 * Version {{ version }} is a hash of the shell files made by the server.
 */
"use strict";

const VERSION = {{ version|tojson }};
const CACHE = "dudao-shell-" + VERSION;
/* [path, first 16 hex digits of the sha256 of its body] of each file of this version. */
const PRECACHE = {{ precache|tojson }};
const SHELL_URL = {{ url_for("visits.shell")|tojson }};
const SHELL_PREFIX = SHELL_URL;
const PRECACHED = new Set(PRECACHE.map(([path]) => new URL(path, self.location.origin).href));
/*
 * A role's own modules (教研员, 学校), by their entry module's URL: [path, sha] as above.
 * Not precached for everyone: kept once a page of that role asks ("dudao-keep"), and kept
 * again by every later version (an update must not leave a 教研员 without them offline).
 */
const FEATURES = {{ features|tojson }};
const KEEPABLE = new Set(
  Object.values(FEATURES)
    .flat()
    .map(([path]) => new URL(path, self.location.origin).href),
);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(PRECACHE.map(([path, sha]) => precache(cache, path, sha)));
      await keepAgain(cache);
      await self.skipWaiting();
    })(),
  );
});

/**
 * Store one file of this version. What the page has just loaded is in the browser's HTTP
 * cache: taken from there ("force-cache", no request) when its hash is this version's, so
 * nothing is downloaded twice; else asked from the server ("no-cache": revalidated).
 */
async function precache(cache, path, sha) {
  const request = (mode) => new Request(path, { cache: mode, credentials: "same-origin" });
  try {
    const cached = await fetch(request("force-cache"));
    if (cached.ok && !cached.redirected && (await shortHash(cached.clone())) === sha) {
      await cache.put(path, cached);
      return;
    }
  } catch (error) {
    /* not in the HTTP cache, or unreadable: ask the server */
  }
  const response = await fetch(request("no-cache"));
  // A signed-out user is redirected to the login page: never store that as the shell.
  if (!response.ok || response.redirected) {
    throw new Error("precache failed for " + path + ": " + response.status);
  }
  await cache.put(path, response);
}

/** Store a role feature's modules (those not stored yet); a failure leaves it to the next ask. */
async function keep(cache, entry) {
  const files = FEATURES[new URL(entry, self.location.origin).pathname] || [];
  await Promise.allSettled(
    files.map(async ([path, sha]) => {
      if (!(await cache.match(path))) await precache(cache, path, sha);
    }),
  );
}

/** The features an older version of this worker kept, kept by this one too. */
async function keepAgain(cache) {
  const kept = new Set();
  for (const name of await caches.keys()) {
    if (!name.startsWith("dudao-shell-") || name === CACHE) continue;
    for (const request of await (await caches.open(name)).keys()) kept.add(new URL(request.url).pathname);
  }
  await Promise.all(Object.keys(FEATURES).filter((entry) => kept.has(entry)).map((entry) => keep(cache, entry)));
}

async function shortHash(response) {
  const digest = await crypto.subtle.digest("SHA-256", await response.arrayBuffer());
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("dudao-shell-") && name !== CACHE).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The sync API always goes to the network; the page's outbox handles failure.
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL_PREFIX)) {
    event.respondWith(cacheFirst(SHELL_URL, request));
    return;
  }
  url.hash = "";
  if (PRECACHED.has(url.href) || KEEPABLE.has(url.href)) {
    event.respondWith(cacheFirst(url.pathname + url.search, request));
  }
});

/** The cached copy of `key`, else the network. */
async function cacheFirst(key, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(key, { ignoreVary: true });
  if (cached) return cached;
  return fetch(request);
}

// Background Sync: the worker cannot replay the outbox itself (it lives in the
// page's modules), so it asks every open page to do it.
self.addEventListener("sync", (event) => {
  if (event.tag !== "dudao-outbox") return;
  event.waitUntil(
    (async () => {
      const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const page of pages) page.postMessage({ type: "dudao-replay" });
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "dudao-keep" && typeof event.data.entry === "string") {
    event.waitUntil(caches.open(CACHE).then((cache) => keep(cache, event.data.entry)));
  }
  if (event.data && event.data.type === "dudao-version") {
    event.source && event.source.postMessage({ type: "dudao-version", version: VERSION });
  }
});
