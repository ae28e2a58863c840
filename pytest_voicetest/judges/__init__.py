"""Judges: rule checks, path assertions, LLM metrics and the flow judge."""
