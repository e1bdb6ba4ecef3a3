"""Edge cases every synthetic region contains on purpose (each stay carries a ``label``).

They sit exactly on the boundaries the indicator rules draw: 24 h after admission, 24 h after the
first medium/high-risk assessment, day 90 vs day 91 after discharge (by calendar date, so a VTE
late on day 90 still counts), the most recent of two prior discharges, present-on-admission VTE,
in-hospital onset vs transfer, deaths, the mechanical-contraindication waiver, and discharges on
the first and last second of the period and of a month.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from facade.synth.clinical import Plan
from facade.synth.records import Event, hours

if TYPE_CHECKING:
    from facade.synth.generator import Builder

ONE_SECOND = 1 / 3600


def _quiet(**overrides: object) -> Plan:
    """A plan without a random in-hospital VTE, so the scenario's own events decide HA-VTE."""
    plan = Plan(in_hospital_event=False)
    for key, value in overrides.items():
        setattr(plan, key, value)
    return plan


def add_all(b: Builder) -> None:
    """Add every scenario to the builder."""
    _timeliness(b)
    _ninety_days(b)
    _present_on_admission(b)
    _deaths_and_transfers(b)
    _prophylaxis_rules(b)
    _boundaries(b)


def _at(b: Builder, days: float, hour: float = 9.0) -> datetime:
    return b.start + timedelta(days=days, hours=hour)


def _timeliness(b: Builder) -> None:
    first = b.hospitals[0]
    for delay, label in (
        (24.0, "first risk assessment exactly 24 h after admission"),
        (24.0 + ONE_SECOND, "first risk assessment 24 h + 1 s after admission"),
    ):
        admitted = _at(b, 9)
        b.stay(
            first,
            b.person(),
            admitted,
            admitted + timedelta(days=6),
            plan=_quiet(assessed=True, first_delay_hours=delay),
            label=label,
        )


def _ninety_days(b: Builder) -> None:
    first = b.hospitals[0]
    cases = (
        (90, "elsewhere", False, "VTE at another hospital on day 90 after discharge"),
        (91, "elsewhere", False, "VTE at another hospital on day 91 after discharge"),
        (90, "index", True, "VTE reported by the discharging hospital late on day 90"),
        (91, "index", False, "VTE reported by the discharging hospital on day 91"),
        (30, "same", False, "VTE on readmission to the same hospital on day 30"),
    )
    for offset, (day, how, late, label) in enumerate(cases):
        admitted = _at(b, 3 + offset, 10)
        index = b.stay(
            first,
            b.person(),
            admitted,
            admitted + timedelta(days=7, hours=5),
            plan=_quiet(),
            label=label,
        )
        b.post_discharge_event(
            index, day, how=how, late_in_day=late, label=label + " (readmission)"
        )
    # Two prior discharges (hospital 1 on day ~47, hospital 3 on day 5): the later one gets the VTE.
    last = b.hospitals[-1]
    admitted = _at(b, 2)
    left = admitted + timedelta(days=4)
    early = b.stay(
        first,
        b.person(),
        admitted,
        left,
        plan=_quiet(),
        label="older of two prior discharges (not attributed)",
    )
    again = b.stay(
        last,
        early.person,
        left + timedelta(days=36),
        left + timedelta(days=42),
        plan=_quiet(),
        label="most recent prior discharge (attributed)",
    )
    b.post_discharge_event(again, 5, how="elsewhere", label="VTE after two prior discharges")


def _present_on_admission(b: Builder) -> None:
    hospital = b.hospitals[1 % len(b.hospitals)]
    admitted = _at(b, 20)
    b.stay(
        hospital,
        b.person(),
        admitted,
        admitted + timedelta(days=5),
        events=[Event(admitted + hours(3), "1", "1", False)],
        plan=_quiet(),
        label="VTE present on admission, no earlier stay (not hospital-associated)",
    )
    admitted = _at(b, 22)
    b.stay(
        hospital,
        b.person(),
        admitted,
        admitted + timedelta(days=5),
        events=[Event(admitted + hours(20), "1", "4", False)],
        plan=_quiet(),
        label="VTE marked not present on admission but diagnosed 20 h after admission",
    )


def _deaths_and_transfers(b: Builder) -> None:
    first, second = b.hospitals[0], b.hospitals[1 % len(b.hospitals)]
    admitted = _at(b, 30)
    discharged = admitted + timedelta(days=9)
    b.stay(
        second,
        b.person(),
        admitted,
        discharged,
        disposition="5",
        events=[Event(discharged - timedelta(hours=5), "2", "4", True)],
        plan=_quiet(),
        label="in-hospital PTE, VTE-related death",
    )
    admitted = _at(b, 40)
    left = admitted + timedelta(days=3)
    transferred = b.stay(
        first,
        b.person(),
        admitted,
        left,
        disposition="2",
        plan=_quiet(),
        label="transferred out on medical advice",
    )
    there = left + timedelta(hours=2)
    b.stay(
        second,
        transferred.person,
        there,
        there + timedelta(days=8),
        events=[Event(there + timedelta(hours=60), "1", "4", False)],
        plan=_quiet(),
        label="in-hospital DVT after a transfer (belongs to this stay, not the first)",
    )
    admitted = _at(b, 44)
    b.stay(
        first,
        b.person(),
        admitted,
        admitted + timedelta(days=2),
        disposition="5",
        plan=_quiet(),
        label="death not related to VTE",
    )


def _prophylaxis_rules(b: Builder) -> None:
    hospital = b.hospitals[-1]
    department = b.department(hospital, surgical=True, tool="1")
    high = {
        "assessed": True,
        "band": "high",
        "bleeding_assessed": True,
        "mech_contraindicated": False,
    }
    cases = (
        (
            _quiet(**high, bleeding_high=False, prophylaxis="appropriate", start_delay_hours=24.0),
            "drug started exactly 24 h after the first high-risk assessment",
        ),
        (
            _quiet(
                **high,
                bleeding_high=False,
                prophylaxis="appropriate",
                start_delay_hours=24.0 + ONE_SECOND,
            ),
            "drug started 24 h + 1 s after the first high-risk assessment",
        ),
        (
            _quiet(
                **{**high, "mech_contraindicated": True},
                bleeding_high=True,
                prophylaxis="appropriate",
            ),
            "high bleeding risk, mechanical prophylaxis contraindicated, nothing given",
        ),
        (_quiet(**high, bleeding_high=False, prophylaxis="not-done"), "drug ordered but not given"),
        (
            _quiet(
                **{**high, "bleeding_assessed": False},
                bleeding_high=False,
                prophylaxis="appropriate",
            ),
            "drug given on time but bleeding risk never assessed",
        ),
    )
    for offset, (plan, label) in enumerate(cases):
        admitted = _at(b, 50 + offset)
        b.stay(
            hospital,
            b.person(),
            admitted,
            admitted + timedelta(days=6),
            department=department,
            plan=plan,
            label=label,
        )
    obstetric = b.department(hospital, tool="4")
    admitted = _at(b, 56)
    b.stay(
        hospital,
        b.person(age=31),
        admitted,
        admitted + timedelta(days=4),
        department=obstetric,
        plan=_quiet(assessed=True),
        label="RCOG tool: band from the hospital's reported level",
    )


def _boundaries(b: Builder) -> None:
    hospital = b.hospitals[0]
    month_two = datetime(b.start.year + (b.start.month == 12), b.start.month % 12 + 1, 1)
    moments = (
        (b.start, "discharged on the first second of the period"),
        (b.start - timedelta(seconds=1), "discharged one second before the period"),
        (b.end - timedelta(seconds=1), "discharged on the last second of the period"),
        (b.end, "discharged on the first second after the period"),
        (month_two, "discharged on the first second of the second month"),
        (month_two - timedelta(seconds=1), "discharged on the last second of the first month"),
    )
    for moment, label in moments:
        b.stay(
            hospital,
            b.person(),
            moment - timedelta(days=3, hours=4),
            moment,
            plan=_quiet(),
            label=label,
        )
    admitted = b.end - timedelta(days=2)
    b.stay(
        hospital,
        b.person(),
        admitted,
        None,
        plan=_quiet(),
        label="still in hospital at the cut-off",
    )
