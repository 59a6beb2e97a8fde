"""Accessibility and consistency of the site's pages: skip link, table headers and captions, favicon,
where-you-are in the navigation, and the term summary agreeing with the 教研 page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from webapp.bureau.compliance.summary import ordinal_key
from webapp.extensions import db

from .conftest import login
from .lessons_world import make_world
from .test_lessons_bureau import record

TEMPLATES = Path(__file__).resolve().parent.parent / "webapp"


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("templates/**/*.html")), ids=lambda p: p.name)
def test_tables_have_captions_and_scoped_headers(template):
    text = template.read_text(encoding="utf-8")
    for table in re.findall(r"<table\b[^>]*>(.*?)</table>", text, flags=re.S):
        assert "<caption" in table, f"{template.name}: a table without a caption"
    unscoped = re.findall(r"<th(?:\s(?![^>]*\bscope=)[^>]*)?>", text)
    assert not unscoped, f"{template.name}: header cells without scope: {unscoped[:3]}"


def test_skip_link_favicon_and_where_you_are(client, factory):
    county = factory.county("贺兰县", "helan")
    login(client, factory.user("reviewer", county))
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    page = client.get("/bureau/visits").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page and '<main class="page" id="main"' in page
    assert 'rel="icon" href="/favicon.ico"' in page
    top = page[page.index('aria-label="主导航"') : page.index("</nav>")]
    assert re.findall(r'aria-current="page">([^<]+)<', top) == ["督导审核"]
    # The 教研 pages keep the 督导室 sub-navigation, with 教研 as the current one.
    lessons = client.get("/lessons/bureau").get_data(as_text=True)
    sub = lessons[lessons.index('aria-label="督导室"') :]
    sub = sub[: sub.index("</nav>")]
    assert re.findall(r'aria-current="page">([^<]+)<', sub) == ["教研"]
    assert re.findall(r'aria-current="page">([^<]+)<', lessons[lessons.index('aria-label="主导航"') :])[0] == "教研"


def test_groups_in_ordinal_order():
    names = ["第三教育集团", "第一教育集团", "第十一教育集团", "第二教育集团", "第十教育集团"]
    expected = ["第一教育集团", "第二教育集团", "第三教育集团", "第十教育集团", "第十一教育集团"]
    assert sorted(names, key=ordinal_key) == expected


def test_term_summary_judges_researchers_as_the_lessons_page_does(client, factory):
    world = make_world(factory)
    # On pace early in the term: a few lessons, far from the term's count, but not behind.
    for n in range(world.today.day % 3 + 9):
        record(world.researcher, world.rural, world.today - timedelta(days=n % 20))
    db.session.commit()
    login(client, world.reviewer)
    lessons = client.get("/lessons/bureau").get_data(as_text=True)
    summary = client.get(f"/bureau/summary?term={world.current.id}").get_data(as_text=True)
    row = lambda page, name: page[page.index(name) : page.index("</tr>", page.index(name))]  # noqa: E731
    for name in ("张老师", "刘老师"):
        on_lessons = re.findall(r"进度正常|进度落后|已达标|未达标", row(lessons, name))
        on_summary = re.findall(r"进度正常|进度落后|已达标|未达标", row(summary, name))
        assert on_lessons and on_lessons == on_summary, name
