"""Platform API keys: from `RETELL_API_KEY`-style variables, else a 0600 credentials file.

The file is `$XDG_CONFIG_HOME/voicetest/credentials.json` (default `~/.config/...`),
`{"retell": {"api_key": "..."}, ...}`, written atomically with mode 0600 in a 0700
folder. A second `save_api_key` for a configured platform raises `AlreadyConfigured`
(the seed's 409) unless `replace=True`. Keys are only ever shown masked.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError, did_you_mean

PLATFORM_NAMES: tuple[str, ...] = ("retell", "vapi", "bland", "telnyx")
FILE_NAME = "credentials.json"
Source = Literal["env", "file"]


def env_key(platform: str) -> str:
    """The environment variable that holds `platform`'s key, e.g. RETELL_API_KEY."""
    return f"{platform.upper()}_API_KEY"


def check_platform(name: str) -> str:
    """The platform's canonical name; unknown names are one clear error."""
    key = name.strip().lower()
    if key not in PLATFORM_NAMES:
        raise InputError(
            f"unknown platform '{name}'{did_you_mean(key, PLATFORM_NAMES)}",
            field="platform",
            fix="use one of: " + ", ".join(PLATFORM_NAMES),
        )
    return key


class AlreadyConfigured(InputError):
    """A key is already stored for the platform (HTTP 409 in the seed API)."""

    def __init__(self, platform: str, masked: str) -> None:
        self.platform = platform
        super().__init__(
            f"{platform} is already configured (key {masked})",
            field="platform",
            fix=f"pass --replace (replace=True) to store the new key, or run `voicetest platform logout {platform}` first",
        )


@dataclass(frozen=True)
class KeyStatus:
    """Whether a platform has a key, where it comes from, and the key masked."""

    platform: str
    configured: bool
    source: Source | None
    masked: str | None

    def to_data(self) -> dict[str, object]:
        return {"platform": self.platform, "configured": self.configured, "source": self.source, "key": self.masked}


def mask(key: str) -> str:
    """`abcd…wxyz` for long keys, `***` for short ones: enough to recognise, never to use."""
    key = key.strip()
    return f"{key[:4]}…{key[-4:]}" if len(key) >= 16 else "***"


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/voicetest`, else `~/.config/voicetest`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voicetest"


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def _load() -> dict[str, dict[str, str]]:
    path = credentials_path()
    if not path.is_file():
        return {}
    if sys.platform != "win32" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            "the credentials file is readable by other users",
            source=path,
            fix=f"chmod 600 {path}",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError("the credentials file is not valid JSON", source=path, fix=f"delete {path} and log in again") from None
    if not isinstance(data, dict):
        raise InputError("the credentials file is not a JSON object", source=path, fix=f"delete {path} and log in again")
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def _write(data: dict[str, dict[str, str]]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def find_api_key(platform: str) -> tuple[str, Source] | None:
    """The key and its source: the environment variable wins over the file."""
    platform = check_platform(platform)
    value = os.environ.get(env_key(platform), "").strip()
    if value:
        return value, "env"
    stored = str(_load().get(platform, {}).get("api_key") or "").strip()
    return (stored, "file") if stored else None


def get_api_key(platform: str) -> str:
    """The key for `platform`, or one error that says how to provide it."""
    found = find_api_key(platform)
    if found is None:
        name = check_platform(platform)
        raise InputError(
            f"no API key for {name}",
            field="platform",
            fix=f"set {env_key(name)}, or run `voicetest platform login {name}`",
        )
    return found[0]


def save_api_key(platform: str, api_key: str, *, replace: bool = False) -> KeyStatus:
    """Store `api_key` in the credentials file (0600); refuses to overwrite unless `replace`."""
    platform = check_platform(platform)
    api_key = api_key.strip()
    if not api_key:
        raise InputError("the API key is empty", field="api_key", fix="paste the key from the platform's dashboard")
    if any(ch.isspace() for ch in api_key):
        raise InputError("the API key contains whitespace", field="api_key", fix="paste the key alone, on one line")
    data = _load()
    current = str(data.get(platform, {}).get("api_key") or "")
    if current and not replace:
        raise AlreadyConfigured(platform, mask(current))
    data[platform] = {"api_key": api_key}
    _write(data)
    return KeyStatus(platform, True, "file", mask(api_key))


def remove_api_key(platform: str) -> bool:
    """Forget the stored key; True if there was one. Environment variables are left alone."""
    platform = check_platform(platform)
    data = _load()
    if platform not in data:
        return False
    del data[platform]
    _write(data)
    return True


def key_status(platform: str) -> KeyStatus:
    found = find_api_key(platform)
    name = check_platform(platform)
    if found is None:
        return KeyStatus(name, False, None, None)
    return KeyStatus(name, True, found[1], mask(found[0]))
