"""``python -m promoter_cli`` is the same as the ``promoter`` console script."""

from .main import main

main()
