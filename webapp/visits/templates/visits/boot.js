// Inlined into the shell page (visits/routes.py boot_script; the page's CSP allows it by its
// hash): the session check (GET /api/v1/me, which the first draw waits for) leaves with the
// page, beside the module downloads instead of after them, and costs no request of its own.
// app.js hands the answer to outbox.call (takeEarly). Offline it asks nothing.

if (navigator.onLine !== false) {
  const me = fetch("/api/v1/me", {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    cache: "no-store",
  });
  me.catch(() => {}); // a failure is read (and reported) by whoever takes it
  window.dudaoEarly = { "/api/v1/me": me };
}
