"""Roles of system clients and what each may read, write and see (the access-control table)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The role a registered client acts in; fixed at registration, carried in every token."""

    HOSPITAL = "hospital"
    QC = "qc"
    RESEARCHER = "researcher"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # A child platform (a city or county facade) reporting to this one: it submits its region's
    # summary reports and linkage data ($submit-data, /network/v1) and reads nothing clinical.
    REGION = "region"


class View(StrEnum):
    """How stored data is shown to a role (rules: mappings/views, applied by facade.privacy.projector)."""

    STORED = "stored"  # as stored: the hospital's own data, audit events for auditors
    PSEUDONYMISED = "pseudonymised"  # regional QC: names/contacts gone, identifiers keyed
    DEIDENTIFIED = "deidentified"  # research: no identifiers, dates shifted, free text gone


# Clinical record types: every instance belongs to exactly one reporting organisation.
CLINICAL_TYPES = frozenset(
    {
        "Patient",
        "Encounter",
        "RiskAssessment",
        "Observation",
        "Condition",
        "Procedure",
        "MedicationAdministration",
    }
)
# Types whose instances are tagged with the owning organisation and filtered by it for hospitals.
TENANT_TYPES = CLINICAL_TYPES | {"MeasureReport"}
# Shared registry data that every reading role may see unfiltered (hospitals, indicator definitions).
REGISTRY_TYPES = frozenset({"Organization", "Measure"})
AUDIT_TYPES = frozenset({"AuditEvent"})


@dataclass(frozen=True)
class RolePolicy:
    """The ceiling of one role; a client's scopes can narrow it, never widen it."""

    read: frozenset[str]
    write: frozenset[str]
    view: View
    # Reads filtered to, and writes confined to, the client's own organisation.
    tenant_scoped: bool
    # Whether _history is offered (history entries can't be filtered or de-identified cheaply).
    history: bool
    # Whether registration must name the client's organisation.
    needs_org: bool
    # Types the role may only submit through a checked operation (``$submit-data``), never
    # write through the FHIR door: they count as create/update for scopes, not as door writes.
    submits: frozenset[str] = frozenset()

    def permissions(self, resource_type: str) -> str:
        """SMART v2 permission letters this role could ever hold on a type (``"cruds"`` subset)."""
        letters = ""
        if resource_type in self.write or resource_type in self.submits:
            letters += "cu"
        if resource_type in self.read:
            letters += "rs"
        return "".join(p for p in "cruds" if p in letters)


_READ_CLINICAL = CLINICAL_TYPES | REGISTRY_TYPES | {"MeasureReport"}

POLICIES: dict[Role, RolePolicy] = {
    Role.HOSPITAL: RolePolicy(
        read=_READ_CLINICAL,
        write=CLINICAL_TYPES | {"Organization"},
        view=View.STORED,
        tenant_scoped=True,
        history=True,
        needs_org=True,
    ),
    Role.QC: RolePolicy(
        read=_READ_CLINICAL,
        write=frozenset(),
        view=View.PSEUDONYMISED,
        tenant_scoped=False,
        history=True,
        needs_org=False,
    ),
    Role.RESEARCHER: RolePolicy(
        read=_READ_CLINICAL,
        write=frozenset(),
        view=View.DEIDENTIFIED,
        tenant_scoped=False,
        history=False,
        needs_org=False,
    ),
    Role.AUDITOR: RolePolicy(
        read=AUDIT_TYPES,
        write=frozenset(),
        view=View.STORED,
        tenant_scoped=False,
        history=True,
        needs_org=False,
    ),
    # Platform administration: the organisation registry only, no clinical data by default.
    Role.ADMIN: RolePolicy(
        read=REGISTRY_TYPES,
        write=frozenset({"Organization"}),
        view=View.STORED,
        tenant_scoped=False,
        history=True,
        needs_org=False,
    ),
    # A child platform: submits the summary reports of its registered region(s) only (the
    # region codes are bound to the client in facade/network), no reads of any stored data.
    Role.REGION: RolePolicy(
        read=frozenset(),
        write=frozenset(),
        view=View.STORED,
        tenant_scoped=False,
        history=False,
        needs_org=False,
        submits=frozenset({"MeasureReport"}),
    ),
}


def policy(role: Role | str) -> RolePolicy:
    """The policy of a role."""
    return POLICIES[Role(role)]
