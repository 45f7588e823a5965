"""Shared fixtures: a sandbox (moto + patches + template.yaml deployed) per test."""

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from sandbox.fixtures.targets import Targets

# Bakes in tests are a few "seconds" that pass 50x faster.
TIME_SCALE = 50.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(time_scale=TIME_SCALE) as box:
        yield box


@pytest.fixture
def targets(sandbox: Sandbox) -> Targets:
    return Targets(region=sandbox.region)
