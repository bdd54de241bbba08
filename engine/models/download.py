"""Fetching one file over HTTP(S): streamed to ``<dest>.part``, resumed with Range, checked,
then renamed into place.

Standard library only (urllib): it honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY and verifies TLS
certificates with the system's store; neither is ever switched off here. Every failure a user
can meet becomes one ``StylerError`` line that says what happened and what to do; a cancel
raises ``Cancelled`` and keeps the ``.part`` so the next attempt resumes."""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from engine import __version__
from engine.errors import Cancelled, StylerError
from engine.models.registry import RemoteFile, human_size

# bytes done, total bytes (None when the server does not say), bytes per second
ProgressFn = Callable[[int, "int | None", float], None]
CancelFn = Callable[[], bool]

CHUNK = 256 * 1024
TIMEOUT_S = 30.0
MAX_RESUMES = 5  # reconnections after a dropped connection within one call
PROGRESS_INTERVAL_S = 0.1
FREE_SPACE_MARGIN = 50_000_000  # keep some room for the converted model and the OS
HTML_SNIFF_BYTES = 1_000_000
USER_AGENT = f"styler/{__version__} (+urllib)"


class _Dropped(Exception):
    """The connection ended before the announced length arrived (resumable)."""


class _FollowPage(Exception):
    """An interstitial page (Google Drive's virus-scan warning) links to the real file."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    remote: RemoteFile,
    dest: Path,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Path:
    """Download ``remote`` to ``dest`` (verified), trying its mirrors in order.

    An existing ``dest`` is reused when it passes the checks; an existing ``<dest>.part`` is
    resumed. Nothing lands at ``dest`` unless size and checksum (where known) match."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        try:
            _verify(remote, dest)
            return dest
        except StylerError:
            dest.unlink()
    errors: list[StylerError] = []
    for url in remote.urls:
        try:
            _download(url, remote, part_path(dest), progress, cancel)
        except StylerError as exc:
            errors.append(exc)
            continue
        _verify(remote, part_path(dest))
        os.replace(part_path(dest), dest)
        return dest
    if len(errors) == 1:
        raise errors[0]
    raise StylerError(f"{remote.name}: every mirror failed; last: {errors[-1]}")


def _verify(remote: RemoteFile, path: Path) -> None:
    """Size and checksum; a file that fails is deleted (it can only be resumed wrongly)."""
    size = path.stat().st_size
    problem = None
    if remote.size is not None and size != remote.size:
        problem = f"is {size} bytes, expected {remote.size}"
    elif remote.sha256 or remote.sha256_prefix:
        actual = sha256_of(path)
        if remote.sha256 and actual != remote.sha256.lower():
            problem = f"has SHA-256 {actual}, expected {remote.sha256}"
        elif remote.sha256_prefix and not actual.startswith(remote.sha256_prefix.lower()):
            problem = f"has SHA-256 {actual}, expected one starting {remote.sha256_prefix}"
    if problem:
        path.unlink(missing_ok=True)
        raise StylerError(
            f"{remote.name}: downloaded file {problem}; it was damaged or replaced on the way "
            "(deleted, nothing installed): run the download again"
        )


def _download(url: str, remote: RemoteFile, part: Path, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
    resumes = 0
    pages_followed = 0
    meter = _Meter(progress)
    while True:
        try:
            _transfer(url, remote, part, meter, cancel)
            return
        except _Dropped:
            resumes += 1
            if resumes > MAX_RESUMES:
                raise StylerError(
                    f"{url}: the connection kept dropping ({resumes} times); the partial file is "
                    "kept: run the same command again to resume"
                ) from None
        except _FollowPage as page:
            pages_followed += 1
            if pages_followed > 2:
                raise StylerError(f"{url}: the server keeps answering with web pages instead of the file") from None
            part.unlink(missing_ok=True)
            url = page.url


def _transfer(url: str, remote: RemoteFile, part: Path, meter: _Meter, cancel: CancelFn | None) -> None:
    """One HTTP request: append to ``part`` from where it ends."""
    if cancel and cancel():
        raise Cancelled()
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
                raise _Dropped() from None
            if "text/html" in (exc.headers.get("Content-Type") or "") and _is_quota_page(_read_text(exc)):
                raise _quota_error(url) from None  # Drive sometimes sends its quota page as a 403
            raise _http_error(url, exc.code, exc.reason) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _network_error(url, exc) from None
    with response:
        status = response.status
        if have and status == 206:
            if _start_from_content_range(response.headers.get("Content-Range")) != have:
                part.unlink(missing_ok=True)  # not the bytes we asked for: start over
                raise _Dropped()
        elif status == 200:
            have = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else remote.size
        _check_not_html(url, response, have)
        _check_free_space(part.parent, (total or remote.approx_size) - have)
        meter.start(have, total)
        mode = "ab" if have else "wb"
        received = have
        try:
            with open(part, mode) as out:
                while True:
                    if cancel and cancel():
                        raise Cancelled()
                    try:
                        chunk = response.read(CHUNK)
                    except (TimeoutError, http.client.IncompleteRead, ConnectionError, ssl.SSLError) as exc:
                        out.flush()
                        if received > have:
                            raise _Dropped() from exc
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
            raise _Dropped()


def _check_not_html(url: str, response: http.client.HTTPResponse, have: int) -> None:
    """Model files are never web pages; a page means quota, login, or a warning to click."""
    content_type = (response.headers.get("Content-Type") or "").lower()
    if have and "text/html" not in content_type:
        return
    head = response.peek(512)[:512] if hasattr(response, "peek") else b""
    looks_html = head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if "text/html" not in content_type and not looks_html:
        return
    text = _read_text(response)
    if _is_quota_page(text):
        raise _quota_error(url)
    follow = _confirm_link(text, response.geturl() or url)
    if follow:
        raise _FollowPage(follow)
    raise StylerError(
        f"{url}: the server sent a web page instead of the file (a login, quota or error page); "
        "open the address in a browser to see why, or download the file there and use "
        "`styler models import`"
    )


def _read_text(response: http.client.HTTPResponse | urllib.error.HTTPError) -> str:
    return response.read(HTML_SNIFF_BYTES).decode("utf-8", "replace")


def _is_quota_page(text: str) -> bool:
    lowered = text.lower()
    return "too many users have viewed or downloaded" in lowered or "quota exceeded" in lowered


def _quota_error(url: str) -> StylerError:
    return StylerError(
        f"{url}: Google Drive refuses the download for now (too many downloads of this file "
        "today); try again tomorrow, or download it in a browser and use `styler models import`"
    )


class _FormParser(HTMLParser):
    """Forms (action + hidden inputs) and confirm links of an interstitial page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.links: list[str] = []
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
            self._in_form = True
        elif tag == "input" and self._in_form and a.get("type", "").lower() == "hidden" and a.get("name"):
            self.forms[-1][1][a["name"]] = a.get("value", "")
        elif tag == "a" and "confirm=" in a.get("href", ""):
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def _confirm_link(page: str, page_url: str) -> str | None:
    """Google Drive's "can't scan this file for viruses" page: a form that confirms the download."""
    parser = _FormParser()
    parser.feed(page)
    candidates = [urljoin(page_url, href) for href in parser.links]
    for action, fields in parser.forms:
        if "confirm" in fields:
            candidates.append(urljoin(page_url, action) + "?" + urlencode(fields))
    origin = urlsplit(page_url)
    for candidate in candidates:
        parts = urlsplit(candidate)
        # Only follow to the same server or Google's own download hosts, never elsewhere.
        trusted = parts.hostname == origin.hostname or (parts.hostname or "").endswith(
            (".google.com", ".googleusercontent.com")
        )
        if trusted and parts.scheme in ("https", origin.scheme):
            return candidate
    return None


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


class _Meter:
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
