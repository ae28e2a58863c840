"""The `voicetest` command (console script `pytest_voicetest.cli:main`)."""

from .main import main

__all__ = ["main"]
