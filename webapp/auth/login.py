"""Flask-Login wiring: load users from the session, answer anonymous requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request, url_for
from flask_login import current_user

from ..errors import error_response, wants_json
from ..extensions import db, login_manager
from .models import User


def load_user(session_id: str) -> User | None:
    """Load the user of a session id ``"<id>:<epoch>"``; a stale epoch or a disabled account signs out.

    Runs on every request (session cookie or remember-me cookie alike), so sign-out everywhere, a password
    change or reset and disabling an account take effect on the next request.
    """
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch) or not user.is_active:
        return None
    return user


def unauthorized() -> Response:
    """Anonymous (or the session ended): JSON 401 ``auth_required`` for the API, the login page for people.

    The phone keeps its outbox on a 401 and asks the person to sign in again.
    """
    if wants_json():
        return error_response(401, "auth_required", "登录已失效，请重新登录。")
    if request.headers.get("HX-Request") == "true":
        # htmx would follow a redirect and swap the whole login page into the table it was refreshing:
        # the browser goes to the login page instead, and back to the page the person was on.
        login = url_for("auth.login", next=_htmx_page())
        return Response("登录已失效，请重新登录。", status=401, headers={"HX-Redirect": login})
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _htmx_page() -> str:
    """The page an htmx request came from (``HX-Current-URL``, same site only), else the request's own path."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc == request.host and current.path.startswith("/"):
        return current.path + (f"?{current.query}" if current.query else "")
    return request.full_path.rstrip("?")


#: What a person who must change their password may still reach.
CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "auth.end_sessions", "auth.login", "static"}


def require_password_change() -> Response | None:
    """After an import or a reset, nothing but the change-password page until a new password is chosen."""
    if request.endpoint in CHANGE_ALLOWED or not current_user.is_authenticated:
        return None
    if not current_user.must_change_password:
        return None
    if wants_json():
        return error_response(403, "password_change_required", "请先修改初始密码。")
    return redirect(url_for("auth.change_password"))


#: The account a phone's write is made for (its outbox entries' owner): the header it sends with every write.
USER_HEADER = "X-Dudao-User"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def require_same_user() -> Response | None:
    """A write naming another account than the session's is refused: 409 ``user_changed``, nothing applied.

    A shared phone's browser has one cookie jar for all its tabs: a tab of the offline app opened before one
    person signed out and another signed in still holds the first person's records, and would send them
    under the second person's session (a visit recorded offline would become theirs). The phone keeps them
    for their owner and switches to the person now signed in.
    """
    expected = request.headers.get(USER_HEADER)
    if expected is None or request.method not in WRITE_METHODS or request.routing_exception is not None:
        return None  # a read, or no such route or method (404/405 say so)
    if not current_user.is_authenticated or expected == str(current_user.id):
        return None
    return error_response(409, "user_changed", "这台手机已换了账号登录，原账号的记录留在手机上，等原账号登录后再发送。")


def init(app: Flask) -> None:
    """Install the loader, the unauthorized handler, the password-change gate and the same-user check."""
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(require_password_change)
    app.before_request(require_same_user)
