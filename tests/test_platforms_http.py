"""The HTTP layer: retries on 429/5xx honouring Retry-After, none on 4xx, one-line
errors with a fix, and no API key in any error, log line or output."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

import httpx
import pytest

from pytest_voicetest.importers import import_agent
from pytest_voicetest.platforms import PlatformError, RetryPolicy, list_agents, pull, push
from pytest_voicetest.platforms.http import display_url

from .conftest import PLATFORMS
from .platform_fakes import BLAND_PATHWAY, KEYS


def recording_policy(**overrides: Any) -> tuple[RetryPolicy, list[float]]:
    slept: list[float] = []
    return RetryPolicy(sleep=slept.append, **{"base_delay": 0.01, "max_delay": 5.0, **overrides}), slept


def test_429_waits_what_retry_after_asks_then_succeeds(serve: Any) -> None:
    fake = serve("bland")
    fake.seed(BLAND_PATHWAY)
    fake.fail_next(429, retry_after="2", times=2)
    policy, slept = recording_policy()
    assert len(list_agents("bland", policy=policy)) == 1
    assert slept == [2.0, 2.0] and len(fake.calls()) == 3


def test_retry_after_is_capped_and_an_http_date_is_understood(serve: Any) -> None:
    fake = serve("vapi")
    fake.fail_next(429, retry_after="3600")
    fake.fail_next(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    policy, slept = recording_policy(max_delay=1.5)
    assert list_agents("vapi", policy=policy) == []
    assert slept == [1.5, 0.0]


def test_telnyx_rate_limit_reset_header_is_honoured(serve: Any) -> None:
    fake = serve("telnyx")
    fake.fail_next(429, headers={"x-ratelimit-reset": "0.25"})
    policy, slept = recording_policy()
    assert list_agents("telnyx", policy=policy) == []
    assert slept == [0.25]


def test_5xx_without_retry_after_backs_off_exponentially_and_gives_up_clearly(serve: Any) -> None:
    fake = serve("retell")
    fake.fail_next(502, times=10)
    policy, slept = recording_policy(max_retries=3, base_delay=1.0, max_delay=3.0)
    with pytest.raises(PlatformError, match=r"^retell: server error HTTP 502 on POST /v2/list-agents.*Fix: the platform is failing"):
        list_agents("retell", policy=policy)
    assert len(fake.calls()) == 4 and len(slept) == 3
    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0 and 1.5 <= slept[2] <= 3.0


def test_a_create_is_not_repeated_after_a_5xx_but_is_after_a_429(serve: Any) -> None:
    fake = serve("telnyx")
    graph = import_agent(PLATFORMS / "telnyx/sample_assistant.json")
    fake.fail_next(500)
    policy, slept = recording_policy()
    with pytest.raises(PlatformError, match="HTTP 500 on POST /ai/assistants"):
        push("telnyx", graph, policy=policy)
    assert len(fake.calls("POST")) == 1 and slept == [] and not fake.assistants
    fake.fail_next(429, retry_after="0")
    assert push("telnyx", graph, policy=policy).created and len(fake.assistants) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_other_4xx_are_never_retried(serve: Any, status: int) -> None:
    fake = serve("vapi")
    fake.fail_next(status)
    policy, slept = recording_policy()
    with pytest.raises(PlatformError, match=f"HTTP {status}"):
        list_agents("vapi", policy=policy)
    assert len(fake.calls()) == 1 and slept == []


def test_a_refused_key_says_how_to_fix_it_without_showing_it(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    serve("bland")
    wrong = "wrongBlandKeyZZ0011223344"
    monkeypatch.setenv("BLAND_API_KEY", wrong)
    with pytest.raises(PlatformError) as caught:
        list_agents("bland")
    text = str(caught.value)
    assert text == (
        "bland: the API key was refused (HTTP 401 on GET /v1/pathway): Invalid API key "
        "Fix: run `voicetest platform login bland --replace`, or set BLAND_API_KEY to a valid key"
    )
    assert wrong not in text


@pytest.mark.parametrize(
    ("platform", "vendor_text"),
    [("retell", "Invalid API Key."), ("vapi", "Unauthorized"), ("bland", "Invalid API key"), ("telnyx", "The API key is invalid.")],
)
def test_each_vendors_401_is_read_and_a_request_without_key_is_refused(
    serve: Any, monkeypatch: pytest.MonkeyPatch, platform: str, vendor_text: str
) -> None:
    fake = serve(platform)
    assert httpx.get(f"{fake.base_url}/anything").status_code == 401
    monkeypatch.setenv(f"{platform.upper()}_API_KEY", "notTheRightKey0123456789")
    with pytest.raises(PlatformError, match=f"^{platform}: the API key was refused \\(HTTP 401 on .*\\): {re.escape(vendor_text)} Fix: run"):
        list_agents(platform)


def test_bland_gets_the_bare_key_and_the_others_a_bearer_token(serve: Any) -> None:
    fakes = {name: serve(name) for name in ("retell", "vapi", "bland", "telnyx")}
    for name in fakes:
        list_agents(name)
    assert fakes["bland"].calls()[0].authorization == KEYS["bland"]
    assert {fakes[n].calls()[0].authorization for n in ("retell", "vapi", "telnyx")} == {f"Bearer {KEYS[n]}" for n in ("retell", "vapi", "telnyx")}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>Bad gateway page</html>", "answered GET /assistant with a body that is not JSON"),
        (b'{"unexpected": true}', "unexpected answer to GET /assistant: expected a JSON list, got dict"),
        (b'[{"name": "no id"}]', "unexpected answer to GET /assistant: field 'id' is missing"),
    ],
)
def test_malformed_vendor_json_is_one_clear_error(serve: Any, raw: bytes, message: str) -> None:
    fake = serve("vapi")
    fake.fail_next(200, raw=raw)
    with pytest.raises(PlatformError, match=f"^vapi: {message}.*Fix: check the base URL"):
        list_agents("vapi")


def test_a_vendor_error_that_echoes_the_key_is_masked(serve: Any) -> None:
    fake = serve("telnyx")
    echo = f'{{"errors": [{{"detail": "key {KEYS["telnyx"]} lacks permission"}}]}}'.encode()
    fake.fail_next(403, raw=echo)
    with pytest.raises(PlatformError) as caught:
        pull("telnyx", "assistant_1")
    assert KEYS["telnyx"] not in str(caught.value) and "key *** lacks permission" in str(caught.value)


def test_an_unreachable_host_is_one_error_after_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("RETELL_API_KEY", KEYS["retell"])
    policy, slept = recording_policy(max_retries=2)
    with pytest.raises(PlatformError) as caught:
        pull("retell", "agent_1", base_url=f"http://127.0.0.1:{port}/", policy=policy)
    assert str(caught.value) == (
        f"retell: cannot reach http://127.0.0.1:{port} (ConnectError on GET /get-agent/agent_1) "
        "Fix: check the network, or the base URL (--base-url / RETELL_BASE_URL)"
    )
    assert len(slept) == 2


def test_display_url_drops_credentials_query_and_fragment() -> None:
    assert display_url("https://u:p@api.example.com:8443/v2?token=abc#x") == "https://api.example.com:8443/v2"


def test_no_key_reaches_any_log_line_even_at_debug(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fakes = {name: serve(name) for name in ("retell", "vapi", "bland", "telnyx")}
    fakes["retell"].fail_next(429, retry_after="0")
    policy, _ = recording_policy()
    for name in fakes:
        list_agents(name, policy=policy)
        with pytest.raises(PlatformError):
            pull(name, "missing_1", policy=policy)
    assert "GET /get-agent/missing_1 -> 404" in caplog.text and "HTTP 429, retry 1" in caplog.text
    for key in KEYS.values():
        assert key not in caplog.text
