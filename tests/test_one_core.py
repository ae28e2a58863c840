"""Nothing reports green while testing nothing, and one config serves every door."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_voicetest import api
from pytest_voicetest.config.settings import RunOptions
from pytest_voicetest.errors import InputError
from pytest_voicetest.testing.server import FakeLLMServer

from .conftest import PLATFORMS

AGENT = "agents/flow.json"
HARNESS_TESTS = [
    {"name": "greets", "type": "unit", "includes": ["hello"], "script": [{"agent": "Hello there"}, {"hangup": True}]},
    {"name": "needs a model", "user_prompt": "Ask for help", "metrics": ["The agent helped"]},
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "agents").mkdir()
    shutil.copy(PLATFORMS / "retell/sample_config.json", tmp_path / AGENT)
    (tmp_path / "tests.json").write_text(json.dumps(HARNESS_TESTS))
    (tmp_path / "test_from_json.yaml").write_text(f"agent: {AGENT}\ntests_from: tests.json\n")
    return tmp_path


def cli(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_voicetest.cli", *args], cwd=folder, capture_output=True, text=True, timeout=300, env=env)


def test_tests_from_runs_through_every_door(folder: Path) -> None:
    done = cli(folder, "run", "test_from_json.yaml", "--json")
    results = {r["test_id"]: r["status"] for r in json.loads(done.stdout)["results"]}
    assert results == {"test_from_json.yaml::greets": "pass", "test_from_json.yaml::needs a model": "skipped"}
    assert done.returncode == 0
    run = api.run_tests(folder / "test_from_json.yaml")
    assert {r.test_id: r.status for r in run.results} == results
    exported = json.loads(cli(folder, "export-tests", "test_from_json.yaml").stdout)
    assert [t["name"] for t in exported] == ["greets", "needs a model"]


def test_a_run_that_tests_nothing_is_not_green(folder: Path) -> None:
    (folder / "tests.json").write_text(json.dumps(HARNESS_TESTS[1:]))
    done = cli(folder, "run", "test_from_json.yaml")
    assert done.returncode == 5
    assert "no test ran: all 1 were skipped (no agent, simulator, judge model configured" in done.stderr
    with pytest.raises(api.NothingRan, match="no test ran: all 1 were skipped") as raised:
        api.run_tests(folder / "test_from_json.yaml")
    assert raised.value.run.results[0].status == "skipped"
    nothing = cli(folder, "run", "test_from_json.yaml", "-k", "no such test")
    assert nothing.returncode == 5 and "nothing matched the selection" in nothing.stderr


@pytest.mark.slow
def test_strict_turns_missing_models_into_failures_and_the_summary_counts_them(folder: Path) -> None:
    lenient = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert lenient.returncode == 0
    assert "1 LLM test(s) skipped: no model configured" in lenient.stdout
    strict = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--vt-strict"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert strict.returncode == 1
    assert "strict mode: no agent, simulator, judge model configured" in strict.stdout
    (folder / "pytest.ini").write_text("[pytest]\nvoicetest_strict = true\n")
    assert subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=folder, capture_output=True, timeout=300).returncode == 1
    assert cli(folder, "run", ".", "--strict").returncode == 1


def test_auth_errors_fail_at_once_and_the_retry_count_is_real(folder: Path) -> None:
    case = {"name": "t", "user_prompt": "hi", "includes": ["x"]}
    with FakeLLMServer(lambda body: {"status": 401, "error": "Incorrect API key provided"}) as server:
        result = api.run_test(case, folder / AGENT, models={"agent": "openai/a", "simulator": "openai/s"}, api_base=server.api_base, project=folder)
        assert server.stats.requests == 1
    assert result.status == "error" and "authentication failed" in result.error_message and "not retried" in result.error_message
    assert (result.usage.calls, result.usage.retries) == (1, 0)
    with FakeLLMServer() as server:
        server.inject("500", "429")
        result = api.run_test(case, folder / AGENT, models={"agent": "openai/a", "simulator": "openai/s"}, api_base=server.api_base, project=folder)
    assert result.usage.retries == 2 and result.usage.calls == server.stats.requests


@pytest.mark.slow
def test_settings_env_reaches_the_model_call_in_the_cli_and_the_api(folder: Path) -> None:
    (folder / ".voicetest.toml").write_text('[env]\nOPENAI_API_KEY = "sk-from-settings-0123456789"\n')
    (folder / "tests.json").write_text(json.dumps([{"name": "simulated", "user_prompt": "hi", "includes": ["happy"]}]))
    env = {k: v for k, v in __import__("os").environ.items() if k != "OPENAI_API_KEY"}
    code = textwrap.dedent("""
        from pytest_voicetest import api
        run = api.run_tests("test_from_json.yaml", models={"agent": "openai/a", "simulator": "openai/s"}, api_base={base!r})
        print(run.results[0].status)
    """)
    with FakeLLMServer() as server:
        done = cli(
            folder, "run", "test_from_json.yaml", "--agent-model", "openai/a", "--simulator-model", "openai/s", "--api-base", server.api_base, env=env
        )
        assert done.returncode == 0, done.stdout + done.stderr
        seen_by_cli = set(server.stats.authorization_seen)
        server.stats.authorization_seen.clear()
        by_api = subprocess.run(
            [sys.executable, "-c", code.replace("{base!r}", repr(server.api_base))], cwd=folder, capture_output=True, text=True, timeout=300, env=env
        )
        assert by_api.stdout.split() == ["pass"], by_api.stderr
        seen_by_api = set(server.stats.authorization_seen)
    assert seen_by_cli == seen_by_api == {"Bearer sk-from-settings-0123456789"}


def test_api_options_take_a_dict_or_run_options_and_honour_every_field(folder: Path) -> None:
    case = {"name": "t", "models": {"agent": "scripted"}, "script": [{"agent": "hi"}], "includes": ["hi"]}
    pinned = api.run_test(case, folder / AGENT, models={"agent": "openai/cli"}, options={"test_model_precedence": True}, project=folder)
    assert pinned.models_used["agent"] == "scripted"
    assert pinned.model_overrides[0].reason == "test_model_precedence keeps the test's model over the command line"
    same = api.run_test(case, folder / AGENT, models={"agent": "openai/cli"}, options=RunOptions(test_model_precedence=True), project=folder)
    assert same.models_used == pinned.models_used
    with pytest.raises(InputError, match="unknown run option 'options\\['max_turnz'\\]'"):
        api.run_test(case, folder / AGENT, options={"max_turnz": 3}, project=folder)
    with pytest.raises(InputError, match="options must be a RunOptions or a dict of its fields, not list"):
        api.run_test(case, folder / AGENT, options=[1], project=folder)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"options\['max_cost'\]: Input should be a finite number"):
        api.run_test(case, folder / AGENT, options={"max_cost": float("nan")}, project=folder)


def test_scripted_recorded_and_replayed_runs_never_import_litellm(folder: Path) -> None:
    probe = textwrap.dedent("""
        import sys, pytest
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-k", "greets"])
        from pytest_voicetest import api
        api.run_tests("test_from_json.yaml", select="greets")
        print("LITELLM" if "litellm" in sys.modules else "NO-LITELLM", int(code))
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.stdout.split()[-2:] == ["NO-LITELLM", "0"], done.stdout[-2000:]
