"""promoter.aws.clients: one Session per set of credentials, and only the latest few kept."""

import pytest

from promoter.aws import clients


@pytest.fixture
def no_sessions(monkeypatch):
    monkeypatch.setattr(clients, "_SESSIONS", {})
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def use_credentials(monkeypatch, key_id: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", f"secret-of-{key_id}")


def test_the_same_credentials_share_one_session(no_sessions, monkeypatch):
    use_credentials(monkeypatch, "AKIAFIRST")
    first = clients.shared_session()
    use_credentials(monkeypatch, "AKIASECOND")
    assert clients.shared_session() is not first
    use_credentials(monkeypatch, "AKIAFIRST")
    assert clients.shared_session() is first


def test_sessions_for_credentials_gone_by_are_let_go(no_sessions, monkeypatch):
    """The sandbox gives each start new credentials; keeping every Session (botocore's loaded data,
    tens of thousands of objects each) grew a test run to gigabytes."""
    use_credentials(monkeypatch, "AKIAINUSE")
    in_use = clients.shared_session()
    for n in range(3 * clients._MAX_SESSIONS):
        use_credentials(monkeypatch, f"AKIA{n:08d}")
        clients.shared_session()
        use_credentials(monkeypatch, "AKIAINUSE")
        assert clients.shared_session() is in_use  # the one in use stays, as the most recent
    assert len(clients._SESSIONS) == clients._MAX_SESSIONS
