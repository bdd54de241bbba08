"""A web page where a model file should be: a quota page, a login or error page, or Google
Drive's virus-scan warning, whose confirm form links to the real file.

Model files are never HTML, so a page is either followed (the confirm link, only to the same
server or Google's download hosts) or turned into one ``StylerError`` line saying why."""

from __future__ import annotations

import http.client
import urllib.error
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from engine.errors import StylerError

HTML_SNIFF_BYTES = 1_000_000


class FollowPage(Exception):
    """An interstitial page (Google Drive's virus-scan warning) links to the real file."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def check_not_html(url: str, response: http.client.HTTPResponse, have: int) -> None:
    """Model files are never web pages; a page means quota, login, or a warning to click.

    Raises ``FollowPage`` with the confirm link, or ``StylerError``; returns for a file."""
    content_type = (response.headers.get("Content-Type") or "").lower()
    if have and "text/html" not in content_type:
        return
    head = response.peek(512)[:512] if hasattr(response, "peek") else b""
    looks_html = head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if "text/html" not in content_type and not looks_html:
        return
    text = read_text(response)
    if is_quota_page(text):
        raise quota_error(url)
    follow = _confirm_link(text, response.geturl() or url)
    if follow:
        raise FollowPage(follow)
    raise StylerError(
        f"{url}: the server sent a web page instead of the file (a login, quota or error page); "
        "open the address in a browser to see why, or download the file there and use "
        "`styler models import`"
    )


def read_text(response: http.client.HTTPResponse | urllib.error.HTTPError) -> str:
    return response.read(HTML_SNIFF_BYTES).decode("utf-8", "replace")


def is_quota_page(text: str) -> bool:
    lowered = text.lower()
    return "too many users have viewed or downloaded" in lowered or "quota exceeded" in lowered


def quota_error(url: str) -> StylerError:
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
