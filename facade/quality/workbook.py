"""The data-quality report as an Excel workbook a hospital's IT staff can work through.

Institution: 概要 (scores, grade, rank, trend), 问题 (problems, worst first), 问题记录 (every
record id behind every problem, one per row, to fix and re-send), 规则 (every check), 拒收
(refusals by code and rule), 日上报量 (admissions per day with the verdict). Region: 概要,
医院 (every hospital's scores and rank), 问题, 规则, 拒收. Text passes the formula-injection guard.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from facade.excel.errors_workbook import safe_cell
from facade.quality import counters

if TYPE_CHECKING:
    from facade.quality.report import QualityReports

MAX_RECORD_ROWS = 200_000  # a sheet stays far below Excel's 1,048,576 rows
_HEAD = PatternFill("solid", fgColor="DDEBF7")
_FAILED = PatternFill("solid", fgColor="FFC7CE")
_BOLD = Font(bold=True)
DAILY_KINDS = ("daily-gap", "daily-drop")  # their problems are dates, listed in 日上报量
STATUS_ZH = {"passed": "通过", "failed": "未通过", "not-applicable": "不适用"}


def build_workbook(document: dict[str, Any], reports: QualityReports, org: str | None) -> bytes:
    """The workbook of a report document (``org`` None: the region's)."""
    book = Workbook()
    _summary(book.worksheets[0], document)
    if org is None:
        _hospitals(book.create_sheet("医院"), document)
    _problems(book.create_sheet("问题"), document, region=org is None)
    if org is not None:
        _records(book.create_sheet("问题记录"), document, reports, org)
    _rules(book.create_sheet("规则"), document)
    _table(
        book.create_sheet("拒收"),
        ("错误码 code", "规则 rule", "记录数 records"),
        [(r["code"], r["rule"], r["count"]) for r in document["refusals"]],
    )
    if org is not None:
        _table(
            book.create_sheet("日上报量"),
            ("日期 date", "入院病例数 admissions", "此前日均 baseline", "判定 flag"),
            [(d["date"], d["count"], d["baseline"], d["flag"] or "") for d in document["volume"]],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _summary(sheet: Worksheet, document: dict[str, Any]) -> None:
    sheet.title = "概要"
    overall = document["overall"]
    who = document.get("orgName") or "区域 (region)"
    lines: list[tuple[Any, ...]] = [
        ("数据质量报告 Data-quality report", who),
        ("机构代码 institution", document.get("orgCode", "")),
        (
            "统计期 period",
            f"{document['period']} ({document['periodStart']} – {document['periodEnd']})",
        ),
        ("生成时间 generated", document["generatedAt"]),
        ("规则版本 rules", document["rulesVersion"]),
        ("总分 overall", overall["score"], overall["grade"] or ""),
        ("上期 previous", overall["previous"], f"{document['previousPeriod']}"),
        ("变化 trend", overall["trend"]),
    ]
    if "rank" in document:
        lines.append(("区域排名 rank", document["rank"]["position"], f"/ {document['rank']['of']}"))
    for line in lines:
        sheet.append([safe_cell(v) for v in line])
    sheet.append([])
    header = (
        "维度 dimension",
        "Kahn",
        "得分 score",
        "上期 previous",
        "变化 trend",
        "通过",
        "未通过",
        "不适用",
    )
    _header(sheet, header)
    for d in document["dimensions"]:
        sheet.append(
            [
                f"{d['zh']} {d['en']}",
                "/".join(d["kahn"]),
                d["score"],
                d["previous"],
                d["trend"],
                d["passed"],
                d["failed"],
                d["notApplicable"],
            ]
        )
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 36


def _hospitals(sheet: Worksheet, document: dict[str, Any]) -> None:
    dimensions = [d["id"] for d in document["dimensions"]]
    header = ("排名 rank", "机构代码", "名称", "总分", "等级", "变化", "未通过规则", "记录数")
    _header(sheet, (*header, *[d["zh"] for d in document["dimensions"]]))
    for h in document["hospitals"]:
        sheet.append(
            [
                h["rank"],
                safe_cell(h["orgCode"]),
                safe_cell(h["name"]),
                h["overall"],
                h["grade"],
                h["trend"],
                h["failedRules"],
                h["records"],
                *[h["dimensions"][d] for d in dimensions],
            ]
        )


def _problems(sheet: Worksheet, document: dict[str, Any], *, region: bool) -> None:
    header = ["规则 rule", "名称 name", "维度", "严重度", "状态", "问题数", "分母", "比例", "阈值"]
    header.append("涉及医院 hospitals" if region else "示例记录 / 日期 examples")
    _header(sheet, header)
    for p in document["topProblems"]:
        if region:
            extra = "; ".join(f"{h['orgCode']}:{h['count']}" for h in p["hospitals"])
        elif "dates" in p:
            extra = ", ".join(p["dates"])
        else:
            extra = ", ".join(r["recordId"] for r in p["records"][:10])
        sheet.append(
            [
                safe_cell(p["rule"]),
                safe_cell(p["name"]["zh"]),
                p["dimension"],
                p["severity"],
                STATUS_ZH[p["status"]],
                p["count"],
                p["denominator"],
                p["rate"],
                p["threshold"],
                safe_cell(extra),
            ]
        )


def _records(sheet: Worksheet, document: dict[str, Any], reports: QualityReports, org: str) -> None:
    _header(sheet, ("规则 rule", "名称 name", "记录类型 record type", "记录标识 recordId"))
    period = reports.period(document["period"])
    rows = 0
    with reports.database.session() as session:
        for row in document["rules"]:
            if not row["numerator"] or row["kind"] in DAILY_KINDS:
                continue
            ids = counters.finding_ids(
                session, org, f"x:{row['id']}", period.months(), MAX_RECORD_ROWS - rows
            )
            for record_type, key in ids:
                sheet.append(
                    [
                        safe_cell(row["id"]),
                        safe_cell(row["name"]["zh"]),
                        record_type,
                        safe_cell(key),
                    ]
                )
            rows += len(ids)
            if rows >= MAX_RECORD_ROWS:
                sheet.append([f"（记录过多，仅列出前 {MAX_RECORD_ROWS} 条 / truncated）"])
                return


def _rules(sheet: Worksheet, document: dict[str, Any]) -> None:
    header = (
        "规则 rule",
        "名称 name",
        "维度",
        "Kahn",
        "严重度",
        "阈值",
        "问题数",
        "分母",
        "比例",
        "状态",
        "上期比例",
    )
    _header(sheet, header)
    for r in document["rules"]:
        sheet.append(
            [
                safe_cell(r["id"]),
                safe_cell(r["name"]["zh"]),
                r["dimension"],
                "/".join(v for v in r["kahn"].values()),
                r["severity"],
                r["threshold"],
                r["numerator"],
                r["denominator"],
                r["rate"],
                STATUS_ZH[r["status"]],
                r["previousRate"],
            ]
        )
        if r["status"] == "failed":
            for cell in sheet[sheet.max_row]:
                cell.fill = _FAILED


def _table(sheet: Worksheet, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    _header(sheet, header)
    for row in rows:
        sheet.append([safe_cell(v) for v in row])


def _header(sheet: Worksheet, header: tuple[str, ...] | list[str]) -> None:
    sheet.append(list(header))
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD
        cell.fill = _HEAD
