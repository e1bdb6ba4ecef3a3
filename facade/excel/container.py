"""File-level checks on an uploaded workbook before any XML is parsed: type, size, macros, zip bombs, DTDs."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from facade.errors import InvalidInput, Issue, PayloadTooLarge

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and encrypted .xlsx)
MACRO_MEMBERS = ("xl/vbaProject.bin",)
MACRO_CONTENT_TYPE = b"macroEnabled"
# A legitimate .xlsx never carries a DTD; refusing them rules out entity-expansion attacks
# whatever the XML parser underneath does.
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_SCAN_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """The size caps an import enforces."""

    max_file_bytes: int
    max_uncompressed_bytes: int
    max_rows_per_sheet: int
    max_cells: int


def file_problem(rule: str, message: str, code: str = "3002") -> Issue:
    """An Issue about the file as a whole (location ``file``)."""
    return Issue("file", rule, message, native_code=code)


def reject(message: str, rule: str, code: str = "3002") -> InvalidInput:
    """The error that refuses a whole file; nothing of it is stored."""
    return InvalidInput(message, issues=[file_problem(rule, message, code)])


def too_large(message: str, rule: str) -> PayloadTooLarge:
    """The error that refuses a file over one of the size caps."""
    return PayloadTooLarge(message, issues=[file_problem(rule, message, "2005")])


def check_container(data: bytes, limits: Limits, filename: str | None = None) -> None:
    """Refuse anything that is not a plain, macro-free .xlsx within the caps (InvalidInput / PayloadTooLarge)."""
    if not data:
        raise reject("文件为空", "empty-file")
    if len(data) > limits.max_file_bytes:
        raise too_large(f"文件超过 {limits.max_file_bytes // (1024 * 1024)} MB 上限", "file-size")
    if filename is not None:
        lowered = filename.lower()
        if lowered.endswith((".xlsm", ".xltm")):
            raise reject("不接受含宏的工作簿（.xlsm）：请另存为 .xlsx", "macro-workbook")
        if not lowered.endswith(".xlsx"):
            raise reject("只接受 .xlsx 文件", "file-type")
    if data.startswith(OLE_MAGIC):
        raise reject("这是旧版 .xls 或加密的工作簿：请取消密码并另存为 .xlsx", "file-type")
    if not data.startswith(ZIP_MAGIC):
        raise reject("不是 .xlsx 文件", "file-type")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise reject("文件已损坏，不是有效的 .xlsx", "file-type") from exc
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise reject("不是 .xlsx 工作簿", "file-type")
        if any(m in names for m in MACRO_MEMBERS) or any(
            n.lower().endswith(".bin") and "vba" in n.lower() for n in names
        ):
            raise reject("不接受含宏的工作簿：请另存为 .xlsx（不含宏）", "macro-workbook")
        declared = sum(m.file_size for m in members)
        if declared > limits.max_uncompressed_bytes:
            raise too_large("工作簿解压后过大（疑似压缩炸弹）", "uncompressed-size")
        if MACRO_CONTENT_TYPE in archive.read("[Content_Types].xml"):
            raise reject("不接受含宏的工作簿：请另存为 .xlsx（不含宏）", "macro-workbook")
        for member in members:
            if member.filename.endswith((".xml", ".rels", ".vml")):
                _scan_xml(archive, member, limits.max_uncompressed_bytes)


def _scan_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo, cap: int) -> None:
    """Stream one XML member looking for a DTD; the read is capped so a lying header cannot bomb us."""
    seen = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            seen += len(chunk)
            if seen > cap:
                raise too_large("工作簿解压后过大（疑似压缩炸弹）", "uncompressed-size")
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                raise reject("工作簿含 DTD 声明，不予处理", "xml-dtd")
            tail = chunk[-16:]
