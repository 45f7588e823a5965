"""Pure: what a step's verdict makes the workflow do. No scipy (the workflow imports this).

- pass -> ``promote`` (the next step);
- fail -> ``fail`` (roll back, naming the metric);
- marginal or inconclusive -> ``extend`` the bake by ``extension_seconds`` while fewer than
  ``max_extensions`` were taken (the judge then reads the whole bake, extensions included), and
  after that ``on_marginal`` / ``on_inconclusive``: ``pause`` for a human or ``fail``. Never
  ``promote``: a step that could not be judged is not a passed step.
"""

from __future__ import annotations

from typing import Literal

from ..errors import PromoterError
from .models import AnalysisSpec, StepVerdict

Action = Literal["promote", "extend", "pause", "fail"]


class JudgeFailed(PromoterError):
    """The judge failed a step: the workflow rolls back (ROLLED_BACK, as an alarm or a hook would)."""


def next_action(spec: AnalysisSpec, verdict: StepVerdict, extensions_taken: int) -> Action:
    if verdict is StepVerdict.PASS:
        return "promote"
    if verdict is StepVerdict.FAIL:
        return "fail"
    if extensions_taken < spec.max_extensions:
        return "extend"
    return spec.on_marginal if verdict is StepVerdict.MARGINAL else spec.on_inconclusive
