"""Fake upstreams over real local HTTP: a tiny threaded server whose routes are Python functions.

    with FakeServer() as srv:
        @srv.route("GET", "/api/status")
        def status(req):
            return 200, {"ok": True}
        requests.get(srv.url + "/api/status")
        assert srv.calls[0].path == "/api/status"

A handler gets a ``Call`` and returns ``(status, body)`` or ``(status, body, headers)``; a dict or list body is
sent as JSON, str as text/plain, bytes as application/octet-stream. Unknown routes answer 404. Every request
is recorded in ``srv.calls`` (method, path, query, headers, body).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    raw_path: str
    query: dict
    headers: dict
    body: bytes = b""
    cookies: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class FakeServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[tuple[str, str], callable] = {}
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms
            # to every keep-alive answer
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                cookies = {}
                for item in (self.headers.get("Cookie") or "").split(";"):
                    if "=" in item:
                        k, v = item.strip().split("=", 1)
                        cookies[k] = v
                call = Call(
                    method=self.command,
                    path=parts.path,
                    raw_path=self.path,
                    query={k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    cookies=cookies,
                )
                with server.lock:
                    server.calls.append(call)
                handler = server.routes.get((self.command, parts.path)) or server.routes.get(("*", parts.path))
                if handler is None:
                    result = (404, {"detail": "Not found."})
                else:
                    try:
                        result = handler(call)
                    except Exception as exc:  # a bug in a fake should show up, not hang the client
                        result = (500, {"detail": f"fake error: {exc!r}"})
                status, payload = result[0], result[1]
                headers = dict(result[2]) if len(result) > 2 else {}
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json")
                elif isinstance(payload, str):
                    data = payload.encode()
                    headers.setdefault("Content-Type", "text/plain; charset=utf-8")
                elif payload is None:
                    data = b""
                else:
                    data = bytes(payload)
                    headers.setdefault("Content-Type", "application/octet-stream")
                self.send_response(status)
                for k, v in headers.items():
                    if isinstance(v, list):
                        for item in v:
                            self.send_header(k, item)
                    else:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def route(self, method: str, path: str):
        def register(fn):
            self.routes[(method.upper(), path)] = fn
            return fn

        return register

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path]

    def start(self) -> "FakeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
