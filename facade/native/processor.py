"""The seam between the gateway and the data dictionary: validate and prepare one record.

The gateway owns the protocol (envelope, batch, ``recordId``/``recordVersion``, receipts); a
``RecordProcessor`` owns the meaning of a record's fields. The mapping engine provides the
production processor; ``create_app(record_processor=...)`` installs it. Without one, upload
services answer 5001 rather than pretend to validate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from facade.errors import Issue


@dataclass(frozen=True)
class IntakeContext:
    """Who sent the batch the record belongs to (already authenticated and bound)."""

    app_id: str
    org_code: str
    service_code: str
    batch_no: str


@dataclass(frozen=True)
class PreparedRecord:
    """A record that passed every rule, ready to store.

    ``payload`` must be JSON-serialisable and contain no identity number in clear: the processor
    replaces it by the regional pseudonym (``facade.privacy.regional_pseudonym``) before the
    gateway ever stores it. It should be deterministic for the same input, because an unchanged
    re-send is recognised by the digest of this payload. ``warnings`` (e.g. an ignored extra
    field) are reported back on a successful record. ``period_anchors`` are the moments that
    place the record in reporting periods (its stay's discharge; facade/periods): a new version
    is refused with 3008 when one of them lies in a period QC has closed.
    """

    payload: Mapping[str, Any]
    warnings: list[Issue] = field(default_factory=list)
    period_anchors: tuple[datetime, ...] = ()


@runtime_checkable
class RecordProcessor(Protocol):
    """Validates one record of an upload batch against the dictionary and prepares it for storage."""

    @property
    def service_codes(self) -> frozenset[str]:
        """The upload services this processor handles (``VTE.CASE.UPLOAD``, ...); others are 2001."""
        ...

    def one_batch(
        self, context: IntakeContext, records: Sequence[Any]
    ) -> AbstractContextManager[None]:
        """The gateway prepares each batch's records inside ``with processor.one_batch(context,
        records):``; a processor may look up what the records link to together, and reuse
        look-ups within it (nothing it reads is stored during the block)."""
        ...

    def prepare(
        self, context: IntakeContext, index: int, record: Mapping[str, Any]
    ) -> PreparedRecord | list[Issue]:
        """Return the prepared record, or every problem found (never just the first).

        Each Issue has ``native_code`` 3001–3008 and ``location`` ``records[<index>].<field>``; its
        message names the rule without quoting the submitted value. Raising is a bug: the gateway
        then rejects the whole batch with 5000 and stores nothing.
        """
        ...
