"""Background jobs: the work a request should not wait for (photo thumbnails and metadata-free copies).

Where jobs run is configured by ``JOB_QUEUE``:

- ``rq``: an RQ queue on Redis (``REDIS_URL``, queue ``JOB_QUEUE_NAME``), run by ``python -m webapp.jobs
  worker``; the default when ``REDIS_URL`` is set.
- ``thread``: in this process, after the response has been sent (the embedded default).
- ``inline``: at once, inside the request (tests that look at the result right away).

Jobs are idempotent (content-addressed keys), so running one twice is harmless. A worker killed in the
middle of a job leaves it "started" in RQ's registry; RQ itself would give it up as abandoned only a
minute or more later, so the workers keep a short lease in Redis and requeue the started jobs of any
worker whose lease has lapsed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, after_this_request, current_app, has_app_context, has_request_context

log = logging.getLogger(__name__)

LEASE_PREFIX = "dudao:jobs:lease:"
_worker_app: Flask | None = None


def mode(app: Flask) -> str:
    """``rq``, ``thread`` or ``inline``."""
    configured = (app.config.get("JOB_QUEUE") or "").lower()
    if configured in ("rq", "thread", "inline"):
        return configured
    return "rq" if app.config.get("REDIS_URL") else "thread"


def queue_name(app: Flask) -> str:
    """The RQ queue this app's jobs go to."""
    return app.config.get("JOB_QUEUE_NAME") or "dudao"


def redis_connection(app: Flask) -> Any:
    """A Redis client for ``REDIS_URL`` (one per app)."""
    client = app.extensions.get("dudao.redis")
    if client is None:
        from redis import Redis

        client = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=3)
        app.extensions["dudao.redis"] = client
    return client


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Run ``func(*args)`` in the background as configured (a module-level function: RQ imports it by name)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    how = mode(app)
    if how == "inline":
        func(*args)
        return
    if how == "rq":
        from redis.exceptions import RedisError
        from rq import Queue, Retry

        try:
            queue = Queue(queue_name(app), connection=redis_connection(app))
            queue.enqueue(
                func, *args, job_timeout=300, retry=Retry(max=3, interval=[10, 60, 300]), failure_ttl=7 * 86400
            )
            return
        except RedisError as exc:
            # The upload is already safe in storage; make the copies here rather than fail the request.
            log.warning("job queue unavailable (%s); running %s in process", exc, func.__name__)
    _after_response(app, func, args)


def _after_response(app: Flask, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    def run() -> None:
        with app.app_context():
            try:
                func(*args)
            except Exception:  # logged: the job's effect is optional (a placeholder is served meanwhile)
                log.exception("background job %s failed", func.__name__)

    if has_request_context():

        @after_this_request
        def _schedule(response: Any) -> Any:
            response.call_on_close(run)
            return response

        return
    threading.Thread(target=run, daemon=True).start()


def job_app() -> Flask:
    """The app a job runs in: the current one, or (in an RQ worker) one made from the environment."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        from . import create_app

        _worker_app = create_app()
    return _worker_app


# --------------------------------------------------------------------------- jobs a page follows
#
# A long step (printing a report, writing an import) runs as a job; its files and its state live in storage
# under ``<kind>/u<user>/<token>/``, so only the person who asked can follow it, and any app server (or the
# RQ worker) can answer where it stands. The page polls a status endpoint until the state is done or failed.

STATE_FILE = "state.json"
_TOKEN_CHARS = frozenset("0123456789abcdef")


def new_token() -> str:
    """A fresh, unguessable job token."""
    return uuid.uuid4().hex


def valid_token(token: str) -> bool:
    """Whether ``token`` looks like one of ours (32 hex digits), before it goes into a storage key."""
    return len(token) == 32 and set(token) <= _TOKEN_CHARS


def job_prefix(kind: str, user_id: int, token: str) -> str:
    """The storage folder of one followed job of one person."""
    return f"{kind}/u{user_id}/{token}/"


def put_state(storage: Any, prefix: str, **state: Any) -> None:
    """Record where a followed job stands (``state``: running, done or failed, plus what the page shows)."""
    storage.put(prefix + STATE_FILE, json.dumps(state, ensure_ascii=False).encode("utf-8"), "application/json")


def get_state(storage: Any, prefix: str) -> dict[str, Any] | None:
    """Where a followed job stands, or None when there is no such job."""
    from sync.storage import ObjectNotFound

    try:
        return json.loads(storage.get(prefix + STATE_FILE))
    except ObjectNotFound:
        return None


# --------------------------------------------------------------------------- jobs


def derive_photo(original_key: str, thumb_key: str, public_key: str | None) -> None:
    """Make a stored photo's thumbnail and, if it carries metadata, its copy without (``public_key``)."""
    from sync.images import make_thumbnail, strip_metadata

    app = job_app()
    storage = app.extensions["dudao.storage"]
    max_pixels = app.config.get("IMAGE_MAX_PIXELS") or 24_000_000
    data = storage.get(original_key)
    if public_key and not storage.exists(public_key):
        storage.put(public_key, strip_metadata(data, max_pixels=max_pixels), "image/jpeg")
    if not storage.exists(thumb_key):
        storage.put(thumb_key, make_thumbnail(data, max_pixels=max_pixels), "image/jpeg")


# --------------------------------------------------------------------------- the worker


def requeue_orphans(connection: Any, name: str) -> list[str]:
    """Requeue the started jobs of queue ``name`` whose worker holds no lease (it died mid-job)."""
    from rq import Queue
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    queue = Queue(name, connection=connection)
    registry = StartedJobRegistry(queue=queue)
    requeued = []
    for job_id in registry.get_job_ids(cleanup=False):
        try:
            job = Job.fetch(job_id, connection=connection)
        except Exception:  # gone meanwhile
            continue
        if job.get_status(refresh=True) != JobStatus.STARTED:
            continue
        if job.worker_name and connection.exists(LEASE_PREFIX + job.worker_name):
            continue
        registry.remove_executions(job)
        queue.enqueue_job(job)
        requeued.append(job.id)
        log.warning("requeued job %s of a worker that stopped (%s)", job.id, job.worker_name)
    return requeued


def run_worker(app: Flask, burst: bool = False) -> None:
    """Work the app's queue; keep a lease while alive and requeue jobs of workers that died."""
    from rq import Queue, Worker

    connection = redis_connection(app)
    name = queue_name(app)
    lease = int(app.config.get("JOB_LEASE_SECONDS") or 15)
    worker_name = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    stop = threading.Event()

    def keep_lease() -> None:
        while not stop.is_set():
            try:
                connection.set(LEASE_PREFIX + worker_name, "1", ex=lease)
                requeue_orphans(connection, name)
            except Exception:
                log.exception("job lease upkeep failed")
            stop.wait(max(lease / 3, 0.5))

    connection.set(LEASE_PREFIX + worker_name, "1", ex=lease)
    requeue_orphans(connection, name)
    thread = threading.Thread(target=keep_lease, daemon=True)
    thread.start()
    try:
        worker = Worker([Queue(name, connection=connection)], connection=connection, name=worker_name)
        with app.app_context():
            worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()
        connection.delete(LEASE_PREFIX + worker_name)


def main(argv: list[str] | None = None) -> None:
    """``python -m webapp.jobs worker [--burst]``: run a worker for the configured queue."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "worker":
        raise SystemExit("usage: python -m webapp.jobs worker [--burst]")
    logging.basicConfig(level=logging.INFO)
    from . import create_app

    app = create_app()
    global _worker_app
    _worker_app = app
    run_worker(app, burst="--burst" in args)


if __name__ == "__main__":
    main()
