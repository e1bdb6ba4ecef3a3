"""The only place that imports fhir.resources: its R4B models, used for R4 (4.0.1) structure.

fhir.resources 8.x ships R5 (default), R4B and STU3 but no R4. The wire format here is R4, as HAPI
serves it. For the resources this product uses (Patient, Encounter, Organization, RiskAssessment,
Observation, Condition, Procedure, MedicationAdministration, Measure, MeasureReport, AuditEvent,
Bundle, OperationOutcome, CapabilityStatement) R4B is a technical correction of R4 with the same
element structure; what differs is mostly in resources we do not use (the Evidence family,
Subscription topics, medicinal product definitions) and in a few value sets. So the R4B models are
good for cheap structural checks, and HAPI remains the authority for R4 profile validation.

CAUTION: never import ``fhir.resources.<resource>`` directly: those modules are R5.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from facade.errors import InvalidInput, Issue

__all__ = ["check_structure", "element_info"]


def check_structure(resource: dict[str, Any], location: str = "") -> None:
    """Raise InvalidInput if ``resource`` is not structurally valid FHIR; names each bad element.

    The original dict is what gets forwarded: re-serialising the model would cost more than
    validating it and would change decimals such as ``72.50``.
    """
    resource_type = resource.get("resourceType")
    prefix = f"{location}." if location else ""
    if not isinstance(resource_type, str):
        raise InvalidInput(
            "resource has no resourceType",
            issues=[
                Issue(f"{prefix}resourceType".rstrip("."), "required", "resourceType is required")
            ],
        )
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError) as exc:
        raise InvalidInput(
            f"unknown resourceType {resource_type!r}",
            issues=[
                Issue(
                    f"{prefix}resourceType", "known-type", f"unknown resourceType {resource_type!r}"
                )
            ],
        ) from exc
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(
                f"{location or resource_type}." + ".".join(str(p) for p in err["loc"]),
                "structure",
                err["msg"],
                fhir_code="structure",
            )
            for err in exc.errors()
        ]
        raise InvalidInput(f"{resource_type} is not structurally valid", issues=issues) from exc


@cache
def element_info(type_name: str, element: str) -> tuple[str, bool] | None:
    """The type of ``type_name.element`` and whether it repeats, or None if there is no such element.

    Complex types come back capitalised (``Coding``, ``EncounterHospitalization``), primitives as
    FHIR spells them (``code``, ``dateTime``, ``boolean``). Used by the mapping engine to know
    whether a path step is a list without hard-coding FHIR's cardinalities.
    """
    try:
        model = get_fhir_model_class(type_name)
    except (KeyError, ValueError):
        return None
    field = next((f for f in model.model_fields.values() if f.alias == element), None)
    if field is None:
        field = model.model_fields.get(element)
    if field is None:
        return None
    return _type_of(field.annotation)


def _type_of(annotation: Any) -> tuple[str, bool]:
    repeated = False
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is list:
            repeated, annotation = True, args[0]
        elif origin is typing.Annotated:
            marker = type(annotation.__metadata__[0]).__name__
            return marker[0].lower() + marker[1:], repeated
        elif args and origin is not None:
            annotation = args[0]
        else:
            break
    if annotation is bool:
        return "boolean", repeated
    name = getattr(annotation, "__name__", str(annotation))
    return (name[:-4] if name.endswith("Type") else name), repeated
