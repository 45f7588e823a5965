"""``python -m sandbox.demo`` (``make demo``): every story, in order (sandbox/demo/stories.py)."""

import sys

from .stories import main

sys.exit(main())
