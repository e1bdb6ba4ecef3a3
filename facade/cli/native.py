"""``vte-facade native sign-debug``: the canonical string and sign of an envelope, for 签名错误 tickets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from facade.cli.output import JsonOption, console, emit, fail

app = typer.Typer(
    help="Tools for vendors and support staff of the native (VTE-X) interface.",
    no_args_is_help=True,
)


def _mask(secret: str) -> str:
    return secret[:4] + "…" + secret[-4:] if len(secret) > 8 else "…"


def debug_envelope(raw: bytes, secret: str, *, show_secret: bool = False) -> dict[str, Any]:
    """Everything support needs to compare with a vendor's own computation; never the payload itself."""
    from facade.errors import ProtocolRejected
    from facade.native import strictjson
    from facade.native.crypto import (
        DecryptionFailed,
        EncType,
        decrypt_payload,
        derive_enc_key,
        envelope_aad,
    )
    from facade.native.envelope import parse_envelope
    from facade.native.signing import SignType, canonical_string, compute_sign, sign_matches

    report: dict[str, Any] = {"problems": []}
    try:
        parse_envelope(raw)
    except ProtocolRejected as exc:
        report["problems"] = [f"{exc.code} {i.location}: {i.message}" for i in exc.issues] or [
            f"{exc.code} {exc.message}"
        ]
    try:
        document = strictjson.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("the envelope is not UTF-8 JSON text") from exc
    if not isinstance(document, dict):
        raise ValueError("the envelope is not a JSON object")
    members = {k: v for k, v in document.items() if isinstance(v, str)}
    canonical = canonical_string(members)
    shown = secret if show_secret else _mask(secret)
    report["canonicalString"] = canonical
    report["stringToSign"] = f"{canonical}&key={shown}"
    requested = members.get("signType", "")
    # An SM2 sign is randomised and made with the app's private key: nothing to predict here.
    keyed = [kind for kind in SignType if kind is not SignType.SM2]
    kinds = [SignType(requested)] if requested in keyed else keyed
    report["expectedSign"] = (
        {}
        if requested == SignType.SM2
        else {k.value: compute_sign(members, secret, k) for k in kinds}
    )
    if requested in keyed:
        report["signMatches"] = sign_matches(members, secret, requested, members.get("sign", ""))
    enc = members.get("encType", "NONE")
    if enc in set(EncType) and enc != "NONE":
        kind = EncType(enc)
        aad = envelope_aad(
            members.get("appId", ""), members.get("timestamp", ""), members.get("nonce", "")
        )
        try:
            plain = decrypt_payload(
                kind,
                derive_enc_key(kind, secret, members.get("appId", "")),
                members.get("iv", ""),
                members.get("encData", ""),
                aad,
            )
            report["decryption"] = f"ok ({len(plain)} bytes of plaintext)"
        except DecryptionFailed as exc:
            report["decryption"] = f"failed: {exc}"
    return report


@app.command("sign-debug")
def sign_debug(
    envelope: Annotated[
        Path, typer.Argument(help="File holding the request envelope as sent ('-' reads stdin).")
    ],
    secret: str = typer.Option(
        ..., envvar="VTE_SIGN_DEBUG_SECRET", help="The app's secret (or set VTE_SIGN_DEBUG_SECRET)."
    ),
    show_secret: bool = typer.Option(
        False, help="Print the secret inside the string to sign instead of masking it."
    ),
    json: JsonOption = False,
) -> None:
    """Print the canonical string, the string to sign and the expected sign of an envelope."""
    raw = sys.stdin.buffer.read() if str(envelope) == "-" else envelope.read_bytes()
    try:
        report = debug_envelope(raw, secret, show_secret=show_secret)
    except ValueError as exc:
        raise fail(str(exc), json) from exc

    def human(data: dict[str, Any]) -> None:
        for problem in data["problems"]:
            console.print(f"[yellow]problem:[/] {problem}", highlight=False)
        # The strings go out as plain lines, never wrapped or styled: support staff compare
        # them character by character, and they are often piped into a file or a ticket.
        console.print("[bold]canonical string[/]", highlight=False)
        typer.echo(data["canonicalString"])
        console.print("[bold]string to sign[/]", highlight=False)
        typer.echo(data["stringToSign"])
        for kind, value in data["expectedSign"].items():
            console.print(f"[bold]sign ({kind})[/] {value}", highlight=False)
        if "signMatches" in data:
            console.print(
                "given sign matches" if data["signMatches"] else "[red]given sign does NOT match[/]"
            )
        if "decryption" in data:
            console.print(f"decryption {data['decryption']}", highlight=False)

    emit(report, json, human)
