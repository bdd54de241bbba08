"""Safe zip extraction: hostile members refuse the whole archive; only wanted files land."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from engine.errors import StylerError
from engine.models.archive import extract_wanted


def make_zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_extracts_only_wanted_files_flattened(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {
        "AdaAttN_model/AdaAttN/latest_net_decoder.pth": b"dec",
        "AdaAttN_model/AdaAttN/notes.txt": b"ignored",
        "AdaAttN_model/run.sh": b"rm -rf /",
    })
    out = extract_wanted(archive, tmp_path / "out", {"latest_net_decoder.pth", "vgg_normalised.pth"})
    assert out == {"latest_net_decoder.pth": tmp_path / "out" / "latest_net_decoder.pth"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["latest_net_decoder.pth"]
    assert out["latest_net_decoder.pth"].read_bytes() == b"dec"


@pytest.mark.parametrize("evil", ["../escape.pth", "a/../../escape.pth", "/abs/escape.pth", "C:/escape.pth"])
def test_path_traversal_refuses_whole_archive(tmp_path: Path, evil: str) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"latest_net_decoder.pth": b"ok", evil: b"x"})
    target = tmp_path / "deep" / "out"
    with pytest.raises(StylerError, match="refused"):
        extract_wanted(archive, target, {"latest_net_decoder.pth", "escape.pth"})
    assert not target.exists()
    assert not list(tmp_path.rglob("escape.pth"))


def test_symlink_member_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "link.zip", {"a.pth": b"x"}, symlinks={"latest_net_decoder.pth": "/etc/passwd"})
    with pytest.raises(StylerError, match="symbolic link"):
        extract_wanted(archive, tmp_path / "out", {"latest_net_decoder.pth"})
    assert not (tmp_path / "out").exists()


def test_total_size_is_bounded(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("latest_net_decoder.pth", b"\0" * 200_000)  # compresses to a few hundred bytes
    with pytest.raises(StylerError, match="unpack"):
        extract_wanted(archive, tmp_path / "out", {"latest_net_decoder.pth"}, max_total_bytes=100_000)
    assert not (tmp_path / "out" / "latest_net_decoder.pth").exists()


def test_lying_header_caught_while_unpacking(tmp_path: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("latest_net_decoder.pth", b"\1" * 50_000)
    raw = bytearray(archive.read_bytes())
    # Shrink the declared size in both headers so the up-front check passes.
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = raw.find(header)
        offset = 22 if header == b"PK\x03\x04" else 24
        raw[at + offset:at + offset + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    with pytest.raises(StylerError):
        extract_wanted(archive, tmp_path / "out", {"latest_net_decoder.pth"}, max_total_bytes=1_000)
    assert not (tmp_path / "out" / "latest_net_decoder.pth").exists()


def test_not_a_zip(tmp_path: Path) -> None:
    page = tmp_path / "AdaAttN_model.zip"
    page.write_bytes(b"<!DOCTYPE html><html>quota</html>")
    with pytest.raises(StylerError, match="not a readable zip"):
        extract_wanted(page, tmp_path / "out", {"x"})


def test_duplicate_wanted_name_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "dup.zip", {"a/latest_net_decoder.pth": b"1", "b/latest_net_decoder.pth": b"2"})
    with pytest.raises(StylerError, match="twice"):
        extract_wanted(archive, tmp_path / "out", {"latest_net_decoder.pth"})
