"""Sessions that end: logout, sign-out everywhere, disabling and resets take effect at once, on every device;
the remember-me cookie is same-site, short and revocable; the API answers 401 auth_required."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest

from webapp.auth.models import User
from webapp.extensions import db

from .conftest import PASSWORD, login


def _copy_cookies(source, target) -> None:
    """Give ``target`` the cookies ``source`` holds now (a stolen or second copy of the browser)."""
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _signed_in(client) -> bool:
    return client.get("/api/v1/me").status_code == 200


def _set_cookie(response, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert headers, response.headers
    return headers[0]


def test_logout_ends_the_session_on_the_server(app, factory):
    user = factory.user("inspector", factory.county())
    browser, copy = app.test_client(), app.test_client()
    login(browser, user)
    _copy_cookies(browser, copy)
    assert _signed_in(copy)
    assert browser.post("/logout").status_code == 302
    response = copy.get("/api/v1/me")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "auth_required"
    assert copy.put("/api/v1/visits/0b6f4ad8-6b3a-4c8e-9a55-1f4b1a3c2d10", json={}).status_code == 401
    assert copy.get("/").status_code == 302  # people are sent to sign in


def test_remember_cookie_is_same_site_short_and_revocable(app, factory):
    user = factory.user("inspector", factory.county())
    browser = app.test_client()
    response = login(browser, user)
    remember = _set_cookie(response, "remember_token")
    parsed = SimpleCookie(remember)["remember_token"]
    assert parsed["samesite"].lower() == "lax" and parsed["httponly"]
    expires = parsedate_to_datetime(parsed["expires"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30, minutes=1)
    # Only the remember-me cookie (the session cookie gone, as after closing the browser): still signed in …
    only_remember = app.test_client()
    only_remember.set_cookie("remember_token", parsed.value)
    assert _signed_in(only_remember)
    # … until the user signs out anywhere.
    browser.post("/logout")
    again = app.test_client()
    again.set_cookie("remember_token", parsed.value)
    assert not _signed_in(again)


def test_remember_cookie_lasts_at_most_30_days(app):
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_sign_out_everywhere(app, factory):
    user = factory.user("researcher", factory.county())
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    page = laptop.get("/account").get_data(as_text=True)
    assert "退出所有设备" in page
    assert laptop.post("/account/sessions/end").status_code == 302
    assert not _signed_in(phone) and not _signed_in(laptop)
    assert login(phone, user).status_code == 302 and _signed_in(phone)


@pytest.mark.parametrize("action", ["disable", "reset"])
def test_admin_disable_or_reset_takes_effect_at_once(app, factory, action):
    county = factory.county()
    user = factory.user("inspector", county)
    admin = app.test_client()
    login(admin, factory.user("admin"))
    phone = app.test_client()
    login(phone, user)
    assert _signed_in(phone)
    if action == "disable":
        response = admin.post(f"/admin/users/{user.id}/active", data={"active": "0"})
    else:
        response = admin.post(f"/admin/users/{user.id}/password", data={"password": "Neu-Start-2026"})
    assert response.status_code == 302
    assert phone.get("/api/v1/me").get_json()["error"]["code"] == "auth_required"
    if action == "disable":
        assert login(phone, user).status_code == 403
        admin.post(f"/admin/users/{user.id}/active", data={"active": "1"})
        assert login(phone, user).status_code == 302
    else:
        assert login(phone, user).status_code == 401  # the old password is gone
        assert login(phone, user, "Neu-Start-2026").status_code == 302


def test_admin_cannot_disable_themselves_and_others_cannot_manage_accounts(app, factory):
    county = factory.county()
    admin_user = factory.user("admin")
    admin = app.test_client()
    login(admin, admin_user)
    refused = admin.post(f"/admin/users/{admin_user.id}/active", data={"active": "0"})
    assert refused.status_code == 422 and "不能停用自己的账号。" in refused.get_data(as_text=True)
    assert "重置密码" in admin.get("/users").get_data(as_text=True)
    reviewer = app.test_client()
    login(reviewer, factory.user("reviewer", county))
    assert "重置密码" not in reviewer.get("/users").get_data(as_text=True)  # the list, without the actions
    victim = factory.user("inspector", county)
    assert reviewer.post(f"/admin/users/{victim.id}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, victim.id).is_active_account


def test_csrf_protects_sign_out_everywhere(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = factory.user("inspector", factory.county())
        client = app.test_client()
        login(client, user)
        assert client.post("/account/sessions/end").status_code == 400
        page = client.get("/account").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/account/sessions/end", data={"csrf_token": token}).status_code == 302
        assert login(client, user.username, PASSWORD).status_code == 302
