"""Generate the versioned .xlsx import template from the dictionary and its code tables."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from facade import __version__
from facade.dictionary.loader import Dictionary
from facade.dictionary.models import Field
from facade.excel.layout import (
    CODES_SHEET,
    DICTIONARY_SHEET,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    META_SHEET,
    NAME_ROW,
    Column,
    Layout,
    SheetLayout,
    code_table_name,
    column_letter,
)
from facade.excel.neutralise import neutralise

VERSION_NAME = "VTE_TEMPLATE_VERSION"
TEXT_FORMAT = "@"
BOOLEAN_CHOICES = ("是", "否")
# Column types Excel must keep as typed text: leading zeros (codes "01"), 18-digit identity
# numbers (Excel keeps 15 significant digits) and dates in the one accepted spelling.
TEXT_TYPES = ("string", "code", "identity-number", "date", "datetime")
DATE_FORMATS = {
    "date": "yyyy-MM-dd，如 2026-01-05",
    "datetime": "yyyy-MM-dd HH:mm:ss，如 2026-01-05 09:30:00",
}

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def template_filename(layout: Layout) -> str:
    """The versioned file name the template is served under."""
    return f"vte-import-template-{layout.version}.xlsx"


def build_template(dictionary: Dictionary, layout: Layout, *, max_file_mb: int = 10) -> bytes:
    """The template workbook as .xlsx bytes."""
    workbook = Workbook()
    for blank in list(workbook.worksheets):  # the sheet every new workbook starts with
        workbook.remove(blank)
    _instructions(workbook.create_sheet(INSTRUCTIONS_SHEET), layout, max_file_mb)
    ranges = _code_sheet(workbook, dictionary)
    for sheet in layout.sheets:
        _data_sheet(workbook.create_sheet(sheet.title), sheet, layout.max_rows, dictionary, ranges)
    _dictionary_sheet(workbook.create_sheet(DICTIONARY_SHEET), layout, dictionary)
    _meta_sheet(workbook, layout)
    workbook.active = 0
    workbook.properties.title = "VTE 数据导入模板"
    workbook.properties.keywords = f"vte-import-template {layout.version}"
    workbook.properties.creator = f"vte-facade {__version__}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _instructions(ws: Worksheet, layout: Layout, max_file_mb: int) -> None:
    versions = "，".join(
        f"{name.split(':', 1)[1]} v{v}" for name, v in layout.versions if name.startswith("record:")
    )
    lines = [
        ("模板版本", layout.version),
        ("数据集版本", versions),
        (
            "1",
            "每个数据工作表对应一类记录，每行一条记录；表头带 * 的列为必填，其余视“数据字典”中的条件填写。",
        ),
        (
            "2",
            "请勿修改、增删表头和列，勿重命名工作表。第 2 行（已隐藏）是字段名，导入时据此识别各列。",
        ),
        (
            "3",
            "重复项（出院诊断、手术、风险因素条目等）填在各自的工作表中：第一列填所属记录的“记录标识 recordId”，一行一项，按行的顺序排列。",
        ),
        ("4", "日期填 yyyy-MM-dd，日期时间填 yyyy-MM-dd HH:mm:ss；这些列已设为文本格式。"),
        (
            "5",
            "编码列可从下拉列表选择（“代码 名称”），也可只填代码；代码含义见“数据字典”工作表。是/否列填“是”或“否”。",
        ),
        (
            "6",
            "证件号码、记录标识、住院号和各类编码列已设为文本格式，请勿改为数字格式：Excel 只保留 15 位有效数字，18 位身份证号会被改坏。",
        ),
        ("7", "单元格不能是公式：从其他表格复制时请使用“选择性粘贴 → 数值”。"),
        (
            "8",
            f"只接受 .xlsx 文件（不接受 .xls、.xlsm），文件不超过 {max_file_mb} MB，每个工作表不超过 {layout.max_rows} 行数据。",
        ),
        ("9", "更正已上报的记录：recordId 保持不变，recordVersion 加 1。"),
        (
            "10",
            "导入后合格的记录被接收；不合格的记录连同每个错误（工作表、行、列、错误代码、说明）列入错误工作簿。改正后可重新导入整个文件，已接收的记录不会重复。",
        ),
    ]
    ws["A1"] = "VTE 区域数据上报 — Excel 导入模板"
    ws["A1"].font = Font(bold=True, size=14)
    for row, (key, text) in enumerate(lines, start=3):
        ws.cell(row, 1, key).font = _BOLD
        ws.cell(row, 2, neutralise(text)).alignment = _WRAP
    row = len(lines) + 4
    for col, title in enumerate(("工作表", "记录类型", "服务代码", "内容"), start=1):
        ws.cell(row, col, title).font = _BOLD
    for sheet in layout.sheets:
        row += 1
        record = sheet.record_type
        what = (
            record.description
            if sheet.group is None
            else f"{sheet.group.zh}：{sheet.group.definition}"
        )
        for col, value in enumerate(
            (sheet.title, record.record_type, record.service_code, what), start=1
        ):
            ws.cell(row, col, neutralise(value)).alignment = _WRAP
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    ws.column_dimensions["C"].width = 22
    ws.column_dimensions["D"].width = 80


def _code_sheet(workbook: Workbook, dictionary: Dictionary) -> dict[str, str]:
    """One column per code table ("代码 名称" from row 3); returns the defined name of each table."""
    ws = workbook.create_sheet(CODES_SHEET)
    ws.sheet_state = "hidden"
    names: dict[str, str] = {}
    for index, table in enumerate(
        sorted(dictionary.code_tables.values(), key=lambda t: t.id), start=1
    ):
        letter = column_letter(index)
        ws.cell(1, index, table.id).font = _BOLD
        ws.cell(2, index, neutralise(table.title_zh))
        for row, concept in enumerate(table.concepts, start=3):
            ws.cell(
                row, index, neutralise(f"{concept.code} {concept.zh}")
            ).number_format = TEXT_FORMAT
        last = 2 + len(table.concepts)
        name = code_table_name(table.id)
        workbook.defined_names[name] = DefinedName(
            name, attr_text=f"'{CODES_SHEET}'!${letter}$3:${letter}${last}"
        )
        names[table.id] = name
        ws.column_dimensions[letter].width = 24
    return names


def _data_sheet(
    ws: Worksheet, sheet: SheetLayout, max_rows: int, dictionary: Dictionary, ranges: dict[str, str]
) -> None:
    last_row = FIRST_DATA_ROW + max_rows - 1
    for index, column in enumerate(sheet.columns, start=1):
        head = ws.cell(HEADER_ROW, index, column.header)
        head.font = _BOLD
        head.fill = _REQUIRED_FILL if column.header.startswith("*") else _HEADER_FILL
        head.alignment = _WRAP
        ws.cell(NAME_ROW, index, column.name)
        dimension = ws.column_dimensions[column.letter]
        dimension.width = min(40, max(14, len(column.header) * 1.4))
        if column.field.type in TEXT_TYPES:
            dimension.number_format = TEXT_FORMAT
        validation = _validation(column, dictionary, ranges)
        ws.add_data_validation(validation)
        validation.add(f"{column.letter}{FIRST_DATA_ROW}:{column.letter}{last_row}")
    ws.row_dimensions[NAME_ROW].hidden = True
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.freeze_panes = f"B{FIRST_DATA_ROW}"


def _validation(column: Column, dictionary: Dictionary, ranges: dict[str, str]) -> DataValidation:
    """The drop-down or range check of a column, with an input prompt stating the format.

    Excel enforces these only on typing, not on paste; the server checks everything again.
    """
    field = column.field
    kwargs: dict[str, object] = {}
    if field.code_table:
        kwargs = {"type": "list", "formula1": ranges[field.code_table]}
    elif field.type == "boolean":
        kwargs = {"type": "list", "formula1": '"' + ",".join(BOOLEAN_CHOICES) + '"'}
    elif field.type in ("string", "identity-number") and field.max_length:
        kwargs = {
            "type": "textLength",
            "operator": "lessThanOrEqual",
            "formula1": str(field.max_length),
        }
    elif (
        field.type in ("integer", "decimal")
        and field.minimum is not None
        and field.maximum is not None
    ):
        kind = "whole" if field.type == "integer" else "decimal"
        kwargs = {
            "type": kind,
            "operator": "between",
            "formula1": _num(field.minimum),
            "formula2": _num(field.maximum),
        }
    validation = DataValidation(
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage="type" in kwargs,
        promptTitle=field.zh[:32],
        prompt=_prompt(column, dictionary)[:255],
        errorTitle=f"{field.zh}：取值无效"[:32],
        error=_prompt(column, dictionary)[:255],
        **kwargs,
    )
    return validation


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def requirement(field: Field, link: bool = False) -> str:
    """必填 / 选填 / the condition of a conditionally required field, in words."""
    if field.required or link:
        return "必填"
    if field.required_when:
        codes = "、".join(field.required_when.codes)
        return f"条件必填：{field.required_when.field} 为 {codes} 时"
    return "选填"


def format_hint(field: Field, dictionary: Dictionary) -> str:
    """How to write a value of this field, for prompts and the dictionary sheet."""
    if field.type in DATE_FORMATS:
        return DATE_FORMATS[field.type]
    if field.code_table:
        return (
            f"代码，见代码表 {dictionary.code_table(field.code_table).title_zh}（可选“代码 名称”）"
        )
    if field.type == "code":
        example = f"，如 {field.example}" if field.example is not None else ""
        return f"编码（文本）{example}"
    if field.type == "boolean":
        return "是 / 否"
    if field.type in ("integer", "decimal"):
        kind = "整数" if field.type == "integer" else "数值"
        bounds = (
            f" {_num(field.minimum)}–{_num(field.maximum)}"
            if field.minimum is not None and field.maximum is not None
            else ""
        )
        return kind + bounds
    if field.type == "identity-number":
        return f"文本，最长 {field.max_length} 位（勿用数字格式）"
    return f"文本，最长 {field.max_length} 字"


def _prompt(column: Column, dictionary: Dictionary) -> str:
    field = column.field
    if column.link:
        return "所属记录的记录标识（与主表 recordId 相同）"
    return f"{requirement(field)}。{format_hint(field, dictionary)}"


def _dictionary_sheet(ws: Worksheet, layout: Layout, dictionary: Dictionary) -> None:
    headers = (
        "工作表",
        "列",
        "字段名",
        "中文名",
        "英文名",
        "类型",
        "格式",
        "必填",
        "最大长度",
        "取值范围",
        "代码表",
        "代码值",
        "定义",
        "示例",
        "数据元标识",
    )
    for col, title in enumerate(headers, start=1):
        cell = ws.cell(1, col, title)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    row = 1
    for sheet in layout.sheets:
        for column in sheet.columns:
            row += 1
            field = column.field
            table = dictionary.code_table(field.code_table) if field.code_table else None
            bounds = (
                f"{_num(field.minimum)}–{_num(field.maximum)}"
                if field.minimum is not None and field.maximum is not None
                else ""
            )
            values = (
                sheet.title,
                column.letter,
                column.name,
                field.zh,
                field.en,
                field.type,
                field.format or format_hint(field, dictionary),
                requirement(field, column.link),
                field.max_length or "",
                bounds,
                f"{table.id} {table.title_zh}" if table else (field.code_system_zh or ""),
                "；".join(f"{c.code} {c.zh}" for c in table.concepts) if table else "",
                "所属记录的记录标识" if column.link else field.definition,
                "" if field.example is None else str(field.example),
                field.de or "",
            )
            for col, value in enumerate(values, start=1):
                ws.cell(row, col, neutralise(value)).number_format = TEXT_FORMAT
    for letter, width in zip(
        "ABCDEFGHIJKLMNO", (22, 5, 24, 18, 24, 14, 16, 22, 9, 11, 28, 50, 60, 20, 16), strict=True
    ):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = f"A1:O{row}"


def _meta_sheet(workbook: Workbook, layout: Layout) -> None:
    ws = workbook.create_sheet(META_SHEET)
    ws.sheet_state = "veryHidden"
    ws["A1"], ws["B1"] = "templateVersion", layout.version
    ws["A2"], ws["B2"] = "generatedAt", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ws["A3"], ws["B3"] = "generator", f"vte-facade {__version__}"
    ws.append([])
    ws.append(["sheet", "recordType", "group", "serviceCode"])
    for sheet in layout.sheets:
        group = sheet.group.name if sheet.group else ""
        ws.append(
            [sheet.title, sheet.record_type.record_type, group, sheet.record_type.service_code]
        )
    ws.append([])
    ws.append(["component", "version"])
    for name, version in layout.versions:
        ws.append([name, version])
    workbook.defined_names[VERSION_NAME] = DefinedName(
        VERSION_NAME, attr_text=f"'{META_SHEET}'!$B$1"
    )
