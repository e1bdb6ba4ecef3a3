"""Build FHIR OperationOutcome resources from facade errors."""

from __future__ import annotations

from typing import Any

from facade.errors import FacadeError, Issue


def issue_json(issue: Issue) -> dict[str, Any]:
    """One OperationOutcome.issue for one facade Issue."""
    entry: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.fhir_code,
        "details": {"text": issue.message},
        "diagnostics": f"rule: {issue.rule}",
    }
    if issue.location:
        entry["expression"] = [issue.location]
    return entry


def outcome(
    message: str,
    *,
    code: str = "processing",
    severity: str = "error",
    issues: list[Issue] | None = None,
) -> dict[str, Any]:
    """An OperationOutcome with one issue per Issue, or a single summary issue when there are none."""
    if issues:
        return {"resourceType": "OperationOutcome", "issue": [issue_json(i) for i in issues]}
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "details": {"text": message}}],
    }


def outcome_for_error(error: FacadeError) -> dict[str, Any]:
    """The OperationOutcome that answers a FacadeError."""
    upstream = getattr(error, "outcome", None)
    if upstream and not error.issues:
        # HAPI already explained itself; pass its issues through unchanged.
        return dict(upstream)
    return outcome(error.message, code=error.fhir_code, issues=error.issues)


_SEVERITY_RANK = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def upstream_message(body: dict[str, Any] | None, fallback: str) -> str:
    """The most useful text in an upstream OperationOutcome: the most severe issue's text.

    HAPI lists informational notes (an unknown identifier system, say) before the error that
    refused the request, so the first issue is often not the reason.
    """
    if not body or body.get("resourceType") != "OperationOutcome":
        return fallback
    issues = sorted(
        (issue for issue in body.get("issue", []) if isinstance(issue, dict)),
        key=lambda issue: _SEVERITY_RANK.get(str(issue.get("severity")), 4),
    )
    for issue in issues:
        text = (issue.get("details") or {}).get("text") or issue.get("diagnostics")
        if text:
            return str(text)
    return fallback
    for issue in body.get("issue", []):
        text = (issue.get("details") or {}).get("text") or issue.get("diagnostics")
        if text:
            return str(text)
    return fallback
