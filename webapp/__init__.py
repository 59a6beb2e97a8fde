"""dudao (督导随行): the Flask application factory."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from checklists import PACKS_DIR, load_packs

from .extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).with_name("migrations"))


def _secret_key(instance_path: str) -> str:
    """A per-installation secret kept in the instance folder.

    Production sets DUDAO_SECRET_KEY (shared by every app server); the
    embedded default keeps one on disk so sessions survive a restart.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _defaults(app: Flask) -> dict[str, Any]:
    database_url = os.environ.get("DATABASE_URL") or ("sqlite:///" + os.path.join(app.instance_path, "dudao.sqlite3"))
    # SQLAlchemy wants the psycopg 3 driver named explicitly.
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A pre-ping costs a round trip on every checkout (every request). Off by default: a connection the
        # database dropped fails one request with 503 (the phone retries), the pool replaces it, and
        # connections are recycled before common idle timeouts. DUDAO_DB_POOL_PRE_PING=1 turns it on.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": os.environ.get("DUDAO_DB_POOL_PRE_PING", "0").lower() in ("1", "true", "yes"),
            "pool_recycle": 1800,
        },
        # Werkzeug's scrypt (about 0.1 s of CPU per hash): slow on purpose against offline guessing.
        "PASSWORD_HASH_METHOD": "scrypt",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Remember-me: at most 30 days, same-site, and tied to the session generation (revocable).
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": 14 * 24 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "IMPORT_MAX_ROWS": 5000,
    }


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then ``DUDAO_*`` environment variables, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(_defaults(app))
    app.config.from_prefixed_env("DUDAO")
    if test_config:
        app.config.from_mapping(test_config)
    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind N trusted proxies: the client address (login throttling) and scheme come from their headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    login_manager.init_app(app)
    csrf.init_app(app)
    # Packs are files in the release: load (and validate) them once per process.
    app.extensions["dudao.packs"] = load_packs(Path(app.config.get("PACKS_DIR") or PACKS_DIR))

    from sync.storage import storage_from_config

    app.config.setdefault("STORAGE_DIR", os.path.join(app.instance_path, "photos"))
    app.extensions["dudao.storage"] = storage_from_config({**app.config, "SECRET_KEY": app.config["SECRET_KEY"]})

    _register(app)
    return app


def _register(app: Flask) -> None:
    from . import compression, errors, guard, headers, templating
    from .apidoc import bp as openapi_bp
    from .auth import login as auth_login
    from .auth import throttle
    from .auth.admin import bp as users_bp
    from .auth.routes import bp as auth_bp
    from .bureau import setup as bureau
    from .core.profile_routes import bp as profiles_bp
    from .core.routes import bp as core_bp
    from .demo.cli import demo_cli
    from .imports.routes import bp as imports_bp
    from .lessons import register as register_lessons
    from .notices import setup as notices
    from .packs.cli import checklists_cli
    from .packs.routes import bp as packs_bp
    from .schools import setup as schools
    from .storage_cli import storage_cli
    from .visits.api import bp as api_bp
    from .visits.batch import bp as sync_bp
    from .visits.media import bp as media_bp
    from .visits.routes import bp as visits_bp
    from .visits.uploads import bp as uploads_bp

    auth_login.init(app)
    errors.init(app)
    templating.init(app)
    compression.init(app)
    headers.init(app)
    for blueprint in (
        auth_bp,
        users_bp,
        core_bp,
        profiles_bp,
        packs_bp,
        imports_bp,
        api_bp,
        sync_bp,
        uploads_bp,
        media_bp,
        openapi_bp,
        visits_bp,
    ):
        app.register_blueprint(blueprint)
    bureau.init(app)
    register_lessons(app)
    schools.init(app)
    notices.init(app)
    throttle.init(app)  # wraps the registered sign-in view
    app.cli.add_command(checklists_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(storage_cli)
    guard.init(app)  # last, as it puts itself first: before CSRF and every other hook
