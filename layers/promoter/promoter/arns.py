"""Pure: Lambda function names and ARNs, parsed once for the whole layer.

Lambda takes a function as a name (``orders``), a partial ARN (``123456789012:function:orders``)
or a full ARN (``arn:aws:lambda:us-east-1:123456789012:function:orders``), each optionally
qualified with a version or alias (``orders:live``, ``...:function:orders:7``). The grammar is
Lambda's own ``FunctionName`` pattern (API reference, e.g. GetFunction):
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lambda's FunctionName pattern, with named parts. Optional parts are tried left to right, so
# ``123456789012:function:orders`` is an account and a name, never a name and a qualifier.
_FUNCTION = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
# For documents (OpenAPI): what a request may name as its target, i.e. the pattern without the
# qualifier. JSON Schema patterns and Python's re agree on this one.
UNQUALIFIED_FUNCTION_PATTERN = (
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)$"
)
# Lambda's pattern as is (hooks may be qualified: a hook can be invoked through its own alias).
FUNCTION_PATTERN = (
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
# Lambda's length limit of FunctionName given as an ARN (a bare name is at most 64).
MAX_FUNCTION_LENGTH = 170


@dataclass(frozen=True)
class FunctionRef:
    """A function as the caller named it: only ``name`` is always known."""

    name: str
    partition: str | None = None
    region: str | None = None
    account: str | None = None
    qualifier: str | None = None

    @property
    def is_full_arn(self) -> bool:
        return self.partition is not None and self.region is not None and self.account is not None

    @property
    def unqualified_arn(self) -> str | None:
        """``arn:<partition>:lambda:<region>:<account>:function:<name>``, when the caller gave all of it."""
        if not self.is_full_arn:
            return None
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.name}"


def parse_function(value: str) -> FunctionRef:
    """The parts of a function name or ARN; ValueError naming the accepted shapes otherwise."""
    match = _FUNCTION.match(value) if len(value) <= MAX_FUNCTION_LENGTH else None
    if match is None or (value.startswith("arn:") and match["partition"] is None):
        raise ValueError(
            f"{value!r} is not a Lambda function: give a name (orders), a partial ARN "
            "(123456789012:function:orders) or an ARN (arn:aws:lambda:<region>:<account>:function:orders)"
        )
    return FunctionRef(
        name=match["name"],
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        qualifier=match["qualifier"],
    )


def unqualified_function(value: str) -> str:
    """``value`` if it names a function without a version or alias; ValueError saying what to do otherwise.

    A qualified target (``orders:live``, ``...:function:orders:7``) would name a different lock
    than the same alias given separately, so a request must give the alias in its own field.
    """
    ref = parse_function(value)
    if ref.qualifier is not None:
        raise ValueError(
            f"{value!r} names version or alias {ref.qualifier!r} of function {ref.name!r}: give the function "
            "without a qualifier, and the alias in 'alias' (the version in 'version')"
        )
    return value


def unqualified_arn(function: str) -> str | None:
    """The unqualified ARN of a function given as a full ARN (qualified or not); None for a name or partial ARN."""
    try:
        return parse_function(function).unqualified_arn
    except ValueError:
        return None


def function_name(function: str) -> str:
    """The bare name of a function given in any of Lambda's shapes (``function`` itself if it is none)."""
    try:
        return parse_function(function).name
    except ValueError:
        return function


def account_of(arn: str) -> str | None:
    """The account id of any ARN (``arn:partition:service:region:account:...``), None if it has none."""
    parts = arn.split(":")
    if len(parts) > 5 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None
