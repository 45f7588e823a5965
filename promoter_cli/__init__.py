"""The ``promoter`` command: SigV4-signed calls to the lambda-promoter API, and a live watch."""

from pathlib import Path

CHECKOUT_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _version(checkout: Path = CHECKOUT_PYPROJECT) -> str:
    """pyproject.toml's version: read from the checkout when this is one (the development install,
    ``python -m promoter_cli``), else from the installed distribution's metadata."""
    if checkout.is_file():
        import tomllib

        project = tomllib.loads(checkout.read_text()).get("project", {})
        if project.get("name") == "lambda-promoter" and project.get("version"):
            return str(project["version"])
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lambda-promoter")
    except PackageNotFoundError:
        return "unknown"


__version__ = _version()
