"""Helpers of the console tests: a facade served on a real socket, accounts, signing in."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pyotp
import uvicorn
from fastapi import FastAPI

from facade.console.users import Enrolment, UserStore

CHROMIUM = "/usr/bin/chromium"
# The flags Debian's Chromium needs on this closed network (polyglot.md): no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Correct-Horse-42"


@dataclass
class Account:
    """A console account the tests sign in with."""

    username: str
    password: str
    totp_secret: str | None


def account(store: UserStore, username: str, role: str, *, org: str | None = None) -> Account:
    """Create an account and set its own password, as its owner would at first sign-in."""
    enrolment: Enrolment = store.add(username, role=role, org_code=org)
    store.change_password(enrolment.user.id, enrolment.password, PASSWORD)
    return Account(username, PASSWORD, enrolment.totp_secret)


def fresh_code(secret: str, used: set[str] | None = None) -> str:
    """The current TOTP code; waits for the next step when this one was used already."""
    totp = pyotp.TOTP(secret)
    code = totp.now()
    while used is not None and code in used:
        time.sleep(1)
        code = totp.now()
    if used is not None:
        used.add(code)
    return code


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread (lifespan included); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the facade did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no form with a CSRF token"
    return found.group(1)


def sign_in_http(client: httpx.Client, who: Account, used: set[str] | None = None) -> None:
    """Sign in through the forms with a plain HTTP client (TOTP when the account has one)."""
    page = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"username": who.username, "password": who.password, "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code in (200, 303), answer.text[:500]
    if who.totp_secret:
        form = client.get("/console/login/totp")
        answer = client.post(
            "/console/login/totp",
            data={"code": fresh_code(who.totp_secret, used), "csrf_token": csrf_of(form.text)},
        )
        assert answer.status_code in (200, 303), answer.text[:500]
