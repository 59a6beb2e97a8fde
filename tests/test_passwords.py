"""The password rule (import, admin reset, self change) and the change forced at first sign-in."""

from __future__ import annotations

import pytest

from webapp.auth.models import User
from webapp.auth.passwords import problems
from webapp.extensions import db

from .conftest import PASSWORD, login
from .test_imports import _upload


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Ab1-xyz", "至少10位"),
        ("abcdefghijk", "至少三类"),
        ("abcdefgh12", "至少三类"),
        ("Wang.Wei-2026", "用户名"),  # contains the user name (case-insensitive)
        ("P@ssw0rd1", "至少10位"),
        ("Password1!", "常见"),
        ("Aa123456789", "常见"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, why):
    found = problems(password, "wang.wei")
    assert found and any(why in message for message in found), found


@pytest.mark.parametrize("password", ["Xian-Jiao-2026", "贺兰县Duxue#7", "correct Horse 9 battery"])
def test_strong_passwords_pass(password):
    assert problems(password, "helan_duxue1") == []


def _import_users(client, county, rows: str):
    """Preview and confirm a user import (errors come back from the preview)."""
    return _upload(client, county, "users", "u.csv", ("用户名,姓名,角色,初始密码\r\n" + rows).encode("utf-8-sig"))


def test_import_refuses_weak_initial_passwords(app, factory):
    county = factory.county()
    admin = app.test_client()
    login(admin, factory.user("admin"))
    response = _import_users(admin, county, "li_si,李四,责任督学,12345678\r\nzhao_liu,赵六,教研员,Zhao_Liu-2026\r\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "至少10位" in page and "用户名" in page
    assert db.session.query(User).filter(User.username.in_(["li_si", "zhao_liu"])).count() == 0


def test_imported_users_must_change_their_password_first(app, factory):
    county = factory.county()
    admin = app.test_client()
    login(admin, factory.user("admin"))
    assert _import_users(admin, county, "li_si,李四,责任督学,Chu-Shi-2026\r\n").status_code == 200
    phone = app.test_client()
    assert login(phone, "li_si", "Chu-Shi-2026").status_code == 302
    assert phone.get("/").location == "/account/password"
    assert phone.get("/schools").location == "/account/password"
    api = phone.get("/api/v1/me")
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "password_change_required"
    form = {"current_password": "Chu-Shi-2026", "new_password": "li_si-2026AB", "confirm_password": "li_si-2026AB"}
    refused = phone.post("/account/password", data=form)
    assert refused.status_code == 422 and "用户名" in refused.get_data(as_text=True)
    form = {"current_password": "wrong", "new_password": "Mei-Hua-Lu-9", "confirm_password": "Mei-Hua-Lu-9"}
    assert "当前密码不正确" in phone.post("/account/password", data=form).get_data(as_text=True)
    form["current_password"] = "Chu-Shi-2026"
    assert phone.post("/account/password", data=form).status_code == 302
    assert phone.get("/api/v1/me").status_code == 200  # this session goes on
    db.session.expire_all()
    user = db.session.query(User).filter_by(username="li_si").one()
    assert not user.must_change_password and user.check_password("Mei-Hua-Lu-9")


def test_admin_reset_needs_a_strong_password_and_forces_a_change(app, factory):
    user = factory.user("reviewer", factory.county())
    admin = app.test_client()
    login(admin, factory.user("admin"))
    weak = admin.post(f"/admin/users/{user.id}/password", data={"password": "demo1234"})
    assert weak.status_code == 422 and "至少10位" in weak.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)
    assert admin.post(f"/admin/users/{user.id}/password", data={"password": "Neu-Start-2026"}).status_code == 302
    client = app.test_client()
    login(client, user, "Neu-Start-2026")
    assert client.get("/bureau/").location == "/account/password"


def test_self_change_ends_other_sessions(app, factory):
    user = factory.user("inspector", factory.county())
    phone, laptop = app.test_client(), app.test_client()
    login(phone, user)
    login(laptop, user)
    form = {"current_password": PASSWORD, "new_password": "Mei-Hua-Lu-9", "confirm_password": "Mei-Hua-Lu-9"}
    assert laptop.post("/account/password", data=form).status_code == 302
    assert laptop.get("/api/v1/me").status_code == 200
    assert phone.get("/api/v1/me").status_code == 401


def test_passwords_are_hashed_with_scrypt_unless_configured(make_app, factory):
    """Production hashes with scrypt; the suite's cheap method is a setting, and either kind verifies."""
    from webapp import create_app

    assert (
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}).config["PASSWORD_HASH_METHOD"]
        == "scrypt"
    )
    with make_app(PASSWORD_HASH_METHOD="").app_context():  # an empty setting falls back to scrypt
        user = User(username="hash.check", role="inspector", display_name="甲")
        user.set_password("Long-enough-9")
        assert user.password_hash.startswith("scrypt:") and user.check_password("Long-enough-9")
    made = factory.user("inspector", factory.county("贺兰县", "helan"))
    assert made.password_hash.startswith("pbkdf2:sha256:1000$") and made.check_password(PASSWORD)
