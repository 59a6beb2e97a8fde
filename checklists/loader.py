"""Load policy pack files, validate them and report errors by file and item."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from .model import Pack
from .schema import PackSchema
from .seeds import SEEDS_DIR, quote_occurs

PACKS_DIR = Path(__file__).with_name("packs")
#: libyaml's loader is ten times faster where PyYAML was built with it.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Loaded packs by directory and file stamps: an app process (or a test run)
#: builds many apps from the same unchanged files.
_CACHE: dict[tuple[str, str, tuple[tuple[str, int, int], ...]], dict[str, Pack]] = {}


class PackError(Exception):
    """A pack file is invalid; ``problems`` lists each as 'file: where: what'."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _flatten(errors: Any, raw: Any, where: str) -> Iterable[str]:
    """Turn marshmallow's nested error dict into 'where: message' lines.

    Item positions are replaced by the item id where the raw data has one,
    so an editor can find the item in the file.
    """
    if isinstance(errors, list):
        for message in errors:
            yield f"{where}: {message}"
        return
    for key, sub in errors.items():
        child = raw[key] if _has(raw, key) else None
        label = f"{where}.{key}" if where else str(key)
        if isinstance(key, int) and isinstance(child, dict) and "id" in child:
            label = f"{where}[{child['id']}]"
        elif isinstance(key, int):
            label = f"{where}[{key}]"
        yield from _flatten(sub, child, label)


def _has(raw: Any, key: Any) -> bool:
    if isinstance(raw, dict):
        return key in raw
    if isinstance(raw, list) and isinstance(key, int):
        return 0 <= key < len(raw)
    return False


def _cross_checks(pack: Pack, seeds_dir: Path) -> list[str]:
    """Checks that span items: unique ids, known sources, verbatim quotes, audiences only
    narrowed, county settings declared."""
    problems: list[str] = []
    documents = {doc.file: doc for doc in pack.documents}
    settings = {setting.key for setting in pack.county_settings}
    seen: set[str] = set()
    for item in pack.items:
        where = f"item {item.id}"
        if not item.id.startswith(pack.id + "."):
            problems.append(f"{where}: id must start with '{pack.id}.'")
        if item.id in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(item.id)
        if item.effective_from and item.effective_until and item.effective_from > item.effective_until:
            problems.append(f"{where}: effective_from is after effective_until")
        if item.audience is not None:
            problems.extend(f"{where}: {problem}" for problem in item.audience.widened_by(item.applies_to))
        if item.due is not None:
            for key in (item.due.anchor_setting, item.due.setting):
                if key is not None and key not in settings:
                    problems.append(f"{where}: due refers to county setting {key}, which the pack does not declare")
        for source in item.sources:
            doc = documents.get(source.file)
            if doc is None:
                problems.append(f"{where}: source file {source.file} is not among the pack's documents")
                continue
            if source.doc_no != doc.doc_no:
                problems.append(f"{where}: doc_no {source.doc_no} does not match {doc.file} ({doc.doc_no})")
            try:
                found = quote_occurs(source.file, source.quote, seeds_dir)
            except FileNotFoundError as exc:
                problems.append(f"{where}: {exc}")
                continue
            if not found:
                problems.append(f"{where}: quote not found verbatim in {source.file}: {source.quote}")
    return problems


def load_pack(path: Path, seeds_dir: Path = SEEDS_DIR) -> Pack:
    """Load and fully validate one pack file; raise PackError naming every problem."""
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise PackError([f"{name}: cannot read: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise PackError([f"{name}: the file must hold a mapping"])
    try:
        pack: Pack = PackSchema().load(raw)
    except ValidationError as exc:
        raise PackError([f"{name}: {line}" for line in _flatten(exc.messages, raw, "")]) from exc
    problems = _cross_checks(pack, seeds_dir)
    if pack.id != path.stem:
        problems.append(f"pack id {pack.id} must equal the file name {path.stem}")
    if problems:
        raise PackError([f"{name}: {line}" for line in problems])
    return Pack(**{**pack.__dict__, "path": str(path)})


def load_packs(packs_dir: Path = PACKS_DIR, seeds_dir: Path = SEEDS_DIR) -> dict[str, Pack]:
    """Load every ``*.yaml`` pack in ``packs_dir``, keyed by pack id.

    All files are checked before raising, so one run reports every problem.
    Results are cached while the files are unchanged.
    """
    paths = sorted(packs_dir.glob("*.yaml"))
    stamps = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    key = (str(packs_dir), str(seeds_dir), stamps)
    if key in _CACHE:
        return dict(_CACHE[key])
    packs: dict[str, Pack] = {}
    problems: list[str] = []
    for path in paths:
        try:
            pack = load_pack(path, seeds_dir)
        except PackError as exc:
            problems.extend(exc.problems)
            continue
        packs[pack.id] = pack
    if problems:
        raise PackError(problems)
    _CACHE[key] = packs
    return dict(packs)
