"""Canonical URLs and identifier systems of the VTE implementation guide, in one module.

The IG's canonical base is also declared in ``profiles/sushi-config.yaml`` (SUSHI needs it
there); a test keeps the two equal.
"""

from __future__ import annotations

CANONICAL = "https://fhir.vte-region.cn/ig"

# Tag on every resource the facade stores: which reporting institution it belongs to (tenancy).
REPORTING_ORG_TAG = f"{CANONICAL}/CodeSystem/reporting-organization"

# Institution code: 18-character unified social credit code (统一社会信用代码).
ORG_CODE_SYSTEM = f"{CANONICAL}/sid/org-uscc"

# Keyed regional pseudonym of the patient's identity number (HMAC-SM3 under the regional key).
REGIONAL_PSEUDONYM_SYSTEM = f"{CANONICAL}/sid/regional-patient-pseudonym"

# Research pseudonym handed to researchers instead of any identifier.
RESEARCH_PSEUDONYM_SYSTEM = f"{CANONICAL}/sid/research-pseudonym"


def record_identifier_system(org_code: str, record_type: str) -> str:
    """System of a hospital's own record ids, one namespace per institution and record type.

    ``record_identifier_system("12330100470116614F", "case")`` ->
    ``".../sid/record/12330100470116614F/case"``; with the record id as value this is the business
    key that conditional updates use, so a re-sent record updates instead of duplicating.
    """
    return f"{CANONICAL}/sid/record/{org_code}/{record_type}"


def profile_url(name: str) -> str:
    """Canonical URL of one of our StructureDefinitions, e.g. ``profile_url("vte-patient")``."""
    return f"{CANONICAL}/StructureDefinition/{name}"


def code_system_url(name: str) -> str:
    """Canonical URL of one of our CodeSystems."""
    return f"{CANONICAL}/CodeSystem/{name}"


def value_set_url(name: str) -> str:
    """Canonical URL of one of our ValueSets."""
    return f"{CANONICAL}/ValueSet/{name}"


def department_code_system(org_code: str) -> str:
    """System of an institution's own department and ward codes (科室/病区代码 are hospital-local).

    The codes are not published as a CodeSystem: validators treat the system as unknown and accept
    any code, which is right for a table only the hospital knows.
    """
    return f"{CANONICAL}/CodeSystem/department/{org_code}"
