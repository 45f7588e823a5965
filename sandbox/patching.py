"""Replacing a moto classmethod with the sandbox's own, keeping the original to call.

moto's models create CloudFormation resources through classmethods; a patch that adds what AWS does
wraps the original rather than copying it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def original_classmethod(owner: type, name: str) -> Callable[..., Any]:
    """The function behind ``owner.name``, taking ``cls`` first (looked up on the class itself, not
    on a base, so that wrapping twice is seen as wrapping our own)."""
    method = owner.__dict__[name]
    if not isinstance(method, classmethod):
        raise TypeError(f"{owner.__name__}.{name} is not a classmethod")
    function: Callable[..., Any] = method.__func__
    return function


def replace_classmethod(owner: type, name: str, function: Callable[..., Any]) -> None:
    """``owner.name`` becomes ``classmethod(function)``."""
    setattr(owner, name, classmethod(function))
