"""API Gateway in front of the local API: who is calling (AWS_IAM), the 10 MB payload, the 29 s timeout.

``ApiGateway`` wraps the API's ASGI app (sandbox/server/serve.py serves it under uvicorn) and applies
what API Gateway applies to a REST API before and around its Lambda integration:

- **AWS_IAM authorization.** A request signed with Signature Version 4 by a sandbox IAM user or an
  ``sts:AssumeRole`` session (sandbox/aws/iam/identity.py) is verified as API Gateway verifies it: the
  signature is computed again with botocore's ``SigV4Auth`` from the request as received and the
  caller's secret key, and compared. A wrong signature is a 403 with API Gateway's body
  ``{"message": "The request signature we calculated does not match ..."}``; a session's request
  without its session token is a 403 "The security token included in the request is invalid.".
  A verified caller reaches the API as ``requestContext.identity`` (``userArn``, ``caller``,
  ``user``, ``accessKey``, ``accountId``), the fields API Gateway sets for IAM callers, so the
  API records the caller's ARN as the actor ("Control access to a REST API with IAM permissions",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html; the
  ``$context.identity.*`` variables, https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html;
  Signature V4, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).
- **Payload size.** A request body over 10 MB is refused with 413 ``{"message": "Request Too Long"}``
  (gateway response REQUEST_TOO_LARGE; "Amazon API Gateway quotas": payload size 10 MB,
  https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
- **Integration timeout.** An integration that has not answered after 29 s ends in 504
  ``{"message": "Endpoint request timed out"}`` (gateway response INTEGRATION_TIMEOUT; the same
  quotas page: integration timeout 50 ms - 29 s). As on AWS, the handler itself keeps running.

Differences, on purpose: unsigned requests, and requests signed with keys the sandbox does not know
(``testing``), are let through with no identity, so the actor stays ``local`` and casual use keeps
working (API Gateway would answer 403 "Missing Authentication Token" or "The security token
included in the request is invalid."). The caller's ``execute-api:Invoke`` permission is not
evaluated, nor is the signature's age (AWS refuses signatures older than 5 minutes).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from promoter.api.local import REQUEST_CONTEXT

from ..aws.iam.identity import Principal, principal_for_access_key

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST API payload quota: 10 MB
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default (and, for edge APIs, maximum) integration timeout
SIGV4 = "AWS4-HMAC-SHA256"
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
TOO_LARGE = "Request Too Long"
TIMED_OUT = "Endpoint request timed out"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class Refusal(Exception):
    """What API Gateway answers instead of calling the integration."""

    def __init__(self, status: int, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


# --- SigV4 ------------------------------------------------------------------------------------------
def _headers(scope: Scope) -> dict[str, str]:
    joined: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _authorization_parts(header: str) -> dict[str, str]:
    """``Credential=..., SignedHeaders=..., Signature=...`` of a SigV4 Authorization header."""
    parts = {}
    for piece in header[len(SIGV4) :].split(","):
        key, _, value = piece.strip().partition("=")
        parts[key] = value
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    if missing:
        message = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise Refusal(403, message, "IncompleteSignatureException")
    if len(parts["Credential"].split("/")) != 5:
        raise Refusal(403, "Credential should be scoped to a valid region.", "IncompleteSignatureException")
    return parts


def _expected_signature(
    scope: Scope, headers: dict[str, str], body: bytes, parts: dict[str, str], secret_key: str
) -> str:
    """The signature botocore computes for this request, as received, with the caller's secret key."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest, HTTPHeaders
    from botocore.credentials import ReadOnlyCredentials

    access_key, _date, region, service, _terminator = parts["Credential"].split("/")
    signed = [name.strip().lower() for name in parts["SignedHeaders"].split(";") if name.strip()]

    class Verifier(SigV4Auth):
        def headers_to_sign(self, request: Any) -> Any:  # exactly what the caller signed
            chosen = HTTPHeaders()
            for name in signed:
                chosen[name] = headers.get(name, "")
            return chosen

    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}{raw_path.decode('latin-1')}"
    request = AWSRequest(
        method=scope["method"],
        url=url + (f"?{query}" if query else ""),
        data=body,
        headers={name: headers.get(name, "") for name in signed},
    )
    request.context["timestamp"] = headers.get("x-amz-date", "")
    verifier = Verifier(ReadOnlyCredentials(access_key, secret_key, None), service, region)
    canonical = verifier.canonical_request(request)
    return verifier.signature(verifier.string_to_sign(request, canonical), request)


def _identity(principal: Principal, headers: dict[str, str], scope: Scope) -> dict[str, Any]:
    """``requestContext.identity`` as API Gateway fills it for an IAM-authorized caller."""
    client = scope.get("client") or ("", 0)
    return {
        "accessKey": principal.access_key_id,
        "accountId": principal.account_id,
        "caller": principal.user_id,
        "user": principal.user_id,
        "userArn": principal.arn,
        "sourceIp": client[0],
        "userAgent": headers.get("user-agent", ""),
    }


def authenticate(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """The request context of a verified caller; None for an unsigned request; Refusal if refused."""
    headers = _headers(scope)
    authorization = headers.get("authorization", "")
    if not authorization:
        return None
    if not authorization.startswith(SIGV4):
        raise Refusal(403, f"Authorization header requires '{SIGV4}' signing.", "IncompleteSignatureException")
    parts = _authorization_parts(authorization)
    principal = principal_for_access_key(parts["Credential"].split("/")[0])
    if principal.secret_access_key is None:  # a key the sandbox does not know: act as before (local)
        return None
    if "x-amz-date" not in headers:
        raise Refusal(
            403,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            "IncompleteSignatureException",
        )
    if principal.session_token is not None and headers.get("x-amz-security-token") != principal.session_token:
        raise Refusal(403, INVALID_TOKEN, "UnrecognizedClientException")
    expected = _expected_signature(scope, headers, body, parts, principal.secret_access_key)
    if not hmac.compare_digest(expected, parts["Signature"]):
        raise Refusal(403, SIGNATURE_MISMATCH, "InvalidSignatureException")
    return {"identity": _identity(principal, headers, scope)}


# --- the ASGI front -----------------------------------------------------------------------------------
async def _respond(send: Send, refusal: Refusal) -> None:
    headers = [(b"content-type", b"application/json")]
    if refusal.error_type:
        headers.append((b"x-amzn-errortype", refusal.error_type.encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"message": refusal.message}).encode()})


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole body, or (what fits, True) once it passes ``limit`` (the rest is drained, not kept)."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message.get("type") == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), size > limit


class ApiGateway:
    """ASGI middleware: authenticate, bound the payload, bound the integration's time."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        max_payload: int = MAX_PAYLOAD_BYTES,
    ) -> None:
        self.app = app
        self.integration_timeout = integration_timeout
        self.max_payload = max_payload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        body, too_large = await _read_body(receive, self.max_payload)
        if too_large:
            await _respond(send, Refusal(413, TOO_LARGE))
            return
        try:
            context = await asyncio.to_thread(authenticate, scope, body)  # moto's backends: off the loop
        except Refusal as refusal:
            await _respond(send, refusal)
            return
        inner = dict(scope)
        inner.pop(REQUEST_CONTEXT, None)  # never from the outside
        if context is not None:
            inner[REQUEST_CONTEXT] = context
        await self._integrate(inner, body, receive, send)

    async def _integrate(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        state = {"started": False, "timed_out": False, "replayed": False}

        async def replay() -> dict:
            if state["replayed"]:
                return await receive()
            state["replayed"] = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def guarded_send(message: dict) -> None:
            if state["timed_out"]:
                return  # API Gateway has answered 504; the late response goes nowhere
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, replay, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.integration_timeout)
        if task in done or state["started"]:
            await task
            return
        state["timed_out"] = True
        task.cancel()
        await _respond(send, Refusal(504, TIMED_OUT))
