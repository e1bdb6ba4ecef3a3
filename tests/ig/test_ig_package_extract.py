"""The FHIR core package is unpacked without letting a member escape the target folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from facade.ig.build import IgBuildError, _extract_plain


def _package(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "core.tgz"
    with tarfile.open(path, "w:gz") as tgz:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tgz.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("package/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tgz.addfile(link)
    return path


def test_regular_files_are_unpacked_and_links_left_out(tmp_path: Path) -> None:
    archive = _package(tmp_path, {"package/package.json": b"{}", "package/a/b.json": b"[]"})
    with tarfile.open(archive) as tgz:
        _extract_plain(tgz, tmp_path / "out")
    assert (tmp_path / "out/package/package.json").read_bytes() == b"{}"
    assert (tmp_path / "out/package/a/b.json").read_bytes() == b"[]"
    assert not (tmp_path / "out/package/link").exists()


def test_a_member_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    archive = _package(tmp_path, {"package/../../evil.json": b"x"})
    with tarfile.open(archive) as tgz, pytest.raises(IgBuildError, match="outside"):
        _extract_plain(tgz, tmp_path / "out")
    assert not (tmp_path / "evil.json").exists()
