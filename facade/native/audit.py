"""The audit hook of the native gateway: one event per request, whatever its outcome (§2.6 step 12)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NativeAuditEvent:
    """What happened to one gateway request; carries no payload and no personal data.

    Fields the request never got far enough to establish are "" (or 0 for counts).
    """

    request_id: str
    occurred_ms: int
    source_ip: str
    app_id: str
    org_code: str
    service_code: str
    nonce: str
    sign_type: str
    enc_type: str
    signature_verified: bool
    code: str
    batch_no: str
    total: int
    success_count: int
    fail_count: int
    duration_ms: float


AuditHook = Callable[[NativeAuditEvent], None]


def no_audit(_event: NativeAuditEvent) -> None:
    """The hook of a gateway built without an audit trail (facade.services wires the real one)."""
