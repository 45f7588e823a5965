"""What a route needs from the request itself: who is calling, and where the API is mounted."""

from __future__ import annotations

from typing import Any

LOCAL_ACTOR = "local"


def _request_context(event: Any) -> dict[str, Any]:
    raw = getattr(event, "raw_event", event) or {}
    context: dict[str, Any] = raw.get("requestContext") or {}
    return context


def actor_of(event: Any) -> str:
    """The caller's IAM identity as API Gateway (AWS_IAM) puts it in the request context.

    ``userArn``, else ``caller``, else ``accountId``; with no identity (the local server) it is
    ``local``.
    """
    context = _request_context(event)
    identity = context.get("identity") or {}
    for key in ("userArn", "caller", "accountId"):
        value = identity.get(key)
        if value:
            return str(value)
    iam = (context.get("authorizer") or {}).get("iam") or {}  # HTTP API (payload v2) shape
    for key in ("userArn", "callerId", "accountId"):
        value = iam.get(key)
        if value:
            return str(value)
    return LOCAL_ACTOR


def base_path(event: Any) -> str:
    """The prefix in front of our routes: ``/dev`` behind API Gateway's stage, a custom domain's
    base path, or nothing on the local server."""
    full = str(_request_context(event).get("path") or "")
    path = str(getattr(event, "path", "") or "")
    if full and path and full.endswith(path) and full != path:
        return full[: -len(path)].rstrip("/")
    return ""


def lambda_context_of(app: Any) -> Any:
    """The Lambda context when there is a real one (it knows the time left), else None."""
    context = getattr(app, "lambda_context", None)
    return context if callable(getattr(context, "get_remaining_time_in_millis", None)) else None
