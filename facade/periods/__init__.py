"""Reporting periods closed by QC: records of a closed period are locked (VTE-X code 3008)."""

from facade.periods.locks import (
    ClosedPeriodView,
    ClosedRanges,
    close_period,
    closed_ranges,
    list_periods,
    locked_by,
    reopen_period,
)

__all__ = [
    "ClosedPeriodView",
    "ClosedRanges",
    "close_period",
    "closed_ranges",
    "list_periods",
    "locked_by",
    "reopen_period",
]
