"""Desktop tables: sort, search and pages through htmx with the state in the URL; cards stay for phones."""

from __future__ import annotations

import re

import pytest

from webapp.tables import Sort, like, search_from, sort_from

from .bureau_support import ALARM, CLASS_SIZE, make_world, record_visit


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


def test_sort_and_search_arguments():
    assert sort_from({"sort": "-school"}, ("school", "date"), "-date") == Sort("school", True)
    assert sort_from({"sort": "password"}, ("school",), "-date") == Sort("date", True)
    assert Sort("school", False).toggled("school") == "-school" and Sort("school", True).toggled("school") == "school"
    assert Sort("date", True).toggled("school") == "school" and Sort("date", True).aria("date") == "descending"
    assert search_from({"q": "  兴隆\x00镇 " + "x" * 100}) == ("兴隆镇 " + "x" * 100)[:64]
    assert like("100%_a\\") == "%100\\%\\_a\\\\%"


def _schools_in_table(html: str) -> list[str]:
    table = html[html.index('<table class="table data-table') : html.index("</table>")]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


def test_visits_table_sorts_searches_and_answers_htmx_with_the_fragment(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    record_visit(phone, world.junior, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 66}})
    record_visit(phone, world.junior)
    by_school = bureau.get("/bureau/visits?sort=school").get_data(as_text=True)
    assert (
        _schools_in_table(by_school) == sorted(_schools_in_table(by_school)) and len(_schools_in_table(by_school)) == 3
    )
    assert 'aria-sort="ascending"' in by_school and "sort=-school" in by_school  # the header now reverses
    by_failed = bureau.get("/bureau/visits?sort=-failed").get_data(as_text=True)
    assert _schools_in_table(by_failed)[0] == world.junior.name
    # The phone's cards are still there (CSS shows one or the other).
    assert 'class="list narrow-only"' in by_school and by_school.count('class="visit-row"') == 3
    # Search by school or inspector name; LIKE wildcards are literal.
    found = bureau.get("/bureau/visits?q=兴隆").get_data(as_text=True)
    assert set(_schools_in_table(found)) == {world.junior.name} and len(_schools_in_table(found)) == 2
    assert _schools_in_table(bureau.get("/bureau/visits?q=%25").get_data(as_text=True)) == []
    assert (
        len(_schools_in_table(bureau.get(f"/bureau/visits?q={world.inspector.display_name}").get_data(as_text=True)))
        == 3
    )
    # htmx gets the table alone, with the filter form's sort field updated out of band.
    fragment = bureau.get("/bureau/visits?sort=-school&q=镇", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"] and "<html" not in body and 'class="filters' not in body
    assert 'id="visits-sort" value="-school" hx-swap-oob="true"' in body
    # Pages by number when sorted by a column.
    from werkzeug.datastructures import MultiDict

    from webapp.bureau.review import listing

    filters = listing.filters_from_args(MultiDict({"sort": "school", "page": "2"}), world.county)
    second = listing.visits_page(filters, per_page=2)
    assert second.page == 2 and len(second.rows) == 1 and not second.has_next


def test_ledger_table_sorts_and_searches(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    for school in (world.school, world.junior):
        visit_id, _, _ = record_visit(phone, school, {ALARM: {"answer": "no"}})
        bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    response = bureau.get("/rectification/?sort=-school")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-3000:]
    table = page[page.index('<table class="table data-table') : page.index("</table>")]
    first, second = sorted((world.school.name, world.junior.name), reverse=True)
    assert table.index(first) < table.index(second)  # by code point, reversed
    assert 'aria-sort="descending"' in table
    found = bureau.get("/rectification/?q=兴隆").get_data(as_text=True)
    table = found[found.index('<table class="table data-table') : found.index("</table>")]
    assert world.junior.name in table and world.school.name not in table
    fragment = bureau.get("/rectification/?q=兴隆", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]


def test_schools_table_sorts_filters_and_searches(app, world):
    bureau = world.client(app, "reviewer")
    page = bureau.get("/schools?sort=-enrolment").get_data(as_text=True)
    assert 'aria-sort="descending"' in page and 'class="narrow-only"' in page
    junior_only = bureau.get("/schools?stage=junior").get_data(as_text=True)
    assert world.junior.name in junior_only and world.school.name not in junior_only
    found = bureau.get("/schools?q=吉强", headers={"HX-Request": "true"})
    body = found.get_data(as_text=True)
    assert world.school.name in body and world.junior.name not in body and "<html" not in body
    assert "HX-Request" in found.headers["Vary"]


def test_users_table_is_the_county_s_sortable_and_searchable(app, world):
    bureau = world.client(app, "reviewer")
    page = bureau.get("/users?sort=username").get_data(as_text=True)
    table = page[page.index('<table class="table data-table') : page.index("</table>")]
    names = re.findall(r'<th scope="row">([^<]+)</th>', table)
    county_people = {world.inspector.username, world.reviewer.username}
    assert county_people <= set(names) and names == sorted(names)
    assert world.outsider.username not in names and world.admin.username not in names  # other county, admins
    # The inspector is assigned to two schools.
    assert re.search(rf"<th scope=\"row\">{world.inspector.username}</th>.*?<td class=\"num\">2</td>", table, re.S)
    found = bureau.get(f"/users?q={world.inspector.username}", headers={"HX-Request": "true"})
    body = found.get_data(as_text=True)
    assert world.inspector.username in body and world.reviewer.username not in body and "<html" not in body
    assert world.outsider.username in world.client(app, "admin").get("/users?role=inspector").get_data(as_text=True)


def test_one_list_of_accounts_with_the_administrator_s_actions(app, world):
    admin = world.client(app, "admin")
    moved = admin.get("/admin/users/?q=abc&sort=-login")
    assert moved.status_code == 301 and moved.location == "/users?q=abc&sort=-login"
    page = admin.get("/users?sort=username").get_data(as_text=True)
    table = page[page.index('<table class="table data-table') : page.index("</table>")]
    assert 'aria-sort="ascending"' in table and "/active" in table and "重置密码" in table
    assert 'aria-current="page">账号' in page
    # The action goes back to the list with what was done.
    done = admin.post(f"/admin/users/{world.inspector.id}/active", data={"active": "0"}, follow_redirects=True)
    body = done.get_data(as_text=True)
    assert f"{world.inspector.username} 已停用" in body and "已停用</span>" in body
    assert "/active" not in world.client(app, "reviewer").get("/users").get_data(as_text=True)
