"""docs/openapi.json is the document the API serves: regenerate it with `make openapi`."""

import json
from pathlib import Path

from promoter.api.__main__ import document

FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_file_matches_the_api():
    assert json.loads(FILE.read_text()) == json.loads(document()), "run `make openapi` and commit docs/openapi.json"
