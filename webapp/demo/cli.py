"""``flask demo load``: demo data on the embedded default."""

from __future__ import annotations

import click

from ..extensions import db
from .data import DEMO_PASSWORD
from .operations import load_demo

demo_cli = click.Group("demo", help="Demo data.")


@demo_cli.command("load")
def load_cmd() -> None:
    """Load demo counties, schools and users (safe to run again)."""
    made = load_demo()
    db.session.commit()
    if made:
        click.echo(f"demo: created {len(made)} accounts, password {DEMO_PASSWORD}")
    else:
        click.echo("demo: already loaded")
