"""moto's backends, found by key: every request looks up the account's backends of each service
it touches.

``BackendDict[account]`` checked, on every lookup, that the dictionary was in moto's list of those
to reset, with a linear search whose every comparison compares dictionaries: a tenth of the
sandbox's time with 50 promotions at once. An account already in the dictionary was listed when
it was added (moto's reset clears both together), so its lookup skips the search. No AWS behaviour
changes: this is the sandbox's speed alone.
"""

from __future__ import annotations

from typing import Any


def look_up_known_accounts_directly() -> None:
    """Each account's resources are its own
    (https://docs.aws.amazon.com/accounts/latest/reference/accounts-welcome.html): an account's
    backends, once made, are found by its id alone (the module's docstring)."""
    from moto.core.base_backend import BackendDict

    create = BackendDict._create_account_specific_backend

    def create_unless_known(self: Any, account_id: str) -> None:
        if not dict.__contains__(self, account_id):
            create(self, account_id)

    BackendDict._create_account_specific_backend = create_unless_known
