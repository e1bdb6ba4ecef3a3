"""Starlette path convertors for FHIR resource types and logical ids."""

from __future__ import annotations

from starlette.convertors import CONVERTOR_TYPES, Convertor, register_url_convertor


class FhirTypeConvertor(Convertor[str]):
    """A resource type name: ``Patient``, ``MedicationAdministration``."""

    regex = "[A-Z][A-Za-z]{1,63}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class FhirIdConvertor(Convertor[str]):
    """A logical id: ``[A-Za-z0-9-.]{1,64}`` (no ``$`` or ``_``, so operations never match)."""

    regex = "[A-Za-z0-9.-]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


def register_convertors() -> None:
    """Register ``fhirtype`` and ``fhirid`` once per process."""
    if "fhirtype" not in CONVERTOR_TYPES:
        register_url_convertor("fhirtype", FhirTypeConvertor())
    if "fhirid" not in CONVERTOR_TYPES:
        register_url_convertor("fhirid", FhirIdConvertor())
