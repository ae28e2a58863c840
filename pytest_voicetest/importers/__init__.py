"""Importers: one module per platform format; `detect` holds the registry."""

from .detect import FORMATS, get_format, import_agent, load_agent_file

__all__ = ["FORMATS", "get_format", "import_agent", "load_agent_file"]
