"""What one audited request is (AuditContext) and the FHIR R4 AuditEvent built from it.

The event follows the shape of IHE BALP (type/subtype, agent per client and organisation,
``source`` = this facade, one entity per touched resource, the query, and the patients), without
claiming BALP profiles HAPI cannot validate offline. Entities name resources by identifier (the
facade URL) rather than by literal reference: HAPI enforces referential integrity, so a literal
reference would stop a refused read of a missing id from being audited, and would later stop the
referenced resource from being deleted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from facade.audit.redact import mask_query, mask_text
from facade.fhir.naming import CANONICAL, ORG_CODE_SYSTEM, REPORTING_ORG_TAG, code_system_url

CLIENT_SYSTEM = f"{CANONICAL}/sid/api-client"
NATIVE_APP_SYSTEM = f"{CANONICAL}/sid/native-app"
CONSOLE_USER_SYSTEM = f"{CANONICAL}/sid/console-user"
ROLE_SYSTEM = code_system_url("client-role")
NATIVE_SERVICE_SYSTEM = code_system_url("vte-x-service")
SOURCE_SITE = "vte-facade"
MAX_ENTITIES = 50

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_INTERACTION = "http://hl7.org/fhir/restful-interaction"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
# Sign-in events of the console (door "console"): DICOM Login / Logout subtypes.
_CONSOLE_AUTH = {"login": ("110122", "Login"), "logout": ("110123", "Logout")}

# Why each role reads: v3 ActReason codes for AuditEvent.purposeOfEvent.
PURPOSE = {
    "hospital": "HOPERAT",
    "qc": "HQUALIMP",
    "researcher": "HRESCH",
    "auditor": "HSYSADMIN",
    "admin": "HSYSADMIN",
    "region": "HQUALIMP",
}


@dataclass
class AuditContext:
    """Facts about one request, filled in as the request is handled (auth, route, outcome)."""

    door: str  # fhir | auth | native | console
    method: str
    path: str
    query: str = ""
    interaction: str = "unknown"  # FHIR restful-interaction code, "token", or a VTE-X serviceCode
    action: str = "E"  # C R U D E
    client_id: str | None = None
    client_name: str | None = None
    role: str | None = None
    org_code: str | None = None
    authenticated: bool = False
    remote_addr: str | None = None
    request_id: str | None = None
    resource_type: str | None = None
    entities: list[str] = field(default_factory=list)  # "Type/id"
    patients: list[str] = field(default_factory=list)  # "Patient/id"
    detail: str | None = None  # outcome description (never personal data)
    extra: dict[str, str] = field(default_factory=dict)  # e.g. batchNo, counts (native door)

    def touch(self, reference: str) -> None:
        """Note a resource the request read or wrote (deduplicated, capped)."""
        if reference not in self.entities and len(self.entities) < MAX_ENTITIES:
            self.entities.append(reference)

    def touch_patient(self, reference: str) -> None:
        """Note a patient whose data the request touched (deduplicated, capped)."""
        if reference not in self.patients and len(self.patients) < MAX_ENTITIES:
            self.patients.append(reference)


def outcome_code(status: int) -> str:
    """AuditEvent.outcome for an HTTP status: 0 success, 4 minor (refused), 8 serious (failed)."""
    if status < 400:
        return "0"
    return "4" if status < 500 else "8"


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _event_type(ctx: AuditContext) -> tuple[dict[str, str], list[dict[str, str]]]:
    if ctx.door == "auth":
        return _coding(_DCM, "110114", "User Authentication"), [_coding(_DCM, "110122", "Login")]
    if ctx.door == "console" and ctx.interaction in _CONSOLE_AUTH:
        code, display = _CONSOLE_AUTH[ctx.interaction]
        return _coding(_DCM, "110114", "User Authentication"), [_coding(_DCM, code, display)]
    if ctx.door == "native":
        return _coding(_DCM, "110107", "Import"), [
            _coding(NATIVE_SERVICE_SYSTEM, ctx.interaction or "unknown")
        ]
    return _coding(_EVENT_TYPE, "rest", "RESTful Operation"), [
        _coding(_INTERACTION, ctx.interaction)
    ]


def _agents(ctx: AuditContext) -> list[dict[str, Any]]:
    system = {"native": NATIVE_APP_SYSTEM, "console": CONSOLE_USER_SYSTEM}.get(
        ctx.door, CLIENT_SYSTEM
    )
    # A console user is a person; every other door's caller is a system.
    kind = (
        _coding(_AGENT_TYPE, "humanuser", "human user")
        if ctx.door == "console"
        else _coding(_DCM, "110150", "Application")
    )
    who: dict[str, Any] = {}
    if ctx.client_id:
        who["identifier"] = {"system": system, "value": ctx.client_id}
    who["display"] = (ctx.client_name or ctx.client_id or "anonymous") + (
        "" if ctx.authenticated else " (not authenticated)"
    )
    agent: dict[str, Any] = {
        "type": {"coding": [kind]},
        "who": who,
        "requestor": True,
    }
    if ctx.client_id:
        agent["altId"] = ctx.client_id
    if ctx.role:
        agent["role"] = [{"coding": [_coding(ROLE_SYSTEM, ctx.role)]}]
        if ctx.role in PURPOSE:
            agent["purposeOfUse"] = [{"coding": [_coding(_ACT_REASON, PURPOSE[ctx.role])]}]
    if ctx.remote_addr:
        agent["network"] = {"address": ctx.remote_addr, "type": "2"}
    agents = [agent]
    if ctx.org_code:
        agents.append(
            {
                "who": {"identifier": {"system": ORG_CODE_SYSTEM, "value": ctx.org_code}},
                "requestor": False,
            }
        )
    return agents


# Codings every event repeats, built once (they are only ever serialised, never changed).
_SYSTEM_OBJECT = _coding(_ENTITY_TYPE, "2", "System Object")
_PERSON = _coding(_ENTITY_TYPE, "1", "Person")
_PATIENT_ROLE = _coding(_OBJECT_ROLE, "1", "Patient")
_QUERY_ROLE = _coding(_OBJECT_ROLE, "24", "Query")
_OTHER = _coding(_ENTITY_TYPE, "4", "Other")


def _entities(ctx: AuditContext, base_url: str) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    for reference in ctx.entities:
        entities.append(
            {
                "what": {
                    "identifier": {
                        "system": "urn:ietf:rfc:3986",
                        "value": f"{base_url}/{reference}",
                    }
                },
                "type": _SYSTEM_OBJECT,
                "name": reference,
            }
        )
    for reference in ctx.patients:
        entities.append(
            {
                "what": {
                    "identifier": {
                        "system": "urn:ietf:rfc:3986",
                        "value": f"{base_url}/{reference}",
                    }
                },
                "type": _PERSON,
                "role": _PATIENT_ROLE,
                "name": reference,
            }
        )
    if ctx.query or ctx.interaction.startswith("search"):
        # Masked after percent-decoding (facade.audit.redact): no identifier value, no ID number.
        text = f"{ctx.method} {mask_text(ctx.path)}" + (
            f"?{mask_query(ctx.query)}" if ctx.query else ""
        )
        entities.append(
            {
                "type": _SYSTEM_OBJECT,
                "role": _QUERY_ROLE,
                "query": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            }
        )
    for key, value in ctx.extra.items():
        entities.append(
            {
                "type": _OTHER,
                "name": key,
                "detail": [{"type": key, "valueString": value}],
            }
        )
    return entities


def audit_event(
    ctx: AuditContext, *, event_id: str, recorded: datetime, status: int, base_url: str
) -> dict[str, Any]:
    """The AuditEvent for a finished request (``status`` = HTTP status or its native equivalent)."""
    event_type, subtype = _event_type(ctx)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": event_id,
        "type": event_type,
        "subtype": subtype,
        "action": ctx.action,
        "recorded": recorded.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": outcome_code(status),
        "outcomeDesc": f"{status} {mask_text(ctx.detail)}" if ctx.detail else str(status),
        "agent": _agents(ctx),
        "source": {
            "site": SOURCE_SITE,
            "observer": {"display": SOURCE_SITE},
            "type": [_coding(_SOURCE_TYPE, "4", "Application Server")],
        },
    }
    if ctx.org_code:
        event["meta"] = {"tag": [{"system": REPORTING_ORG_TAG, "code": ctx.org_code}]}
    if ctx.role in PURPOSE:
        event["purposeOfEvent"] = [{"coding": [_coding(_ACT_REASON, PURPOSE[str(ctx.role)])]}]
    entities = _entities(ctx, base_url)
    if entities:
        event["entity"] = entities
    return event
