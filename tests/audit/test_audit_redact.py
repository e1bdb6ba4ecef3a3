"""Masking of what the audit trail keeps: queries after percent-decoding, request ids."""

from __future__ import annotations

import pytest

from facade.audit.redact import mask_query, mask_text, safe_request_id

ID = "11010519491231002X"


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        (
            f"identifier=urn%3Aoid%3A2.16.156.10011.1.3%7C{ID}",
            "identifier=urn:oid:2.16.156.10011.1.3|[masked]",
        ),
        (f"subject:Patient.identifier=sys%7C{ID}", "subject:Patient.identifier=sys|[masked]"),
        (
            f"_has:Observation:patient:identifier=a%7CX1,b%7C{ID}",
            "_has:Observation:patient:identifier=a|[masked],b|[masked]",
        ),
        ("identifier:exact=PLAIN-42", "identifier:exact=[masked]"),
        ("patient.name:contains=%E5%BC%A0", "patient.name:contains=[masked]"),
        ("telecom=13800000000&_count=10", "telecom=[masked]&_count=10"),
        (f"_content={ID[:6]}+{ID[6:14]}+{ID[14:]}", "_content=[identity-number]"),
        ("_content=110105491231002", "_content=[identity-number]"),  # first-generation, 15 digits
        (
            "date=ge2026-01-01&_lastUpdated=gt1767225600350",
            "date=ge2026-01-01&_lastUpdated=gt1767225600350",
        ),
        ("code=a%26b%3Dc", "code=a%26b%3Dc"),  # a decoded & or = cannot forge another parameter
    ],
)
def test_queries_are_masked_after_percent_decoding(query: str, kept: str) -> None:
    assert mask_query(query) == kept


def test_identity_numbers_glued_to_other_characters_are_not_identity_numbers() -> None:
    assert mask_text(f"x{ID}") == f"x{ID}"
    assert mask_text(f"/fhir/Patient/{ID}") == "/fhir/Patient/[identity-number]"


def test_request_ids_must_be_safe_tokens() -> None:
    assert safe_request_id("req-1.2_3") == "req-1.2_3"
    for unsafe in (None, "", ID, "a b", "ä", "x" * 65, "1;DROP"):
        replaced = safe_request_id(unsafe)
        assert replaced != unsafe and len(replaced) == 32
