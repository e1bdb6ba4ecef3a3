"""``vte-facade app issue|rotate|revoke|set|list``: hospital systems and their secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from facade.cli.output import (
    JsonOption,
    console,
    emit,
    fail,
    open_database,
    print_table,
    settings,
    table,
)

if TYPE_CHECKING:
    from facade.native.sealing import SecretBox

app = typer.Typer(
    help="Issue and manage app credentials of the native (VTE-X) interface.", no_args_is_help=True
)

SignTypesOption = typer.Option(
    None,
    help="Allowed signTypes, comma-separated (default: MD5,HMAC-SHA256,HMAC-SM3; SM2 needs --sm2-public-key).",
)
Sm2KeyOption = typer.Option(
    None, "--sm2-public-key", help="The app's SM2 public key (hex 04‖x‖y) for signType SM2."
)
CertOption = typer.Option(
    None,
    "--client-cert-sha256",
    help="SHA-256 fingerprint of a client certificate the app must present (mTLS); repeat for several.",
)
EncTypesOption = typer.Option(
    None, help="Allowed encTypes, comma-separated (default: NONE,SM4-GCM,AES-256-GCM)."
)
IpOption = typer.Option(
    None, "--ip", help="Allowed source address or CIDR; repeat for several (default: any)."
)
ServiceOption = typer.Option(
    None, "--service", help="Allowed serviceCode; repeat for several (default: all)."
)


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [part for part in value.split(",")]


def _show_secret(data: dict[str, Any]) -> None:
    from rich.panel import Panel

    console.print(
        Panel(
            f"appId       {data['appId']}\norgCode     {data['orgCode']}\nkeyVersion  {data['keyVersion']}\n"
            f"appSecret   {data['appSecret']}",
            title="new credential — shown once, store it now",
            subtitle="the platform cannot show this secret again",
        ),
        highlight=False,
    )


def _box() -> SecretBox:
    from facade.native.sealing import APP_SECRETS, SecretBox

    return SecretBox.for_purpose(settings(), APP_SECRETS)


@app.command()
def issue(
    org: str = typer.Option(..., help="orgCode of the registered institution the app reports for."),
    name: str = typer.Option(..., help="What the system is, e.g. 'XX医院 VTE 管理系统'."),
    app_id: str | None = typer.Option(None, help="appId to use (default: H + region + sequence)."),
    sign_types: str | None = SignTypesOption,
    enc_types: str | None = EncTypesOption,
    ip: list[str] | None = IpOption,
    service: list[str] | None = ServiceOption,
    sm2_public_key: str | None = Sm2KeyOption,
    client_cert_sha256: list[str] | None = CertOption,
    json: JsonOption = False,
) -> None:
    """Create an app bound to an institution and show its secret (key version 1) once."""
    from facade.errors import FacadeError
    from facade.native import credentials

    database = open_database(json)
    try:
        with database.session() as session:
            issued = credentials.issue_app(
                session,
                _box(),
                org,
                name=name,
                app_id=app_id,
                sign_types=_csv(sign_types) or credentials.DEFAULT_SIGN_TYPES,
                enc_types=_csv(enc_types) or credentials.ALL_ENC_TYPES,
                ip_allowlist=ip or [],
                services=service or [],
                sm2_public_key=sm2_public_key,
                client_cert_sha256=client_cert_sha256 or [],
            )
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(issued.as_dict(), json, _show_secret)


@app.command()
def rotate(
    app_id: str = typer.Argument(..., metavar="APP_ID"),
    complete: bool = typer.Option(
        False,
        "--complete",
        help="Finish a rotation: retire every version but the newest (no new secret).",
    ),
    json: JsonOption = False,
) -> None:
    """Issue the next key version (the previous one keeps working), or complete the rotation.

    Until the rotation is completed both secrets are accepted: an envelope without
    ``keyVersion`` is checked with the new secret, then the previous one.
    """
    from facade.errors import FacadeError
    from facade.native import credentials

    database = open_database(json)
    try:
        with database.session() as session:
            if complete:
                retired = credentials.complete_rotation(session, app_id)
                result: dict[str, Any] = {"appId": app_id, "retiredKeyVersions": retired}
            else:
                result = credentials.rotate_key(session, _box(), app_id).as_dict()
    except FacadeError as exc:
        raise fail(exc, json) from exc
    if complete:
        emit(
            result,
            json,
            lambda d: console.print(
                f"{d['appId']}: retired key versions {d['retiredKeyVersions'] or 'none'}"
            ),
        )
    else:
        emit(result, json, _show_secret)


@app.command()
def revoke(
    app_id: str = typer.Argument(..., metavar="APP_ID"),
    yes: bool = typer.Option(
        False, "--yes", help="Confirm: the app is refused from now on and cannot be restored."
    ),
    json: JsonOption = False,
) -> None:
    """Revoke an app for good and wipe its stored secrets."""
    from facade.errors import FacadeError
    from facade.native import credentials

    if not yes:
        raise fail("revoking is irreversible; repeat with --yes", json)
    database = open_database(json)
    try:
        with database.session() as session:
            credentials.revoke_app(session, app_id)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    emit(
        {"appId": app_id, "status": "revoked"},
        json,
        lambda d: console.print(f"{d['appId']} revoked"),
    )


@app.command("set")
def set_(
    app_id: str = typer.Argument(..., metavar="APP_ID"),
    sign_types: str | None = SignTypesOption,
    enc_types: str | None = EncTypesOption,
    ip: list[str] | None = IpOption,
    any_ip: bool = typer.Option(False, "--any-ip", help="Remove the IP allow-list."),
    service: list[str] | None = ServiceOption,
    all_services: bool = typer.Option(False, "--all-services", help="Allow every service again."),
    sm2_public_key: str | None = Sm2KeyOption,
    client_cert_sha256: list[str] | None = CertOption,
    no_client_cert: bool = typer.Option(
        False, "--no-client-cert", help="Stop requiring a client certificate."
    ),
    json: JsonOption = False,
) -> None:
    """Change what an app may use (e.g. switch MD5 off); options not given stay as they are."""
    from facade.errors import FacadeError
    from facade.native import credentials

    database = open_database(json)
    try:
        with database.session() as session:
            credentials.update_app(
                session,
                app_id,
                sign_types=_csv(sign_types),
                enc_types=_csv(enc_types),
                ip_allowlist=[] if any_ip else (ip or None),
                services=[] if all_services else (service or None),
                sm2_public_key=sm2_public_key,
                client_cert_sha256=[] if no_client_cert else (client_cert_sha256 or None),
            )
            access = credentials.load_access(session, app_id)
    except FacadeError as exc:
        raise fail(exc, json) from exc
    if access is None:  # update_app raised NotFound already; kept for the type checker
        raise fail(f"app {app_id} does not exist", json)
    emit(access.as_dict(), json, lambda d: console.print(f"{d['appId']} updated"))


@app.command("list")
def list_(
    org: str | None = typer.Option(None, help="Only apps of this orgCode."),
    json: JsonOption = False,
) -> None:
    """List apps with what each may use (never their secrets)."""
    from facade.native import credentials

    with open_database(json).session() as session:
        rows = [access.as_dict() for access in credentials.list_apps(session, org)]

    def human(data: list[dict[str, Any]]) -> None:
        print_table(
            table(
                ("appId", "orgCode", "status", "signTypes", "encTypes", "keys", "IP allow-list"),
                (
                    (
                        row["appId"],
                        row["orgCode"],
                        row["status"],
                        ", ".join(row["signTypes"]),
                        ", ".join(row["encTypes"]),
                        ", ".join(str(v) for v in row["keyVersions"]),
                        ", ".join(row["ipAllowList"]) or "any",
                    )
                    for row in data
                ),
                ids=("appId", "orgCode"),
            )
        )

    emit(rows, json, human)
