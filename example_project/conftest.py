"""Shared helpers for the example project's Python tests."""

from pathlib import Path

AGENTS = Path(__file__).parent / "agents"
