"""``flask storage sweep``: remove unfinished uploads and old printed reports (cron, daily)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from sync.storage import StorageError
from sync.sweep import DEFAULT_AGES, sweep

storage_cli = AppGroup("storage", help="Photo storage upkeep (照片存储维护).")


@storage_cli.command("sweep")
@click.option("--upload-days", type=click.IntRange(min=1), default=DEFAULT_AGES["uploads/"].days, show_default=True)
@click.option("--report-hours", type=click.IntRange(min=1), default=24, show_default=True)
def sweep_command(upload_days: int, report_hours: int) -> None:
    """Delete uploads untouched for --upload-days and reports older than --report-hours."""
    ages = {"uploads/": timedelta(days=upload_days), "reports/": timedelta(hours=report_hours)}
    try:
        result = sweep(current_app.extensions["dudao.storage"], datetime.now(UTC), ages)
    except StorageError as exc:
        raise click.ClickException(f"照片存储不可用：{exc}") from exc
    for prefix in ages:
        click.echo(f"{prefix} deleted {result.deleted[prefix]}, kept {result.kept[prefix]}")
    click.echo(f"freed {result.bytes_freed} bytes")
