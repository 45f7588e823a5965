"""The dashboard's HTTP server: the page's assets, and ``/api/*`` forwarded to the control-plane API.

The browser only ever talks to this server. Each ``/api/*`` request is sent on by
``ApiClient.forward``, signed with SigV4 with the user's own credentials exactly as every CLI command
signs; no key, token or signature goes back to the browser. Because this server acts with those
credentials, it refuses:

- a ``Host`` that is not this server's loopback address and port: a page of another site whose name
  an attacker makes resolve to 127.0.0.1 (DNS rebinding) would otherwise be same-origin with it;
- an ``/api`` request that the browser says comes from another site (``Sec-Fetch-Site``);
- a POST without this run's token in ``X-Promoter-Token`` (the page carries it in a ``<meta>``; another
  origin cannot read the page, and a custom header cannot be sent cross-origin without a CORS
  preflight, which this server never grants), or with an ``Origin`` that is not its own (CSRF);
- anything beyond reads and the five signals of a promotion: it is no general signing service.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from ..client import ApiClient, ConnectionFailed
from . import DEFAULT_PORT

LOOPBACK = "127.0.0.1"  # the only address it listens on
TOKEN_HEADER = "X-Promoter-Token"
TOKEN_PLACEHOLDER = "__PROMOTER_TOKEN__"  # in static/index.html, replaced per run
MAX_BODY = 64 * 1024  # a signal's body is a reason of at most 1,000 characters
SIGNALS = ("abort", "pause", "resume", "approve", "promote-now")
READABLE = ("promotions", "pipelines", "functions", "schedules")  # GET /api/<one of these>...
SEGMENT = r"[A-Za-z0-9_.:%~-]+"
READ_PATH = re.compile(rf"^/api/(?:{'|'.join(READABLE)})(?:/{SEGMENT})*$")
SIGNAL_PATH = re.compile(rf"^/api/promotions/{SEGMENT}/(?:{'|'.join(SIGNALS)})$")


def forwardable(pattern: re.Pattern[str], path: str) -> bool:
    """``path`` fits ``pattern`` and climbs nowhere (no ``.`` or ``..`` segment, even percent-encoded)."""
    segments = urllib.parse.unquote(path).split("/")
    return bool(pattern.match(path)) and not any(part in (".", "..") for part in segments)


CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# No inline script or style, nothing from another origin, never inside a frame (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def static_files() -> dict[str, bytes]:
    """The page's assets by name, read from the package (``pip install .`` ships them)."""
    folder = resources.files("promoter_cli.dashboard.static")
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.name.endswith(tuple(CONTENT_TYPES))}


class DashboardServer(ThreadingHTTPServer):
    """Serves the page and forwards ``/api/*`` through ``client``; ``port`` 0 takes a free one."""

    daemon_threads = True

    def __init__(self, client: ApiClient, port: int = DEFAULT_PORT, token: str | None = None) -> None:
        self.client = client
        self.token = token or secrets.token_urlsafe(32)
        self.assets = static_files()
        super().__init__((LOOPBACK, port), DashboardHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    def allowed_hosts(self) -> set[str]:
        return {f"{LOOPBACK}:{self.port}", f"localhost:{self.port}"}

    def allowed_origins(self) -> set[str]:
        return {f"http://{host}" for host in self.allowed_hosts()}

    def page(self) -> bytes:
        return self.assets["index.html"].replace(TOKEN_PLACEHOLDER.encode(), self.token.encode())


class DashboardHandler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "promoter-dashboard"
    sys_version = ""

    # --- answers ----------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _refuse(self, status: int, error: str, message: str, **details: Any) -> None:
        self._json(status, {"error": error, "message": message, **details})

    # --- checks -----------------------------------------------------------------------------------
    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        if host in self.server.allowed_hosts():
            return True
        self._refuse(
            403,
            "HostRefused",
            f"Host {host or '(none)'!r} is not this dashboard ({self.server.url}): refused, as a page of another "
            "site reaching 127.0.0.1 by its own name would be (DNS rebinding)",
            field="Host",
        )
        return False

    def _same_site(self) -> bool:
        """A browser says where a request comes from (Sec-Fetch-Site): another site's page gets no answer
        from /api, not even a read (its body could not be read across origins, but why serve it)."""
        site = self.headers.get("Sec-Fetch-Site")
        if site is None or site in ("same-origin", "none"):
            return True
        self._refuse(403, "CrossSiteRefused", f"a request from another site (Sec-Fetch-Site: {site}) is refused")
        return False

    def _post_allowed(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.allowed_origins():
            self._refuse(403, "OriginRefused", f"a POST from origin {origin!r} is refused (CSRF)", field="Origin")
            return False
        token = self.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            self._refuse(
                403,
                "TokenRefused",
                f"a POST needs this run's token in {TOKEN_HEADER} (the dashboard's page sends it); refused (CSRF)",
                field=TOKEN_HEADER,
            )
            return False
        return True

    # --- methods ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        path, _, query = self.path.partition("?")
        if path in ("/", "/index.html"):
            self._send(200, self.server.page(), CONTENT_TYPES[".html"])
        elif path.startswith("/static/"):
            self._asset(path.removeprefix("/static/"))
        elif forwardable(READ_PATH, path):
            if self._same_site():
                self._forward("GET", path, query, None)
        elif path.startswith("/api/"):
            self._refuse(404, "NotFound", f"the dashboard reads only /api/{{{','.join(READABLE)}}}/...", field="path")
        else:
            self._refuse(404, "NotFound", f"no page at {path}", field="path")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if not self._host_allowed() or not self._same_site() or not self._post_allowed():
            return
        path, _, query = self.path.partition("?")
        if not forwardable(SIGNAL_PATH, path):
            self._refuse(
                404,
                "NotFound",
                f"the dashboard sends only a promotion's signals: POST /api/promotions/ID/{{{','.join(SIGNALS)}}}",
                field="path",
            )
            return
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self._refuse(400, "InvalidRequest", f"Content-Length {declared!r} is not a number", field="Content-Length")
            return
        length = int(declared)
        if length > MAX_BODY:
            self._refuse(413, "BodyTooLarge", f"body over {MAX_BODY} bytes", field="body")
            return
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            self._refuse(400, "InvalidRequest", "the body is not JSON", field="body")
            return
        self._forward("POST", path, query, body)

    def _refuse_method(self) -> None:
        if self._host_allowed():
            self._refuse(405, "MethodNotAllowed", f"{self.command} is not served here", field="method")

    do_PUT = do_DELETE = do_PATCH = _refuse_method

    def _asset(self, name: str) -> None:
        data = self.server.assets.get(name) if name != "index.html" else None
        suffix = name[name.rfind(".") :] if "." in name else ""
        if data is None or suffix not in CONTENT_TYPES:
            self._refuse(404, "NotFound", f"no asset {name!r}", field="path")
            return
        self._send(200, data, CONTENT_TYPES[suffix])

    def _forward(self, method: str, path: str, query: str, body: Any) -> None:
        api_path = path.removeprefix("/api")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=False))
        try:
            answer = self.server.client.forward(method, api_path, query=params, body=body)
        except ConnectionFailed as error:
            self._refuse(502, "ApiUnreachable", str(error))
            return
        except Exception as error:  # e.g. credentials that can no longer be refreshed: say so, keep serving
            self._refuse(502, "ApiCallFailed", f"{type(error).__name__}: {error}")
            return
        self._json(answer.status, answer.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the terminal keeps the start-up lines; the page shows what went wrong
