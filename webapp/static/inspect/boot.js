// Started by the shell page before app.js and its modules arrive: the session check
// (GET /api/v1/me, which the first draw waits for) travels beside the module downloads
// instead of after them. app.js hands the answer to outbox.call (takeEarly).
//
// No imports, so it runs as soon as it is fetched; offline it asks nothing.

if (navigator.onLine !== false) {
  const me = fetch("/api/v1/me", {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
  me.catch(() => {}); // a failure is read (and reported) by whoever takes it
  window.dudaoEarly = { "/api/v1/me": me };
}
