"""What the submissions fixture hands to its tests (a module of its own: ``conftest`` is ambiguous)."""

from __future__ import annotations

from dataclasses import dataclass

from facade.db import Database
from facade.settings import Settings


@dataclass
class Filled:
    settings: Settings
    database: Database
    orgs: list[str]
    apps: dict[str, str]
    import_id: str
    storage_failure: str
