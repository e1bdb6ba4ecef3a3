"""Canonical string edge cases and the strict envelope parser (verification step 2)."""

from __future__ import annotations

import json

import pytest

from facade.errors import ProtocolRejected
from facade.native import strictjson
from facade.native.envelope import parse_envelope
from facade.native.signing import canonical_string, compute_sign

VALID = {
    "appId": "H320100001",
    "orgCode": "12320000466000000X",
    "serviceCode": "VTE.CASE.UPLOAD",
    "version": "1.0",
    "timestamp": "1767225600000",
    "nonce": "5f2b9c0e8d7a4e61b3c2a1f0e9d8c7b6",
    "signType": "MD5",
    "encType": "NONE",
    "bizContent": "{}",
    "sign": "0" * 32,
}


def rejected(raw: bytes) -> ProtocolRejected:
    with pytest.raises(ProtocolRejected) as info:
        parse_envelope(raw)
    return info.value


def body(**changes: object) -> bytes:
    members = {**VALID, **changes}
    return json.dumps({k: v for k, v in members.items() if v is not None}).encode()


# -- canonical string ------------------------------------------------------------------------


def test_empty_members_and_sign_are_left_out() -> None:
    assert canonical_string({"b": "2", "a": "", "sign": "X", "c": "3"}) == "b=2&c=3"


def test_names_sort_by_bytes_so_capitals_come_first() -> None:
    assert canonical_string({"b": "1", "B": "2", "a": "3"}) == "B=2&a=3&b=1"


def test_values_are_raw_no_escaping_or_trimming() -> None:
    value = ' {"x":"a&b=c"} 中文 '
    assert canonical_string({"bizContent": value}) == f"bizContent={value}"


def test_a_changed_member_changes_the_sign() -> None:
    base = compute_sign(VALID, "s", "MD5")
    assert compute_sign({**VALID, "nonce": VALID["nonce"] + "0"}, "s", "MD5") != base
    assert compute_sign({**VALID, "sign": "other"}, "s", "MD5") == base  # sign is not signed


def test_utf8_is_what_gets_hashed() -> None:
    chinese = compute_sign({"bizContent": "张三"}, "s", "MD5")
    assert chinese == compute_sign({"bizContent": "张三"}, "s", "MD5")
    assert chinese != compute_sign({"bizContent": "\\u5f20\\u4e09"}, "s", "MD5")


# -- strict JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"a":NaN}',
        '{"a":Infinity}',
        '{"a":1e400}',
        '{"a":9223372036854775808}',
        '{"a":"\\ud800"}',
        "[" * 100_000 + "]" * 100_000,
        "{",
        "1" * 5000,
    ],
)
def test_strict_json_refuses_what_parsers_disagree_on(text: str) -> None:
    with pytest.raises(strictjson.NotPlainJson):
        strictjson.loads(text)


def test_strict_json_names_a_duplicate_key_at_any_depth() -> None:
    with pytest.raises(strictjson.DuplicateKey) as info:
        strictjson.loads('{"a":{"k":1,"k":2}}')
    assert info.value.key == "k"


def test_strict_json_keeps_valid_surrogate_pairs() -> None:
    assert strictjson.loads('"\\ud83d\\ude00"') == "\U0001f600"


# -- envelope parser -------------------------------------------------------------------------


def test_a_valid_envelope_parses_and_keeps_every_member() -> None:
    envelope = parse_envelope(body())
    assert envelope.members == VALID


def test_a_leading_bom_is_tolerated() -> None:
    assert parse_envelope(b"\xef\xbb\xbf" + body()).app_id == "H320100001"


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"not json", b'{"appId":', b""])
def test_non_json_bodies_are_2003(raw: bytes) -> None:
    assert rejected(raw).code == "2003"


def test_duplicate_sign_is_1001_naming_the_member() -> None:
    raw = body()[:-1] + b',"sign":"' + b"1" * 32 + b'"}'
    error = rejected(raw)
    assert (error.code, error.issues[0].location) == ("1001", "sign")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"extra": "x"}, "extra"),
        ({"appId": None}, "appId"),
        ({"nonce": ""}, "nonce"),
        ({"timestamp": 1767225600000}, "timestamp"),
        ({"bizContent": {"batchNo": "x"}}, "bizContent"),
        ({"appId": "a b"}, "appId"),
        ({"orgCode": "short"}, "orgCode"),
        ({"nonce": "tooshort"}, "nonce"),
        ({"keyVersion": "0"}, "keyVersion"),
        ({"bizContent": ""}, "bizContent"),
        ({"iv": "AAAA"}, "iv"),
        ({"encType": "SM4-GCM"}, "encData"),
    ],
)
def test_shape_problems_are_1001_naming_the_member(changes: dict[str, object], field: str) -> None:
    error = rejected(body(**changes))
    assert error.code == "1001"
    assert field in [issue.location for issue in error.issues]


def test_every_problem_is_reported_at_once() -> None:
    error = rejected(body(appId=None, nonce=None, extra="x"))
    assert {i.location for i in error.issues} == {"appId", "nonce", "extra"}


def test_not_an_object_is_1001() -> None:
    assert rejected(b"[1,2]").code == "1001"


def test_unknown_member_names_are_not_echoed_when_odd() -> None:
    error = rejected(body(**{"<script>": "x"}))
    assert [i.location for i in error.issues] == ["$"]


def test_values_judged_by_later_steps_pass_the_parser() -> None:
    """signType/encType/timestamp/serviceCode/version values have their own codes (1004/1011/1006/2001/2002)."""
    envelope = parse_envelope(
        body(signType="SHA1", encType="RC4", timestamp="yesterday", version="9")
    )
    assert envelope.get("signType") == "SHA1"
