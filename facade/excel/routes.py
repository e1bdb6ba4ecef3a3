"""HTTP endpoints of the Excel fallback: the template, the authenticated import, its summary and error workbook."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, unquote

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from facade.errors import FacadeError, ProtocolRejected, http_status_of
from facade.excel.assets import app_assets
from facade.excel.auth import HEADERS, verify_request
from facade.excel.container import too_large
from facade.excel.importer import Importer
from facade.excel.imports import ERROR_WORKBOOK_MEDIA_TYPE, ImportLog, import_workbook
from facade.logs import request_id
from facade.native.codes import Code, reject
from facade.native.credentials import AppAccess
from facade.native.intake import sm3_hex
from facade.native.reply import issue_entries
from facade.native.routes import client_certificate, client_ip, read_body
from facade.settings import Settings

log = logging.getLogger("facade.excel")
router = APIRouter(tags=["Excel fallback"])
JSON = "application/json; charset=UTF-8"
IMPORT_SERVICE = "VTE.EXCEL.IMPORT"
DOWNLOAD_SERVICE = "VTE.EXCEL.ERRORS"
# HTTP statuses of the VTE-X codes an Excel request can be refused with.
_STATUS = {
    "1001": 400,
    "1002": 401,
    "1005": 401,
    "1006": 401,
    "1007": 401,
    "1003": 403,
    "1004": 403,
    "1008": 403,
    "1009": 429,
    "2005": 413,
    "2006": 409,
    "5001": 503,
}


def _attachment(name: str) -> str:
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/vte-x/v1/excel/template", summary="The .xlsx import template of the current dictionary"
)
async def template(request: Request) -> Response:
    """The versioned template: one sheet per record type and repeating group, a dictionary sheet, drop-downs."""
    assets = app_assets(request.app)
    body = await run_in_threadpool(assets.template)
    return Response(
        body,
        media_type=ERROR_WORKBOOK_MEDIA_TYPE,
        headers={
            "Content-Disposition": _attachment(assets.filename),
            "X-VTE-Template-Version": assets.layout.version,
        },
    )


@router.post(
    "/vte-x/v1/excel/import", summary="Import a filled-in template (body: the .xlsx bytes)"
)
async def import_excel(request: Request) -> Response:
    """Authenticated by the app's signed ``X-VTE-*`` headers over the file's SM3 digest; answers a JSON summary."""
    app: FastAPI = request.app
    settings: Settings = app.state.settings
    body = await read_body(request, settings.excel_max_file_bytes)
    ip = client_ip(request, settings)
    cert = client_certificate(request, settings)
    filename = unquote(request.headers.get("X-VTE-FileName", "")) or None
    audit: dict[str, Any] = {"outcome_code": Code.INTERNAL_ERROR.value}
    try:
        summary = await run_in_threadpool(
            _import, app, dict(request.headers), body, (ip, cert), filename, audit
        )
        return Response(orjson.dumps(summary), media_type=JSON)
    except FacadeError as error:
        audit["outcome_code"] = _code(error)
        return _error(error)
    finally:
        await run_in_threadpool(_audit, app, ip, IMPORT_SERVICE, "/vte-x/v1/excel/import", audit)


def _import(
    app: FastAPI,
    headers: dict[str, str],
    body: bytes | None,
    caller: tuple[str, bytes | None],
    filename: str | None,
    audit: dict[str, Any],
) -> dict[str, Any]:
    settings: Settings = app.state.settings
    if body is None:
        raise too_large(
            f"文件超过 {settings.excel_max_file_bytes // (1024 * 1024)} MB 上限", "file-size"
        )
    digest = sm3_hex(body)
    audit["message"] = f"file SM3 {digest}"
    ip, cert = caller
    access = verify_request(
        settings,
        app.state.database,
        _lower(headers),
        {"fileDigest": digest},
        ip,
        client_cert=cert,
    )
    audit.update(app_id=access.app_id, org_code=access.org_code, authenticated=True)
    processor = getattr(app.state, "record_processor", None)
    if processor is None:
        raise reject(
            Code.UNAVAILABLE, "记录处理组件未配置，请稍后重试（重新上传同一文件不会重复入库）"
        )
    saved = import_workbook(
        body,
        importer=Importer(access.app_id, access.org_code, access.allows_service),
        assets=app_assets(app),
        settings=settings,
        database=app.state.database,
        processor=processor,
        source="api",
        filename=filename,
    )
    summary = saved.summary
    audit["outcome_code"] = Code.OK.value
    audit["counts"] = {
        "records": summary["total"],
        "accepted": summary["successCount"],
        "duplicate": summary["duplicateCount"],
        "rejected": summary["failCount"],
    }
    audit["message"] = f"import {saved.import_id}, file SM3 {digest}, {summary['status']}"
    return summary


@router.get(
    "/vte-x/v1/excel/imports/{import_id}",
    summary="The summary of an import (same organisation only)",
)
async def import_summary(import_id: str, request: Request) -> Response:
    """The JSON summary again; authenticated like the upload, the signature covering ``importId``."""
    try:
        summary = await run_in_threadpool(_summary, request, import_id)
    except FacadeError as error:
        return _error(error)
    return Response(orjson.dumps(summary), media_type=JSON)


def _summary(request: Request, import_id: str) -> dict[str, Any]:
    app: FastAPI = request.app
    access = _verify_download(request, import_id)
    return ImportLog(app.state.settings, app.state.database).load_summary(
        import_id, access.org_code
    )


@router.get("/vte-x/v1/excel/imports/{import_id}/errors", summary="The error workbook of an import")
async def error_workbook(import_id: str, request: Request) -> Response:
    """The .xlsx listing every error; only for the uploading organisation, until it expires."""
    app: FastAPI = request.app
    ip = client_ip(request, app.state.settings)
    audit: dict[str, Any] = {
        "outcome_code": Code.INTERNAL_ERROR.value,
        "message": f"error workbook of import {import_id[:32]}",
    }
    try:
        body = await run_in_threadpool(_download, request, import_id, audit)
    except FacadeError as error:
        audit["outcome_code"] = _code(error)
        return _error(error)
    finally:
        await run_in_threadpool(
            _audit,
            app,
            ip,
            DOWNLOAD_SERVICE,
            f"/vte-x/v1/excel/imports/{import_id[:32]}/errors",
            audit,
        )
    name = f"vte-import-errors-{import_id}.xlsx"
    return Response(
        body,
        media_type=ERROR_WORKBOOK_MEDIA_TYPE,
        headers={"Content-Disposition": _attachment(name)},
    )


def _download(request: Request, import_id: str, audit: dict[str, Any]) -> bytes:
    app: FastAPI = request.app
    access = _verify_download(request, import_id)
    audit.update(app_id=access.app_id, org_code=access.org_code, authenticated=True)
    body = ImportLog(app.state.settings, app.state.database).error_workbook(
        import_id, access.org_code
    )
    audit["outcome_code"] = Code.OK.value
    return body


def _verify_download(request: Request, import_id: str) -> AppAccess:
    app: FastAPI = request.app
    settings: Settings = app.state.settings
    return verify_request(
        settings,
        app.state.database,
        _lower(dict(request.headers)),
        {"importId": import_id},
        client_ip(request, settings),
        client_cert=client_certificate(request, settings),
    )


def _lower(headers: dict[str, str]) -> dict[str, str]:
    """Header lookups by the canonical names of facade.excel.auth, whatever case the client used."""
    by_lower = {k.lower(): v for k, v in headers.items()}
    return {name: by_lower[name.lower()] for name in HEADERS.values() if name.lower() in by_lower}


def _code(error: FacadeError) -> str:
    return error.code if isinstance(error, ProtocolRejected) else error.native_code


def _error(error: FacadeError) -> Response:
    """A refused request: the VTE-X code, its message, and the header, file or cell at fault."""
    code = _code(error)
    status = _STATUS.get(
        code, http_status_of(error) if not isinstance(error, ProtocolRejected) else 400
    )
    if status >= 500:
        log.warning(
            "excel request failed: %s", error.message, extra={"error": type(error).__name__}
        )
    payload: dict[str, Any] = {"code": code, "msg": error.message}
    if error.issues:
        payload["errors"] = issue_entries(error.issues)
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON)


def _audit(app: FastAPI, ip: str, service: str, path: str, facts: dict[str, Any]) -> None:
    """One audit event per Excel request, refused ones included; an audit failure never changes the answer."""
    try:
        from facade.audit.route import audit_log

        audit_log(app).record_native(
            app_id=facts.get("app_id"),
            org_code=facts.get("org_code"),
            service_code=service,
            outcome_code=facts["outcome_code"],
            counts=facts.get("counts"),
            remote_addr=ip,
            request_id=request_id.get(),
            authenticated=facts.get("authenticated", False),
            message=facts.get("message"),
            path=path,
        )
    except Exception as exc:
        # The import is committed; losing its audit event must be loud, not fatal.
        log.error("excel audit failed: %s", type(exc).__name__)
