"""Institution registry: admission rule, code validation and the FHIR Organization each one gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from facade.errors import Conflict, InvalidInput, Issue, NotFound
from facade.fhir.naming import ORG_CODE_SYSTEM, REPORTING_ORG_TAG, code_system_url, profile_url
from facade.forward.ids import derived_id
from facade.mapping.plans import match_url
from facade.native.tables import NativeOrg
from facade.upstream import UpstreamClient

# Grades of the hospital-grade code table (mappings/code-tables/hospital-grade.yaml) at level 2
# or 3: the standard admits secondary hospitals and above; a test keeps this list equal to the table.
ADMITTED_GRADES = {
    "31": "三级甲等",
    "32": "三级乙等",
    "33": "三级丙等",
    "39": "三级未定等",
    "21": "二级甲等",
    "22": "二级乙等",
    "23": "二级丙等",
    "29": "二级未定等",
}
# The five functions the admission rule requires of the hospital's VTE system (IG extension vte-capabilities).
VTE_CAPABILITIES = (
    "riskAssessment",
    "bleedingAssessment",
    "mechContraindicationAssessment",
    "wellsAssessment",
    "indicatorStatistics",
)

# GB 32100-2015 统一社会信用代码: 17 characters from this alphabet, then a mod-31 check character.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# The IG's invariant vte-org-3: registration authority, type, 6-digit region, then 10 characters.
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
ORGANIZATION_PROFILE = profile_url("vte-organization")


@dataclass(frozen=True)
class OrgSummary:
    """What ``org list`` shows."""

    org_code: str
    name: str
    grade: str
    status: str
    fhir_id: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form with the protocol's camelCase names."""
        return {
            "orgCode": self.org_code,
            "name": self.name,
            "hospitalGrade": self.grade,
            "status": self.status,
            "fhirId": self.fhir_id,
        }

    @classmethod
    def of(cls, org: NativeOrg) -> OrgSummary:
        """The summary of a registry row."""
        return cls(org.org_code, org.name, org.grade, org.status, org.fhir_id)


def uscc_is_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code with a correct check character."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(
        _USCC_ALPHABET.index(ch) * weight for ch, weight in zip(code, _USCC_WEIGHTS, strict=False)
    )
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def check_org_code(code: str) -> None:
    """Raise InvalidInput unless ``code`` is a unified social credit code with a correct check character."""
    if not (_USCC_SHAPE.fullmatch(code) and uscc_is_valid(code)):
        raise InvalidInput(
            "orgCode is not a valid unified social credit code",
            issues=[
                Issue(
                    "orgCode",
                    "uscc",
                    "18 characters (no I O S V Z), region digits 3-8, correct check character",
                )
            ],
        )


def check_admission(grade: str, has_vte_system: bool) -> None:
    """The standard's admission rule: level 2 or above, with a VTE system offering the five functions.

    Raises InvalidInput with one issue per unmet condition (``hospitalGrade``, ``vteSystem``).
    """
    issues = []
    if grade not in ADMITTED_GRADES:
        issues.append(
            Issue(
                "hospitalGrade",
                "admission",
                f"grade {grade!r} is not admitted: secondary hospitals and above only "
                f"(one of {', '.join(sorted(ADMITTED_GRADES))})",
            )
        )
    if not has_vte_system:
        issues.append(
            Issue(
                "vteSystem",
                "admission",
                "the hospital's VTE system must offer VTE-risk, bleeding-risk, "
                "mechanical-prophylaxis-contraindication and Wells assessments and indicator "
                "statistics; confirm that it does",
            )
        )
    if issues:
        raise InvalidInput(
            "not admitted: the exchange admits secondary hospitals and above whose VTE system "
            "offers the five functions",
            issues=issues,
        )


def organization_resource(org_code: str, name: str, grade: str, *, active: bool) -> dict[str, Any]:
    """The institution's FHIR Organization (profile vte-organization), tagged as its own tenant."""
    return {
        "resourceType": "Organization",
        "meta": {
            "profile": [ORGANIZATION_PROFILE],
            "tag": [{"system": REPORTING_ORG_TAG, "code": org_code}],
        },
        "extension": [
            {
                "url": profile_url("hospital-grade"),
                "valueCoding": {
                    "system": code_system_url("hospital-grade"),
                    "code": grade,
                    "display": ADMITTED_GRADES[grade],
                },
            },
            {
                "url": profile_url("vte-capabilities"),
                # Registration happens only after the operator confirmed all five (check_admission).
                "extension": [{"url": name_, "valueBoolean": True} for name_ in VTE_CAPABILITIES],
            },
        ],
        "identifier": [{"system": ORG_CODE_SYSTEM, "value": org_code}],
        "active": active,
        "name": name,
    }


async def publish_organization(
    upstream: UpstreamClient,
    org_code: str,
    name: str,
    grade: str,
    *,
    active: bool,
    fhir_id: str | None = None,
) -> str:
    """Create or update the Organization under its id; returns that id.

    The id is the one it already has (``fhir_id``: registered before ids were derived from
    identity) or the id the forwarder derives from its identifier (``facade.forward.ids``), so
    records' references to their institution resolve without a search. A PUT by id is
    idempotent: repeating a registration that failed half-way is safe.
    """
    target = fhir_id or derived_id(match_url("Organization", ORG_CODE_SYSTEM, org_code))
    resource = {"id": target, **organization_resource(org_code, name, grade, active=active)}
    await upstream.request("PUT", f"Organization/{target}", json=resource)
    return target


def find_org(session: Session, org_code: str) -> NativeOrg | None:
    """The registered institution with this code, if any."""
    return session.scalar(select(NativeOrg).where(NativeOrg.org_code == org_code))


def require_org(session: Session, org_code: str) -> NativeOrg:
    """The registered institution with this code; NotFound otherwise."""
    org = find_org(session, org_code)
    if org is None:
        raise NotFound(f"institution {org_code} is not registered")
    return org


def add_org(session: Session, org_code: str, name: str, *, grade: str, fhir_id: str) -> NativeOrg:
    """Record an admitted institution whose FHIR Organization already exists upstream."""
    if find_org(session, org_code) is not None:
        raise Conflict(f"institution {org_code} is already registered")
    org = NativeOrg(
        org_code=org_code,
        name=name,
        grade=grade,
        status="active",
        fhir_id=fhir_id,
    )
    session.add(org)
    session.flush()
    return org


def set_org_status(
    session: Session, org_code: str, status: Literal["active", "disabled"]
) -> NativeOrg:
    """Enable or disable an institution; a disabled one's apps are refused with 1003."""
    org = require_org(session, org_code)
    org.status = status
    session.flush()
    return org


def list_orgs(session: Session) -> list[OrgSummary]:
    """Every registered institution, by code."""
    rows = session.scalars(select(NativeOrg).order_by(NativeOrg.org_code))
    return [OrgSummary.of(org) for org in rows]
