"""The local AWS: moto with the patches of sandbox/install.py, and template.yaml deployed into it."""

from .core import Sandbox

__all__ = ["Sandbox"]
