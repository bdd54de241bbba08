"""One HTTP(S) request of a download: append to ``<dest>.part`` from where it ends (Range),
with progress, cancel, a free-space check, and every failure worded as one ``StylerError``.

Standard library only (urllib): it honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY and verifies TLS
certificates with the system's store; neither is ever switched off here. A connection that
ends early raises ``Dropped`` (``engine.models.download`` resumes); a cancel raises
``Cancelled`` and keeps the ``.part``."""

from __future__ import annotations

import errno
import http.client
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from engine import __version__
from engine.errors import CancelCallback, StylerError, check_cancel
from engine.models.registry import RemoteFile, human_size
from engine.models.web_pages import check_not_html, is_quota_page, quota_error, read_text

# bytes done, total bytes (None when the server does not say), bytes per second
ProgressFn = Callable[[int, "int | None", float], None]

CHUNK = 256 * 1024
TIMEOUT_S = 30.0
PROGRESS_INTERVAL_S = 0.1
FREE_SPACE_MARGIN = 50_000_000  # keep some room for the converted model and the OS
USER_AGENT = f"styler/{__version__} (+urllib)"


class Dropped(Exception):
    """The connection ended before the announced length arrived (resumable)."""


def transfer(url: str, remote: RemoteFile, part: Path, meter: Meter, cancel: CancelCallback | None) -> None:
    """One HTTP request: append to ``part`` from where it ends. Raises ``Dropped`` when the
    connection ends early and ``web_pages.FollowPage`` for a page that links to the file."""
    check_cancel(cancel)
    have = part.stat().st_size if part.exists() else 0
    if remote.size is not None and have >= remote.size:
        if have > remote.size:
            part.unlink()
            have = 0
        else:
            return
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        with exc:  # an error response keeps its connection open until closed
            if exc.code == 416 and have:
                # Our .part is at least as long as the file: it is complete or stale.
                total = _total_from_content_range(exc.headers.get("Content-Range"))
                if total == have:
                    return
                part.unlink(missing_ok=True)
                raise Dropped() from None
            if "text/html" in (exc.headers.get("Content-Type") or "") and is_quota_page(read_text(exc)):
                raise quota_error(url) from None  # Drive sometimes sends its quota page as a 403
            raise _http_error(url, exc.code, exc.reason) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(url, exc) from None
    with response:
        status = response.status
        if have and status == 206:
            if _start_from_content_range(response.headers.get("Content-Range")) != have:
                part.unlink(missing_ok=True)  # not the bytes we asked for: start over
                raise Dropped()
        elif status == 200:
            have = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else remote.size
        check_not_html(url, response, have)
        _check_free_space(part.parent, (total or remote.approx_size) - have)
        meter.start(have, total)
        mode = "ab" if have else "wb"
        received = have
        try:
            with open(part, mode) as out:
                while True:
                    check_cancel(cancel)
                    try:
                        chunk = response.read(CHUNK)
                    except (TimeoutError, http.client.IncompleteRead, ConnectionError, ssl.SSLError) as exc:
                        out.flush()
                        if received > have:
                            raise Dropped() from exc
                        raise _network_error(url, exc) from None
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
                    meter.update(received)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StylerError(
                    f"{part.parent}: disk full while downloading {remote.name}; free some space "
                    "(or choose another model folder with `styler models folder PATH`) and run again "
                    "to resume"
                ) from None
            raise
        meter.finish(received)
        if total is not None and received < total:
            raise Dropped()


def _check_free_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed + FREE_SPACE_MARGIN:
        raise StylerError(
            f"{folder}: not enough free disk space ({human_size(free)} free, the download needs "
            f"about {human_size(needed + FREE_SPACE_MARGIN)}); free some space or choose another "
            "model folder with `styler models folder PATH`"
        )


def _start_from_content_range(value: str | None) -> int | None:
    # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0]) if value else None
    except (IndexError, ValueError):
        return None


def _total_from_content_range(value: str | None) -> int | None:
    # "bytes */200"
    try:
        return int(value.rsplit("/", 1)[1]) if value else None
    except (IndexError, ValueError):
        return None


def _proxy_for(url: str) -> str | None:
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return proxy
    return None


def _http_error(url: str, code: int, reason: str) -> StylerError:
    if code == 407:
        return StylerError(
            f"{url}: the proxy {_proxy_for(url)} asks for a login (HTTP 407); put the credentials "
            "in HTTPS_PROXY (http://user:password@host:port) or download the file in a browser "
            "and use `styler models import`"
        )
    if code == 404:
        what = "the file is no longer there (HTTP 404)"
    elif code in (401, 403):
        what = f"access refused (HTTP {code}); the host may be limiting downloads"
    elif code == 429:
        what = "too many requests (HTTP 429)"
    elif code >= 500:
        what = f"the server failed (HTTP {code} {reason})"
    else:
        what = f"HTTP {code} {reason}"
    return StylerError(
        f"{url}: {what}; try again later, or download the file another way and use `styler models import`"
    )


def _network_error(url: str, exc: BaseException) -> StylerError:
    reason = getattr(exc, "reason", exc)
    proxy = _proxy_for(url)
    if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
        return StylerError(
            f"{url}: the server's TLS certificate could not be verified ({getattr(reason, 'verify_message', reason)}); "
            "if your network inspects HTTPS, point SSL_CERT_FILE at your organisation's CA bundle"
        )
    if "Tunnel connection failed" in str(reason) and "407" in str(reason):
        return _http_error(url, 407, "Proxy Authentication Required")
    if proxy:
        return StylerError(
            f"{url}: cannot download through the proxy {proxy} ({_reason_text(reason)}); check "
            "HTTPS_PROXY/HTTP_PROXY, or download the file in a browser and use `styler models import`"
        )
    if isinstance(reason, socket.gaierror):
        return StylerError(
            f"{url}: no network (cannot resolve {urlsplit(url).hostname}); connect to the internet, "
            "or download the file on another machine and use `styler models import`"
        )
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return StylerError(f"{url}: the server did not answer within {TIMEOUT_S:.0f} s; try again later")
    return StylerError(
        f"{url}: cannot connect ({_reason_text(reason)}); check your network, or download the "
        "file another way and use `styler models import`"
    )


def _reason_text(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


class Meter:
    """Calls ``progress`` at most every PROGRESS_INTERVAL_S, and always at the end."""

    def __init__(self, progress: ProgressFn | None) -> None:
        self.progress = progress
        self.total: int | None = None
        self._t0 = time.monotonic()
        self._base = 0
        self._last = 0.0

    def start(self, have: int, total: int | None) -> None:
        self.total = total
        self._t0 = time.monotonic()
        self._base = have
        self.update(have, force=True)

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress and (force or now - self._last >= PROGRESS_INTERVAL_S):
            self._last = now
            rate = (done - self._base) / max(now - self._t0, 1e-6)
            self.progress(done, self.total, rate)

    def finish(self, done: int) -> None:
        self.update(done, force=True)
