"""The operators' compose file must validate, even though no Docker engine runs here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


def test_compose_file_validates() -> None:
    binary = shutil.which("docker-compose")
    assert binary, (
        "docker-compose is required (Debian package docker-compose; `make test` installs it)"
    )
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "POSTGRES_PASSWORD": "x",
            "VTE_MASTER_KEY": "x",
            "VTE_PSEUDONYM_KEY": "x",
            "VTE_RESEARCH_KEY": "x",
            "VTE_TOKEN_SIGNING_KEY": "x",
        },
    )
    assert result.returncode == 0, result.stderr


def test_compose_holds_no_secret_values() -> None:
    text = COMPOSE.read_text()
    for line in text.splitlines():
        if any(word in line.upper() for word in ("PASSWORD", "_KEY", "SECRET")) and ":" in line:
            value = line.split(":", 1)[1].strip()
            assert not value or value.startswith(("${", "#")) or "FILE" in line.upper(), line


def test_hapi_image_matches_the_jar_version() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    pom = (COMPOSE.parent / "hapi" / "pom.xml").read_text()
    image = compose["services"]["hapi"]["image"]
    assert image.startswith("hapiproject/hapi:v8.10.0"), image
    assert "<version>8.10.0</version>" in pom
