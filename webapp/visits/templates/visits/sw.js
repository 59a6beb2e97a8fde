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
const PRECACHE = {{ precache|tojson }};
const SHELL_URL = {{ url_for("visits.shell")|tojson }};
const SHELL_PREFIX = SHELL_URL;
const PRECACHED = new Set(PRECACHE.map((path) => new URL(path, self.location.origin).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        PRECACHE.map(async (path) => {
          // "no-cache" revalidates with the server: what the page has just loaded comes back as a
          // 304 from the HTTP cache instead of being downloaded twice, and a changed file is refetched.
          const response = await fetch(new Request(path, { cache: "no-cache", credentials: "same-origin" }));
          // A signed-out user is redirected to the login page: never store that as the shell.
          if (!response.ok || response.redirected) {
            throw new Error("precache failed for " + path + ": " + response.status);
          }
          await cache.put(path, response);
        }),
      );
      await self.skipWaiting();
    })(),
  );
});

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
  if (PRECACHED.has(url.href)) {
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
  if (event.data && event.data.type === "dudao-version") {
    event.source && event.source.postMessage({ type: "dudao-version", version: VERSION });
  }
});
