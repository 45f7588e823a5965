"""The dashboard page's assets (package data: a package of its own, so that setuptools ships it as one)."""
