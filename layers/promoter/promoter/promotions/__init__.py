"""The promotion protocol, one module per concern:

- ``protocol``: record writes, announcements, alias claims, how a promotion ends;
- ``start``: the checks before a start, the lock, publishing, the record;
- ``tasks``: the workflow's tasks;
- ``signals``: abort, pause, resume, approve, promote-now, and the repair of orphans;
- ``alarms``: instant rollback on an alarm;
- ``reads``: read models for the API;
- ``service``: ``PromoterService``, the one object callers use.
"""

from .service import PromoterService
from .start import describe_origin, execution_arn_for

__all__ = ["PromoterService", "describe_origin", "execution_arn_for"]
