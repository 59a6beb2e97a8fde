"""``flask demo load``: demo data on the embedded default."""

from __future__ import annotations

import click

from ..extensions import db
from ..timeutil import today_in_china
from .bureau import load_demo_bureau
from .data import DEMO_PASSWORD
from .operations import load_demo
from .visits import plan_demo_visits

demo_cli = click.Group("demo", help="Demo data.")


@demo_cli.command("load")
def load_cmd() -> None:
    """Load demo counties, schools and users (safe to run again)."""
    made = load_demo()
    planned = plan_demo_visits(today_in_china())
    # After planning: the planner skips inspectors who already have visits.
    load_demo_bureau(today_in_china())
    db.session.commit()
    if planned:
        click.echo(f"demo: planned {planned} visits for the inspectors")
    if made:
        click.echo(f"demo: created {len(made)} accounts, password {DEMO_PASSWORD}")
    else:
        click.echo("demo: already loaded")
