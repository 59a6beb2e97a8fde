"""Login throttling: failures per account and per address, memory and Redis storage, 429 with the wait."""

from __future__ import annotations

import uuid

import pytest
from limits import parse

from webapp.auth import routes as auth_routes

from .conftest import PASSWORD, login

REDIS_URL = "redis://127.0.0.1:6379/3"


def _window(limit: str) -> range:
    """The Retry-After values a limit such as ``5 per 15 minutes`` can give: 1 s up to its whole window."""
    return range(1, parse(limit).get_expiry() + 1)


def _throttled(response, limit: str = "5 per 15 minutes") -> int:
    """Assert a 429 that states the wait, within ``limit``'s window; return Retry-After in seconds."""
    assert response.status_code == 429, response.status_code
    page = response.get_data(as_text=True)
    assert "登录失败次数过多" in page and ("分钟后再试" in page or "秒后再试" in page)
    seconds = int(response.headers["Retry-After"])
    assert seconds in _window(limit)
    return seconds


def test_failures_per_account_are_limited(client, factory):
    user = factory.user("inspector", factory.county())
    for _ in range(5):
        assert login(client, user, "wrong-password").status_code == 401
    _throttled(login(client, user, "wrong-password"))
    _throttled(login(client, user))  # even the right password waits: the guesser cannot tell
    other = factory.user("inspector", factory.county())
    assert login(client, other).status_code == 302  # another account from the same address is not locked


def test_successful_sign_ins_cost_nothing(app, factory):
    user = factory.user("reviewer", factory.county())
    for _ in range(8):
        client = app.test_client()
        assert login(client, user).status_code == 302


def test_unknown_names_are_counted_and_cost_a_hash(client, monkeypatch):
    calls = []
    real = auth_routes.check_password_hash
    monkeypatch.setattr(auth_routes, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    assert login(client, "nobody-here", "whatever-1").status_code == 401
    assert len(calls) == 1 and calls[0].startswith(("scrypt:", "pbkdf2:"))  # a real hash was verified
    for _ in range(4):
        login(client, "Nobody-Here ", "whatever-1")  # the same account, however it is typed
    _throttled(login(client, "nobody-here", "whatever-1"))


def test_failures_per_address_are_limited(make_app, factory):
    app = make_app(LOGIN_LIMIT_ADDRESS="3 per 10 minutes")
    with app.app_context():
        client = app.test_client()
        for n in range(3):
            assert login(client, f"guess{n}", "wrong-password").status_code == 401
        # The address's window (10 minutes), not the account's (15): the wait is the one that was hit.
        seconds = _throttled(login(client, "guess9", "wrong-password"), "3 per 10 minutes")
        assert seconds not in _window("1 per minute")
        # Another address is not affected.
        response = client.post(
            "/login", data={"username": "guess9", "password": "x"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
        )
        assert response.status_code == 401


def test_the_api_gets_the_error_shape(client):
    for _ in range(5):
        login(client, "someone", "wrong-password")
    response = client.post(
        "/login", data={"username": "someone", "password": "x"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "too_many_attempts"
    assert "后再试" in response.get_json()["error"]["message"] and response.headers["Retry-After"]


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not running at {REDIS_URL}")
    prefix = f"dudao-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(connection.scan_iter(f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    assert not list(connection.scan_iter(f"*{prefix}*"))
    connection.close()


def test_redis_storage_counts_across_app_servers(make_app, factory, redis_prefix):
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first, second = make_app(**config), make_app(**config)
    with first.app_context():
        user = factory.user("inspector", factory.county())
        for _ in range(3):
            assert login(first.test_client(), user, "wrong-password").status_code == 401
    with second.app_context():
        for _ in range(2):
            assert login(second.test_client(), user, "wrong-password").status_code == 401
        _throttled(login(second.test_client(), user, PASSWORD))
    with first.app_context():
        _throttled(login(first.test_client(), user, PASSWORD))
    import redis

    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*"))
    assert keys  # the counts live in Redis under the prefix (removed by the fixture)
