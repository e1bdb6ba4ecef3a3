"""Service codes and protocol version of VTE-X 1.0 (native-protocol.md §2.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

PROTOCOL_VERSION = "1.0"

# The gateway's own services; upload services (VTE.CASE.UPLOAD, ...) are those the installed
# RecordProcessor declares, i.e. the data dictionary's record types.
PING = "VTE.PING"
BATCH_QUERY = "VTE.BATCH.QUERY"
PROTOCOL_SERVICES = (PING, BATCH_QUERY)
SERVICE_CODE = re.compile(r"VTE(\.[A-Z]+)+")
# Query services other packages install (``Gateway(queries=...)``): VTE.DQ.QUERY (facade.quality).
DQ_QUERY = "VTE.DQ.QUERY"


class QueryService(Protocol):
    """A read-only service: the caller's institution (already bound to its app) and the bizContent.

    Returns the reply payload; raises ``ProtocolRejected`` (``facade.native.codes.reject``) with
    2003 for a bizContent it cannot read. It only ever answers about ``org_code``.
    """

    def __call__(self, org_code: str, document: Mapping[str, Any]) -> Mapping[str, Any]: ...
