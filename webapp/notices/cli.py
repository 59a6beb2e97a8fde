"""``flask notices run``: the daily job (cron or the worker runs it; running it twice a day sends nothing twice)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from ..extensions import db
from ..timeutil import today_in_china
from .events import run_daily

notices_cli = AppGroup("notices", help="Deadline notices (整改到期、逾期、自查报送).")


@notices_cli.command("run")
@click.option("--date", "day", default=None, help="Run as of this China date (YYYY-MM-DD); default today.")
def run(day: str | None) -> None:
    """Mark overdue tasks and send the day's notices."""
    today = date.fromisoformat(day) if day else today_in_china()
    result = run_daily(today)
    db.session.commit()
    click.echo(f"notices: {result.tasks} tasks looked at, {result.overdue} overdue, {result.sent} notices sent")
