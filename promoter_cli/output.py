"""What a command prints: ``--output table|json|yaml`` and ``--query`` (JMESPath), as in the AWS CLI.

``--query`` applies to the API's JSON answer before it is printed in any format. Tables are drawn
with rich on a terminal, and as plain aligned lines elsewhere (pipes, CI logs), so that scripts and
logs get no box characters or colour codes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TextIO

from . import render
from .errors import UsageError


class Output:
    def __init__(self, out: TextIO, fmt: str, query: str | None, no_color: bool) -> None:
        self.out = out
        self.format = fmt
        self.query = _compile(query) if query else None
        self.rich = fmt == "table" and _is_terminal(out)
        color = self.rich and not no_color and not os.environ.get("NO_COLOR")
        self.style = render.Style(out, color=color, rich=self.rich)
        self._console: Any = None

    @property
    def console(self) -> Any:
        """A rich Console on ``out`` (only on a terminal)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.out, highlight=False, no_color=not self.style.color, emoji=False)
        return self._console

    @property
    def wants_data(self) -> bool:
        """True when the answer is printed as data (json, yaml, or any --query) rather than for people."""
        return self.format != "table" or self.query is not None

    def select(self, data: Any) -> Any:
        return self.query.search(data) if self.query is not None else data

    def emit(self, human: str | Callable[[], Any], data: Any) -> None:
        """``human`` (text or a renderable) for ``--output table``; ``data`` otherwise, or when queried."""
        if not self.wants_data:
            self.show(human() if callable(human) else human)
            return
        self.data(data)

    def data(self, data: Any) -> None:
        selected = self.select(data)
        if self.format == "json":
            print(json.dumps(selected, indent=2, default=str), file=self.out)
        elif self.format == "yaml":
            print(to_yaml(selected), end="", file=self.out)
        else:  # a --query with table output: the selection as a generic table
            self.show(render.generic(selected, self.style))

    def data_line(self, data: Any) -> str:
        """One snapshot on one line (watch --output json/yaml): JSON Lines, or one YAML document."""
        selected = self.select(data)
        if self.format == "yaml":
            return "---\n" + to_yaml(selected).rstrip("\n")
        return json.dumps(selected, default=str)

    def show(self, thing: Any) -> None:
        if self.rich:
            self.console.print(render.renderable(thing))
        else:
            print(thing, file=self.out)


def to_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False, allow_unicode=True)


def _compile(expression: str) -> Any:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        raise UsageError(f"--query {expression!r} is not a JMESPath expression: {error}") from None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False
