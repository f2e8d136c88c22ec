"""A local HTTP server speaking documented REST shapes, for the live collectors' tests (no internet).

`FakeServer(routes)` serves `{(METHOD, path): handler}` on 127.0.0.1, where a handler is a JSON-able
body, or a callable `(query, body) -> (status, body, headers)`. Every request is recorded in `requests`
as (method, path, query), so a test can assert what reached the server and what did not.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeServer:
    def __init__(self, routes: dict):
        self.routes = routes
        self.requests: list = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append((self.command, url.path, query))
                handler = fake.routes.get((self.command, url.path))
                status, payload, headers = 404, {"error": {"code": 404, "message": "not found"}}, {}
                if callable(handler):
                    status, payload, headers = handler(query, body)
                elif handler is not None:
                    status, payload = 200, handler
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def rules_by_file(report: str) -> set:
    """(rule, file name) of every finding of a JSON report."""
    return {(f["rule"], f["file"].rsplit("/", 1)[-1]) for f in json.loads(report)["findings"]}

