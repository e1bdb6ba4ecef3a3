"""How an upstream OperationOutcome is condensed into one message."""

from facade.fhir.outcome import upstream_message


def test_the_most_severe_issue_names_the_refusal() -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "information", "diagnostics": "CodeSystem is unknown"},
            {"severity": "warning", "details": {"text": "a display differs"}},
            {"severity": "error", "diagnostics": "vte-mr-1: numerator exceeds denominator"},
        ],
    }
    assert upstream_message(body, "fallback") == "vte-mr-1: numerator exceeds denominator"


def test_order_is_kept_among_equally_severe_issues_and_bodies_without_text_fall_back() -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "diagnostics": "first"},
            {"severity": "error", "diagnostics": "second"},
        ],
    }
    assert upstream_message(body, "fallback") == "first"
    assert upstream_message({"resourceType": "OperationOutcome", "issue": [{}]}, "fb") == "fb"
    assert upstream_message({"resourceType": "Patient"}, "fb") == "fb"
    assert upstream_message(None, "fb") == "fb"
