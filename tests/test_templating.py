"""The one date filter: tables, tables with time, formal documents; and where it shows."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from webapp.templating import show_date


def test_date_styles():
    stored = datetime(2026, 11, 24, 1, 6)  # naive UTC, 09:06 in China
    assert show_date(stored) == "2026-11-24"
    assert show_date(stored, "time") == "2026-11-24 09:06"
    assert show_date(stored, "formal") == "2026年11月24日"
    assert show_date(stored, "formal_time") == "2026年11月24日 09:06"
    assert show_date(stored, "clock") == "09:06"
    # Late UTC evening is the next day in China.
    assert show_date(datetime(2026, 11, 23, 17, 0)) == "2026-11-24"
    assert show_date(date(2026, 9, 1)) == "2026-09-01"
    assert show_date(date(2026, 9, 1), "formal") == "2026年9月1日"
    assert show_date(date(2026, 9, 1), "time") == "2026-09-01"  # a plain date has no time to show
    assert show_date("2023-03-20") == "2023-03-20" and show_date("2023-03-20", "formal") == "2023年3月20日"
    assert show_date(None) == "" and show_date("") == ""
    with pytest.raises(ValueError):
        show_date(stored, "%m-%d")


def test_templates_use_one_date_filter():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "webapp"
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for retired in ("china_time", "cn_date", "cn_datetime", "strftime"):
            assert retired not in text, f"{template.name} uses {retired}"


def test_validity_of_a_document_never_ends_in_nothing(client, factory):
    from .conftest import login

    county = factory.county("贺兰县", "helan")
    login(client, factory.user("reviewer", county))
    page = client.get("/packs/helan").get_data(as_text=True)
    assert "有效期：2023-03-20 起施行，未定截止日期" in page
    assert " 至 </p>" not in page and "至 <" not in page
