"""Every route, every role: who gets in, who is refused.

The table below must name every endpoint the app has; a new route without an
entry fails ``test_every_route_is_in_the_table``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import select

from webapp.core.models import Term
from webapp.extensions import db
from webapp.lessons.models import Activity
from webapp.schools.models import SelfReport
from webapp.visits.operations import plan_visit

from .bureau_support import authorization_rows
from .conftest import login

ROLES = ("anonymous", "inspector", "researcher", "reviewer", "admin", "school")
SIGNED_IN = {"inspector": 200, "researcher": 200, "reviewer": 200, "admin": 200, "school": 200, "anonymous": 302}
INSPECTOR_API = {"inspector": 200, "researcher": 403, "reviewer": 403, "admin": 403, "school": 403, "anonymous": 401}
BUREAU_ONLY = {"inspector": 403, "researcher": 403, "reviewer": 200, "admin": 200, "school": 403, "anonymous": 302}
RESEARCHER_API = {"inspector": 403, "researcher": 200, "reviewer": 403, "admin": 403, "school": 403, "anonymous": 401}
UPLOADERS_API = {"inspector": 404, "researcher": 404, "reviewer": 403, "admin": 403, "school": 403, "anonymous": 401}
UPLOADERS_400 = {"inspector": 400, "researcher": 400}
ADMIN_ONLY = {"inspector": 403, "researcher": 403, "reviewer": 403, "admin": 200, "school": 403, "anonymous": 302}
RESEARCHER_ONLY = {"inspector": 403, "researcher": 200, "reviewer": 403, "admin": 403, "school": 403, "anonymous": 302}
#: The school's phone API: 学校 accounts only.
SCHOOL_API = {**dict.fromkeys(ROLES, 403), "school": 200, "anonymous": 401}


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: str  # formatted with the world's ids
    expected: dict[str, int]
    data: dict | None = None
    json: dict | None = None


CASES = [
    Case("auth.login", "GET", "/login", {**dict.fromkeys(ROLES, 302), "anonymous": 200}),
    Case("auth.login", "POST", "/login", dict.fromkeys(ROLES, 422), data={}),
    Case("core.home", "GET", "/", SIGNED_IN),
    Case("core.schools", "GET", "/schools", SIGNED_IN),
    Case("users.index", "GET", "/users", BUREAU_ONLY),
    # The inspector's own school (also the 学校 account's); the researcher's own school.
    Case("core.school", "GET", "/schools/{inspected}", {**SIGNED_IN, "researcher": 403}),
    Case("core.school", "GET", "/schools/{researched}", {**SIGNED_IN, "inspector": 403, "school": 403}),
    # A school of the same county nobody here is assigned to.
    Case(
        "core.school", "GET", "/schools/{unassigned}", {**SIGNED_IN, "inspector": 403, "researcher": 403, "school": 403}
    ),
    # A school of another county: only the admin.
    Case("core.school", "GET", "/schools/{foreign}", {**dict.fromkeys(ROLES, 403), "admin": 200, "anonymous": 302}),
    Case("core.school", "GET", "/schools/999999", {**dict.fromkeys(ROLES, 404), "anonymous": 302}),
    # The bureau edits a school's traits and its county's settings (their own county; the admin all).
    Case("profiles.school_traits", "GET", "/schools/{inspected}/traits", BUREAU_ONLY),
    Case("profiles.school_traits", "GET", "/schools/{foreign}/traits", {**BUREAU_ONLY, "reviewer": 403}),
    Case(
        "profiles.school_traits",
        "POST",
        "/schools/{inspected}/traits",
        {**BUREAU_ONLY, "reviewer": 302, "admin": 302},
        data={"traits": ["canteen"]},
    ),
    Case("profiles.county_settings_form", "GET", "/counties/{home_county}/settings", BUREAU_ONLY),
    Case("profiles.county_settings_form", "GET", "/counties/{other_county}/settings", {**BUREAU_ONLY, "reviewer": 403}),
    Case(
        "profiles.county_settings_form",
        "POST",
        "/counties/{home_county}/settings",
        {**BUREAU_ONLY, "reviewer": 302, "admin": 302},
        data={},
    ),
    Case("packs.index", "GET", "/packs/", SIGNED_IN),
    Case("packs.show", "GET", "/packs/helan", SIGNED_IN),
    Case("packs.show", "GET", "/packs/nowhere", {**dict.fromkeys(ROLES, 404), "anonymous": 302}),
    Case("packs.compose_view", "GET", "/packs/xiji/compose?stage=junior", SIGNED_IN),
    Case("packs.items_json", "GET", "/packs/xiji/items.json", SIGNED_IN),
    Case("packs.xlsform", "GET", "/packs/xiji/xlsform.xlsx", SIGNED_IN),
    Case("imports.form", "GET", "/admin/import/", BUREAU_ONLY),
    Case("imports.upload", "POST", "/admin/import/", {**BUREAU_ONLY, "reviewer": 422, "admin": 422}, data={}),
    Case("imports.template", "GET", "/admin/import/template/schools.csv", BUREAU_ONLY),
    Case("imports.template_xlsx", "GET", "/admin/import/template/schools.xlsx", BUREAU_ONLY),
    # An import job nobody here started (a job is followed only by the person who confirmed it).
    Case("imports.job", "GET", "/admin/import/jobs/" + "0" * 32, {**BUREAU_ONLY, "reviewer": 404, "admin": 404}),
    # The sync API: inspectors only; other roles get JSON 403, anonymous JSON 401.
    Case("api.me", "GET", "/api/v1/me", {**SIGNED_IN, "anonymous": 401}),
    Case("api.list_visits", "GET", "/api/v1/visits", INSPECTOR_API),
    Case("api.plan", "POST", "/api/v1/visits", {**INSPECTOR_API, "inspector": 422}, json={}),
    Case("api.school_bundle_view", "GET", "/api/v1/schools/{inspected}/bundle", INSPECTOR_API),
    Case("api.school_bundle_view", "GET", "/api/v1/schools/{unassigned}/bundle", {**INSPECTOR_API, "inspector": 403}),
    Case("api.school_bundle_view", "GET", "/api/v1/schools/{foreign}/bundle", {**INSPECTOR_API, "inspector": 403}),
    Case("api.bundle", "GET", "/api/v1/visits/{visit}/bundle", INSPECTOR_API),
    Case("api.bundle", "GET", "/api/v1/visits/{foreign_visit}/bundle", {**INSPECTOR_API, "inspector": 404}),
    Case("api.get_receipt", "GET", "/api/v1/visits/{visit}/receipt", INSPECTOR_API),
    Case("api.get_receipt", "GET", "/api/v1/visits/{foreign_visit}/receipt", {**INSPECTOR_API, "inspector": 404}),
    Case("api.put_visit", "PUT", "/api/v1/visits/{visit}", {**INSPECTOR_API, "inspector": 422}, json={}),
    Case(
        "api.post_results",
        "POST",
        "/api/v1/visits/{foreign_visit}/results",
        {**INSPECTOR_API, "inspector": 422},
        json={},
    ),
    Case(
        "api.put_photo",
        "PUT",
        "/api/v1/visits/{foreign_visit}/photos/{photo}",
        {**INSPECTOR_API, "inspector": 422},
        data={},
    ),
    Case(
        "api.delete_photo",
        "DELETE",
        "/api/v1/visits/{foreign_visit}/photos/{photo}",
        {**INSPECTOR_API, "inspector": 404},
    ),
    Case("openapi.openapi_json", "GET", "/api/openapi.json", dict.fromkeys(ROLES, 200)),
    # Signed media URLs: the signature is the permission, so nobody gets in without one.
    Case("media.serve", "GET", "/media/photos/thumb/ab/x.jpg", dict.fromkeys(ROLES, 403)),
    # The offline app: the shell for inspectors and 教研员; its service worker and manifest are public.
    Case(
        "visits.shell",
        "GET",
        "/inspect/",
        {**dict.fromkeys(ROLES, 403), "inspector": 200, "researcher": 200, "school": 200, "anonymous": 302},
    ),
    Case("visits.service_worker", "GET", "/sw.js", dict.fromkeys(ROLES, 200)),
    Case("visits.manifest", "GET", "/manifest.webmanifest", dict.fromkeys(ROLES, 200)),
    Case("core.favicon", "GET", "/favicon.ico", dict.fromkeys(ROLES, 200)),
    # 教研员 lesson log: their own pages and API; the bureau's table, drill-down, coverage and exports.
    Case("lessons.mine", "GET", "/lessons/", RESEARCHER_ONLY),
    Case("lessons.record", "GET", "/lessons/records/{activity}", {**SIGNED_IN, "inspector": 404, "school": 404}),
    Case("lessons.record", "GET", "/lessons/records/nowhere", {**dict.fromkeys(ROLES, 404), "anonymous": 302}),
    Case("lessons.bureau", "GET", "/lessons/bureau", BUREAU_ONLY),
    Case("lessons.researcher", "GET", "/lessons/bureau/researchers/{researcher_user}", BUREAU_ONLY),
    Case("lessons.researcher", "GET", "/lessons/bureau/researchers/{outsider}", {**BUREAU_ONLY, "reviewer": 404}),
    Case(
        "lessons.profile",
        "POST",
        "/lessons/bureau/researchers/{researcher_user}/profile",
        {**BUREAU_ONLY, "reviewer": 302, "admin": 302},
        data={},
    ),
    # The batch sync: inspectors and 教研员 (each entry then checks its kind's role); an empty batch is 422.
    Case(
        "sync_api.sync_batch",
        "POST",
        "/api/v1/sync",
        {**INSPECTOR_API, "inspector": 422, "researcher": 422},
        json={"entries": []},
    ),
    # Resumable photo uploads: inspectors and 教研员 (nothing uploaded yet: 404; a PUT without a range: 400).
    Case("uploads_api.upload_state", "GET", "/api/v1/uploads/" + "a" * 64, UPLOADERS_API),
    Case("uploads_api.upload_chunk", "PUT", "/api/v1/uploads/" + "a" * 64, {**UPLOADERS_API, **UPLOADERS_400}),
    Case("lessons.coverage", "GET", "/lessons/bureau/coverage", BUREAU_ONLY),
    Case("lessons.export", "GET", "/lessons/bureau/export/ledger.xlsx", BUREAU_ONLY),
    Case("lessons.export", "GET", "/lessons/bureau/export/summary.csv", BUREAU_ONLY),
    Case("lessons_api.bundle", "GET", "/api/v1/researcher/bundle", RESEARCHER_API),
    Case("lessons_api.get_activity", "GET", "/api/v1/activities/{activity}", RESEARCHER_API),
    Case("lessons_api.get_activity", "GET", "/api/v1/activities/{photo}", {**RESEARCHER_API, "researcher": 404}),
    Case(
        "lessons_api.put_activity",
        "PUT",
        "/api/v1/activities/{activity}",
        {**RESEARCHER_API, "researcher": 422},
        json={},
    ),
    Case(
        "lessons_api.put_activity_photo",
        "PUT",
        "/api/v1/activities/{activity}/photos/{photo}",
        {**RESEARCHER_API, "researcher": 422},
        data={},
    ),
    Case(
        "lessons_api.delete_activity_photo_view",
        "DELETE",
        "/api/v1/activities/{activity}/photos/{photo}",
        RESEARCHER_API,
    ),
    # The bureau (督导室): reviewers see their county only (another county's visit is 404), admins all.
    Case("bureau.index", "GET", "/bureau/", BUREAU_ONLY),
    Case("bureau.visits", "GET", "/bureau/visits", BUREAU_ONLY),
    Case("bureau.visit", "GET", "/bureau/visits/{visit}", BUREAU_ONLY),
    # Report PDFs through the job queue (another county's visit: 404 for its reviewer; an unknown token: 404).
    Case(
        "report_jobs.start",
        "POST",
        "/bureau/visits/{foreign_visit}/report-jobs",
        {**BUREAU_ONLY, "reviewer": 404, "admin": 202},
    ),
    Case("report_jobs.status", "GET", "/bureau/reports/" + "0" * 32, {**BUREAU_ONLY, "reviewer": 404, "admin": 404}),
    Case(
        "report_jobs.download",
        "GET",
        "/bureau/reports/" + "0" * 32 + "/report.pdf",
        {**BUREAU_ONLY, "reviewer": 404, "admin": 404},
    ),
    Case("bureau.visit", "GET", "/bureau/visits/{foreign_visit}", {**BUREAU_ONLY, "reviewer": 404}),
    Case(
        "bureau.review",
        "POST",
        "/bureau/visits/{visit}/review",
        {**BUREAU_ONLY, "reviewer": 422, "admin": 422},
        data={},
    ),
    Case(
        "bureau.review",
        "POST",
        "/bureau/visits/{foreign_visit}/review",
        {**BUREAU_ONLY, "reviewer": 404, "admin": 409},
        data={"decision": "return", "comment": "x"},
    ),
    Case("bureau.report", "GET", "/bureau/visits/{visit}/report", BUREAU_ONLY),
    Case("bureau.report", "GET", "/bureau/visits/{foreign_visit}/report", {**BUREAU_ONLY, "reviewer": 404}),
    Case("bureau.report_pdf", "GET", "/bureau/visits/{foreign_visit}/report.pdf", {**BUREAU_ONLY, "reviewer": 404}),
    Case("compliance.matrix", "GET", "/bureau/matrix", BUREAU_ONLY),
    Case("compliance.cell", "GET", "/bureau/matrix/cell?school={inspected}&item=helan.safety.fire_safety", BUREAU_ONLY),
    Case(
        "compliance.cell",
        "GET",
        "/bureau/matrix/cell?school={foreign}&item=xiji.safety.one_click_alarm",
        {**BUREAU_ONLY, "reviewer": 404, "admin": 404},
    ),
    Case("compliance.compare", "GET", "/bureau/compare", {**BUREAU_ONLY, "reviewer": 403}),
    Case("exports.export", "GET", "/bureau/exports/visits.xlsx", BUREAU_ONLY),
    Case("exports.export", "GET", "/bureau/exports/results.xlsx", BUREAU_ONLY),
    Case("exports.export", "GET", "/bureau/exports/tasks.xlsx", BUREAU_ONLY),
    Case("exports.export", "GET", "/bureau/exports/schools.xlsx", BUREAU_ONLY),
    Case("exports.summary", "GET", "/bureau/summary", BUREAU_ONLY),
    Case("dashboard.figure", "GET", "/bureau/dashboard/coverage.json", BUREAU_ONLY),
    Case("dashboard.figure", "GET", "/bureau/dashboard/rectification.json", BUREAU_ONLY),
    Case("dashboard.school", "GET", "/bureau/dashboard/school/{inspected}.json", {**SIGNED_IN, "researcher": 403}),
    Case(
        "dashboard.school",
        "GET",
        "/bureau/dashboard/school/{foreign}.json",
        {**dict.fromkeys(ROLES, 403), "admin": 200, "anonymous": 302},
    ),
    Case("dashboard.figure", "GET", "/bureau/dashboard/nothing.json", {**BUREAU_ONLY, "reviewer": 404, "admin": 404}),
    # Rectification: the school's inspector records progress; only the bureau closes, reopens, edits.
    Case("rectification.index", "GET", "/rectification/", {**BUREAU_ONLY, "inspector": 200}),
    Case("rectification.task", "GET", "/rectification/{task}", {**BUREAU_ONLY, "inspector": 200}),
    Case(
        "rectification.task", "GET", "/rectification/{foreign_task}", {**BUREAU_ONLY, "inspector": 404, "reviewer": 404}
    ),
    Case(
        "rectification.progress",
        "POST",
        "/rectification/{task}/progress",
        {**BUREAU_ONLY, "inspector": 422, "reviewer": 422, "admin": 422},
        data={},
    ),
    Case(
        "rectification.close",
        "POST",
        "/rectification/{task}/close",
        {**BUREAU_ONLY, "reviewer": 302, "admin": 302},
        data={},
    ),
    Case(
        "rectification.reopen",
        "POST",
        "/rectification/{task}/reopen",
        {**BUREAU_ONLY, "reviewer": 422, "admin": 422},
        data={},
    ),
    Case(
        "rectification.edit",
        "POST",
        "/rectification/{task}/edit",
        {**BUREAU_ONLY, "reviewer": 422, "admin": 422},
        data={"deadline": "2001-01-01"},
    ),
    Case(
        "rectification.edit",
        "POST",
        "/rectification/{foreign_task}/edit",
        {**BUREAU_ONLY, "inspector": 404, "reviewer": 404, "admin": 302},
        data={},
    ),
    # The school's side: its phone bundle; progress on its own tasks (a foreign task is 404).
    Case("school_api.bundle", "GET", "/api/v1/school/bundle", SCHOOL_API),
    Case(
        "school_api.put_progress",
        "PUT",
        "/api/v1/tasks/{task}/progress/{photo}",
        {**SCHOOL_API, "school": 422, "inspector": 422},
        data={},
    ),
    Case(
        "school_api.put_progress",
        "PUT",
        "/api/v1/tasks/{foreign_task}/progress/{photo}",
        {**SCHOOL_API, "school": 404, "inspector": 404},
        data={},
    ),
    # Self-reports: the school fills its own; its inspector, the county's reviewer or an admin verifies.
    Case(
        "self_reports.mine", "GET", "/self-reports/mine", {**dict.fromkeys(ROLES, 403), "school": 200, "anonymous": 302}
    ),
    Case(
        "self_reports.fill",
        "POST",
        "/self-reports/mine/helan.safety.road_safety_education",
        {**dict.fromkeys(ROLES, 403), "school": 422, "anonymous": 302},
        data={},
    ),
    Case("self_reports.index", "GET", "/self-reports/", {**BUREAU_ONLY, "inspector": 200}),
    Case("self_reports.show", "GET", "/self-reports/{report}", {**BUREAU_ONLY, "inspector": 200, "school": 200}),
    Case(
        "self_reports.show",
        "GET",
        "/self-reports/{foreign_report}",
        {**BUREAU_ONLY, "inspector": 404, "reviewer": 404, "school": 404},
    ),
    Case(
        "self_reports.verify",
        "POST",
        "/self-reports/{report}/verify",
        {**BUREAU_ONLY, "inspector": 422, "reviewer": 422, "admin": 422},
        data={},
    ),
    Case("school_side.index", "GET", "/bureau/school-side/", BUREAU_ONLY),
    # The inbox: everyone's own notices (an id that is not theirs, or none, is 404).
    Case("notices.inbox", "GET", "/inbox/", SIGNED_IN),
    Case("notices.open_notice", "GET", "/inbox/999999", {**dict.fromkeys(ROLES, 404), "anonymous": 302}),
    Case("notices.read_all", "POST", "/inbox/read", dict.fromkeys(ROLES, 302), data={}),
    Case("auth.account", "GET", "/account", SIGNED_IN),
    Case("auth.change_password", "GET", "/account/password", SIGNED_IN),
    Case("auth.change_password", "POST", "/account/password", {**dict.fromkeys(ROLES, 422), "anonymous": 302}, data={}),
    # The former administrator's list: a permanent redirect to the one list of accounts.
    Case("users.moved", "GET", "/admin/users/", {**BUREAU_ONLY, "reviewer": 301, "admin": 301}),
    Case(
        "users.set_active",
        "POST",
        "/admin/users/{target_user}/active",
        {**ADMIN_ONLY, "admin": 302},
        data={"active": "1"},
    ),
    Case("users.set_active", "POST", "/admin/users/999999/active", {**ADMIN_ONLY, "admin": 404}, data={"active": "1"}),
    Case("users.reset_password", "POST", "/admin/users/{target_user}/password", {**ADMIN_ONLY, "admin": 422}, data={}),
    # Last: they end the session the cases above share.
    Case("auth.end_sessions", "POST", "/account/sessions/end", dict.fromkeys(ROLES, 302)),
    Case("auth.logout", "POST", "/logout", {**dict.fromkeys(ROLES, 302)}),
]


#: Answer 302 to somewhere else than the sign-in page.
SELF_REDIRECTS = {"auth.logout"}


@pytest.fixture
def world(factory):
    home = factory.county("本县", "helan")
    other = factory.county("外县", "xiji")
    inspected = factory.school(home)
    researched = factory.school(home, location="village")
    unassigned = factory.school(home)
    foreign = factory.school(other)
    users = {
        "inspector": factory.user("inspector", home, (inspected,)),
        "researcher": factory.user("researcher", home, (researched,)),
        "reviewer": factory.user("reviewer", home),
        "admin": factory.user("admin"),
        "school": factory.user("school", home, school_id=inspected.id),
    }
    # Another county's inspector holds the foreign school: still no access for ours.
    outsider = factory.user("inspector", other, (foreign,))
    visit = plan_visit(users["inspector"], inspected.id, date(2026, 11, 25))
    foreign_visit = plan_visit(outsider, foreign.id, date(2026, 11, 25))
    activity = Activity(
        id=str(uuid.uuid4()),
        researcher_id=users["researcher"].id,
        county_id=home.id,
        school_id=researched.id,
        kind="guidance",
        occurred_on=date(2026, 11, 20),
        topic="集体备课",
        write_id=str(uuid.uuid4()),
        edited_at=datetime(2026, 11, 20),
    )
    db.session.add(activity)
    bureau_ids = authorization_rows(home, other, inspected, foreign, visit, foreign_visit, users["reviewer"])
    reports = {
        name: SelfReport(
            county_id=school.county_id,
            school_id=school.id,
            term_id=db.session.scalar(select(Term.id).where(Term.county_id == school.county_id)),
            item_id="x.self",
            state="submitted",
            comment="",
        )
        for name, school in (("report", inspected), ("foreign_report", foreign))
    }
    db.session.add_all(reports.values())
    db.session.commit()
    ids = {
        "home_county": home.id,
        "other_county": other.id,
        "inspected": inspected.id,
        "researched": researched.id,
        "unassigned": unassigned.id,
        "foreign": foreign.id,
        "visit": visit.id,
        "foreign_visit": foreign_visit.id,
        "photo": str(uuid.uuid4()),
        "activity": activity.id,
        "researcher_user": users["researcher"].id,
        "outsider": factory.user("researcher", other).id,
        "target_user": factory.user("inspector", home).id,
        **bureau_ids,
        **{name: report.id for name, report in reports.items()},
    }
    return users, ids


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == {case.endpoint for case in CASES}


@pytest.mark.parametrize("role", ROLES)
def test_route_access(app, world, role):
    users, ids = world
    failures = []
    client = app.test_client()
    if role != "anonymous":
        assert login(client, users[role]).status_code == 302
    for case in CASES:
        path = case.path.format(**ids)
        response = client.open(path, method=case.method, data=case.data, json=case.json)
        if response.status_code != case.expected[role]:
            failures.append(f"{case.method} {path}: {response.status_code} != {case.expected[role]}")
        if role == "anonymous" and case.expected[role] == 302 and case.endpoint not in SELF_REDIRECTS:
            assert "/login" in response.location
    assert not failures, failures


def test_school_lists_show_only_visible_schools(app, world):
    users, ids = world
    client = app.test_client()
    login(client, users["inspector"])
    page = client.get("/schools").get_data(as_text=True)
    assert f"/schools/{ids['inspected']}" in page
    for other in ("researched", "unassigned", "foreign"):
        assert f'/schools/{ids[other]}"' not in page
