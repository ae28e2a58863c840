"""What the platforms package does on this machine: credentials (0600 file, environment
first, masked, 409 on a second login), base URLs, `retell://ID` references, the remote
agent cache, lazy imports and the layering rule."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pytest_voicetest
from pytest_voicetest.errors import InputError
from pytest_voicetest.importers import import_agent
from pytest_voicetest.platforms import (
    AlreadyConfigured,
    PlatformError,
    base_url_for,
    cache_path,
    get_api_key,
    is_remote_ref,
    key_status,
    parse_remote_ref,
    remove_api_key,
    resolve_remote_agent,
    save_api_key,
)
from pytest_voicetest.platforms.credentials import credentials_path, mask

from .platform_fakes import BLAND_PATHWAY

KEY = "retellKeyAbCdEf0123456789"


def test_the_key_file_is_private_and_a_second_login_is_refused(isolated_platform_env: Path) -> None:
    status = save_api_key("retell", KEY)
    path = credentials_path()
    assert path == isolated_platform_env / "voicetest" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"retell": {"api_key": KEY}}
    assert status.masked == "rete…6789" and KEY not in str(status.to_data())

    with pytest.raises(AlreadyConfigured) as caught:
        save_api_key("retell", "anotherKeyXyz0123456789")
    assert str(caught.value) == (
        "platform: retell is already configured (key rete…6789) Fix: pass --replace (replace=True) to store "
        "the new key, or run `voicetest platform logout retell` first"
    )
    assert get_api_key("retell") == KEY
    save_api_key("retell", "anotherKeyXyz0123456789", replace=True)
    save_api_key("vapi", "vapiKey000111222333")
    assert get_api_key("retell") == "anotherKeyXyz0123456789" and get_api_key("vapi") == "vapiKey000111222333"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_variable_wins_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    save_api_key("telnyx", KEY)
    monkeypatch.setenv("TELNYX_API_KEY", "fromEnvironment0123456789")
    assert get_api_key("telnyx") == "fromEnvironment0123456789"
    assert key_status("telnyx").to_data() == {"platform": "telnyx", "configured": True, "source": "env", "key": "from…6789"}
    assert remove_api_key("telnyx") and not remove_api_key("telnyx")
    assert get_api_key("telnyx") == "fromEnvironment0123456789"


def test_a_missing_key_says_both_ways_to_provide_it() -> None:
    with pytest.raises(InputError) as caught:
        get_api_key("bland")
    assert str(caught.value) == "platform: no API key for bland Fix: set BLAND_API_KEY, or run `voicetest platform login bland`"


def test_a_credentials_file_others_can_read_is_refused() -> None:
    save_api_key("retell", KEY)
    os.chmod(credentials_path(), 0o644)
    with pytest.raises(InputError, match=r"readable by other users Fix: chmod 600 "):
        get_api_key("retell")


@pytest.mark.parametrize(("key", "shown"), [("short", "***"), ("abcdefghijklmnop", "abcd…mnop")])
def test_masked_keys_never_show_enough_to_use(key: str, shown: str) -> None:
    assert mask(key) == shown


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: save_api_key("retel", KEY), "unknown platform 'retel' (did you mean 'retell'?) Fix: use one of: retell, vapi, bland, telnyx"),
        (lambda: save_api_key("vapi", "  "), "the API key is empty"),
        (lambda: save_api_key("vapi", "two words"), "the API key contains whitespace"),
        (lambda: base_url_for("vapi", "ftp://example.com"), "--base-url: 'ftp://example.com' is not an http(s) URL"),
        (lambda: base_url_for("vapi", "https://me:pw5ecret@proxy.example"), "--base-url: the base URL contains a user or password"),
        (lambda: parse_remote_ref("retel://agent_1"), "unknown platform 'retel' in 'retel://agent_1' (did you mean 'retell'?)"),
        (lambda: parse_remote_ref("vapi://../../etc"), "'../../etc' is not a vapi agent id"),
    ],
)
def test_bad_input_is_one_error_naming_the_field_and_the_fix(call: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        call()
    assert message in str(caught.value) and "Traceback" not in str(caught.value) and "pw5ecret" not in str(caught.value)


def test_base_url_comes_from_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert base_url_for("telnyx") == "https://api.telnyx.com/v2"
    monkeypatch.setenv("TELNYX_BASE_URL", "https://eu.proxy.example/v2")
    assert base_url_for("telnyx") == "https://eu.proxy.example/v2"
    assert base_url_for("telnyx", "http://127.0.0.1:9/v2") == "http://127.0.0.1:9/v2"
    monkeypatch.setenv("TELNYX_BASE_URL", "not a url")
    with pytest.raises(InputError, match="TELNYX_BASE_URL: 'not a url' is not an http"):
        base_url_for("telnyx")


def test_remote_references_parse_and_files_are_not_references() -> None:
    assert parse_remote_ref(" retell://agent_1ffdb9717444 ") == ("retell", "agent_1ffdb9717444")
    assert parse_remote_ref("TELNYX://assistant-6d2c:v2") == ("telnyx", "assistant-6d2c:v2")
    assert is_remote_ref("vapi://x") and not is_remote_ref("agents/clinic.json") and not is_remote_ref("C:\\agents\\a.json")


def test_a_remote_agent_is_pulled_once_then_served_from_the_cache(serve: Any, tmp_path: Path) -> None:
    fake = serve("bland")
    ref = f"bland://{fake.seed(BLAND_PATHWAY)}"
    cache = tmp_path / "cache"
    first = resolve_remote_agent(ref, cache, offline=False, max_age_s=60)
    assert first == cache_path(ref, cache) and first.parent == cache / "bland"
    assert import_agent(first).nodes["1"].state_prompt == "Hi, this is the clinic. How can I help?"
    requests = len(fake.calls())
    assert resolve_remote_agent(ref, cache, offline=False, max_age_s=60) == first
    assert len(fake.calls()) == requests, "a fresh cache makes no request"

    old = time.time() - 120
    os.utime(first, (old, old))
    assert resolve_remote_agent(ref, cache, offline=True, max_age_s=60) == first
    assert len(fake.calls()) == requests, "offline never makes a request"
    resolve_remote_agent(ref, cache, offline=False, max_age_s=60)
    assert len(fake.calls()) == requests + 1, "a stale cache is refreshed"


def test_offline_without_a_cached_copy_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        resolve_remote_agent("retell://agent_42", tmp_path, offline=True, max_age_s=60)
    text = str(caught.value)
    assert text.startswith("agent: retell://agent_42 is not in the agent cache")
    assert "run once without --vt-offline" in text and "voicetest platform pull retell agent_42 -o FILE" in text


def test_a_failed_refresh_points_at_the_cached_copy(serve: Any, tmp_path: Path) -> None:
    fake = serve("telnyx")
    ref = f"telnyx://{fake.seed(json.loads((Path(__file__).parent / 'fixtures/platforms/telnyx/sample_assistant.json').read_text()))}"
    path = resolve_remote_agent(ref, tmp_path, max_age_s=0)
    fake.fail_next(401)
    with pytest.raises(PlatformError, match=r"while refreshing telnyx://.*cached .* UTC\).*pass --vt-offline to test the cached copy"):
        resolve_remote_agent(ref, tmp_path, max_age_s=0)
    assert path.is_file()


def _probe(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(m for m in ('httpx', 'pytest_voicetest.platforms.http') if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_httpx_loads_only_when_a_platform_is_called() -> None:
    assert _probe("import pytest_voicetest.platforms") == []
    assert _probe("from pytest_voicetest.platforms import is_remote_ref, parse_remote_ref; is_remote_ref('retell://a')") == []
    assert _probe("import pytest_voicetest.cli.platform") == []
    assert _probe("from pytest_voicetest.platforms import pull") == ["httpx", "pytest_voicetest.platforms.http"]


ALLOWED = {"errors", "redact", "yamlio", "validation", "models", "config", "importers", "exporters", "platforms"}


def test_platforms_import_only_lower_layers() -> None:
    package = Path(pytest_voicetest.__file__).parent
    for path in sorted((package / "platforms").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                parts = (node.module or "").split(".")
                top = parts[0] if node.level == 2 else "platforms"
                assert top in ALLOWED, f"{path.name} imports {'.' * node.level}{node.module}"
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(n.startswith("pytest_voicetest") or n == "pytest" for n in names), f"{path.name} imports {names}"


def test_only_the_platform_command_imports_platforms_from_the_cli() -> None:
    cli = Path(pytest_voicetest.__file__).parent / "cli"
    users = sorted(p.name for p in cli.glob("*.py") if "platforms" in p.read_text())
    assert users == ["platform.py"]
