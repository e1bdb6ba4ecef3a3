"""Write requests as entries: a transaction/batch Bundle or one create/update, with issue locations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facade.errors import InvalidInput, Issue

WRITE_METHODS = ("POST", "PUT")


@dataclass
class WriteEntry:
    """One resource to store: where it came from (Bundle entry index or a plain request) and how."""

    index: int | None  # Bundle.entry index; None for a plain create/update
    method: str
    url: str  # Bundle.entry.request.url, or the request path relative to /fhir
    resource: dict[str, Any]
    full_url: str | None = None
    if_none_exist: str | None = None
    issues: list[Issue] = field(default_factory=list)
    forbidden: bool = False  # at least one issue is a permission (403) problem

    @property
    def resource_type(self) -> str:
        """The resource's type ("" when missing)."""
        value = self.resource.get("resourceType")
        return value if isinstance(value, str) else ""

    def at(self, path: str = "") -> str:
        """FHIRPath of an element of this entry's resource."""
        root = (
            f"Bundle.entry[{self.index}].resource" if self.index is not None else self.resource_type
        )
        return f"{root}.{path}" if path else root

    def request_at(self, name: str) -> str:
        """Location of a request field (Bundle.entry.request.* or the HTTP equivalent)."""
        if self.index is not None:
            return f"Bundle.entry[{self.index}].request.{name}"
        return {"url": "url", "method": "method", "ifNoneExist": "If-None-Exist"}.get(name, name)

    def invalid(self, location: str, rule: str, message: str, **codes: str) -> None:
        """Record a 400 problem."""
        self.issues.append(Issue(location, rule, message, **codes))

    def deny(self, location: str, rule: str, message: str) -> None:
        """Record a 403 problem."""
        self.forbidden = True
        self.issues.append(
            Issue(location, rule, message, fhir_code="forbidden", native_code="1003")
        )


def parse_bundle(body: Any, max_entries: int) -> tuple[str, list[WriteEntry]]:
    """Split a transaction/batch Bundle into entries; InvalidInput when the Bundle itself is unusable."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidInput(
            "POST /fhir takes a Bundle",
            issues=[
                Issue(
                    "resourceType",
                    "bundle",
                    "POST to the FHIR base needs a transaction or batch Bundle",
                )
            ],
        )
    bundle_type = body.get("type")
    if bundle_type not in ("transaction", "batch"):
        raise InvalidInput(
            "unsupported Bundle type",
            issues=[
                Issue("Bundle.type", "bundle-type", "Bundle.type must be transaction or batch")
            ],
        )
    raw = body.get("entry") or []
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(
            "empty Bundle", issues=[Issue("Bundle.entry", "required", "the Bundle has no entries")]
        )
    if len(raw) > max_entries:
        raise InvalidInput(
            "Bundle too large",
            issues=[
                Issue("Bundle.entry", "max-entries", f"at most {max_entries} entries per Bundle")
            ],
        )
    entries: list[WriteEntry] = []
    seen_full_urls: dict[str, int] = {}
    for index, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        request: dict[str, Any] = item["request"] if isinstance(item.get("request"), dict) else {}
        resource: dict[str, Any] = (
            item["resource"] if isinstance(item.get("resource"), dict) else {}
        )
        entry = WriteEntry(
            index=index,
            method=str(request.get("method", "")).upper(),
            url=str(request.get("url", "")),
            resource=resource,
            full_url=item.get("fullUrl") if isinstance(item.get("fullUrl"), str) else None,
            if_none_exist=request.get("ifNoneExist")
            if isinstance(request.get("ifNoneExist"), str)
            else None,
        )
        if not request:
            entry.invalid(
                f"Bundle.entry[{index}].request", "required", "every entry needs a request"
            )
        elif entry.method not in WRITE_METHODS:
            entry.invalid(
                entry.request_at("method"), "method", "this door accepts POST and PUT entries only"
            )
        if not resource:
            entry.invalid(
                f"Bundle.entry[{index}].resource", "required", "every entry needs a resource"
            )
        if entry.full_url:
            if entry.full_url in seen_full_urls:
                entry.invalid(
                    f"Bundle.entry[{index}].fullUrl",
                    "unique-fullurl",
                    f"fullUrl repeats entry {seen_full_urls[entry.full_url]}",
                )
            seen_full_urls[entry.full_url] = index
        entries.append(entry)
    return bundle_type, entries
