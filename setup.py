"""Packaging beyond pyproject.toml: what the development install adds.

A wheel (``pip install .``, ``pipx install .``) holds only the CLI, ``promoter_cli``. The editable
install of ``make venv`` (``pip install --no-deps -e .``) also maps the layer's package ``promoter``
(layers/promoter/promoter) and ``sandbox``, so that processes started outside pytest
(``python -m sandbox.server``, ``make demo``, ``make openapi``) import them as the tests do.
"""

import sys

from setuptools import find_packages, setup

CLI = find_packages(include=["promoter_cli", "promoter_cli.*"])

if "editable_wheel" in sys.argv:  # setuptools' PEP 660 build runs this command for `pip install -e`
    setup(
        packages=[
            *CLI,
            *find_packages(include=["sandbox", "sandbox.*"]),
            *find_packages("layers/promoter", include=["promoter", "promoter.*"]),
        ],
        package_dir={"": ".", "promoter": "layers/promoter/promoter"},
    )
else:
    setup(packages=CLI)
