"""One reading of AWS's errors, so no code outside ``aws/`` looks into a botocore error's shape.

Recognised without importing botocore: an SDK ``ClientError`` carries ``response["Error"]``.
"""

from __future__ import annotations

import re

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


def code_of(error: BaseException) -> str:
    """AWS's error code ("ResourceNotFoundException"), or "" for anything that is not an AWS error."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Code") or "")


def http_status_of(error: BaseException) -> int:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return 0
    return int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)


def was_refused(error: BaseException) -> bool:
    """AWS answered 4xx: it refused the request, so nothing it asked for was done (a 5xx or a
    timeout leaves that unknown)."""
    return 400 <= http_status_of(error) < 500


def is_access_denied(error: BaseException) -> bool:
    return code_of(error) in ACCESS_DENIED


def cancellation_codes(error: BaseException) -> list[str]:
    """The per-item codes of a cancelled DynamoDB transaction, in the items' order."""
    response = getattr(error, "response", None) or {}
    return [str(r.get("Code") or "") for r in response.get("CancellationReasons", [])]


def raw_message(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str((response.get("Error") or {}).get("Message") or "")


def plain_text(text: object) -> str:
    """AWS's own message if it is one short line of plain text; "" for markup (an HTML error page) or noise."""
    line = str(text or "").strip()
    if not line or len(line) > 300 or "\n" in line or re.search(r"<[A-Za-z!/?]", line):
        return ""
    return line


def plain_message(error: BaseException) -> str:
    """ "GetFunction answered AccessDeniedException: ..." for an AWS error; the exception's own text,
    plainly, for anything else."""
    code = code_of(error)
    if not code:
        return plain_text(error) or type(error).__name__
    operation = str(getattr(error, "operation_name", "") or "the AWS call")
    text = plain_text(raw_message(error))
    return f"{operation} answered {code}" + (f": {text}" if text else "")
