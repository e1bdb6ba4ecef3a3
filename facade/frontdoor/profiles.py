"""Which IG profiles a written resource may declare, and the default for single-profile types.

HAPI validates every resource that declares a profile (docker/hapi DeclaredProfileValidating-
Interceptor), so the facade makes sure each written resource declares one of ours: it adds the
only profile of Patient, Encounter and Organization, and asks for an explicit one where a type
has several (a RiskAssessment is either a VTE or a bleeding risk assessment).
"""

from __future__ import annotations

from facade.fhir.naming import profile_url

PROFILES: dict[str, tuple[str, ...]] = {
    "Patient": ("vte-patient",),
    "Encounter": ("vte-encounter",),
    "Organization": ("vte-organization",),
    "RiskAssessment": ("vte-risk-assessment", "vte-bleeding-risk-assessment"),
    "Observation": ("vte-mech-contraindication", "vte-wells-score"),
    "Condition": ("vte-encounter-diagnosis", "vte-event"),
    "Procedure": ("vte-operation", "vte-basic-prophylaxis", "vte-mechanical-prophylaxis"),
    "MedicationAdministration": ("vte-pharmacological-prophylaxis",),
}


def allowed_profiles(resource_type: str) -> tuple[str, ...]:
    """Canonical URLs of the profiles a resource of this type may declare (empty: type unprofiled)."""
    return tuple(profile_url(name) for name in PROFILES.get(resource_type, ()))


def default_profile(resource_type: str) -> str | None:
    """The profile added when none is declared: only for types with exactly one profile."""
    names = PROFILES.get(resource_type, ())
    return profile_url(names[0]) if len(names) == 1 else None
