"""``flask checklists`` and ``flask demo`` commands, and the migrations."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from openpyxl import load_workbook
from pyxform import xls2xform
from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.core.models import County, School
from webapp.extensions import db
from webapp.visits.models import Visit

POLICY_SETS = ["helan", "liaocheng", "xiji", "xinganmeng"]


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=list(args), catch_exceptions=False)
        return result

    return invoke


def test_validate(run):
    result = run("checklists", "validate")
    assert result.exit_code == 0
    assert "4 packs" in result.output and "all valid" in result.output


def test_list_prints_one_id_a_line(run):
    result = run("checklists", "list")
    assert result.output.split("\n")[:-1] == POLICY_SETS


@pytest.mark.parametrize("policy_set", POLICY_SETS)
def test_export_json(run, policy_set):
    result = run("checklists", "export", "--policy-set", policy_set, "--format", "json")
    assert result.exit_code == 0
    items = json.loads(result.output)
    assert len(items) >= 25
    for item in items:
        assert {"id", "title", "check", "applies_to", "checked_by", "sources"} <= set(item)
        assert {"scope", "binding", "status"} <= set(item) and item["status"] in ("in_force", "draft", "expired")
        assert item["status"] != "in_force" or policy_set != "liaocheng", "聊城's pack is a draft"
        assert item["id"].startswith(policy_set + ".")
        assert "type" in item["check"]
        if item["check"]["type"] == "count_per_period":
            assert item["check"]["count"] >= 1 and item["check"]["period"]
        if item["check"]["type"] in ("numeric", "percentage"):
            assert item["check"]["operator"]
        for source in item["sources"]:
            assert {"file", "doc_no", "section", "quote"} <= set(source)


@pytest.mark.parametrize("policy_set", POLICY_SETS)
def test_export_xlsform_converts_with_pyxform(run, policy_set, tmp_path):
    path = tmp_path / f"{policy_set}.xlsx"
    result = run(
        "checklists",
        "export",
        "--policy-set",
        policy_set,
        "--format",
        "xlsform",
        "--stage",
        "nine_year",
        "--location",
        "village",
        "--boarding",
        "--output",
        str(path),
    )
    assert result.exit_code == 0, result.output
    survey = load_workbook(path)["survey"]
    types = [row[0] for row in survey.iter_rows(min_row=2, values_only=True)]
    assert "begin_group" in types and types.count("begin_group") == types.count("end_group")
    # pyxform is what ODK Central and KoboToolbox use to turn an XLSForm into an XForm.
    out = tmp_path / "form.xml"
    xls2xform.xls2xform_convert(xlsform_path=str(path), xform_path=str(out))
    xml = out.read_text(encoding="utf-8")
    assert "<h:html" in xml and "dudao_" + policy_set in xml


def _survey_names(path) -> set[str]:
    survey = load_workbook(path)["survey"]
    return {row[1] for row in survey.iter_rows(min_row=2, values_only=True) if row[1]}


@pytest.mark.parametrize(
    ("policy_set", "stage", "trait", "item_id"),
    [
        ("xinganmeng", "primary", "minority_language", "xinganmeng.teaching.minority_language_school_plan"),
        ("liaocheng", "junior", "school_bus", "liaocheng.conditions.standard_canteen_bus"),
    ],
)
def test_export_xlsform_for_a_school_with_a_trait(run, tmp_path, policy_set, stage, trait, item_id):
    """An item addressed to schools with a trait (兴署发〔2025〕53 二(三)8: 原民族语言授课学校; 聊城 清单9:
    开通校车学校) is in the exported form of such a school, and only of such a school."""
    field = item_id.replace(".", "_")
    base = ["checklists", "export", "--policy-set", policy_set, "--format", "xlsform", "--stage", stage]
    base += ["--location", "village"]
    with_trait, without = tmp_path / "with.xlsx", tmp_path / "without.xlsx"
    result = run(*base, "--trait", trait, "--trait", "canteen", "--output", str(with_trait))
    assert result.exit_code == 0, result.output
    assert field in _survey_names(with_trait)
    assert run(*base, "--output", str(without)).exit_code == 0
    assert field not in _survey_names(without)


@pytest.mark.parametrize(("today", "given"), [(date(2026, 8, 31), False), (date(2026, 9, 1), True)])
def test_export_composes_for_the_day_in_china(run, tmp_path, monkeypatch, today, given):
    """兴署发〔2025〕53's 起始年级班额 binds from 2026-09-01 (effective_from): the exported form follows the day in
    China, as the web does, not the machine's own date."""
    monkeypatch.setattr("webapp.packs.cli.today_in_china", lambda: today)
    path = tmp_path / "form.xlsx"
    args = ["checklists", "export", "--policy-set", "xinganmeng", "--format", "xlsform", "--stage", "primary"]
    assert run(*args, "--location", "village", "--output", str(path)).exit_code == 0
    assert ("xinganmeng_conditions_class_size" in _survey_names(path)) is given


def test_export_refuses_an_unknown_trait(app):
    args = ["checklists", "export", "--policy-set", "xiji", "--format", "xlsform", "--trait", "nonsense"]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0 and "nonsense" in result.output


def test_export_unknown_policy_set_fails_clearly(app):
    result = app.test_cli_runner().invoke(args=["checklists", "export", "--policy-set", "nowhere"])
    assert result.exit_code != 0 and "unknown policy set 'nowhere'" in result.output


def test_xlsform_download_from_the_web(client, factory):
    from .conftest import login

    login(client, factory.user("admin"))
    response = client.get("/packs/liaocheng/xlsform.xlsx?stage=kindergarten&location=town")
    assert response.status_code == 200
    settings = load_workbook(io.BytesIO(response.data))["settings"]
    assert settings["B2"].value.startswith("dudao_liaocheng_routine_") and "征求意见稿" in settings["A2"].value


def test_demo_load_is_idempotent(run):
    first = run("demo", "load").output
    assert "created" in first and "planned" in first
    second = run("demo", "load").output
    assert "already loaded" in second and "planned" not in second
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(County)) == 4
    per_county = db.session.execute(select(School.county_id, func.count()).group_by(School.county_id)).all()
    assert all(10 <= n <= 15 for _, n in per_county)
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"inspector", "researcher", "reviewer", "admin", "school"}
    # Two 学校 accounts per county, each linked to a school of its own county.
    accounts = db.session.scalars(select(User).where(User.role == "school")).all()
    assert len(accounts) == 8 and all(u.school and u.school.county_id == u.county_id for u in accounts)
    assert all(s.latitude and s.longitude for s in db.session.scalars(select(School)))
    # Issue 8: school types with several sections, traits, and each county's own settings.
    schools = list(db.session.scalars(select(School)))
    assert {"nine_year", "twelve_year", "complete_secondary", "kindergarten"} <= {s.stage for s in schools}
    assert {"group_core", "township_central", "school_bus", "minority_language"} <= {
        t for s in schools for t in s.traits
    }
    assert all(("boarding" in s.traits) == s.is_boarding for s in schools)
    xinganmeng = db.session.scalar(select(County).where(County.name == "兴安盟"))
    assert xinganmeng.settings["acceptance_year"] == 2028
    assert all(any(s.stage == "kindergarten" for s in c.schools) for c in db.session.scalars(select(County)))
    planned = db.session.execute(
        select(Visit.inspector_id, func.count()).where(Visit.state == "planned").group_by(Visit.inspector_id)
    ).all()
    inspectors = db.session.scalars(select(User.id).where(User.role == "inspector")).all()
    assert {user_id for user_id, _ in planned} == set(inspectors)
    assert all(n == 3 for _, n in planned)


def test_models_match_the_migrations(app):
    """Schema changes must come with a migration (autogenerate finds nothing to add)."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
