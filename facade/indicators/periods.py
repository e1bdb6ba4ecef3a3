"""Reporting periods (``2026-Q1``, ``2026-03``, ``2026-H1``, ``2026``) as half-open local time ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from facade.errors import InvalidInput, Issue

_PATTERNS = (
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-H([12])$"), "half"),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in the reporting time zone; ``label`` is what the user typed (normalised)."""

    label: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether an (aware) moment lies in the period."""
        return self.start <= moment < self.end

    def months(self) -> list[str]:
        """Every month (``YYYY-MM``) the period covers, in order."""
        out = []
        year, month = self.start.year, self.start.month
        while datetime(year, month, 1, tzinfo=self.start.tzinfo) < self.end:
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def month_range(self, month: str) -> tuple[datetime, datetime]:
        """``[start, end)`` of one month of the period."""
        year, mon = int(month[:4]), int(month[5:7])
        start = datetime(year, mon, 1, tzinfo=self.start.tzinfo)
        end = datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=self.start.tzinfo)
        return start, end

    @property
    def last_moment(self) -> datetime:
        """The last second of the period, for FHIR ``Period.end`` (which is inclusive)."""
        return self.end - timedelta(seconds=1)


def parse_period(text: str, tz: timezone) -> Period:
    """Parse a period label; raise InvalidInput naming the rule when it is not one we know."""
    label = text.strip().upper()
    for pattern, kind in _PATTERNS:
        match = pattern.match(label)
        if not match:
            continue
        year = int(match.group(1))
        if kind == "year":
            first, months = 1, 12
        elif kind == "half":
            first, months = 1 + 6 * (int(match.group(2)) - 1), 6
        elif kind == "quarter":
            first, months = 1 + 3 * (int(match.group(2)) - 1), 3
        else:
            first, months = int(match.group(2)), 1
        last = first + months
        try:
            start = datetime(year, first, 1, tzinfo=tz)
            end = datetime(year + (last > 12), (last - 1) % 12 + 1, 1, tzinfo=tz)
        except ValueError:  # year 0000, or a period ending after 9999
            raise InvalidInput(
                f"period {text!r} is outside the years 0001-9999",
                issues=[Issue("period", "period-range", "the period must lie in years 0001-9999")],
            ) from None
        return Period(label, start, end)
    raise InvalidInput(
        f"period {text!r} is not YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM",
        issues=[
            Issue("period", "period-format", "expected YYYY, YYYY-H1/H2, YYYY-Q1..Q4 or YYYY-MM")
        ],
    )


def month_of(moment: datetime, tz: timezone) -> str:
    """The local month (``YYYY-MM``) of an aware moment."""
    local = moment.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"
