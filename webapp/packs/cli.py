"""``flask checklists``: validate, list and export policy packs."""

from __future__ import annotations

import json
import sys

import click

from checklists import PackError, load_packs
from checklists.export import pack_items, xlsform_workbook
from checklists.generator import GeneratorError, SchoolProfile, compose
from checklists.vocabulary import LOCATIONS, SCHOOL_TRAITS, STAGES, VISIT_TYPES

from ..timeutil import today_in_china

checklists_cli = click.Group("checklists", help="Policy packs: validate, list, export.")


def _load() -> dict:
    try:
        return load_packs()
    except PackError as exc:
        raise click.ClickException("\n".join(exc.problems)) from exc


@checklists_cli.command("validate")
def validate_cmd() -> None:
    """Validate every pack file (schema, sources, verbatim quotes)."""
    packs = _load()
    for pack in packs.values():
        click.echo(f"{pack.id}: {len(pack.items)} items ok")
    click.echo(f"{len(packs)} packs, {sum(len(p.items) for p in packs.values())} items: all valid")


@checklists_cli.command("list")
def list_cmd() -> None:
    """Print the policy-set ids, one a line."""
    for pack_id in sorted(_load()):
        click.echo(pack_id)


@checklists_cli.command("export")
@click.option("--policy-set", "policy_set", required=True, help="pack id, see `checklists list`")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsform"]), default="json", show_default=True)
@click.option(
    "--stage", type=click.Choice(list(STAGES)), default="primary", show_default=True, help="xlsform: school stage"
)
@click.option(
    "--location", type=click.Choice(list(LOCATIONS)), default="town", show_default=True, help="xlsform: location"
)
@click.option("--boarding/--no-boarding", default=False, help="xlsform: boarding school")
@click.option(
    "--trait",
    "traits",
    type=click.Choice(list(SCHOOL_TRAITS)),
    multiple=True,
    help="xlsform: a school trait (repeat for several), e.g. minority_language, group_core, school_bus",
)
@click.option("--visit-type", type=click.Choice(list(VISIT_TYPES)), default="routine", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="write here instead of standard output")
def export_cmd(
    policy_set: str,
    fmt: str,
    stage: str,
    location: str,
    boarding: bool,
    traits: tuple[str, ...],
    visit_type: str,
    output: str | None,
) -> None:
    """Export a pack's items as JSON, or a composed checklist as an XLSForm workbook."""
    packs = _load()
    if policy_set not in packs:
        raise click.BadParameter(
            f"unknown policy set {policy_set!r}; known: {', '.join(sorted(packs))}", param_hint="--policy-set"
        )
    pack = packs[policy_set]
    if fmt == "json":
        data = json.dumps(pack_items(pack), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
    else:
        try:
            # Items addressed to schools with a trait (原民族语言授课、集团核心校、校车…) reach the form only
            # when the school has it, as on the web (?traits=…).
            profile = SchoolProfile(stage, location, frozenset(traits), is_boarding=boarding)
            # The day in China, as the web composes (statuses, due dates, rules not yet in force).
            snapshot = compose(pack, profile, visit_type, on=today_in_china())
        except GeneratorError as exc:
            raise click.ClickException(str(exc)) from exc
        data = xlsform_workbook(snapshot)
        if output is None and sys.stdout.isatty():
            raise click.ClickException("XLSForm is a binary workbook: give --output FILE or redirect the output")
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
