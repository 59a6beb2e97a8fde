"""Gunicorn settings for dudao (``gunicorn -c gunicorn.conf.py wsgi:app``), every one from the environment.

- ``GUNICORN_BIND`` (default ``0.0.0.0:8000``)
- ``WEB_CONCURRENCY``: worker processes (default 2 per CPU core, at least 2)
- ``GUNICORN_THREADS``: threads per worker (default 4; requests mostly wait on the database and the object store)
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 60; the object store gives up
  after its own, shorter limits, see README)
- ``GUNICORN_GRACEFUL_TIMEOUT`` (default 30), ``GUNICORN_KEEPALIVE`` (default 5)
- ``GUNICORN_MAX_REQUESTS``: recycle a worker after this many requests (default 0: never)
"""

from __future__ import annotations

import gc
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("WEB_CONCURRENCY", max(2, 2 * (os.cpu_count() or 1)))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Off by default: each worker builds its own database pool and object-store client after the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") in ("1", "true", "yes")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_worker_init(worker: object) -> None:
    """Freeze what the worker holds after loading the app (modules, the app, its caches): the garbage
    collector then never scans those objects again. Each collection during a request walked all of them,
    about a fifth of a millisecond per visit-sync (measured); requests' own garbage is collected as before.
    """
    gc.freeze()
