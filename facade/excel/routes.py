"""HTTP endpoints of the Excel fallback: the template, the authenticated import, its summary and error workbook."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote, unquote

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from facade.api.deps import ServicesDep
from facade.errors import FacadeError, ProtocolRejected
from facade.excel.auth import HEADERS, verify_request
from facade.excel.container import reject as file_rejected, too_large
from facade.excel.importer import Importer
from facade.excel.imports import (
    ERROR_WORKBOOK_MEDIA_TYPE,
    WORKBOOK_RESPONSES,
    ImportLog,
    import_workbook,
)
from facade.logs import request_id
from facade.native.codes import Code, http_status, reject
from facade.native.credentials import AppAccess
from facade.native.intake import sm3_hex
from facade.native.reply import issue_entries
from facade.native.routes import client_certificate, client_ip, read_body
from facade.services import Services

log = logging.getLogger("facade.excel")
router = APIRouter(tags=["Excel fallback"])
JSON = "application/json; charset=UTF-8"
IMPORT_SERVICE = "VTE.EXCEL.IMPORT"
DOWNLOAD_SERVICE = "VTE.EXCEL.ERRORS"


def _attachment(name: str) -> str:
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/vte-x/v1/excel/template",
    summary="The .xlsx import template of the current dictionary",
    response_class=Response,
    responses=WORKBOOK_RESPONSES,
)
async def template(services: ServicesDep) -> Response:
    """The versioned template: one sheet per record type and repeating group, a dictionary sheet, drop-downs."""
    assets = services.excel_assets
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
    "/vte-x/v1/excel/import",
    summary="Import a filled-in template (body: the .xlsx bytes, or multipart/form-data with "
    "the file in the part named `file`)",
)
async def import_excel(request: Request, services: ServicesDep) -> Response:
    """Authenticated by the app's signed ``X-VTE-*`` headers over the file's SM3 digest; answers a JSON summary."""
    settings = services.settings
    ip = client_ip(request, settings)
    cert = client_certificate(request, settings)
    audit: dict[str, Any] = {"outcome_code": Code.INTERNAL_ERROR.value}
    try:
        body, part_name = await _file_of(request, settings.excel_max_file_bytes)
        filename = unquote(request.headers.get("X-VTE-FileName", "")) or part_name
        summary = await run_in_threadpool(
            _import, services, dict(request.headers), body, (ip, cert), filename, audit
        )
        return Response(orjson.dumps(summary), media_type=JSON)
    except FacadeError as error:
        audit["outcome_code"] = _code(error)
        return _error(error)
    finally:
        await run_in_threadpool(
            _audit, services, ip, IMPORT_SERVICE, "/vte-x/v1/excel/import", audit
        )


# A multipart body carries a little more than the file: boundaries and part headers.
_MULTIPART_OVERHEAD = 64 * 1024


async def _file_of(request: Request, limit: int) -> tuple[bytes | None, str | None]:
    """The uploaded file and its name from a raw ``.xlsx`` body or a ``multipart/form-data``
    form (the part named ``file``); None when the file exceeds ``limit``."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_body(request, limit), None
    raw = await read_body(request, limit + _MULTIPART_OVERHEAD)
    if raw is None:
        return None, None

    async def once() -> AsyncGenerator[bytes, None]:
        yield raw

    try:
        form = await MultiPartParser(
            request.headers, once(), max_files=1, max_fields=8, max_part_size=64 * 1024
        ).parse()
    except MultiPartException as exc:
        raise file_rejected(f"multipart/form-data 无法解析：{exc.message}", "multipart") from exc
    try:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise file_rejected("multipart/form-data 中须有名为 file 的文件部分", "multipart")
        data = await part.read()
    finally:
        await form.close()  # every part's spooled file, whatever happened
    return (None if len(data) > limit else data), part.filename


def _import(
    services: Services,
    headers: dict[str, str],
    body: bytes | None,
    caller: tuple[str, bytes | None],
    filename: str | None,
    audit: dict[str, Any],
) -> dict[str, Any]:
    settings = services.settings
    if body is None:
        raise too_large(
            f"文件超过 {settings.excel_max_file_bytes // (1024 * 1024)} MB 上限", "file-size"
        )
    digest = sm3_hex(body)
    audit["message"] = f"file SM3 {digest}"
    ip, cert = caller
    access = verify_request(
        services.callers, _lower(headers), {"fileDigest": digest}, ip, client_cert=cert
    )
    audit.update(app_id=access.app_id, org_code=access.org_code, authenticated=True)
    processor = services.record_processor
    if processor is None:
        raise reject(
            Code.UNAVAILABLE, "记录处理组件未配置，请稍后重试（重新上传同一文件不会重复入库）"
        )
    saved = import_workbook(
        body,
        importer=Importer(access.app_id, access.org_code, access.allows_service),
        assets=services.excel_assets,
        settings=settings,
        database=services.database,
        processor=processor,
        source="api",
        filename=filename,
        accepted=services.forwarder.doorbell.ring if services.forwarder is not None else None,
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
async def import_summary(import_id: str, request: Request, services: ServicesDep) -> Response:
    """The JSON summary again; authenticated like the upload, the signature covering ``importId``."""
    try:
        summary = await run_in_threadpool(_summary, request, services, import_id)
    except FacadeError as error:
        return _error(error)
    return Response(orjson.dumps(summary), media_type=JSON)


def _summary(request: Request, services: Services, import_id: str) -> dict[str, Any]:
    access = _verify_download(request, services, import_id)
    return ImportLog(services.settings, services.database).load_summary(import_id, access.org_code)


@router.get(
    "/vte-x/v1/excel/imports/{import_id}/errors",
    summary="The error workbook of an import",
    response_class=Response,
    responses=WORKBOOK_RESPONSES,
)
async def error_workbook(import_id: str, request: Request, services: ServicesDep) -> Response:
    """The .xlsx listing every error; only for the uploading organisation, until it expires."""
    ip = client_ip(request, services.settings)
    audit: dict[str, Any] = {
        "outcome_code": Code.INTERNAL_ERROR.value,
        "message": f"error workbook of import {import_id[:32]}",
    }
    try:
        body = await run_in_threadpool(_download, request, services, import_id, audit)
    except FacadeError as error:
        audit["outcome_code"] = _code(error)
        return _error(error)
    finally:
        await run_in_threadpool(
            _audit,
            services,
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


def _download(request: Request, services: Services, import_id: str, audit: dict[str, Any]) -> bytes:
    access = _verify_download(request, services, import_id)
    audit.update(app_id=access.app_id, org_code=access.org_code, authenticated=True)
    body = ImportLog(services.settings, services.database).error_workbook(
        import_id, access.org_code
    )
    audit["outcome_code"] = Code.OK.value
    return body


def _verify_download(request: Request, services: Services, import_id: str) -> AppAccess:
    return verify_request(
        services.callers,
        _lower(dict(request.headers)),
        {"importId": import_id},
        client_ip(request, services.settings),
        client_cert=client_certificate(request, services.settings),
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
    status = http_status(code)  # the one VTE-X code -> HTTP status table
    if status >= 500:
        log.warning(
            "excel request failed: %s", error.message, extra={"error": type(error).__name__}
        )
    payload: dict[str, Any] = {"code": code, "msg": error.message}
    if error.issues:
        payload["errors"] = issue_entries(error.issues)
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON)


def _audit(services: Services, ip: str, service: str, path: str, facts: dict[str, Any]) -> None:
    """One audit event per Excel request, refused ones included; an audit failure never changes the answer."""
    try:
        services.audit.record_native(
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
    except Exception:
        # The import is committed; losing its audit event must be loud, not fatal.
        log.exception("excel audit failed")
