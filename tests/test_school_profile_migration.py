"""Migration c6000000c0de: longer school types, traits (boarding carried over), county settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.extensions import db

from .conftest import _postgres_url, base_config


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own (the session one is already at head)."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migration.sqlite3")
        return
    schema = f"dudao_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_upgrade_keeps_schools_and_marks_boarding_ones(empty_database, tmp_path):
    app = create_app(base_config(empty_database, tmp_path))
    with app.app_context():
        upgrade(revision="b5000000c0de")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO counties (name, region, policy_set, created_at) "
                    "VALUES ('甲县', '', 'helan', '2026-01-01 00:00:00')"
                )
            )
            county_id = conn.execute(text("SELECT id FROM counties")).scalar_one()
            for code, boarding in (("B1", True), ("D1", False)):
                conn.execute(
                    text(
                        "INSERT INTO schools (county_id, code, name, stage, location, is_boarding, enrolment, "
                        "class_count, group_name, created_at, updated_at) VALUES (:c, :code, :code, 'primary', "
                        "'town', :b, 0, 0, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"c": county_id, "code": code, "b": boarding},
                )
        upgrade(revision="c6000000c0de")
        with db.engine.begin() as conn:
            rows = dict(conn.execute(text("SELECT code, traits FROM schools")).all())
            settings = conn.execute(text("SELECT settings FROM counties")).scalar_one()
            # The longer type codes fit now.
            conn.execute(text("UPDATE schools SET stage = 'complete_secondary' WHERE code = 'D1'"))
        decode = db.JSON().result_processor(db.engine.dialect, None)

        def value(raw):
            return decode(raw) if decode and isinstance(raw, str) else raw

        assert value(rows["B1"]) == ["boarding"]
        assert value(rows["D1"]) == []
        assert value(settings) == {}
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE schools SET stage = 'junior' WHERE code = 'D1'"))
        downgrade(revision="b5000000c0de")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in db.inspect(conn).get_columns("schools")}
        assert "traits" not in columns
        db.engine.dispose()
