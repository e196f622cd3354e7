"""What the project's fake web services share: a real HTTP server on 127.0.0.1:0.

``tests/fake_arxiv.py`` and ``tests/fake_scholarly.py`` subclass ``FakeHTTPService`` and keep
only what is their own: routing, rendering answers, the shape of their request log and the
faults peculiar to their service. This module owns the rest:

* the lifecycle: ``start()`` on a free port in a daemon thread, ``stop()`` that cuts open
  connections, wakes hung handlers and joins every thread, the context manager;
* the request log (``requests``, ``clear_log``) and ``errors``, the tracebacks of handler bugs;
* the faults every service has: ``fail_next`` (with ``Retry-After``), ``hang_next``,
  ``truncate_next`` and ``clear_faults``.

A subclass implements ``_respond(request) -> Answer``, which decides the whole answer under
``_lock`` and logs it, and ``_error_answer(status)``, the body its service sends with an
injected failure.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

RecordT = TypeVar("RecordT")
"""What a service logs per request (its own ``RecordedRequest``)."""


@dataclass(frozen=True)
class Request:
    """One HTTP request as the handler read it."""

    method: str
    """``GET`` or ``POST``."""
    target: str
    """The request target as sent: the path and the query string."""
    path: str
    """The URL path."""
    params: dict[str, str]
    """Query-string parameters (the last value of a repeated one), URL-decoded."""
    headers: dict[str, str]
    """Headers by lower-case name, since names are case-blind."""
    content_type: str
    """The ``Content-Type`` media type in lower case, without parameters (``text/plain``
    when missing)."""
    body: bytes
    """The body of a POST (``Content-Length`` bytes); empty for a GET."""
    arrival: float
    """``time.monotonic()`` when the request arrived."""


@dataclass
class Answer:
    """What to send back, decided on arrival."""

    status: int | None
    """The HTTP status; None resets the connection (TCP RST) without an answer."""
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra headers, e.g. ``Retry-After``."""
    delay: float = 0.0
    """Seconds to wait before answering; ``stop()`` cuts the wait short."""


def parse_params(query: str) -> dict[str, str]:
    """``a=1&b=2`` -> ``{"a": "1", "b": "2"}``, the last value of a repeated name winning."""
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


class FakeHTTPService(Generic[RecordT]):
    """Lifecycle, request log and shared faults of a fake service. Thread-safe; use as a
    context manager or start()/stop()."""

    label: ClassVar[str] = "fake"
    """Names the serving thread (``label:port``), so a leaked one says whose it is."""
    server_header: ClassVar[str] = "fake/1.0"
    """The ``Server`` header of every answer."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        """Tracebacks of unexpected exceptions in request handlers: a bug in the fake."""
        # Reentrant so that a subclass may call its own locking helpers while deciding.
        self._lock = threading.RLock()
        self._log: list[RecordT] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        """The last port served; kept after stop() so the URL can point at a closed port."""
        self._handler_threads: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        self._reset_faults()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server, self._port = server, server.server_address[1]
        # A short poll interval keeps stop() fast: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.label}:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, wake hung handlers and join every thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
            handlers = list(self._handler_threads)
        for conn in connections:
            # Unblocks a handler stuck reading from or writing to a client that went quiet.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for handler in handlers:
            handler.join(timeout=5)
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- request log

    @property
    def requests(self) -> list[RecordT]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._log.clear()

    # ----------------------------------------------------------------- faults

    def fail_next(self, n: int, status: int = 503, retry_after: int | str | None = None) -> None:
        """Answer the next ``n`` requests with ``status``.

        ``retry_after`` sets a ``Retry-After`` header: seconds (int) or an HTTP date (str).
        """
        header = None if retry_after is None else str(retry_after)
        with self._lock:
            self._fails.extend([(status, header)] * n)

    def hang_next(self, n: int, seconds: float) -> None:
        """Wait ``seconds`` before answering the next ``n`` requests (stop() wakes them)."""
        with self._lock:
            self._hangs.extend([seconds] * n)

    def truncate_next(self, n: int) -> None:
        """Cut the next ``n`` 200 answers in half, so their bodies are malformed."""
        with self._lock:
            self._truncate_next += n

    def clear_faults(self) -> None:
        """Remove every injected fault (and a service's own settings such as latency)."""
        with self._lock:
            self._reset_faults()

    def _reset_faults(self) -> None:
        """No fault pending; a subclass with faults of its own extends this."""
        self._fails: deque[tuple[int, str | None]] = deque()
        self._hangs: deque[float] = deque()
        self._truncate_next = 0

    def _injected_failure(self) -> Answer | None:
        """The next ``fail_next`` answer, with its ``Retry-After``; None when none is due.
        Call with the lock held."""
        if not self._fails:
            return None
        status, retry_after = self._fails.popleft()
        answer = self._error_answer(status)
        if retry_after is not None:
            answer.headers["Retry-After"] = retry_after
        return answer

    # ----------------------------------------------------------------- for subclasses

    def _respond(self, request: Request) -> Answer:
        """Decide the whole answer on arrival, under the lock, and log it before it is sent
        (so a test that has its response already sees the log entry)."""
        raise NotImplementedError

    def _error_answer(self, status: int) -> Answer:
        """The answer this service gives with an error ``status`` it was told to fail with."""
        raise NotImplementedError


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    fake: FakeHTTPService[Any]
    daemon_threads = True
    # The default backlog of 5 drops bursts of concurrent connects (the client retries a SYN
    # only after a second), which would make concurrency tests slow for no reason.
    request_queue_size = 128

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Tracked so stop() can join every handler instead of leaving them to the interpreter.
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self.fake._lock:
            self.fake._handler_threads.add(thread)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.fake._lock:
                self.fake._handler_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or went away is normal here; anything else is a bug.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError) or self.fake._stopping.is_set():
            return
        with self.fake._lock:
            self.fake.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, so stop() never waits on an idle keep-alive.
    protocol_version = "HTTP/1.0"
    timeout = 10

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.fake._lock:
                self.server.fake._connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server.fake.server_header

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces stderr chatter

    def do_GET(self) -> None:
        self._answer("GET", b"")

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        self._answer("POST", self.rfile.read(int(length)) if length.isdigit() else b"")

    def _answer(self, method: str, body: bytes) -> None:
        fake = self.server.fake
        arrival = time.monotonic()
        if fake._stopping.is_set():
            return
        split = urlsplit(self.path)
        request = Request(
            method=method,
            target=self.path,
            path=split.path,
            params=parse_params(split.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            content_type=self.headers.get_content_type(),
            body=body,
            arrival=arrival,
        )
        answer = fake._respond(request)
        if answer.delay and fake._stopping.wait(answer.delay):
            return  # stopped while waiting: close without an answer
        if answer.status is None:
            self._reset_connection()
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        # A client that gave up meanwhile makes this raise; handle_error drops that quietly.
        self.wfile.write(answer.body)

    def _reset_connection(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.rfile.close()  # the socket really closes once its last file object does
