"""Service codes and protocol version of VTE-X 1.0 (native-protocol.md §2.2)."""

from __future__ import annotations

import re

PROTOCOL_VERSION = "1.0"

# The gateway's own services; upload services (VTE.CASE.UPLOAD, ...) are those the installed
# RecordProcessor declares, i.e. the data dictionary's record types.
PING = "VTE.PING"
BATCH_QUERY = "VTE.BATCH.QUERY"
PROTOCOL_SERVICES = (PING, BATCH_QUERY)
SERVICE_CODE = re.compile(r"VTE(\.[A-Z]+)+")
