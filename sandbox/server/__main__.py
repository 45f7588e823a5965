"""``python -m sandbox.server``: the sandbox a person can drive (sandbox/server/serve.py)."""

import os
import sys

from .serve import main

status = main()
sys.stdout.flush()
sys.stderr.flush()
# Everything is stopped; skip the interpreter's teardown of moto's state (seconds of freeing).
os._exit(status)
