"""The error tree: every class maps to a status, a FHIR issue code and a native code."""

from __future__ import annotations

import facade.errors as errors
from facade.errors import (
    FacadeError,
    InvalidInput,
    Issue,
    IssueCollector,
    UpstreamRejected,
    http_status_of,
)
from facade.fhir.outcome import outcome_for_error

FHIR_ISSUE_CODES = {
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "unknown",
    "expired",
    "forbidden",
    "suppressed",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "deleted",
    "too-long",
    "code-invalid",
    "extension",
    "too-costly",
    "business-rule",
    "conflict",
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
    "informational",
}


def _all_subclasses(cls: type[FacadeError]) -> set[type[FacadeError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_error_class_has_valid_codes() -> None:
    classes = _all_subclasses(FacadeError) | {FacadeError}
    assert len(classes) >= 10
    for cls in classes:
        assert 400 <= cls.status < 600, cls
        assert cls.fhir_code in FHIR_ISSUE_CODES, cls
        assert cls.native_code.isdigit() and len(cls.native_code) in (1, 4), cls


def test_the_docstring_tree_names_every_class_in_the_module() -> None:
    doc = errors.__doc__ or ""
    for name, value in vars(errors).items():
        if (
            isinstance(value, type)
            and issubclass(value, FacadeError)
            and value.__module__ == errors.__name__
        ):
            assert name in doc, f"{name} missing from the tree in facade/errors.py"


def test_collector_reports_every_issue_in_one_error() -> None:
    collector = IssueCollector()
    collector.add("records[0].sex", "code-table", "not in GB/T 2261.1", native_code="3003")
    collector.add("records[0].birthDate", "format", "expected yyyy-MM-dd")
    try:
        collector.raise_if_any()
    except InvalidInput as exc:
        assert [i.location for i in exc.issues] == ["records[0].sex", "records[0].birthDate"]
        body = outcome_for_error(exc)
        assert [i["expression"] for i in body["issue"]] == [
            ["records[0].sex"],
            ["records[0].birthDate"],
        ]
    else:
        raise AssertionError("expected InvalidInput")


def test_empty_collector_does_not_raise() -> None:
    IssueCollector().raise_if_any()


def test_upstream_rejection_keeps_hapi_status_and_outcome() -> None:
    hapi_outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing"}],
    }
    rejected = UpstreamRejected("bad", upstream_status=422, outcome=hapi_outcome)
    assert http_status_of(rejected) == 422
    assert outcome_for_error(rejected) == hapi_outcome
    assert http_status_of(UpstreamRejected("odd", upstream_status=302)) == 502


def test_issue_defaults_describe_a_format_error() -> None:
    issue = Issue("Patient.birthDate", "format", "expected a date")
    assert (issue.fhir_code, issue.native_code, issue.severity) == ("invalid", "3002", "error")
