"""Date shifting, research ids and identity numbers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from facade.privacy.dates import shift_date_value, shift_days, year_only
from facade.privacy.identity import contains_resident_id, resident_id_valid
from facade.privacy.ids import ResearchIds

KEY = bytes(range(32))


def test_offset_is_stable_secret_and_never_zero() -> None:
    offsets = [shift_days(KEY, f"p{i}", 30) for i in range(2000)]
    assert all(1 <= abs(o) <= 30 for o in offsets)
    assert {o for o in offsets if o > 0} and {o for o in offsets if o < 0}
    assert shift_days(KEY, "p1", 30) == shift_days(KEY, "p1", 30)
    assert [shift_days(bytes(32), f"p{i}", 30) for i in range(50)] != offsets[:50]


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(-3650, 3650).filter(bool),
    st.sampled_from(["+08:00", "Z", "-03:30"]),
)
@hsettings(max_examples=200)
def test_shifting_keeps_intervals_and_time_of_day(
    a: datetime, b: datetime, days: int, zone: str
) -> None:
    def text(d: datetime) -> str:
        return d.strftime("%Y-%m-%dT%H:%M:%S") + zone

    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    sa, sb = shift_date_value(text(a), days), shift_date_value(text(b), days)
    assert sa is not None and sb is not None
    assert parse(sb) - parse(sa) == parse(text(b)) - parse(text(a))
    assert sa[10:] == text(a)[10:]
    assert parse(sa) - parse(text(a)) == timedelta(days=days)


def test_dates_and_partial_dates() -> None:
    assert shift_date_value("2024-02-28", 2) == "2024-03-01"
    assert shift_date_value("2024-12-20", 30) == "2025-01-19"
    assert shift_date_value("2024", 10) == "2024"
    assert shift_date_value("2024-12", 30) == "2025"
    assert shift_date_value("2024-13-01", 3) is None
    assert year_only("1956-03-14") == "1956"


def test_research_ids_round_trip_and_bind_type() -> None:
    ids = ResearchIds(KEY)
    for real in (str(uuid.uuid4()), "vte-patient-example", "123", "a" * 30):
        rid = ids.encode("Patient", real)
        assert len(rid) <= 64 and rid != real
        assert all(c.isalnum() or c in "-." for c in rid)
        assert ids.decode("Patient", rid) == real
        assert ids.decode("Encounter", rid) is None
        assert ids.encode("Patient", real) == rid
    assert ids.decode("Patient", "not-a-research-id") is None
    assert ResearchIds(bytes(32)).decode("Patient", ids.encode("Patient", "123")) is None
    long_id = "b" * 60
    assert ids.encode("Patient", long_id).startswith("x")


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),
        ("110105194912310021", False),
        ("11010519491231002x", True),
        ("1101051949123100", False),
    ],
)
def test_resident_id_check_digit(number: str, valid: bool) -> None:
    assert resident_id_valid(number) is valid


def test_free_text_scan_finds_only_valid_numbers() -> None:
    assert contains_resident_id("患者 11010519491231002X 入院")
    assert not contains_resident_id("编号 110105194912310021")
    assert not contains_resident_id("A11010519491231002X")
