"""Formatting results: terminal text, JUnit, JSON (and HTML)."""
