"""`retell://AGENT_ID` references, as test files write them (no HTTP here: cheap to import)."""

from __future__ import annotations

import re

from ..errors import InputError, did_you_mean
from .credentials import PLATFORM_NAMES

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")


def is_remote_ref(text: str) -> bool:
    """True for `scheme://...` values; `parse_remote_ref` then says whether the scheme is known."""
    return bool(_SCHEME.match(text.strip()))


def check_agent_id(agent_id: str, platform: str) -> str:
    """An agent id that is safe to put in a URL path and a file name, or one clear error."""
    agent_id = agent_id.strip()
    if not _ID.match(agent_id):
        raise InputError(
            f"'{agent_id}' is not a {platform} agent id",
            field="agent_id",
            fix=f"copy the id from `voicetest platform list {platform}` (letters, digits, . _ - : @)",
        )
    return agent_id


def parse_remote_ref(ref: str) -> tuple[str, str]:
    """(`platform`, `agent_id`) from `retell://agent_123`; unknown platforms and bad ids are errors."""
    match = _SCHEME.match(ref.strip())
    if not match:
        raise InputError(f"'{ref}' is not a platform reference", field="agent", fix="write it as retell://AGENT_ID")
    scheme = match["scheme"].lower()
    if scheme not in PLATFORM_NAMES:
        raise InputError(
            f"unknown platform '{scheme}' in '{ref}'{did_you_mean(scheme, PLATFORM_NAMES)}",
            field="agent",
            fix="use one of: " + ", ".join(f"{p}://AGENT_ID" for p in PLATFORM_NAMES),
        )
    return scheme, check_agent_id(match["rest"], scheme)
