"""Real HTTP servers on loopback for the remote backend's tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from django.core.handlers.wsgi import WSGIHandler


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def django_server() -> Iterator[str]:
    """This project's WSGI application (the recognition routes need no database) on a free port."""
    server = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    with _serving(server) as url:
        yield url


@contextmanager
def _serving(server: Any) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Script:
    """What a stub server answers: `responses` are consumed per request; then it proxies to `upstream`."""

    def __init__(self, responses: list[tuple[int, bytes] | float] | None = None, upstream: str = "") -> None:
        self.responses = list(responses or [])
        self.upstream = upstream
        self.hits: list[tuple[str, float, dict[str, str]]] = []
        self.lock = threading.Lock()


@contextmanager
def stub_server(script: Script) -> Iterator[str]:
    """A server that answers from `script`: (status, body) pairs, or a float = sleep that long first."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with script.lock:
                script.hits.append((self.path, time.monotonic(), dict(self.headers)))
                planned = script.responses.pop(0) if script.responses else None
            if isinstance(planned, float):
                time.sleep(planned)
                planned = None
            if planned is None:
                upstream = requests.request(self.command, script.upstream + self.path, data=body,
                                            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                                            timeout=60)
                planned = (upstream.status_code, upstream.content)
            status, content = planned
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        do_GET = do_POST = _handle  # noqa: N815 - http.server's method names

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with _serving(server) as url:
        yield url


def free_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


Sleeper = Callable[[float], None]
