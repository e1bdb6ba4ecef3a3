"""Checks and rewrites every written resource before HAPI sees it.

Per entry, in order: role and scope may write the type; the request URL fits the resource;
cheap structural check (fhir.resources); tenancy (the reporting-organisation tag is set by the
facade, record identifiers and references stay inside the caller's organisation, conditional
URLs are confined to it with ``_tag``); identity numbers become the regional pseudonym, and any
left elsewhere refuse the entry; the IG profile is declared so HAPI validates it. Reference
targets outside the Bundle are collected for one ownership query per type (tenancy.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from facade.errors import InvalidInput
from facade.fhir.capability import SERVED_TYPES
from facade.fhir.models import check_structure
from facade.fhir.naming import CANONICAL, ORG_CODE_SYSTEM, REPORTING_ORG_TAG
from facade.frontdoor.entries import WriteEntry
from facade.frontdoor.profiles import allowed_profiles, default_profile
from facade.privacy.identity import (
    contains_resident_id,
    document_type,
    pseudonymise_token,
    pseudonymised_identifier,
    resident_id_valid,
)
from facade.security.roles import TENANT_TYPES, Role
from facade.security.tokens import Principal

RECORD_SYSTEM_PREFIX = f"{CANONICAL}/sid/record/"


@dataclass
class OwnershipChecks:
    """Stored resources whose organisation must be confirmed with HAPI before writing."""

    # (type, id) -> [(entry, location)]: references that must point at our own existing resources
    references: dict[tuple[str, str], list[tuple[WriteEntry, str]]] = field(default_factory=dict)
    # (type, id) -> [(entry, location)]: PUT targets that, if they exist, must be ours
    updates: dict[tuple[str, str], list[tuple[WriteEntry, str]]] = field(default_factory=dict)


def walk_strings(node: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """Yield (path, key, value) of every string in a JSON tree; paths are FHIRPath-like.

    Iterative (the tree is untrusted input), in document order.
    """
    stack: list[tuple[Any, str, str]] = [(node, path, "")]
    while stack:
        value, where, key = stack.pop()
        if isinstance(value, str):
            yield where, key, value
        elif isinstance(value, dict):
            stack.extend(
                (child, f"{where}.{name}" if where else name, name)
                for name, child in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend((value[i], f"{where}[{i}]", "") for i in range(len(value) - 1, -1, -1))


def walk_dicts(node: Any, path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (path, key, object) of every JSON object below ``node`` (key = its element name).

    Iterative (the tree is untrusted input), parents before their children.
    """
    stack: list[tuple[Any, str, str | None]] = [(node, path, None)]
    while stack:
        value, where, key = stack.pop()
        if isinstance(value, dict):
            if key is not None:  # not the root
                yield where, key, value
            stack.extend(
                (child, f"{where}.{name}" if where else name, name)
                for name, child in reversed(value.items())
                if isinstance(child, dict | list)
            )
        elif isinstance(value, list):
            stack.extend(
                (value[i], f"{where}[{i}]", key)
                for i in range(len(value) - 1, -1, -1)
                if isinstance(value[i], dict)
            )


class IntakeChecker:
    """Checks one write request's entries for one principal."""

    def __init__(self, principal: Principal, pseudonym_key: bytes, fhir_base: str) -> None:
        self.principal = principal
        self.key = pseudonym_key
        self.fhir_base = fhir_base
        self.ownership = OwnershipChecks()
        self.hospital = principal.role is Role.HOSPITAL
        # (regional pseudonym, id type, number) of each identity number replaced, for the
        # network's province pseudonym (facade/network/recorder.py); numbers never leave here.
        self.identities: list[tuple[str, str, str]] = []

    # -- the whole request

    def check_all(self, entries: list[WriteEntry]) -> None:
        """Check every entry (issues are recorded on the entries, resources rewritten in place)."""
        local = self._bundle_targets(entries)
        for entry in entries:
            if entry.issues:
                continue  # a malformed request/resource: nothing more to learn from it
            self.check(entry, local)

    def _bundle_targets(self, entries: list[WriteEntry]) -> set[str]:
        targets: set[str] = set()
        for entry in entries:
            if entry.full_url:
                targets.add(entry.full_url)
                if entry.full_url.startswith(self.fhir_base + "/"):
                    targets.add(entry.full_url.removeprefix(self.fhir_base + "/"))
            if entry.method == "PUT" and "?" not in entry.url and entry.url.count("/") == 1:
                targets.add(entry.url)
        return targets

    # -- one entry

    def check(self, entry: WriteEntry, local: set[str]) -> None:
        """All checks of one entry."""
        rtype = entry.resource_type
        if not self._may_write(entry, rtype):
            return
        self._check_url(entry, rtype)
        try:
            check_structure(entry.resource, entry.at())
        except InvalidInput as exc:
            entry.issues.extend(exc.issues)
            return
        org = self._owner_org(entry, rtype)
        if org is not None:
            self._tag(entry, org)
        if self.hospital:
            self._check_record_identifiers(entry)
        self._pseudonymise(entry)
        self._check_references(entry, local)
        self._check_free_text(entry)
        self._declare_profile(entry, rtype)

    def _may_write(self, entry: WriteEntry, rtype: str) -> bool:
        perm = "c" if entry.method == "POST" else "u"
        if rtype not in SERVED_TYPES:
            entry.invalid(
                entry.at("resourceType") if rtype else entry.at(),
                "served-type",
                f"this server does not store {rtype or 'untyped'} resources",
            )
            return False
        if perm not in self.principal.policy.permissions(rtype):
            entry.deny(
                entry.at("resourceType"),
                "role",
                f"role {self.principal.role.value} may not write {rtype}",
            )
            return False
        if not self.principal.scopes.allows(rtype, perm):
            entry.deny(
                entry.at("resourceType"), "scope", f"token lacks scope system/{rtype}.{perm}"
            )
            return False
        return True

    def _check_url(self, entry: WriteEntry, rtype: str) -> None:
        url = entry.url
        path, _, query = url.partition("?")
        if path != rtype and not path.startswith(rtype + "/"):
            entry.invalid(
                entry.request_at("url"), "request-url", f"request url must address {rtype}"
            )
            return
        if entry.method == "POST":
            if path != rtype or query:
                entry.invalid(entry.request_at("url"), "request-url", f"POST url must be {rtype!r}")
            if entry.if_none_exist is not None:
                entry.if_none_exist = self._scoped_query(
                    entry, rtype, entry.if_none_exist, entry.request_at("ifNoneExist")
                )
        elif query:
            if path != rtype:
                entry.invalid(
                    entry.request_at("url"),
                    "request-url",
                    "conditional update url is Type?criteria",
                )
            entry.url = (
                f"{rtype}?{self._scoped_query(entry, rtype, query, entry.request_at('url'))}"
            )
        else:
            target = path.split("/")
            if len(target) != 2 or not target[1]:
                entry.invalid(
                    entry.request_at("url"), "request-url", f"PUT url must be {rtype}/[id]"
                )
                return
            if entry.resource.get("id") != target[1]:
                entry.invalid(
                    entry.at("id"), "id-matches-url", "resource id must equal the id in the PUT url"
                )
            if self.hospital:
                self.ownership.updates.setdefault((rtype, target[1]), []).append(
                    (entry, entry.request_at("url"))
                )

    def _scoped_query(self, entry: WriteEntry, rtype: str, query: str, location: str) -> str:
        """A conditional query with identity numbers pseudonymised and, for hospitals, the org tag."""
        pairs: list[tuple[str, str]] = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name == "_tag" and value.startswith(REPORTING_ORG_TAG + "|"):
                continue  # the facade decides which organisation a match may come from
            if name.split(":")[0].endswith("identifier"):
                value = ",".join(self._pseudonymise_token(v) for v in value.split(","))
            if contains_resident_id(value):
                entry.invalid(
                    location,
                    "no-identity-number",
                    "identity numbers may only appear as identifier=system|value",
                )
            pairs.append((name, value))
        if self.hospital and rtype in TENANT_TYPES:
            pairs.append(("_tag", f"{REPORTING_ORG_TAG}|{self.principal.org_code}"))
        return urlencode(pairs, safe="|:/,")

    def _pseudonymise_token(self, token: str) -> str:
        system, bar, value = token.partition("|")
        if not bar:
            return token
        return pseudonymise_token(system, value, self.key) or token

    # -- tenancy

    def _owner_org(self, entry: WriteEntry, rtype: str) -> str | None:
        """The organisation the stored resource will belong to (tag code)."""
        if rtype == "Organization":
            codes = [
                str(i.get("value"))
                for i in entry.resource.get("identifier") or []
                if isinstance(i, dict) and i.get("system") == ORG_CODE_SYSTEM
            ]
            if self.hospital and codes != [self.principal.org_code]:
                entry.deny(
                    entry.at("identifier"),
                    "own-organisation",
                    "a hospital may only write its own Organization (one org-uscc identifier equal to its code)",
                )
                return None
            if not codes:
                entry.invalid(
                    entry.at("identifier"),
                    "org-code",
                    "an Organization needs its org-uscc identifier",
                )
                return None
            return codes[0]
        return self.principal.org_code if self.hospital else None

    def _tag(self, entry: WriteEntry, org: str) -> None:
        meta = entry.resource.setdefault("meta", {})
        tags = meta.get("tag") if isinstance(meta.get("tag"), list) else []
        for index, tag in enumerate(tags):
            if (
                isinstance(tag, dict)
                and tag.get("system") == REPORTING_ORG_TAG
                and tag.get("code") != org
            ):
                entry.deny(
                    entry.at(f"meta.tag[{index}]"),
                    "tenant-tag",
                    "the reporting-organisation tag must be the caller's own organisation",
                )
        kept = [
            t for t in tags if not (isinstance(t, dict) and t.get("system") == REPORTING_ORG_TAG)
        ]
        meta["tag"] = [*kept, {"system": REPORTING_ORG_TAG, "code": org}]

    def _check_record_identifiers(self, entry: WriteEntry) -> None:
        own = f"{RECORD_SYSTEM_PREFIX}{self.principal.org_code}/"
        for path, key, value in walk_strings(entry.resource, ""):
            if (
                key == "system"
                and value.startswith(RECORD_SYSTEM_PREFIX)
                and not value.startswith(own)
            ):
                entry.deny(
                    entry.at(path),
                    "own-record-ids",
                    "record identifiers must use the caller's own namespace",
                )

    def _check_references(self, entry: WriteEntry, local: set[str]) -> None:
        for path, key, obj in list(walk_dicts(entry.resource, "")):
            reference = obj.get("reference")
            if not isinstance(reference, str):
                continue
            location = entry.at(f"{path}.reference")
            if reference.startswith("#"):
                continue
            if reference.startswith(("urn:uuid:", "urn:oid:")):
                if reference not in local:
                    entry.invalid(
                        location,
                        "resolvable-reference",
                        "urn reference does not match any fullUrl in the Bundle",
                    )
                continue
            if reference.startswith(self.fhir_base + "/"):
                reference = reference.removeprefix(self.fhir_base + "/")
                obj["reference"] = reference
            elif "://" in reference:
                entry.invalid(
                    location,
                    "local-reference",
                    "references must be relative, urn:uuid or contained",
                )
                continue
            rtype, _, rest = reference.partition("/")
            if "?" in reference:
                conditional_type, _, query = reference.partition("?")
                obj["reference"] = (
                    f"{conditional_type}?{self._scoped_query(entry, conditional_type, query, location)}"
                )
                continue
            if reference in local or not rest:
                continue
            target_id = rest.split("/")[0]
            if self.hospital and (rtype in TENANT_TYPES or key == "serviceProvider"):
                self.ownership.references.setdefault((rtype, target_id), []).append(
                    (entry, location)
                )

    # -- identity numbers

    def _pseudonymise(self, entry: WriteEntry) -> None:
        for path, key, obj in list(walk_dicts(entry.resource, "")):
            if key not in ("identifier", "valueIdentifier"):
                continue
            id_type = document_type(obj)
            if id_type is None or not isinstance(obj.get("value"), str):
                continue
            number = obj["value"]
            if id_type == "01" and not resident_id_valid(number):
                entry.invalid(
                    entry.at(f"{path}.value"),
                    "resident-id-check-digit",
                    "身份证件号码校验位错误: the identity number fails the GB 11643 check digit",
                    native_code="3007",
                )
                continue
            replacement = pseudonymised_identifier(id_type, number, self.key)
            self.identities.append((replacement["value"], id_type, number))
            obj.clear()
            obj.update(replacement)

    def _check_free_text(self, entry: WriteEntry) -> None:
        for path, _key, value in walk_strings(entry.resource, ""):
            if contains_resident_id(value):
                entry.invalid(
                    entry.at(path),
                    "no-identity-number",
                    "an identity number may only be sent as a Patient identifier (it is pseudonymised there)",
                )

    # -- profiles

    def _declare_profile(self, entry: WriteEntry, rtype: str) -> None:
        allowed = allowed_profiles(rtype)
        if not allowed:
            return
        meta = entry.resource.setdefault("meta", {})
        declared = [p for p in meta.get("profile") or [] if isinstance(p, str)]
        ours = [p.split("|")[0] for p in declared if p.startswith(CANONICAL + "/")]
        wrong = [p for p in ours if p not in allowed]
        if wrong:
            entry.invalid(
                entry.at("meta.profile"),
                "known-profile",
                f"{wrong[0]} is not a profile for {rtype}; use one of {', '.join(allowed)}",
            )
        elif not ours:
            fallback = default_profile(rtype)
            if fallback is None:
                entry.invalid(
                    entry.at("meta.profile"),
                    "declare-profile",
                    f"declare which profile this {rtype} follows: one of {', '.join(allowed)}",
                )
            else:
                meta["profile"] = [*declared, fallback]
