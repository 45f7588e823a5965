"""Two fixes for Powertools' local HTTP resolver (``HttpResolverLocal``, 3.37), applied by build_app.

1. One worker thread per request. Its async chain runs every sync middleware (request validation,
   response validation, ours) in its own ``asyncio.to_thread`` worker, which then blocks until
   the rest of the chain is done; the route itself runs on the event loop. With the loop's
   default pool (min(32, cpus + 4) workers) a few concurrent requests take every worker and wait
   for each other for ever. Here a request is resolved by the synchronous chain in one worker:
   it never waits for another worker, and a slow AWS call no longer blocks the event loop. The
   request state stays per request: it lives in a ContextVar, which ``to_thread`` carries along.
2. Bytes that are not UTF-8 (body, header values, query string) crash its ASGI adapter with a
   500 before any route runs. They are decoded with replacement characters instead, so such a
   body is simply invalid JSON (422), as behind API Gateway.
3. Who is calling. Its events carry a fixed ``requestContext`` with no identity. A front that
   authenticates the caller (the sandbox's API Gateway, sandbox/server/api_gateway.py, which verifies
   SigV4 signatures) puts the request context API Gateway would send under
   ``scope[REQUEST_CONTEXT]``; it is merged into the event's ``requestContext``, so
   ``context.actor_of`` reads ``identity.userArn`` as behind API Gateway's AWS_IAM auth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.event_handler import HttpResolverLocal

REQUEST_CONTEXT = "promoter.request_context"  # ASGI scope key: extra requestContext fields
# ASGI's receive and send callables
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
_request_context: ContextVar[dict[str, Any] | None] = ContextVar("promoter_request_context", default=None)


def _utf8(raw: bytes) -> bytes:
    return raw.decode("utf-8", errors="replace").encode("utf-8")


def adapt(resolver: HttpResolverLocal) -> None:
    async def resolve_in_one_thread() -> dict[str, Any]:
        builder = await asyncio.to_thread(resolver._resolve)
        return builder.build(resolver.current_event, resolver._cors)

    original_handler = resolver.asgi_handler
    original_to_proxy_event = resolver._to_proxy_event

    def to_proxy_event(event: dict[str, Any]) -> Any:
        extra = _request_context.get()
        if extra:
            event = dict(event, requestContext={**(event.get("requestContext") or {}), **extra})
        return original_to_proxy_event(event)

    async def asgi_handler(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await original_handler(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        clean = dict(scope)
        clean["headers"] = [(key, _utf8(value)) for key, value in scope.get("headers", [])]
        clean["query_string"] = _utf8(scope.get("query_string", b""))
        replayed = {"type": "http.request", "body": _utf8(body), "more_body": False}

        async def replay() -> dict[str, Any]:
            return replayed

        token = _request_context.set(scope.get(REQUEST_CONTEXT))
        try:
            await original_handler(clean, replay, send)
        finally:
            _request_context.reset(token)

    resolver._resolve_async = resolve_in_one_thread  # type: ignore[method-assign]
    resolver._to_proxy_event = to_proxy_event  # type: ignore[method-assign]
    resolver.asgi_handler = asgi_handler  # type: ignore[method-assign]
