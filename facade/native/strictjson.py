"""A JSON reader that refuses what two parsers could read differently: duplicate keys, NaN, bad text."""

from __future__ import annotations

import json
import math
from typing import Any

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class DuplicateKey(ValueError):
    """An object repeated a member name (``{"sign":"a","sign":"b"}``)."""

    def __init__(self, key: str) -> None:
        super().__init__("duplicate member")
        self.key = key


class NotPlainJson(ValueError):
    """The text is not JSON this protocol accepts (syntax, NaN/Infinity, lone surrogates, depth)."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise NotPlainJson(f"{name} is not JSON")


def _int64(text: str) -> int:
    # Beyond 64 bits other parsers (JavaScript, Java long) lose digits, and so would orjson.
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise NotPlainJson("integer out of 64-bit range")
    return value


def _finite(text: str) -> float:
    value = float(text)  # "1e400" would silently become infinity
    if not math.isfinite(value):
        raise NotPlainJson("number out of range")
    return value


def loads(text: str) -> Any:
    """Parse ``text``; raise DuplicateKey or NotPlainJson instead of guessing.

    Python's parser alone would keep the last of two equal keys, accept ``NaN``, turn ``1e400``
    into infinity, keep integers no other parser can hold, and decode ``"\\ud800"`` into a string
    that cannot be encoded back to UTF-8; each could make the facade sign, store or echo
    something other than what the sender meant.
    """
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_constant=_no_constants,
            parse_int=_int64,
            parse_float=_finite,
        )
    except DuplicateKey:
        raise
    except RecursionError as exc:
        raise NotPlainJson("nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, int digit limit, NotPlainJson
        raise NotPlainJson(str(exc)) from exc
    _require_utf8(value)
    return value


def _require_utf8(value: Any) -> None:
    # Iterative walk: the parser allows nesting close to the recursion limit.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                _encodable(key)
                stack.append(member)
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotPlainJson("string is not valid Unicode (lone surrogate)") from exc
