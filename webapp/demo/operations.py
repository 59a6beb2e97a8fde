"""Load the demo data (idempotent: counties already present are left alone)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..auth.models import User
from ..core.models import Assignment, County, School, Term
from ..extensions import db
from ..timeutil import today_in_china
from .data import ADMIN, COUNTIES, DEMO_PASSWORD, SCHOOL_USERS, TERMS, USERS
from .lessons import load_demo_lessons


def _user(username: str, name: str, role: str, county_id: int | None) -> User:
    user = User(username=username, display_name=name, role=role, county_id=county_id)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user


def load_demo() -> list[str]:
    """Create the demo counties, schools, terms and users; return what was made."""
    made: list[str] = []
    if db.session.scalar(select(User).where(User.username == ADMIN[0])) is None:
        _user(ADMIN[0], ADMIN[1], "admin", None)
        made.append(ADMIN[0])
    for spec in COUNTIES:
        if db.session.scalar(select(County).where(County.name == spec["name"])) is not None:
            continue
        county = County(
            name=spec["name"], region=spec["region"], policy_set=spec["policy_set"], settings=spec.get("settings", {})
        )
        db.session.add(county)
        db.session.flush()
        lat0, lon0 = spec["centre"]
        schools = []
        for code, name, stage, location, boarding, enrolment, classes, dlat, dlon, group in spec["schools"]:
            school = School(
                county_id=county.id,
                code=f"{spec['key'][:2].upper()}{code}",
                name=name,
                stage=stage,
                location=location,
                is_boarding=boarding,
                enrolment=enrolment,
                class_count=classes,
                latitude=round(lat0 + dlat, 6),
                longitude=round(lon0 + dlon, 6),
                group_name=group,
            )
            school.set_traits(set(spec.get("traits", {}).get(code, ())) | ({"boarding"} if boarding else set()))
            db.session.add(school)
            schools.append(school)
        for name, year, starts_on, ends_on in TERMS:
            db.session.add(Term(county_id=county.id, name=name, school_year=year, starts_on=starts_on, ends_on=ends_on))
        db.session.flush()
        for suffix, name, role, school_indexes in USERS:
            user = _user(f"{spec['key']}_{suffix}", name, role, county.id)
            db.session.flush()
            for index in school_indexes:
                db.session.add(
                    Assignment(user_id=user.id, school_id=schools[index].id, kind=role, starts_on=date(2026, 3, 1))
                )
            made.append(user.username)
        for suffix, name, index in SCHOOL_USERS:
            user = _user(f"{spec['key']}_{suffix}", f"{schools[index].name}{name}", "school", county.id)
            user.school_id = schools[index].id
            made.append(user.username)
    db.session.flush()
    load_demo_lessons(today_in_china())
    return made
