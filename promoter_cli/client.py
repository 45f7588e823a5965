"""HTTP client for the lambda-promoter API: every call SigV4-signed (service ``execute-api``).

Uses only the standard library and botocore's signer. Errors come back as ``ApiError`` (the API
answered with an error body) or ``ConnectionFailed`` (nothing answered at the endpoint). Throttling
(429) and server errors (500, 502, 503, 504) are retried with capped exponential backoff and full
jitter, as the AWS SDKs do; a POST that starts something carries an ``Idempotency-Key`` (one is made
when the caller gives none), so its retry cannot start a second promotion.
"""

from __future__ import annotations

import json
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .aws import Credentials, CredentialSource

USER_AGENT = f"lambda-promoter-cli/{__version__}"
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_ATTEMPTS = 5
BACKOFF_BASE = 0.5  # seconds; attempt n waits up to BACKOFF_BASE * 2**n, never more than BACKOFF_CAP
BACKOFF_CAP = 20.0

Body = dict[str, Any]


@dataclass
class ApiError(Exception):
    """The API answered with a 4xx or 5xx. ``body`` is its JSON error body when it sent one."""

    status: int
    method: str
    url: str
    body: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    attempts: int = 1
    retry_after: str | None = None

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


def backoff(attempt: int, retry_after: str | None = None) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): the server's Retry-After if it sent one
    (capped), else full jitter over a doubling window."""
    if retry_after and retry_after.strip().isdigit():
        return min(BACKOFF_CAP, float(retry_after.strip()))
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311 - not crypto


def _quoted(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class ApiClient:
    """Calls ``base_url`` + path. ``credentials`` None sends unsigned requests (the sandbox only).

    ``credentials`` is read before every call (``get_frozen_credentials()``), so keys that botocore
    refreshes are picked up as they change.
    """

    def __init__(
        self,
        base_url: str,
        *,
        credentials: CredentialSource | None,
        region: str,
        timeout: float = 30.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.region = region
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.sleep = sleep

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
        attempt = 1
        while True:
            try:
                return self._send(method, path, query, body, headers)
            except ApiError as error:
                error.attempts = attempt
                if error.status not in RETRIED_STATUSES or attempt >= self.max_attempts:
                    raise
                self.sleep(backoff(attempt, error.retry_after))
                attempt += 1

    def _send(
        self, method: str, path: str, query: dict[str, Any] | None, body: Any, headers: dict[str, str] | None
    ) -> Response:
        url = self.url(path, query)
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        if self.credentials is not None:  # signed anew each attempt: fresh date, fresh keys
            frozen = self.credentials.get_frozen_credentials()
            keys = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
            sent = sign(method, url, sent, data, keys, self.region)
        request = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as raw:  # noqa: S310 - http(s) only
                return Response(raw.status, dict(raw.headers.items()), _decode(raw.read()))
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", errors="replace")
            decoded = _decode(text.encode())
            retry_after = error.headers.get("Retry-After") if error.headers else None
            body_dict = decoded if isinstance(decoded, dict) else {}
            raise ApiError(error.code, method, url, body_dict, text, retry_after=retry_after) from None
        except urllib.error.URLError as error:
            raise ConnectionFailed(self.base_url, _reason(error.reason)) from None
        except (TimeoutError, socket.timeout) as error:  # noqa: UP041 - both names on purpose
            raise ConnectionFailed(self.base_url, f"no answer within {self.timeout:g}s ({error})") from None
        except (ConnectionError, http_client_errors()) as error:
            raise ConnectionFailed(self.base_url, _reason(error)) from None

    def forward(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Response:
        """Any call, signed and retried as the others are, with the API's error answer returned rather
        than raised: the dashboard's proxy (promoter_cli/dashboard) hands it to the browser as it came.
        A POST carries a fresh Idempotency-Key, kept across its retries."""
        headers = _idempotent(None) if method == "POST" else None
        try:
            return self.request(method, path, query=query, body=body, headers=headers)
        except ApiError as error:
            return Response(error.status, {}, error.body or {"message": error.message})

    # --- promotions -------------------------------------------------------------------------------
    def start(self, body: Body, idempotency_key: str | None = None) -> Response:
        """POST /promotions (202, with a Location)."""
        return self.request("POST", "/promotions", body=body, headers=_idempotent(idempotency_key))

    def list(self, **filters: Any) -> Body:
        return self.request("GET", "/promotions", query=filters).body

    def get(self, promotion_id: str) -> Body:
        return self.request("GET", f"/promotions/{_quoted(promotion_id)}").body

    def signal(self, promotion_id: str, action: str, reason: str | None = None) -> Any:
        body = {"reason": reason} if reason else None
        return self.request("POST", f"/promotions/{_quoted(promotion_id)}/{action}", body=body).body

    def inventory(self, function: str) -> Body:
        return self.request("GET", f"/functions/{_quoted(function)}/aliases").body

    # --- schedules --------------------------------------------------------------------------------
    def create_schedule(self, body: Body) -> Body:
        return self.request("POST", "/schedules", body=body, headers=_idempotent(None)).body

    def list_schedules(self) -> Body:
        return self.request("GET", "/schedules").body

    def get_schedule(self, schedule_id: str) -> Body:
        return self.request("GET", f"/schedules/{_quoted(schedule_id)}").body

    def delete_schedule(self, schedule_id: str) -> Body:
        return self.request("DELETE", f"/schedules/{_quoted(schedule_id)}").body

    # --- pipelines --------------------------------------------------------------------------------
    def put_pipeline(self, name: str, body: Body) -> Body:
        return self.request("PUT", f"/pipelines/{_quoted(name)}", body=body).body

    def get_pipeline(self, name: str) -> Body:
        return self.request("GET", f"/pipelines/{_quoted(name)}").body

    def list_pipelines(self) -> Body:
        return self.request("GET", "/pipelines").body

    def delete_pipeline(self, name: str) -> Body:
        return self.request("DELETE", f"/pipelines/{_quoted(name)}").body

    def promote_pipeline(self, name: str, body: Body, idempotency_key: str | None = None) -> Response:
        """POST /pipelines/{name}/promote (202): the next environment gets what the one before runs."""
        path = f"/pipelines/{_quoted(name)}/promote"
        return self.request("POST", path, body=body, headers=_idempotent(idempotency_key))


def _idempotent(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key or f"promoter-cli-{uuid.uuid4()}"}


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
