"""engine.models.download against a local server: resume, checks, error pages, cancel, proxies."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections import namedtuple
from pathlib import Path

import pytest

from engine.errors import Cancelled, StylerError
from engine.models import transfer
from engine.models.download import fetch, part_path
from engine.models.registry import RemoteFile
from tests.local_http_server import QUOTA_PAGE, LocalServer, Route, clear_proxy_env, virus_scan_page

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    clear_proxy_env(monkeypatch)
    with LocalServer() as s:
        yield s


def remote(url: str, **checks) -> RemoteFile:
    checks.setdefault("sha256", SHA)
    checks.setdefault("size", len(PAYLOAD))
    return RemoteFile(name="weights.bin", urls=(url,), approx_size=len(PAYLOAD), **checks)


def test_full_download_with_progress(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))
    calls = []
    dest = fetch(remote(url), tmp_path / "w.bin", progress=lambda *a: calls.append(a))
    assert dest.read_bytes() == PAYLOAD
    assert not part_path(dest).exists()
    done, total, rate = calls[-1]
    assert (done, total) == (len(PAYLOAD), len(PAYLOAD)) and rate > 0
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


def test_resumes_after_dropped_connection(server: LocalServer, tmp_path: Path) -> None:
    route = Route(body=PAYLOAD, drop_after=100_000, drops=2)
    url = server.add("/w.bin", route)
    dest = fetch(remote(url), tmp_path / "w.bin")
    assert dest.read_bytes() == PAYLOAD
    ranges = [r.headers.get("Range") for r in server.requests]
    assert ranges == [None, "bytes=100000-", "bytes=200000-"]


def test_resumes_a_part_left_by_an_earlier_run(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))
    dest = tmp_path / "w.bin"
    part_path(dest).write_bytes(PAYLOAD[:123_456])
    fetch(remote(url), dest)
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[0].headers["Range"] == "bytes=123456-"


def test_server_without_range_support_restarts_cleanly(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD, ranges=False, drop_after=50_000))
    dest = fetch(remote(url), tmp_path / "w.bin")
    assert dest.read_bytes() == PAYLOAD


def test_wrong_checksum_rejected_and_nothing_kept(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))
    dest = tmp_path / "w.bin"
    with pytest.raises(StylerError, match="SHA-256"):
        fetch(remote(url, sha256="0" * 64), dest)
    assert not dest.exists() and not part_path(dest).exists()


def test_sha256_prefix_checked(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))
    ok = fetch(remote(url, sha256=None, size=None, sha256_prefix=SHA[:8]), tmp_path / "a.bin")
    assert ok.read_bytes() == PAYLOAD
    with pytest.raises(StylerError, match="starting"):
        fetch(remote(url, sha256=None, size=None, sha256_prefix="00000000"), tmp_path / "b.bin")
    assert not (tmp_path / "b.bin").exists()


def test_quota_page_instead_of_file(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/uc", Route(body=QUOTA_PAGE, content_type="text/html; charset=utf-8"))
    with pytest.raises(StylerError, match="Google Drive refuses") as err:
        fetch(remote(url), tmp_path / "m.zip")
    assert "styler models import" in str(err.value)
    assert not (tmp_path / "m.zip").exists()


def test_quota_page_sent_as_403(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/uc", Route(status=403, body=QUOTA_PAGE, content_type="text/html"))
    with pytest.raises(StylerError, match="Google Drive refuses"):
        fetch(remote(url), tmp_path / "m.zip")


def test_html_page_with_a_binary_content_type_is_still_caught(server: LocalServer, tmp_path: Path) -> None:
    url = server.add("/f", Route(body=b"\n<!DOCTYPE html><html><body>Sign in</body></html>"))
    with pytest.raises(StylerError, match="web page instead of the file"):
        fetch(remote(url, sha256=None, size=None), tmp_path / "m.zip")
    assert not (tmp_path / "m.zip").exists()


def test_drive_virus_scan_page_is_confirmed(server: LocalServer, tmp_path: Path) -> None:
    confirm = server.url("/download")
    url = server.add("/uc", Route(body=virus_scan_page(confirm, "abc"), content_type="text/html"))
    server.add("/download", Route(body=PAYLOAD))
    dest = fetch(remote(url), tmp_path / "m.bin")
    assert dest.read_bytes() == PAYLOAD
    assert server.requests[-1].path == "/download?id=abc&export=download&confirm=t&uuid=0b0e6d1c"


@pytest.mark.parametrize(("status", "words"), [(404, "no longer there"), (500, "server failed"), (403, "refused")])
def test_http_errors(server: LocalServer, tmp_path: Path, status: int, words: str) -> None:
    url = server.add("/w.bin", Route(status=status))
    with pytest.raises(StylerError, match=words):
        fetch(remote(url), tmp_path / "w.bin")
    assert not (tmp_path / "w.bin").exists()


def test_missing_path_is_404(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(StylerError, match="404"):
        fetch(remote(server.url("/nothing-here")), tmp_path / "w.bin")


def test_second_mirror_used_when_first_fails(server: LocalServer, tmp_path: Path) -> None:
    good = server.add("/good", Route(body=PAYLOAD))
    bad = server.add("/bad", Route(status=503))
    spec = RemoteFile("w.bin", (bad, good), approx_size=1, size=len(PAYLOAD), sha256=SHA)
    assert fetch(spec, tmp_path / "w.bin").read_bytes() == PAYLOAD


def test_slow_server_cancel_keeps_part_for_resume(server: LocalServer, tmp_path: Path) -> None:
    server.add("/w.bin", Route(body=PAYLOAD, chunk_size=8_192, chunk_delay_s=0.02))
    seen: list[int] = []
    dest = tmp_path / "w.bin"
    with pytest.raises(Cancelled):
        fetch(remote(server.url("/w.bin")), dest,
              progress=lambda done, total, rate: seen.append(done),
              cancel=lambda: bool(seen) and seen[-1] > 0)
    assert not dest.exists()
    kept = part_path(dest).stat().st_size
    assert 0 < kept < len(PAYLOAD)
    server.routes["/w.bin"].chunk_delay_s = 0.0
    assert fetch(remote(server.url("/w.bin")), dest).read_bytes() == PAYLOAD
    assert server.requests[-1].headers["Range"] == f"bytes={kept}-"


def test_no_network_is_one_clear_line(server: LocalServer, tmp_path: Path) -> None:
    spec = remote("http://styler-test.invalid/w.bin")
    with pytest.raises(StylerError, match="no network|cannot connect"):
        fetch(spec, tmp_path / "w.bin")


def test_unreachable_proxy_is_named(server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = LocalServer()  # bound then closed: nothing listens on that port any more
    proxy = closed.url("")
    closed._httpd.server_close()
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    spec = remote("http://example.com/w.bin")
    with pytest.raises(StylerError, match="proxy") as err:
        fetch(spec, tmp_path / "w.bin")
    assert proxy in str(err.value)


def test_disk_full_checked_before_downloading(server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(transfer.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(StylerError, match="not enough free disk space"):
        fetch(remote(url), tmp_path / "w.bin")
    assert not (tmp_path / "w.bin").exists()


def test_disk_full_while_writing(server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = server.add("/w.bin", Route(body=PAYLOAD))

    class FullDisk(io.BytesIO):
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(transfer, "open", lambda path, mode: FullDisk(), raising=False)
    with pytest.raises(StylerError, match="disk full"):
        fetch(remote(url), tmp_path / "w.bin")
    assert not (tmp_path / "w.bin").exists()
