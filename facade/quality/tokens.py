"""Names of the counters a record contributes to (short text tokens, counted per institution and bucket).

===================  ====================================================================
``r:<type>``         a record of this type was received (its latest state, accepted or refused)
``a:<type>``         ... has an accepted version
``a:<type>?<cond>``  ... and a recommended field's condition holds (``dischargeDateTime``,
                     ``category=3``)
``d:<check>``        the check applies to the record (its own denominator)
``x:<check>``        the record has the problem the check looks for
``b:<code>:<rule>``  the latest submission was refused with this native code by this rule
``h:<check>:<n>``    lag of n whole days (histogram of a lag check; ``n`` capped)
``day:<type>``       one record of this type on a day (the bucket is then ``YYYY-MM-DD``)
===================  ====================================================================

Buckets are months (``YYYY-MM``), except for ``day:`` tokens. A report sums the buckets of its
period.
"""

from __future__ import annotations

LAG_CAP_DAYS = 60  # lags are histogrammed per day up to here; longer ones share the last bin


def received(record_type: str) -> str:
    """Population: records of a type received."""
    return f"r:{record_type}"


def accepted(record_type: str, condition: str | None = None) -> str:
    """Population: accepted records of a type (where ``condition`` holds)."""
    return f"a:{record_type}" + (f"?{condition}" if condition else "")


def applies(check_id: str) -> str:
    """Population: records a check applies to."""
    return f"d:{check_id}"


def problem(check_id: str) -> str:
    """A record with the check's problem."""
    return f"x:{check_id}"


def refusal(code: str, rule: str) -> str:
    """The latest submission refused with ``code`` by ``rule`` (breakdown, not scored)."""
    return f"b:{code}:{rule}"


def lag(check_id: str, days: int) -> str:
    """One record with a lag of ``days`` whole days (capped)."""
    return f"h:{check_id}:{min(max(days, 0), LAG_CAP_DAYS)}"


def daily(record_type: str) -> str:
    """One record of a type on the day its bucket names."""
    return f"day:{record_type}"


def is_problem(token: str) -> bool:
    """Whether the token marks a problem (findings keep the record ids of these)."""
    return token.startswith("x:")
