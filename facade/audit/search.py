"""The AuditEvent search parameters auditors use, parsed into an AuditQuery (FHIR door and console).

Supported: ``date`` (prefixes eq, ge, gt, le, lt; a date, or a date-time at any precision;
repeat for a range), ``agent`` / ``altid`` (client id), ``entity`` / ``entity-name`` (``Type/id``
or its URL), ``patient``, ``type``, ``subtype``, ``action``, ``outcome`` (tokens, comma = or),
``_id``, ``_count`` (1–500, default 50), ``_sort`` (``-date``, the default, or ``date``),
``_summary=count``, and ``_cursor`` (only as the ``next`` links write it). Anything else is
refused with a 400 naming the parameter.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from facade.audit.store import AuditQuery, Cursor
from facade.errors import InvalidInput, Issue

MAX_COUNT = 500
DEFAULT_COUNT = 50
SUPPORTED = (
    "date",
    "agent",
    "altid",
    "entity",
    "entity-name",
    "patient",
    "type",
    "subtype",
    "action",
    "outcome",
    "_id",
    "_count",
    "_sort",
    "_summary",
    "_cursor",
)
_IGNORED = frozenset({"_format", "_pretty", "_total"})
_PREFIX = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.+)$")
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _bad(name: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(message, issues=[Issue(name, rule, message)])


def _add_month(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)


def date_range(value: str, tz: timezone) -> tuple[datetime, datetime]:
    """The instants a FHIR date or date-time covers, ``[start, end)`` (zone-less ones in ``tz``)."""
    if _YEAR.match(value):
        start = datetime(int(value), 1, 1, tzinfo=tz)
        return start, start.replace(year=start.year + 1)
    if _MONTH.match(value):
        start = datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=tz)
        return start, _add_month(start)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if "T" not in value:
        return moment, moment + timedelta(days=1)
    clock = value.split("T", 1)[1]
    if "." in clock:
        return moment, moment + timedelta(milliseconds=1)
    step = timedelta(minutes=1) if len(re.split(r"[Z+-]", clock)[0]) <= 5 else timedelta(seconds=1)
    return moment, moment + step


def _tokens(value: str) -> list[str]:
    """Codes of a token parameter (``system|code`` or ``code``; the system is not compared)."""
    return [item.rpartition("|")[2] for item in value.split(",") if item.rpartition("|")[2]]


def _reference_names(value: str, default_type: str | None = None) -> list[str]:
    """``Type/id`` of each reference (relative, absolute, or a bare id of ``default_type``)."""
    names = []
    for item in value.split(","):
        parts = [p for p in item.split("/") if p]
        if len(parts) >= 2:
            names.append("/".join(parts[-2:]))
        elif parts and default_type:
            names.append(f"{default_type}/{parts[0]}")
        elif parts:
            names.append(parts[0])
    return names


def _date(query: AuditQuery, name: str, value: str, tz: timezone) -> None:
    match = _PREFIX.match(value)
    prefix, text = (match.group(1) or "eq", match.group(2)) if match else ("eq", value)
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise _bad(
            name, "date-prefix", f"date prefix {prefix} is not supported (eq, ge, gt, le, lt)"
        )
    try:
        start, end = date_range(text, tz)
    except ValueError as exc:
        raise _bad(name, "date", f"{value!r} is not a FHIR date or date-time") from exc
    if prefix in ("eq", "ge"):
        query.after.append(start)
    if prefix == "gt":
        query.after.append(end)
    if prefix in ("eq", "le"):
        query.before.append(end)
    if prefix == "lt":
        query.before.append(start)


def parse_search(params: list[tuple[str, str]], tz: timezone) -> tuple[AuditQuery, bool]:
    """The query the parameters ask for, and whether only the count is wanted (``_summary=count``)."""
    query = AuditQuery(count=DEFAULT_COUNT)
    count_only = False
    for name, value in params:
        base = name.split(":", 1)[0]
        if name in _IGNORED:
            continue
        if base not in SUPPORTED or (":" in name and not name.endswith(":exact")):
            raise _bad(
                name,
                "search-parameter",
                f"search parameter {name} is not supported on AuditEvent; use {', '.join(SUPPORTED[:-1])}",
            )
        if base == "date":
            _date(query, name, value, tz)
        elif base in ("agent", "altid"):
            query.clients.extend(v.rsplit("/", 1)[-1].rpartition("|")[2] for v in value.split(","))
        elif base in ("entity", "entity-name"):
            query.entities.extend(_reference_names(value))
        elif base == "patient":
            query.entities.extend(_reference_names(value, "Patient"))
        elif base == "type":
            query.types.extend(_tokens(value))
        elif base == "subtype":
            query.subtypes.extend(_tokens(value))
        elif base == "action":
            query.actions.extend(_tokens(value))
        elif base == "outcome":
            query.outcomes.extend(_tokens(value))
        elif base == "_id":
            query.ids.extend(v for v in value.split(",") if v)
        elif base == "_count":
            if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
                raise _bad(name, "count", f"_count must be a whole number from 1 to {MAX_COUNT}")
            query.count = int(value)
        elif base == "_sort":
            if value not in ("date", "-date"):
                raise _bad(name, "sort", "_sort must be date or -date")
            query.newest_first = value == "-date"
        elif base == "_summary":
            if value != "count":
                raise _bad(name, "summary", "only _summary=count is supported on AuditEvent")
            count_only = True
        else:  # _cursor
            query.cursor = Cursor.parse(value)
            if query.cursor is None:
                raise _bad(name, "cursor", "_cursor is not one this server issued")
    return query, count_only
