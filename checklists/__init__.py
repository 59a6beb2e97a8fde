"""Policy packs: checkable requirements from county policy documents.

This package has no Flask imports so it can be used and tested on its own.
"""

from .loader import PACKS_DIR, PackError, load_pack, load_packs
from .model import Check, Checklist, Item, Pack, Source

__all__ = [
    "PACKS_DIR",
    "Check",
    "Checklist",
    "Item",
    "Pack",
    "PackError",
    "Source",
    "load_pack",
    "load_packs",
]
