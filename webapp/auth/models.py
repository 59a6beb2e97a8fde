"""Users and their roles."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.models import Assignment, County, School
from ..extensions import db
from ..timeutil import utcnow

#: Roles and their Chinese names.
ROLES: dict[str, str] = {
    "inspector": "责任督学",
    "researcher": "教研员",
    "reviewer": "督导室",
    "admin": "系统管理员",
    "school": "学校",
}


def password_hash_method() -> str:
    """The configured hash method for new passwords (``PASSWORD_HASH_METHOD``; scrypt unless changed).

    Verification reads the method from each stored hash, so changing it never locks anyone out.
    """
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"
    return "scrypt"


class User(UserMixin, db.Model):
    """A person who signs in. Everyone but an admin belongs to one county; a 学校 account to one school."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    county_id: Mapped[int | None] = mapped_column(ForeignKey("counties.id"), index=True)
    #: A 学校 account acts for this one school only (None for every other role).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    #: The session generation: every session and remember-me cookie carries it, and bumping it (sign-out,
    #: password change or reset, disabling) ends them all at once, on every device.
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: An imported or reset initial password: the person must choose their own before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    county: Mapped[County | None] = relationship()
    school: Mapped[School | None] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        """A disabled account cannot sign in."""
        return self.is_active_account

    def get_id(self) -> str:
        """Session id: user id and epoch, so a password change ends old sessions."""
        return f"{self.id}:{self.session_epoch}"

    def set_password(self, password: str) -> None:
        """Hash and store ``password``; ends the user's other sessions."""
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.end_sessions()

    def end_sessions(self) -> None:
        """End every session and remember-me cookie of this user, on every device."""
        self.session_epoch = (self.session_epoch or 0) + 1

    def check_password(self, password: str) -> bool:
        """Tell whether ``password`` is the user's."""
        return check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        """The role's Chinese name."""
        return ROLES.get(self.role, self.role)
