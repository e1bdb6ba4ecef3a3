"""The VTE-X request envelope: strict parsing of the fixed member set (native-protocol.md §2.4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from facade.errors import Issue
from facade.native import strictjson
from facade.native.codes import Code, reject

REQUIRED = (
    "appId",
    "orgCode",
    "serviceCode",
    "version",
    "timestamp",
    "nonce",
    "signType",
    "encType",
    "sign",
)
OPTIONAL = ("keyVersion", "bizContent", "encData", "iv")
MEMBERS = frozenset(REQUIRED + OPTIONAL)
ENCRYPTED_MEMBERS = ("encData", "iv")

APP_ID = re.compile(r"[A-Za-z0-9_-]{4,32}")
ORG_CODE = re.compile(r"[0-9A-Z]{18}")
NONCE = re.compile(r"[A-Za-z0-9]{16,64}")
KEY_VERSION = re.compile(r"[1-9][0-9]{0,5}")
# Only member names of this shape are repeated back in an error; anything else is "an unknown member".
ECHOABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_FORMATS = {
    "appId": (APP_ID, "须为 4–32 位字母、数字、_ 或 -"),
    "orgCode": (ORG_CODE, "须为 18 位统一社会信用代码（数字或大写字母）"),
    "nonce": (NONCE, "须为 16–64 位字母或数字"),
    "keyVersion": (KEY_VERSION, "须为正整数字符串"),
}

BOM = b"\xef\xbb\xbf"
# A body of junk members must not turn into a reply as large as itself.
MAX_ISSUES = 20


@dataclass(frozen=True)
class Envelope:
    """A request envelope whose members are all known, all strings, none empty.

    Empty members are dropped at parse time, exactly as the canonical string drops them, so
    ``members`` is what was signed (plus ``sign`` itself).
    """

    members: dict[str, str]

    def get(self, name: str) -> str:
        """A member's value, or "" when absent."""
        return self.members.get(name, "")

    @property
    def app_id(self) -> str:
        """The calling application."""
        return self.members["appId"]

    @property
    def org_code(self) -> str:
        """The reporting institution."""
        return self.members["orgCode"]

    @property
    def service_code(self) -> str:
        """The operation asked for."""
        return self.members["serviceCode"]

    @property
    def nonce(self) -> str:
        """The caller's one-time value."""
        return self.members["nonce"]

    @property
    def timestamp(self) -> str:
        """Epoch milliseconds as sent (checked for shape later, in the timestamp step)."""
        return self.members["timestamp"]


def safe_echo(name: str, value: Any) -> str:
    """``value`` if it is a well-formed appId/nonce and may be echoed in a reply, else ""."""
    pattern = {"appId": APP_ID, "nonce": NONCE}[name]
    return value if isinstance(value, str) and pattern.fullmatch(value) else ""


def decode_body(raw: bytes) -> Any:
    """The body as JSON (one leading UTF-8 BOM tolerated); 2003 if it is not UTF-8 JSON text.

    A duplicate member anywhere is 1001: two parsers disagreeing on ``{"sign":"a","sign":"b"}``
    is a classic signature bypass.
    """
    body = raw.removeprefix(BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise reject(Code.BAD_BIZ_CONTENT, "报文不是 UTF-8 文本", field="$") from exc
    try:
        return strictjson.loads(text)
    except strictjson.DuplicateKey as exc:
        name = exc.key if ECHOABLE_NAME.fullmatch(exc.key) else "$"
        raise reject(Code.BAD_ENVELOPE, "字段重复", field=name) from exc
    except strictjson.NotPlainJson as exc:
        raise reject(Code.BAD_BIZ_CONTENT, "报文不是合法 JSON", field="$") from exc


def parse_envelope(raw: bytes) -> Envelope:
    """Parse and shape-check a request body (verification step 2); raise 2003 or 1001.

    Every shape problem is reported at once, one issue per member, so a vendor fixes all of
    them in one round. Values of ``signType``, ``encType``, ``timestamp``, ``serviceCode`` and
    ``version`` are judged later, by the steps that own their codes (1004, 1011, 1006, 2001, 2002).
    """
    document = decode_body(raw)
    if not isinstance(document, dict):
        raise reject(Code.BAD_ENVELOPE, "报文须为一个 JSON 对象", field="$")
    issues: list[Issue] = []

    def problem(name: str, detail: str) -> None:
        issues.append(Issue(name, "envelope", detail, native_code=Code.BAD_ENVELOPE.value))

    members: dict[str, str] = {}
    for name, value in document.items():
        if name not in MEMBERS:
            problem(name if ECHOABLE_NAME.fullmatch(name) else "$", "未知字段")
        elif not isinstance(value, str):
            problem(name, "须为字符串")
        elif value != "":
            members[name] = value
    for name in REQUIRED:
        if name not in document:
            problem(name, "缺少必填字段")
        elif document[name] == "":
            problem(name, "不能为空")
    for name, (pattern, rule) in _FORMATS.items():
        if name in members and not pattern.fullmatch(members[name]):
            problem(name, rule)
    _check_payload_members(members, problem)
    if issues:
        detail = (
            f"{issues[0].location} {issues[0].message}"
            if len(issues) == 1
            else f"{len(issues)} 处问题，见 errors"
        )
        raise reject(Code.BAD_ENVELOPE, detail, issues=issues[:MAX_ISSUES])
    return Envelope(members)


def _check_payload_members(members: dict[str, str], problem: Callable[[str, str], None]) -> None:
    """bizContent travels in clear with encType NONE, encData + iv otherwise; never both."""
    enc_type = members.get("encType")
    if enc_type == "NONE":
        if "bizContent" not in members:
            problem("bizContent", "encType=NONE 时必填")
        for name in ENCRYPTED_MEMBERS:
            if name in members:
                problem(name, "encType=NONE 时不得出现")
    elif enc_type in ("SM4-GCM", "AES-256-GCM"):
        for name in ENCRYPTED_MEMBERS:
            if name not in members:
                problem(name, "加密时必填")
        if "bizContent" in members:
            problem("bizContent", "加密时不得出现（密文放在 encData）")
