"""Canary analysis: the candidate judged against the stable version over the same periods.

- ``models``: the request's ``"analysis"`` spec, the metric series the judge reads, and the
  evidence it returns (pydantic only).
- ``policy``: pure, what a step's verdict makes the workflow do (promote, extend the bake, pause, fail).
- ``judge``: the statistics (scipy.stats). Only the judge function imports it: scipy costs
  hundreds of milliseconds at cold start, so this package's ``__init__`` imports nothing, and
  ``import promoter`` or any other handler never loads scipy (tests/unit/test_judge.py checks it).
"""
