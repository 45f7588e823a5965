"""What a cold API handler imports: Powertools' OpenAPI models wait for /openapi.json or /swagger."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"


def test_the_api_handler_imports_no_openapi_model_until_the_document_is_asked_for():
    code = f"""
import sys
sys.path[:0] = [{str(ROOT / "functions" / "api")!r}, {str(ROOT / "layers" / "promoter")!r}, {str(ROOT)!r}]
import app
print({OPENAPI_MODELS!r} in sys.modules)
from tests.api.conftest import ApiGateway
answer = ApiGateway(app.app).send("get_openapi")
print(answer.status, {OPENAPI_MODELS!r} in sys.modules)
"""
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "200", "True"]
