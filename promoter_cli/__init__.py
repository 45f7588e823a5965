"""The ``promoter`` command: SigV4-signed calls to the lambda-promoter API, and a live watch."""

# The one place the version is written: pyproject.toml reads it, and so do --version and the User-Agent.
__version__ = "0.2.0"
