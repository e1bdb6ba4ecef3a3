"""The operators' compose file must validate, even though no Docker engine runs here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import yaml

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
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


INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+(:[?-][^}]*)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@]+:([^@]+)@")


def test_compose_holds_no_secret_values() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    checked = 0
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if any(word in key.upper() for word in ("PASSWORD", "_KEY", "SECRET")):
                assert INTERPOLATION.match(text), f"{name}.{key} must come from the environment"
                checked += 1
            for password in URL_PASSWORD.findall(text):
                assert INTERPOLATION.match(password), f"{name}.{key} embeds a literal password"
                checked += 1
    assert checked >= 6


def test_hapi_image_matches_the_jar_version() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    pom = ElementTree.parse(COMPOSE.parent / "hapi" / "pom.xml")  # noqa: S314  (our own file)
    parent = pom.getroot().find("m:parent", POM_NS)
    assert parent is not None
    hapi_version = parent.findtext("m:version", namespaces=POM_NS)
    image = compose["services"]["hapi"]["image"]
    assert image.startswith(f"hapiproject/hapi:v{hapi_version}-"), (image, hapi_version)
