"""A hostile server on 127.0.0.1: a proxy in front of a fake service (or of nothing) that
drips, redirects, poisons or inflates its answers.

Written on raw sockets, not on ``fake_http.py``'s ``BaseHTTPRequestHandler``: dripping the
status line a byte at a time, or sending a body larger than it says, needs the bytes.

    HostileProxy(upstream)     forwards every request to ``upstream`` (a base URL) unless
                               a fault is set; ``requests`` logs what arrived
    .drip(interval)            sends the whole answer, status line included, a byte per
                               ``interval`` seconds
    .redirect(location)        answers 302 to ``location`` ("{self}" is the proxy's own
                               URL, so "{self}/loop" redirects to itself forever)
    .poison(edit)              forwards, then sends ``edit(body)`` instead of the body
    .serve(body, headers)      answers 200 with ``body`` itself (an HTML page, a bomb)
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Arrival:
    """One request as the proxy read it."""

    method: str
    target: str
    headers: dict[str, str]
    """By lower-case name."""


def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` zero bytes, gzipped: about a thousandth of that on the wire."""
    return gzip.compress(b"\0" * inflated, compresslevel=9)


class HostileProxy:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.requests: list[Arrival] = []
        self._drip: float | None = None
        self._location: str | None = None
        self._edit: Callable[[bytes], bytes] | None = None
        self._body: tuple[bytes, dict[str, str]] | None = None
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults ----------------------------------------------------------------------------

    def drip(self, interval: float | None) -> None:
        self._drip = interval

    def redirect(self, location: str | None) -> None:
        self._location = location

    def poison(self, edit: Callable[[bytes], bytes] | None) -> None:
        self._edit = edit

    def serve(self, body: bytes | None, headers: dict[str, str] | None = None) -> None:
        self._body = None if body is None else (body, headers or {})

    def heal(self) -> None:
        self._drip = self._location = self._edit = self._body = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------

    def answer(self, arrival: Arrival, body: bytes) -> bytes:
        """The bytes to send back for one request."""
        self.requests.append(arrival)
        if self._location is not None:
            location = self._location.replace("{self}", self.url)
            return _message(302, b"", {"Location": location})
        if self._body is not None:
            content, headers = self._body
            return _message(200, content, {"Content-Type": "text/html", **headers})
        status, content, headers = self._forward(arrival, body)
        if self._edit is not None:
            content = self._edit(content)
        return _message(status, content, headers)

    def _forward(self, arrival: Arrival, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        if self.upstream is None:
            return 404, b"no upstream", {}
        parts = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            headers = {k: v for k, v in arrival.headers.items() if k not in ("host",)}
            headers["accept-encoding"] = "identity"
            conn.request(arrival.method, parts.path + arrival.target, body or None, headers)
            response = conn.getresponse()
            keep = ("content-type", "retry-after")
            return (
                response.status,
                response.read(),
                {k: v for k, v in response.getheaders() if k.lower() in keep},
            )
        finally:
            conn.close()

    def send(self, sock: socket.socket, data: bytes) -> None:
        interval = self._drip
        if interval is None:
            sock.sendall(data)
            return
        for i in range(len(data)):
            if self._stopping.wait(interval):
                return
            sock.sendall(data[i : i + 1])


def _message(status: int, body: bytes, headers: dict[str, str]) -> bytes:
    reason = http.client.responses.get(status, "Whatever")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: HostileProxy


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        request_line = self.rfile.readline(65536).decode("latin-1").strip()
        if not request_line:
            return
        method, target, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := self.rfile.readline(65536).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length", "0") or 0))
        proxy = self.server.proxy
        data = proxy.answer(Arrival(method, target, headers), body)
        with contextlib.suppress(OSError):  # the client gave up on a drip: that is the point
            proxy.send(self.connection, data)
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 1
            self.connection.settimeout(0.2)
            while time.monotonic() < deadline and self.connection.recv(4096):
                pass


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


__all__ = ["Arrival", "HostileProxy", "closed_port", "gzip_bomb"]
