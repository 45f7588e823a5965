"""The local AWS: moto with the patches of patches.py, and template.yaml deployed into it."""

from .core import Sandbox

__all__ = ["Sandbox"]
