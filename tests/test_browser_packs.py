"""Sign in and browse the policy packs in real Chromium on a 360-px phone screen."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px screen"


def test_sign_in_and_browse_packs_on_a_phone(live_server, phone, factory, tmp_path):
    county = factory.county("贺兰县", "helan")
    school = factory.school(county, name="立岗镇中心小学", location="village")
    user = factory.user("inspector", county, (school,))
    page = phone.new_page()
    page.goto(live_server + "/")
    assert "/login" in page.url
    page.fill("#username", user.username)
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".alert").inner_text() == "用户名或密码错误。"
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert "立岗镇中心小学" in page.inner_text("main")
    _no_sideways_scroll(page)

    page.click("text=立岗镇中心小学")
    # count() does not wait: wait for the school page to load before counting its items.
    page.wait_for_url("**/schools/*")
    page.locator(".item").first.wait_for()
    assert page.locator(".item").count() > 5
    _no_sideways_scroll(page)

    page.goto(live_server + "/packs/helan")
    total = page.locator(".item").count()
    # htmx swaps in one checklist and pushes the URL.
    page.click("nav.chips >> text=校园安全 / 平安校园")
    page.wait_for_url("**checklist=campus_safety")
    page.wait_for_function(f"document.querySelectorAll('.item').length < {total}")
    assert page.locator("#items h2").count() == 1
    page.locator(".sources summary").first.click()
    assert "贺" in page.locator("blockquote footer").first.inner_text()
    _no_sideways_scroll(page)
    page.screenshot(path=str(tmp_path / "packs.png"), full_page=False)


def test_compose_changes_with_the_profile(live_server, phone, factory):
    user = factory.user("reviewer", factory.county("西吉县", "xiji"))
    page = phone.new_page()
    page.goto(live_server + "/login")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server + "/packs/xiji/compose?stage=primary&location=urban")
    first = page.locator("#composed code.version").inner_text()
    page.select_option("#stage", "junior")
    page.wait_for_function(f"document.querySelector('#composed code.version').textContent !== '{first}'")
    assert "stage=junior" in page.url
    text = page.inner_text("#composed")
    assert "≤ 50人" in text
    _no_sideways_scroll(page)
