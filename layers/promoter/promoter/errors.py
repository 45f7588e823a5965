"""One exception per failure that the API or the state machine must tell apart.

The class name is the contract: Lambda reports it as ``errorType`` and the ASL ``Catch``
matches on it, so renaming a class is a breaking change.
"""

from typing import Any


class PromoterError(Exception):
    """Base class. ``status_code`` is what the HTTP API answers."""

    status_code = 500

    def __init__(self, message: str, *, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.details)
        return body


# --- refused before anything changes (4xx) ---------------------------------------------------
class InvalidRequest(PromoterError):
    """The request breaks a rule: names the field and the rule."""

    status_code = 422


class NotFound(PromoterError):
    status_code = 404


class TargetBusy(PromoterError):
    """Another promotion holds the target's lock."""

    status_code = 409


class InvalidTransition(PromoterError):
    """The promotion's current status does not allow this move."""

    status_code = 409


class Frozen(PromoterError):
    """The target environment is inside a freeze window; ``frozen_until`` says when it ends."""

    status_code = 409


class PipelineOnly(PromoterError):
    """The target is a later environment of a pipeline: a version enters it only through the
    pipeline's promote, which checks where the version has been."""

    status_code = 409


class NotAllowed(PromoterError):
    """The caller may not do this here, e.g. approve a promotion they started when the
    environment needs another principal's approval."""

    status_code = 403


# --- ends a running promotion (the ASL catches these by name) -------------------------------
class AlarmFired(PromoterError):
    """A watched alarm is in ALARM (or INSUFFICIENT_DATA under the 'fail' policy)."""


class HookFailed(PromoterError):
    """A pre- or post-traffic hook raised or answered ``{"passed": false}``."""


class PromotionAborted(PromoterError):
    """A person or system asked to stop."""


class PromotionEnded(PromoterError):
    """Something else (an alarm, a person) already ended this promotion; the workflow stops."""


class CarryFailed(PromoterError):
    """The artifact could not be carried to the target function; no traffic moved."""


class FastGateFailed(PromoterError):
    """The fast gate's subscription filter could not be made (e.g. the log group has two already);
    no traffic moved."""


class AliasDrift(PromoterError):
    """The alias changed out of band: its RevisionId is not the one we last saw."""


class RecordConflict(PromoterError):
    """Optimistic-lock conflict on the promotion record; safe to retry."""
