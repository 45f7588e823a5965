"""What time it is, for the promotion protocol. One function, so a local AWS can run it faster."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
