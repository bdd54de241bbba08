"""Fetching one file: its mirrors in order, streamed to ``<dest>.part`` and resumed after
dropped connections, checked, then renamed into place.

One request is ``engine.models.transfer``; a web page instead of the file is
``engine.models.web_pages``; the size and digest check is ``engine.models.checksum``. Every
failure a user can meet is one ``StylerError`` line that says what happened and what to do;
a cancel raises ``Cancelled`` and keeps the ``.part`` so the next attempt resumes."""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import CancelCallback, StylerError
from engine.models.checksum import verify_download
from engine.models.registry import RemoteFile
from engine.models.transfer import Dropped, Meter, ProgressFn, transfer
from engine.models.web_pages import FollowPage

MAX_RESUMES = 5  # reconnections after a dropped connection within one call


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def fetch(
    remote: RemoteFile,
    dest: Path,
    progress: ProgressFn | None = None,
    cancel: CancelCallback | None = None,
) -> Path:
    """Download ``remote`` to ``dest`` (verified), trying its mirrors in order.

    An existing ``dest`` is reused when it passes the checks; an existing ``<dest>.part`` is
    resumed. Nothing lands at ``dest`` unless size and checksum (where known) match."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        try:
            verify_download(remote, dest)
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
        verify_download(remote, part_path(dest))
        os.replace(part_path(dest), dest)
        return dest
    if len(errors) == 1:
        raise errors[0]
    raise StylerError(f"{remote.name}: every mirror failed; last: {errors[-1]}")


def _download(url: str, remote: RemoteFile, part: Path, progress: ProgressFn | None, cancel: CancelCallback | None) -> None:
    resumes = 0
    pages_followed = 0
    meter = Meter(progress)
    while True:
        try:
            transfer(url, remote, part, meter, cancel)
            return
        except Dropped:
            resumes += 1
            if resumes > MAX_RESUMES:
                raise StylerError(
                    f"{url}: the connection kept dropping ({resumes} times); the partial file is "
                    "kept: run the same command again to resume"
                ) from None
        except FollowPage as page:
            pages_followed += 1
            if pages_followed > 2:
                raise StylerError(f"{url}: the server keeps answering with web pages instead of the file") from None
            part.unlink(missing_ok=True)
            url = page.url
