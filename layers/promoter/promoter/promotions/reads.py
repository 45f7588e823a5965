"""Read models for the API: one promotion, pages of promotions, a function's aliases."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

from ..arns import function_name, unqualified_arn
from ..errors import InvalidRequest, NotFound
from ..models import AliasInventory, FunctionInventory, Promotion, Status
from .context import Context
from .start import Starter

_PAGE_KEY = re.compile(r"^PROMOTION#.+$")


class Reads:
    def __init__(self, ctx: Context, starter: Starter) -> None:
        self.ctx = ctx
        self.starter = starter

    def get(self, promotion_id: str) -> Promotion:
        return self.ctx.store.get(promotion_id)

    def alarm_states(self, promotion_id: str) -> tuple[Promotion, dict[str, str]]:
        """The promotion's alarms as CloudWatch has them now (OK, ALARM, INSUFFICIENT_DATA, or
        MISSING), read in the target's account: one record read and one DescribeAlarms."""
        promotion, _ = self.ctx.store.get_with_rev(promotion_id)
        return promotion, self.ctx.alarms_for(promotion).states(promotion.alarms)

    def list_promotions(
        self,
        *,
        function: str | None = None,
        alias: str | None = None,
        status: Status | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Promotion], str | None]:
        """Newest first. ``alias`` narrows to one target and needs ``function``.

        A page may hold fewer than ``limit`` items (filters apply after the read): follow
        ``next_token`` until it is None.
        """
        if alias and not function:
            raise InvalidRequest("filtering by alias needs the function too", field="alias")
        target = None
        if function and alias:
            arn = unqualified_arn(function)
            if arn is None:
                try:
                    arn = self.ctx.lambdas.get_function(function)["Configuration"]["FunctionArn"]
                except NotFound:
                    return [], None
            target = f"{arn}:{alias}"
            function = None  # the target already names the function
        elif function:
            function = function_name(function)
        _check_page_token(next_token, target)
        return self.ctx.store.list(
            target=target,
            function=function,
            status=status.value if status else None,
            limit=limit,
            next_token=next_token,
        )

    def inventory(self, function: str) -> FunctionInventory:
        """Every alias of a managed function: version, routing, the active and the last promotion."""
        found = self.ctx.lambdas.get_function(function)
        config, tags = found["Configuration"], found.get("Tags") or {}
        self.starter.ensure_managed(function, tags)
        aliases = []
        for name, state in self.ctx.lambdas.list_aliases(config["FunctionName"]).items():
            target = f"{config['FunctionArn']}:{name}"
            aliases.append(
                AliasInventory(
                    alias=name,
                    version=state.version,
                    weights=state.weights,
                    active_promotion=self.active_promotion(target),
                    last_promotion=self.last_finished_promotion(target),
                )
            )
        return FunctionInventory(function=config["FunctionName"], function_arn=config["FunctionArn"], aliases=aliases)

    def active_promotion(self, target: str) -> Promotion | None:
        holder = self.ctx.store.lock_holder(target)
        if not holder:
            return None
        try:
            return self.ctx.store.get(holder)
        except NotFound:  # a lock whose record was never written (start failed half-way)
            return None

    def last_finished_promotion(self, target: str, pages: int = 5) -> Promotion | None:
        return self.last_promotion(target, pages, lambda p: p.status.is_final)

    def last_promotion(
        self, target: str, pages: int = 5, where: Callable[[Promotion], bool] = lambda p: True
    ) -> Promotion | None:
        token = None
        for _ in range(pages):
            items, token = self.ctx.store.list(target=target, limit=25, next_token=token)
            for promotion in items:
                if where(promotion):
                    return promotion
            if not token:
                break
        return None


def _check_page_token(token: str | None, target: str | None) -> None:
    """A ``next_token`` must be one this API handed out for the same query; anything else is a 422,
    never a DynamoDB error."""
    if token is None:
        return
    index_key = "target" if target else "kind"
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        values = {name: value["S"] for name, value in key.items()}
        valid = (
            set(values) == {"pk", "sk", "created_at", index_key}
            and all(isinstance(v, str) for v in values.values())
            and bool(_PAGE_KEY.match(values["pk"]))
            and values["sk"] == "PROMOTION"
            and values[index_key] == (target or "PROMOTION")
        )
    except (ValueError, TypeError, AttributeError, KeyError, UnicodeError):
        valid = False
    if not valid:
        raise InvalidRequest("next_token is not a token from this listing", field="next_token")
