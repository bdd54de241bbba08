"""A small HTTP server on 127.0.0.1 for download tests: Range requests, dropped
connections, slow bodies, HTML pages instead of files, and error statuses.

    with LocalServer() as server:
        server.add("/model.bin", Route(body=b"..."))
        url = server.url("/model.bin")
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUOTA_PAGE = (
    b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>"
    b"<p>Sorry, you can't view or download this file at this time.</p><p>Too many users have "
    b"viewed or downloaded this file recently. Please try accessing the file again later.</p>"
    b"</body></html>"
)


def virus_scan_page(action: str, file_id: str) -> bytes:
    """The shape of Google Drive's "can't scan this file for viruses" interstitial."""
    return (
        "<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>"
        "<p>Google Drive can't scan this file for viruses.</p>"
        f'<form id="download-form" action="{action}" method="get">'
        '<input type="submit" value="Download anyway"/>'
        f'<input type="hidden" name="id" value="{file_id}">'
        '<input type="hidden" name="export" value="download">'
        '<input type="hidden" name="confirm" value="t">'
        '<input type="hidden" name="uuid" value="0b0e6d1c">'
        "</form></body></html>"
    ).encode()


PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def clear_proxy_env(monkeypatch) -> None:
    """Requests to 127.0.0.1 must not be sent to a proxy the test machine happens to have."""
    for var in PROXY_VARIABLES:
        monkeypatch.delenv(var, raising=False)


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    ranges: bool = True  # honour "Range: bytes=N-"
    drop_after: int | None = None  # close the connection after this many body bytes…
    drops: int = 1  # …on this many requests, then serve normally
    chunk_delay_s: float = 0.0  # slow mode: pause between chunks
    chunk_size: int = 16 * 1024
    hits: int = 0


@dataclass
class Request:
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(Request(self.path, dict(self.headers.items())))
                    route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                    if route is not None:
                        route.hits += 1
                        drop = route.drop_after is not None and route.drops > 0
                        if drop:
                            route.drops -= 1
                if route is None:
                    self._simple(404, b"not found")
                elif route.status != 200:
                    self._simple(route.status, route.body or b"error", route.content_type)
                else:
                    self._serve(route, drop)

            def _simple(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _serve(self, route: Route, drop: bool) -> None:
                body, start = route.body, 0
                range_header = self.headers.get("Range")
                if range_header and route.ranges and range_header.startswith("bytes="):
                    start = int(range_header[6:].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes" if route.ranges else "none")
                self.end_headers()
                payload = body[start:]
                limit = route.drop_after if drop else len(payload)
                sent = 0
                try:
                    while sent < min(limit, len(payload)):
                        chunk = payload[sent:min(sent + route.chunk_size, limit)]
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        sent += len(chunk)
                        if route.chunk_delay_s:
                            time.sleep(route.chunk_delay_s)
                    if drop:
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client cancelled

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes shutdown (once per test) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
