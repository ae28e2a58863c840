"""Prompt templating: `{%snippet%}` inserts a named snippet, `{{var}}` a variable.

Snippets are expanded first (they may contain variables). An unknown variable or
snippet is left as written, and reported by `missing_names` for diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")
SNIPPET = re.compile(r"\{%\s*([\w.\-]+)\s*%\}")


def render(text: str, variables: Mapping[str, str], snippets: Mapping[str, str] | None = None) -> str:
    """Expand snippets, then variables, in `text`."""
    if "{" not in text:
        return text
    if snippets:
        text = SNIPPET.sub(lambda m: snippets.get(m.group(1), m.group(0)), text)
    return VARIABLE.sub(lambda m: str(variables[m.group(1)]) if m.group(1) in variables else m.group(0), text)


def missing_names(text: str, variables: Mapping[str, str], snippets: Mapping[str, str] | None = None) -> list[str]:
    """Placeholders in `text` that `render` would leave unexpanded."""
    missing = [f"{{%{name}%}}" for name in SNIPPET.findall(text) if name not in (snippets or {})]
    expanded = render(text, variables, snippets)
    missing += [f"{{{{{name}}}}}" for name in VARIABLE.findall(expanded) if name not in variables]
    return missing
