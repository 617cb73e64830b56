"""Registries that misbehave on purpose (401, 500, bearer auth in front of a real registry).

The real ``docker-registry`` cannot be asked to fail with a 500 or to demand a bearer token
without a token service; these small HTTP servers stand where it cannot.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


@contextmanager
def stub_registry(
    mode: str,
    upstream: str | None = None,
    user: str = "ci",
    password: str = "s3cret",
    referrers: dict[str, list[dict[str, object]]] | None = None,
) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Serve on 127.0.0.1: ``mode`` is ``401`` (always refuse), ``500``, ``bearer`` (token flow, then
    proxy GETs to ``upstream``), or ``referrers`` (proxy to ``upstream``, plus the OCI 1.1 referrers
    API that Debian's distribution 2.8 lacks, answering from ``referrers``: subject digest ->
    descriptors). Yields the host:port and the headers of every request seen."""
    seen: list[dict[str, str]] = []
    token = "tok-" + base64.b16encode(b"mlprov").decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k: v for k, v in self.headers.items()}})
            host = f"127.0.0.1:{self.server.server_address[1]}"
            if mode == "500":
                self._send(500, b'{"errors":[{"code":"UNKNOWN"}]}')
                return
            if mode == "referrers" and "/referrers/" in self.path:
                subject = self.path.rsplit("/referrers/", 1)[1].split("?")[0]
                index = {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": (referrers or {}).get(subject, []),
                }
                self._send(200, json.dumps(index).encode(), {"Content-Type": "application/vnd.oci.image.index.v1+json"})
                return
            if mode == "401":
                self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": 'Basic realm="registry"'})
                return
            if self.path.startswith("/token"):
                expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._send(401)
                    return
                self._send(200, json.dumps({"token": token}).encode())
                return
            if mode != "referrers" and self.headers.get("Authorization") != f"Bearer {token}":
                challenge = f'Bearer realm="http://{host}/token",service="stub",scope="repository:x:pull"'
                self._send(401, b"{}", {"WWW-Authenticate": challenge})
                return
            answer = requests.get(
                f"http://{upstream}{self.path}",
                timeout=10,
                headers={k: v for k, v in self.headers.items() if k.lower() == "accept"},
            )
            keep = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() in ("content-type", "docker-content-digest", "link")
            }
            self._send(answer.status_code, answer.content, keep)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
