"""HTTP client for the lambda-promoter API: every call SigV4-signed (service ``execute-api``).

Uses only the standard library and botocore's signer. Errors come back as ``ApiError`` (the API
answered with an error body) or ``ConnectionFailed`` (nothing answered at the endpoint).
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .aws import Credentials

USER_AGENT = "lambda-promoter-cli/0.1"
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class ApiError(Exception):
    """The API answered with a 4xx or 5xx. ``body`` is its JSON error body when it sent one."""

    status: int
    method: str
    url: str
    body: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("error") or self.text.strip() or "no message")

    @property
    def field_name(self) -> str | None:
        value = self.body.get("field")
        return str(value) if value else None

    def details(self) -> dict[str, Any]:
        """What else the error body says (current status, active promotion, ...)."""
        return {k: v for k, v in self.body.items() if k not in {"error", "message", "field"}}

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status}: {self.message}"


@dataclass
class ConnectionFailed(Exception):
    url: str
    reason: str

    def __str__(self) -> str:
        return f"cannot reach the API at {self.url}: {self.reason}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


def region_of(url: str, fallback: str | None) -> str:
    """The API's region: from an execute-api host name, else the configured one, else us-east-1."""
    match = _REGION_IN_HOST.search(urllib.parse.urlsplit(url).netloc)
    return match.group(1) if match else (fallback or "us-east-1")


def is_loopback(url: str) -> bool:
    return (urllib.parse.urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def sign(
    method: str, url: str, headers: dict[str, str], body: bytes | None, credentials: Credentials, region: str
) -> dict[str, str]:
    """Headers with a SigV4 ``Authorization`` for API Gateway (service ``execute-api``)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    creds = ReadOnlyCredentials(credentials.access_key, credentials.secret_key, credentials.token)
    SigV4Auth(creds, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


class ApiClient:
    """Calls ``base_url`` + path. ``credentials`` None sends unsigned requests (the sandbox only)."""

    def __init__(
        self, base_url: str, *, credentials: Credentials | None, region: str, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.region = region
        self.timeout = timeout

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        url = self.base_url + "/" + path.lstrip("/")
        params = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = self.url(path, query)
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        if self.credentials is not None:
            sent = sign(method, url, sent, data, self.credentials, self.region)
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as raw:  # noqa: S310 - http(s) only
                return Response(raw.status, dict(raw.headers.items()), _decode(raw.read()))
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", errors="replace")
            decoded = _decode(text.encode())
            raise ApiError(
                error.code, method, url, decoded if isinstance(decoded, dict) else {}, text
            ) from None
        except urllib.error.URLError as error:
            raise ConnectionFailed(self.base_url, _reason(error.reason)) from None
        except (TimeoutError, socket.timeout) as error:  # noqa: UP041 - both names on purpose
            raise ConnectionFailed(self.base_url, f"no answer within {self.timeout:g}s ({error})") from None
        except (ConnectionError, http_client_errors()) as error:
            raise ConnectionFailed(self.base_url, _reason(error)) from None

    # --- the API's resources -------------------------------------------------------------------
    def start(self, body: dict[str, Any], idempotency_key: str | None = None) -> Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/promotions", body=body, headers=headers)

    def list(self, **filters: Any) -> Any:
        return self.request("GET", "/promotions", query=filters).body

    def get(self, promotion_id: str) -> dict[str, Any]:
        return self.request("GET", f"/promotions/{urllib.parse.quote(promotion_id, safe='')}").body

    def signal(self, promotion_id: str, action: str, reason: str | None = None) -> Any:
        body = {"reason": reason} if reason else None
        path = f"/promotions/{urllib.parse.quote(promotion_id, safe='')}/{action}"
        return self.request("POST", path, body=body).body

    def inventory(self, function: str) -> Any:
        return self.request("GET", f"/functions/{urllib.parse.quote(function, safe='')}/aliases").body

    def create_schedule(self, body: dict[str, Any]) -> Any:
        return self.request("POST", "/schedules", body=body).body

    def list_schedules(self) -> Any:
        return self.request("GET", "/schedules").body

    def get_schedule(self, schedule_id: str) -> Any:
        return self.request("GET", f"/schedules/{urllib.parse.quote(schedule_id, safe='')}").body

    def delete_schedule(self, schedule_id: str) -> Any:
        return self.request("DELETE", f"/schedules/{urllib.parse.quote(schedule_id, safe='')}").body


def http_client_errors() -> type[Exception]:
    import http.client

    return http.client.HTTPException


def _reason(reason: Any) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running, and is the port right?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror or reason})"
    return str(getattr(reason, "strerror", None) or reason)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")
