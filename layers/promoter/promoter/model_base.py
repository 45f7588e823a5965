"""The base of the layer's pydantic models.

``defer_build``: a model's validator is built the first time it is used, not when its module is
imported. Every handler imports all the models and uses a few (the workflow never builds the
pipeline or schedule models): deferring takes about 90 ms off a cold import of promoter.models and
puts about 30 ms back on a workflow task's first call (python -m bench.import_time).

The modules that define models have no ``from __future__ import annotations``: with it, pydantic
evaluates every field's annotation from a string when the class is made (``eval`` of each), which
cost about 4% of the API's cold import; a model that names its own class quotes it."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
