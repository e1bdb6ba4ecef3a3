"""VTE-X 1.0 result codes, their standard Chinese messages and HTTP statuses (native-protocol.md §2.10)."""

from __future__ import annotations

from enum import StrEnum

from facade.errors import Issue, ProtocolRejected


class Code(StrEnum):
    """Every code a VTE-X reply, record result or record error can carry."""

    OK = "0"
    BAD_ENVELOPE = "1001"
    UNKNOWN_APP = "1002"
    ORG_NOT_AUTHORISED = "1003"
    SIGN_TYPE_NOT_ALLOWED = "1004"
    BAD_SIGNATURE = "1005"
    BAD_TIMESTAMP = "1006"
    REPLAYED_NONCE = "1007"
    IP_NOT_ALLOWED = "1008"
    RATE_LIMITED = "1009"
    DECRYPTION_FAILED = "1010"
    ENC_TYPE_NOT_ALLOWED = "1011"
    CLIENT_CERT_FAILED = "1012"
    UNKNOWN_SERVICE = "2001"
    UNSUPPORTED_VERSION = "2002"
    BAD_BIZ_CONTENT = "2003"
    TOO_MANY_RECORDS = "2004"
    BODY_TOO_LARGE = "2005"
    BATCH_CONFLICT = "2006"
    FIELD_MISSING = "3001"
    BAD_FORMAT = "3002"
    NOT_IN_VALUE_SET = "3003"
    TOO_LONG = "3004"
    LOGIC_CHECK_FAILED = "3005"
    REFERENCE_MISSING = "3006"
    BAD_ID_CHECK_DIGIT = "3007"
    RECORD_LOCKED = "3008"
    INTERNAL_ERROR = "5000"
    UNAVAILABLE = "5001"


MESSAGES: dict[Code, str] = {
    Code.OK: "成功",
    Code.BAD_ENVELOPE: "缺少必填公共参数 / 参数类型错误 / 含未知或重复字段",
    Code.UNKNOWN_APP: "appId 不存在或已停用",
    Code.ORG_NOT_AUTHORISED: "orgCode 与 appId 不匹配或未授权该服务",
    Code.SIGN_TYPE_NOT_ALLOWED: "不支持或未授权的 signType",
    Code.BAD_SIGNATURE: "签名校验失败",
    Code.BAD_TIMESTAMP: "时间戳无效或超出允许偏差",
    Code.REPLAYED_NONCE: "nonce 重复（疑似重放）",
    Code.IP_NOT_ALLOWED: "来源 IP 不在白名单",
    Code.RATE_LIMITED: "调用频率超限",
    Code.DECRYPTION_FAILED: "解密失败（密钥/IV/认证标签错误）",
    Code.ENC_TYPE_NOT_ALLOWED: "不支持的 encType / 该应用要求加密",
    Code.CLIENT_CERT_FAILED: "客户端证书校验失败",
    Code.UNKNOWN_SERVICE: "serviceCode 不存在",
    Code.UNSUPPORTED_VERSION: "version 不支持",
    Code.BAD_BIZ_CONTENT: "bizContent 非合法 JSON 或非 UTF-8",
    Code.TOO_MANY_RECORDS: "批次记录数超限",
    Code.BODY_TOO_LARGE: "报文体积超限",
    Code.BATCH_CONFLICT: "batchNo 重复且内容不一致",
    Code.FIELD_MISSING: "必填字段缺失",
    Code.BAD_FORMAT: "字段类型/格式错误",
    Code.NOT_IN_VALUE_SET: "取值不在值域/字典内",
    Code.TOO_LONG: "字段或记录长度超限",
    Code.LOGIC_CHECK_FAILED: "逻辑校验失败",
    Code.REFERENCE_MISSING: "关联记录不存在",
    Code.BAD_ID_CHECK_DIGIT: "身份证件号码校验位错误",
    Code.RECORD_LOCKED: "记录已锁定（已审核/已归档），不允许修改",
    Code.INTERNAL_ERROR: "系统内部错误",
    Code.UNAVAILABLE: "服务维护/暂不可用",
}

# The one table from VTE-X code to HTTP status. The gateway itself always answers HTTP 200 (§2.9);
# this status is what the Excel routes answer, what the audit trail records as the outcome of
# every native request, and what ``reject()`` gives a ProtocolRejected. A test keeps it complete.
HTTP_STATUS: dict[Code, int] = {
    Code.OK: 200,
    Code.BAD_ENVELOPE: 400,
    Code.UNKNOWN_APP: 401,  # the caller could not be identified
    Code.ORG_NOT_AUTHORISED: 403,  # identified, but not for this institution or service
    Code.SIGN_TYPE_NOT_ALLOWED: 403,
    Code.BAD_SIGNATURE: 401,
    Code.BAD_TIMESTAMP: 401,  # a stale signed request proves nothing about who sends it now
    Code.REPLAYED_NONCE: 401,
    Code.IP_NOT_ALLOWED: 403,
    Code.RATE_LIMITED: 429,
    Code.DECRYPTION_FAILED: 400,
    Code.ENC_TYPE_NOT_ALLOWED: 403,
    Code.CLIENT_CERT_FAILED: 401,
    Code.UNKNOWN_SERVICE: 404,
    Code.UNSUPPORTED_VERSION: 400,
    Code.BAD_BIZ_CONTENT: 400,
    Code.TOO_MANY_RECORDS: 413,  # like 2005, the cure is to split
    Code.BODY_TOO_LARGE: 413,
    Code.BATCH_CONFLICT: 409,
    Code.FIELD_MISSING: 400,
    Code.BAD_FORMAT: 400,
    Code.NOT_IN_VALUE_SET: 400,
    Code.TOO_LONG: 400,
    Code.LOGIC_CHECK_FAILED: 400,
    Code.REFERENCE_MISSING: 404,  # e.g. an unknown batchNo or import id
    Code.BAD_ID_CHECK_DIGIT: 400,
    Code.RECORD_LOCKED: 409,
    Code.INTERNAL_ERROR: 500,
    Code.UNAVAILABLE: 503,
}


def http_status(code: str) -> int:
    """The HTTP status of a VTE-X code (500 for a code the protocol does not define)."""
    try:
        return HTTP_STATUS[Code(code)]
    except ValueError:
        return 500


# Codes a single record may fail with; anything else from a record processor is a bug.
RECORD_CODES = frozenset(code.value for code in Code if code.value.startswith("3"))


def reject(
    code: Code, detail: str = "", *, field: str = "", issues: list[Issue] | None = None
) -> ProtocolRejected:
    """The exception that refuses a whole request with ``code``; ``detail`` says what to fix.

    ``field`` (or ``issues``, for several at once) names the envelope member or bizContent path
    at fault; the reply lists them so a vendor sees which member broke which rule. Details never
    quote submitted values.
    """
    message = MESSAGES[code] + (f"：{detail}" if detail else "")
    if issues is None:
        issues = (
            [Issue(field, "protocol", detail or MESSAGES[code], native_code=code.value)]
            if field
            else []
        )
    return ProtocolRejected(code.value, message, issues=issues, status=HTTP_STATUS[code])
