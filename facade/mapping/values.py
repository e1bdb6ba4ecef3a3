"""Native field values: parse and normalise what hospitals send, and convert them to and from FHIR.

Native date-times are local wall-clock times ``yyyy-MM-dd HH:mm:ss`` (native-protocol.md §2.10);
FHIR needs an offset on any time with seconds, so the engine adds the configured one (China
Standard Time, ``+08:00``, by default) and converts back on the way out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from facade.dictionary.models import Field, FieldType

NATIVE_DATE = "%Y-%m-%d"
NATIVE_DATETIME = "%Y-%m-%d %H:%M:%S"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
_SCALE = re.compile(r"^N\.\.\d+,(\d+)$")
_OFFSET = re.compile(r"^([+-])([01][0-9]|2[0-3]):([0-5][0-9])$")
# FHIR strings may hold tab, newline and carriage return but no other control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "1", "T"}
_FALSE = {"false", "0", "F"}
Scalar = str | int | float | bool


@dataclass(frozen=True)
class BadValue(Exception):
    """A value of the wrong type or format: native code 3002 unless ``code`` says otherwise."""

    rule: str
    message: str
    code: str = "3002"


def parse_offset(text: str) -> timezone:
    """``+08:00`` as a timezone; ValueError for anything else."""
    match = _OFFSET.match(text)
    if not match:
        raise ValueError(f"UTC offset {text!r} must look like +08:00")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def is_absent(raw: Any) -> bool:
    """Null, an empty string or only whitespace: the field was not given."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def normalise(field: Field, raw: Any) -> Scalar:
    """The canonical form of a present value (strings trimmed, numbers as numbers); BadValue if it does not fit."""
    kind = field.type
    if kind in ("string", "identity-number"):
        return _text(raw, "须为字符串")
    if kind == "code":
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        return _text(raw, "须为代码字符串")
    if kind == "integer":
        return _integer(raw)
    if kind == "decimal":
        return _decimal(raw, field.format)
    if kind == "date":
        return _moment(raw, _DATE, "须为日期 yyyy-MM-dd")
    if kind == "datetime":
        return _moment(raw, _DATETIME, "须为日期时间 yyyy-MM-dd HH:mm:ss")
    return _boolean(raw)


def _text(raw: Any, message: str) -> str:
    if not isinstance(raw, str):
        raise BadValue("type", message)
    if _CONTROL.search(raw):
        raise BadValue("control-character", "不得含控制字符")
    return raw.strip()


def _integer(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        return int(raw.strip())
    raise BadValue("type", "须为整数")


def _decimal(raw: Any, fmt: str | None) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadValue("type", "须为数值")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise BadValue("type", "须为有限数值")
    if isinstance(raw, str) and not _NUMBER.fullmatch(raw.strip()):
        raise BadValue("type", "须为数值")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise BadValue("type", "须为数值") from exc
    scale = _SCALE.match(fmt or "")
    if scale:
        digits = int(scale.group(1))
        try:
            exact = number == number.quantize(Decimal(1).scaleb(-digits))
        except InvalidOperation:
            exact = False
        if not exact:
            raise BadValue("scale", f"小数位不得超过 {digits} 位")
    return number_value(number)


def number_value(number: Decimal) -> int | float:
    """A decimal as JSON wants it: an int when integral (so 8 and 8.0 are the same value)."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def is_native_datetime(text: str) -> bool:
    """Whether ``text`` has the shape of a native date-time (``yyyy-MM-dd HH:mm:ss``)."""
    return _DATETIME.fullmatch(text) is not None


def parse_native(text: str) -> datetime:
    """A native date or date-time, its shape already checked (``_DATE``, ``_DATETIME``).

    For those two shapes ``fromisoformat`` accepts and refuses exactly what ``strptime`` with
    ``NATIVE_DATE`` / ``NATIVE_DATETIME`` does (tested), at a tenth of the cost: every date of
    every record is parsed at intake.
    """
    return datetime.fromisoformat(text)


def _moment(raw: Any, shape: re.Pattern[str], message: str) -> str:
    if not isinstance(raw, str) or not shape.fullmatch(raw.strip()):
        raise BadValue("format", message)
    try:
        parse_native(raw.strip())
    except ValueError as exc:
        raise BadValue("format", "不是有效的日期或时间") from exc
    return raw.strip()


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip() in _TRUE:
        return True
    if isinstance(raw, str) and raw.strip() in _FALSE:
        return False
    raise BadValue("type", "须为布尔值 true/false")


def moment(kind: FieldType, value: str) -> datetime | date:
    """A normalised date or date-time as a comparable object (for the not-before rules)."""
    if kind == "datetime":
        return parse_native(value)
    return parse_native(value).date()


def to_fhir(kind: FieldType, value: Scalar, zone: timezone) -> Scalar:
    """A normalised native value in FHIR JSON form (date-times gain the offset)."""
    if kind == "datetime" and isinstance(value, str):
        local = parse_native(value).replace(tzinfo=zone)
        return local.isoformat()
    return value


def from_fhir(kind: FieldType, value: Any, zone: timezone) -> Scalar | None:
    """A FHIR JSON value back in native form; None if it cannot be one."""
    if value is None or isinstance(value, dict | list):
        return None
    if kind == "datetime" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(zone)
        return parsed.strftime(NATIVE_DATETIME)
    if kind == "decimal" and isinstance(value, int | float) and not isinstance(value, bool):
        return number_value(Decimal(str(value)))
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else None
