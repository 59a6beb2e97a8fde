"""Sign-in, sign-out, CSRF and session cookies."""

from __future__ import annotations

import re

from webapp.auth.models import User
from webapp.extensions import db

from .conftest import PASSWORD, login


def test_sign_in_and_out(client, factory):
    user = factory.user("reviewer", factory.county())
    assert client.get("/").status_code == 302
    response = login(client, user)
    assert response.status_code == 302 and response.location == "/"
    assert user.display_name in client.get("/").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_chinese(client, factory):
    user = factory.user("inspector", factory.county())
    response = login(client, user, "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_blank_fields_name_the_field(client):
    response = client.post("/login", data={"username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请输入用户名" in page and "请输入密码" in page


def test_a_name_too_long_is_not_called_empty(client):
    """10,000 characters pasted as the user name were answered with 请输入用户名 (as if nothing was typed)."""
    page = client.post("/login", data={"username": "a" * 10_000, "password": "p" * 200}).get_data(as_text=True)
    assert "用户名最多64个字符" in page and "密码最多128个字符" in page and "请输入" not in page


def test_disabled_account_cannot_sign_in(client, factory):
    user = factory.user("inspector", factory.county(), is_active_account=False)
    response = login(client, user)
    assert response.status_code == 403 and "已停用" in response.get_data(as_text=True)


def test_password_is_hashed_and_change_ends_sessions(app, client, factory):
    user = factory.user("inspector", factory.county())
    user_id = user.id
    assert PASSWORD not in user.password_hash
    login(client, user)
    assert client.get("/").status_code == 200
    user = db.session.get(User, user_id)
    user.set_password("another-pass-2")
    db.session.commit()
    assert client.get("/").status_code == 302


def test_next_only_follows_local_paths(client, factory):
    user = factory.user("admin")
    ok = client.post("/login", data={"username": user.username, "password": PASSWORD, "next": "/packs/"})
    assert ok.location == "/packs/"
    client.post("/logout")
    evil = client.post("/login", data={"username": user.username, "password": PASSWORD, "next": "//evil.example/x"})
    assert evil.location == "/"


def test_api_paths_get_json_401(client):
    response = client.get("/api/anything", headers={"Accept": "application/json"})
    assert response.status_code == 404 or response.is_json
    body = client.get("/packs/", headers={"Accept": "application/json"})
    assert body.status_code == 401
    assert body.get_json()["error"]["code"] == "auth_required"


def test_csrf_is_enforced_on_forms(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        username = factory.user("admin").username
    client = app.test_client()
    refused = client.post("/login", data={"username": username, "password": PASSWORD})
    assert refused.status_code == 400
    assert "页面已过期" in refused.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    accepted = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302
    # Sign-out needs the token too.
    assert client.post("/logout").status_code == 400


def test_session_cookie_is_secure_by_default(make_app, factory):
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    with app.app_context():
        username = factory.user("admin").username
    response = login(app.test_client(), username)
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
