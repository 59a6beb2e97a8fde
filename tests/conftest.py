"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL points at one), a client, and factories."""

from __future__ import annotations

import contextvars
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.auth.models import User
from webapp.core.models import Assignment, County, School
from webapp.extensions import db

PASSWORD = "secret-pass-1"


def _postgres_url(url: str, schema: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run: a private schema on PostgreSQL, else a SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return
    schema = f"dudao_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def base_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Test settings: the given database, CSRF off (tests that check CSRF turn it on)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "STORAGE_DIR": str(tmp_path / "storage"),
        # A cheap hash in tests (scrypt costs ~0.1 s of CPU per sign-in and per account made); production keeps
        # scrypt (tests/test_passwords.py checks the default).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Photo copies are made at once, so tests can look at them after the request.
        "JOB_QUEUE": "inline",
    }


@pytest.fixture(scope="session")
def migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Apply the Alembic migrations once per run: tests use the real schema path."""
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("mig")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _wipe() -> None:
    with db.engine.begin() as conn:
        # The audit log refuses DELETE (triggers): lift them for the wipe only, inside its transaction.
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            guards = []
        else:
            guards = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
            ).all()
            for name, _ in guards:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        for _, sql in guards:
            conn.execute(text(sql))


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own context, as in production.

    The ``app`` fixture keeps an application context pushed for factories;
    without this, requests would reuse it and share ``g`` and the database
    session with the test (and with each other), hiding real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def make_app(migrated: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the migrated database; tables are emptied after the test."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**base_config(migrated, tmp_path), **overrides})
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps[:1]:
        with app.app_context():
            db.session.remove()
            _wipe()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The app, with an application context pushed for factories and queries."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


class Factory:
    """Make rows with sensible defaults; each call commits."""

    def __init__(self) -> None:
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def county(self, name: str | None = None, policy_set: str = "helan") -> County:
        """A county using ``policy_set``."""
        county = County(name=name or f"测试县{self._next()}", region="测试", policy_set=policy_set)
        db.session.add(county)
        db.session.commit()
        return county

    def school(self, county: County, **fields: Any) -> School:
        """A school in ``county`` (primary, town, not boarding unless told)."""
        n = self._next()
        values = {
            "code": f"S{n:03d}",
            "name": f"测试学校{n}",
            "stage": "primary",
            "location": "town",
            "enrolment": 300,
            "class_count": 8,
            "latitude": 38.5,
            "longitude": 106.3,
        }
        school = School(county_id=county.id, **{**values, **fields})
        db.session.add(school)
        db.session.commit()
        return school

    def user(self, role: str, county: County | None = None, schools: tuple[School, ...] = (), **fields: Any) -> User:
        """A user with ``role``, assigned to ``schools`` from 2020-01-01."""
        n = self._next()
        user = User(
            username=fields.pop("username", f"{role}{n}"),
            display_name=f"{role}{n}",
            role=role,
            county_id=county.id if county else None,
            **fields,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        for school in schools:
            db.session.add(Assignment(user_id=user.id, school_id=school.id, kind=role, starts_on=date(2020, 1, 1)))
        db.session.commit()
        return user


@pytest.fixture
def factory(app: Flask) -> Factory:
    """Row factories bound to ``app``."""
    return Factory()


def login(client: FlaskClient, user: User | str, password: str = PASSWORD) -> Any:
    """Sign in through the real form (with its CSRF token when the app checks them)."""
    import re

    username = user if isinstance(user, str) else user.username
    data = {"username": username, "password": password}
    if client.application.config.get("WTF_CSRF_ENABLED", True):
        page = client.get("/login").get_data(as_text=True)
        data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data=data)


# --- the real browser ---------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: bypass_csp: Playwright's polling helpers (wait_for_function with a string) evaluate code in the page, which the
#: app's Content-Security-Policy forbids; tests/test_security_headers.py runs the pages under the real policy.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "bypass_csp": True,
}


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (a free port) in a thread."""
    import threading

    from werkzeug.serving import make_server

    application = make_app()
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./dev.sh test, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser context (360 × 740, touch, zh-CN)."""
    context = browser.new_context(**PHONE)
    yield context
    context.close()


# --- visits -------------------------------------------------------------------


def jpeg_bytes(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 80, 40), **exif: Any) -> bytes:
    """A JPEG made here, optionally with EXIF orientation (``orientation=6``)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), color)
    tags = Image.Exif()
    if "orientation" in exif:
        tags[0x0112] = exif["orientation"]
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=tags.tobytes())
    return out.getvalue()


@pytest.fixture
def inspector_world(app: Flask, factory: Factory) -> dict[str, Any]:
    """A county on the 西吉 pack, two schools, their inspector and another inspector."""
    county = factory.county("西吉县", "xiji")
    school = factory.school(county, name="吉强镇中心小学", stage="primary", location="town")
    other_school = factory.school(county, name="兴隆镇中学", stage="junior")
    inspector = factory.user("inspector", county, (school,))
    rival = factory.user("inspector", county, (other_school,))
    return {"county": county, "school": school, "other_school": other_school, "inspector": inspector, "rival": rival}


# --- S3 (moto over real HTTP) ---------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on a free local port, for the whole run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug_server = getattr(server, "_server", None)
        if werkzeug_server is not None:
            werkzeug_server.server_close()


def s3_config(endpoint: str, bucket: str) -> dict[str, Any]:
    """App settings for S3-compatible storage at ``endpoint``."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY": "testing-key",
        "S3_SECRET_KEY": "testing-secret",
    }
