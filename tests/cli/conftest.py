"""One sandbox server process (python -m sandbox.server) on free ports for the CLI tests."""

from collections.abc import Iterator

import pytest

from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, endpoint_session
from tests.cli.helpers import Shell

# Bakes pass 50x faster: a 100 s bake lasts 2 s.
TIME_SCALE = 50.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=TIME_SCALE, log=log) as process:
        yield process


@pytest.fixture
def shell(server: ServerProcess) -> Shell:
    return Shell(server)


@pytest.fixture
def targets(server: ServerProcess) -> Targets:
    """Sample functions and alarms made through boto3 against the server's AWS endpoint."""
    return Targets(session=endpoint_session(server.aws_url))
