"""The production record processor, observed: counts calls and can be made to fail like a bug would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from facade.db import Database
from facade.errors import Issue
from facade.mapping.processor import DictionaryProcessor
from facade.native.processor import IntakeContext, PreparedRecord, RecordProcessor
from facade.settings import Settings


class Observed:
    """Wraps a processor; ``explode_on`` (a recordId) raises inside ``prepare``."""

    def __init__(self, inner: RecordProcessor, explode_on: str | None = None) -> None:
        self.inner = inner
        self.explode_on = explode_on
        self.calls = 0

    def one_batch(
        self, context: IntakeContext, records: Sequence[Any]
    ) -> AbstractContextManager[None]:
        return nullcontext()

    def prepare(
        self, context: IntakeContext, index: int, record: Mapping[str, Any]
    ) -> PreparedRecord | list[Issue]:
        self.calls += 1
        if self.explode_on is not None and record.get("recordId") == self.explode_on:
            raise RuntimeError("processor bug")
        return self.inner.prepare(context, index, record)


def production(settings: Settings, database: Database, explode_on: str | None = None) -> Observed:
    """The gateway's processor (the data-element dictionary's), as the app builds it."""
    return Observed(DictionaryProcessor.from_settings(settings, database), explode_on)
