"""The facade's one error tree, translated at the edges into OperationOutcome or VTE-X codes.

    FacadeError                       500  exception       5000
    ├── ConfigurationError            500  exception       5000
    ├── InvalidInput                  400  invalid         3002   (carries one Issue per problem)
    ├── NotAuthenticated              401  login           1005
    ├── Forbidden                     403  forbidden       1003
    ├── NotFound                      404  not-found       3006
    ├── Conflict                      409  conflict        2006
    ├── PayloadTooLarge               413  too-costly      2005
    ├── ProtocolRejected              (by code)  invalid   (its own ``code``: 1001…2006, 5001)
    └── UpstreamError                 502  exception       5000
        ├── UpstreamUnavailable       503  transient       5001
        └── UpstreamRejected          4xx  (from HAPI)     3002

Each class states its HTTP status, FHIR ``issue.code`` and VTE-X native code, so the two
boundaries (``facade.api.errors`` for FHIR, the native gateway for VTE-X) never guess. The
status of each VTE-X code is the one table ``facade.native.codes.HTTP_STATUS``; a test keeps
the classes above in agreement with it (UpstreamError's 502 is the FHIR door's own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Issue:
    """One problem with one field: where it is, which rule it broke, and a message for people.

    ``location`` is a FHIRPath on the FHIR side (``Bundle.entry[3].resource.subject``) and a
    record path on the native side (``records[1].riskLevel``). Messages never echo personal data.
    """

    location: str
    rule: str
    message: str
    fhir_code: str = "invalid"
    native_code: str = "3002"
    severity: str = "error"


class FacadeError(Exception):
    """Root of every error the facade raises on purpose."""

    status: ClassVar[int] = 500
    fhir_code: ClassVar[str] = "exception"
    native_code: ClassVar[str] = "5000"

    def __init__(self, message: str, *, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = issues or []

    @property
    def http_status(self) -> int:
        """The HTTP status this error is answered with."""
        return self.status


class ConfigurationError(FacadeError):
    """The facade is configured in a way it cannot run with (missing secret, bad URL)."""


class InvalidInput(FacadeError):
    """The request or record broke a rule; ``issues`` names each field and rule."""

    status = 400
    fhir_code = "invalid"
    native_code = "3002"


class NotAuthenticated(FacadeError):
    """The caller could not be identified (missing, expired or forged credentials)."""

    status = 401
    fhir_code = "login"
    native_code = "1005"


class Forbidden(FacadeError):
    """The caller is known but may not do this (role, scope or tenancy)."""

    status = 403
    fhir_code = "forbidden"
    native_code = "1003"


class NotFound(FacadeError):
    """The resource or record asked for does not exist or is not visible to the caller."""

    status = 404
    fhir_code = "not-found"
    native_code = "3006"


class Conflict(FacadeError):
    """The request contradicts what is already stored (e.g. a reused batch number)."""

    status = 409
    fhir_code = "conflict"
    native_code = "2006"


class PayloadTooLarge(FacadeError):
    """The request exceeds a configured size limit."""

    status = 413
    fhir_code = "too-costly"
    native_code = "2005"


class ProtocolRejected(FacadeError):
    """A native (VTE-X) request was refused as a whole; ``code`` is the exact VTE-X code to answer."""

    status = 400
    fhir_code = "invalid"
    native_code = "1001"

    def __init__(
        self, code: str, message: str, *, issues: list[Issue] | None = None, status: int = 400
    ) -> None:
        super().__init__(message, issues=issues)
        self.code = code
        self._status = status  # facade.native.codes.reject() passes the code's HTTP status

    @property
    def http_status(self) -> int:
        """The HTTP status of this refusal's VTE-X code."""
        return self._status


class UpstreamError(FacadeError):
    """HAPI answered in a way the facade cannot use."""

    status = 502
    fhir_code = "exception"
    native_code = "5000"


class UpstreamUnavailable(UpstreamError):
    """HAPI could not be reached or timed out; retrying later may succeed."""

    status = 503
    fhir_code = "transient"
    native_code = "5001"


class UpstreamRejected(UpstreamError):
    """HAPI refused the request (validation, conflict, not found); its outcome is kept."""

    fhir_code = "processing"
    native_code = "3002"

    def __init__(
        self,
        message: str,
        *,
        upstream_status: int,
        outcome: dict[str, Any] | None = None,
        issues: list[Issue] | None = None,
    ) -> None:
        super().__init__(message, issues=issues)
        self.upstream_status = upstream_status
        self.outcome = outcome

    @property
    def http_status(self) -> int:
        """The status to give our caller: HAPI's own 4xx, or 502 for anything else."""
        return self.upstream_status if 400 <= self.upstream_status < 500 else 502


def http_status_of(error: FacadeError) -> int:
    """The HTTP status an error maps to (UpstreamRejected passes HAPI's 4xx through)."""
    return error.http_status


@dataclass
class IssueCollector:
    """Accumulates issues so a validator can report every bad field at once, not just the first."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, location: str, rule: str, message: str, **codes: str) -> None:
        """Record one problem."""
        self.issues.append(Issue(location, rule, message, **codes))

    def raise_if_any(self, message: str = "invalid input") -> None:
        """Raise InvalidInput carrying every recorded issue, if there is one."""
        if self.issues:
            raise InvalidInput(message, issues=list(self.issues))
