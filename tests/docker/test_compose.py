"""The operators' compose file must validate, even though no Docker engine runs here."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


@pytest.mark.parametrize(
    "profile",
    [[], ["--profile", "network"], ["--profile", "scale"]],
    ids=["default", "network", "scale"],
)
def test_compose_file_validates(profile: list[str]) -> None:
    binary = shutil.which("docker-compose")
    assert binary, (
        "docker-compose is required (Debian package docker-compose; `make test` installs it)"
    )
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), *profile, "config", "-q"],
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


DOCKERFILE = COMPOSE.parent / "Dockerfile"
HAPI_MODULE = COMPOSE.parent / "hapi"


def _stages() -> dict[str, str]:
    """Each named stage of the Dockerfile and the instructions under it."""
    stages: dict[str, list[str]] = {}
    current = ""
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(r"^FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(1)
            stages[current] = []
        elif current:
            stages[current].append(line)
    return {name: "\n".join(lines) for name, lines in stages.items()}


def test_compose_runs_the_hapi_module_we_test_not_a_public_image() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    hapi = compose["services"]["hapi"]
    assert hapi["build"] == {"context": "..", "dockerfile": "docker/Dockerfile", "target": "hapi"}
    assert compose["services"]["facade"]["build"]["target"] == "facade"
    assert not any("hapiproject" in str(s.get("image", "")) for s in compose["services"].values())
    stages = _stages()
    # The jar comes out of a Maven build of docker/hapi, the module the launcher builds for tests.
    assert "COPY docker/hapi/pom.xml" in stages["hapi-build"]
    assert "COPY docker/hapi/src" in stages["hapi-build"]
    assert "mvn -B -q package" in stages["hapi-build"]
    pom = ElementTree.parse(HAPI_MODULE / "pom.xml")  # noqa: S314  (our own file)
    final_name = pom.getroot().findtext("m:build/m:finalName", namespaces=POM_NS)
    assert f"--from=hapi-build /build/target/{final_name}.jar" in stages["hapi"]
    assert re.search(r"FROM \S*jre\S* AS hapi\b", DOCKERFILE.read_text())


def test_hapi_environment_in_compose_is_what_the_jar_reads() -> None:
    """Every HAPI_* variable compose sets is one application.yaml or the module's code reads."""
    hapi_env = yaml.safe_load(COMPOSE.read_text())["services"]["hapi"]["environment"]
    read = (HAPI_MODULE / "src/main/resources/application.yaml").read_text() + "".join(
        path.read_text() for path in (HAPI_MODULE / "src").rglob("*.java")
    )
    documented = (HAPI_MODULE / "README.md").read_text()
    names = [name for name in hapi_env if name.startswith("HAPI_")]
    assert len(names) >= 5
    for name in names:
        assert "${" + name in read, f"{name} is not read by the HAPI module"
        assert f"`{name}`" in documented, f"{name} is not documented in docker/hapi/README.md"
    spring = {name for name in hapi_env if name.startswith("SPRING_")}
    assert spring == {
        "SPRING_DATASOURCE_URL",
        "SPRING_DATASOURCE_USERNAME",
        "SPRING_DATASOURCE_PASSWORD",
    }
    assert hapi_env["SPRING_DATASOURCE_URL"].startswith("jdbc:postgresql://db:5432/")
    # No leftovers of the official image's dotted property names.
    assert not [name for name in hapi_env if "." in name]


def test_database_and_backup_client_have_the_same_postgresql_major_version() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    major = compose["services"]["db"]["image"].split(":")[1].split(".")[0]
    facade_stage = _stages()["facade"]
    assert f"postgresql-client-{major}" in facade_stage
    # The facade backs up HAPI's database itself, so it is told where that is.
    facade_env = compose["services"]["facade"]["environment"]
    hapi_env = compose["services"]["hapi"]["environment"]
    assert facade_env["VTE_HAPI_JDBC_URL"] == hapi_env["SPRING_DATASOURCE_URL"]
    assert facade_env["VTE_HAPI_JDBC_USERNAME"] == hapi_env["SPRING_DATASOURCE_USERNAME"]
    assert "-bookworm" in DOCKERFILE.read_text()  # bookworm ships PostgreSQL 15 clients


SHARED_FACADE_ENV = (
    "VTE_DATABASE_URL",
    "VTE_PUBLIC_BASE_URL",
    "VTE_MASTER_KEY",
    "VTE_PSEUDONYM_KEY",
    "VTE_RESEARCH_KEY",
    "VTE_TOKEN_SIGNING_KEY",
    "VTE_HAPI_TRUSTED_WRITE_KEY",
    "VTE_LINKAGE_KEY",
)


def test_scale_profile_shares_what_must_be_shared() -> None:
    """Replicas on one database with the same keys and public URL; HAPI nodes on one database;
    one daily indicator schedule; the proxy spreads clients over exactly the serving facades."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    scale = {name for name, s in services.items() if s.get("profiles") == ["scale"]}
    assert scale == {"hapi-2", "facade-2", "facade-forwarder", "proxy"}
    first = services["facade"]["environment"]
    for name in ("facade-2", "facade-forwarder"):
        replica = services[name]
        env = replica["environment"]
        for key in SHARED_FACADE_ENV:
            assert env[key] == first[key], f"{name}.{key} differs from the first facade's"
        assert env["VTE_FHIR_BASE_URL"] == "http://hapi-2:8080/fhir"
        assert replica["volumes"] == services["facade"]["volumes"]  # research extracts
        assert not replica.get("ports"), f"{name} is reached through the proxy only"
        assert replica["depends_on"]["facade"] == {"condition": "service_healthy"}  # migrated
    assert services["facade-forwarder"]["command"] == ["vte-facade", "forward"]
    assert "VTE_INDICATOR_REFRESH_TIMES" not in first
    assert services["facade-2"]["environment"]["VTE_INDICATOR_REFRESH_TIMES"] == "[]"
    hapi, hapi_2 = services["hapi"], services["hapi-2"]
    assert hapi_2["environment"] == hapi["environment"]  # one database, one trusted-write key
    assert hapi_2["image"] == hapi["image"] and "ports" not in hapi_2
    assert hapi_2["depends_on"] == {"facade": {"condition": "service_healthy"}}  # schema first
    conf = (COMPOSE.parent / "proxy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream facades \{(.*?)\}", conf, re.DOTALL)
    assert upstream is not None
    port = first["VTE_PORT"]
    assert re.findall(r"server (\S+?)[ ;]", upstream.group(1)) == [
        f"facade:{port}",
        f"facade-2:{port}",
    ]
    listen = re.search(r"listen (\d+);", conf)
    assert listen is not None
    assert services["proxy"]["ports"] == [f"{listen.group(1)}:{listen.group(1)}"]
