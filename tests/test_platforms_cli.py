"""`voicetest platform ...` against the local fakes: one-line errors with exit 2, JSON
output, keys read from a hidden prompt or the environment, and never printed."""

from __future__ import annotations

import argparse
import importlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.cli import platform as platform_cli
from pytest_voicetest.platforms.credentials import credentials_path

from .conftest import PLATFORMS
from .platform_fakes import BLAND_PATHWAY, KEYS

cli_main = importlib.import_module("pytest_voicetest.cli.main")


@pytest.fixture(autouse=True)
def platform_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register `voicetest platform` in the parser if cli/main.py does not yet."""
    original = cli_main.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "platform" not in sub.choices:
            platform_cli.add_parser(sub)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", build)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main.main(["platform", *args])
    out, err = capsys.readouterr()
    for key in KEYS.values():
        assert key not in out and key not in err, "an API key reached the terminal"
    return code, out, err


def test_login_reads_a_hidden_prompt_stores_masked_and_refuses_a_second_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or KEYS["retell"])
    assert run(capsys, "login", "retell") == (0, "retell: key vtre…3928 stored\n", "")
    assert prompts == ["retell API key (hidden): "]
    assert json.loads(credentials_path().read_text())["retell"]["api_key"] == KEYS["retell"]

    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda: next(answers))
    code, out, err = run(capsys, "login", "retell")  # asked at the terminal (on stderr), and declined
    assert (code, out) == (2, "")
    assert err.startswith("retell is already configured (key vtre…3928); replace it? [y/N] voicetest: error: ")
    assert err.split("[y/N] ")[1] == (
        "voicetest: error: platform: retell is already configured (key vtre…3928) Fix: pass --replace (replace=True) "
        "to store the new key, or run `voicetest platform logout retell` first\n"
    )
    assert run(capsys, "login", "retell")[0] == 0  # asked, and accepted
    assert run(capsys, "login", "retell", "--replace")[0] == 0
    code, out, _ = run(capsys, "status", "--json")
    assert json.loads(out)[0] == {"platform": "retell", "configured": True, "source": "file", "key": "vtre…3928"}
    assert run(capsys, "logout", "retell") == (0, "retell: stored key removed\n", "")


def test_login_reads_a_piped_key_and_refuses_an_empty_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "login", "bland")
    assert code == 2 and "key: no key was given Fix: type it at the prompt, pipe it on stdin, or export BLAND_API_KEY" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(KEYS["bland"] + "\n"))
    assert run(capsys, "login", "bland")[0] == 0
    assert json.loads(credentials_path().read_text())["bland"]["api_key"] == KEYS["bland"]


def test_login_from_the_environment_and_never_from_argv(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "login", "vapi", "--from-env")
    assert (
        code == 2
        and err == "voicetest: error: --from-env: VAPI_API_KEY is not set Fix: export VAPI_API_KEY=... first, or drop --from-env to type the key\n"
    )
    monkeypatch.setenv("VAPI_API_KEY", KEYS["vapi"])
    assert run(capsys, "login", "vapi", "--from-env", "--json")[0] == 0
    with pytest.raises(SystemExit) as exited:
        cli_main.main(["platform", "login", "vapi", "secretKeyOnTheCommandLine"])
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_list_pull_push_diff_and_sync_through_the_cli(serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = serve("retell")
    agent_id = fake.seed(json.loads((PLATFORMS / "retell/sample_llm_dashboard_export.json").read_text()))
    code, out, _ = run(capsys, "list", "retell", "--json")
    assert code == 0 and json.loads(out) == [{"id": agent_id, "name": "Acme Healthcare Receptionist", "kind": "agent"}]

    target = tmp_path / "clinic.json"
    code, out, _ = run(capsys, "pull", "retell", agent_id, "-o", str(target))
    assert code == 0 and out == f"pulled retell agent {agent_id} into {target}\n"
    assert json.loads(target.read_text())["retellLlmData"]["states"][0]["name"] == "greeting"

    assert run(capsys, "diff", "retell", str(target), "--agent-id", agent_id) == (0, "no changes: the platform matches the file\n", "")
    config = json.loads(target.read_text())
    config["retellLlmData"]["begin_message"] = "Good morning, Acme Healthcare."
    target.write_text(json.dumps(config))
    code, out, _ = run(capsys, "diff", "retell", str(target), "--agent-id", agent_id, "--json")
    assert json.loads(out)["changes"] == [
        '~ greeting: "Hello! Thank you for calling Acme Healthcare. How can I help you toda…" -> "Good morning, Acme Healthcare."'
    ]

    code, out, _ = run(capsys, "sync", "retell", str(target), "--agent-id", agent_id)
    assert code == 1 and "not pushed: 1 change(s) pending; run with --yes to push" in out and not fake.calls("PATCH")
    code, out, _ = run(capsys, "sync", "retell", str(target), "--agent-id", agent_id, "--yes")
    assert code == 0 and out.endswith(f"pushed 1 change(s) to retell agent {agent_id}\n")
    assert run(capsys, "sync", "retell", str(target), "--agent-id", agent_id, "--yes")[1] == "no changes: the platform matches the file\n"

    code, out, _ = run(capsys, "push", "retell", str(target), "--name", "Copy")
    new_id = out.strip()
    assert code == 0 and new_id in fake.agents and fake.agents[new_id]["agent_name"] == "Copy"


def test_base_url_flag_points_at_another_host(serve: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve("telnyx")
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:9/v2")
    fake.seed(json.loads((PLATFORMS / "telnyx/sample_assistant.json").read_text()))
    code, out, _ = run(capsys, "list", "telnyx", "--base-url", fake.base_url)
    assert code == 0 and out.startswith("assistant_0001  assistant Pizza Order Bot")


def test_pull_without_output_prints_the_config(serve: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake = serve("bland")
    pathway = fake.seed(BLAND_PATHWAY)
    code, out, _ = run(capsys, "pull", "bland", pathway)
    assert code == 0 and json.loads(out)["pathway_id"] == pathway


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "retel"], "platform: unknown platform 'retel' (did you mean 'retell'?) Fix: use one of: retell, vapi, bland, telnyx"),
        (["list", "vapi"], "platform: no API key for vapi Fix: set VAPI_API_KEY, or run `voicetest platform login vapi`"),
        (
            ["pull", "bland", "missing_1"],
            "bland: pathway 'missing_1' not found (HTTP 404 on GET /v1/pathway/missing_1) Fix: check the id with `voicetest platform list bland`",
        ),
        (["pull", "bland", "a b"], "agent_id: 'a b' is not a bland agent id"),
        (["push", "bland", "nowhere.json"], "nowhere.json: file not found Fix: check the path"),
        (["diff", "bland", "x.json"], "the following arguments are required: --agent-id"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(serve: Any, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    serve("bland")
    try:
        code, out, err = run(capsys, *args)
    except SystemExit as exited:
        code, out, err = int(exited.code or 0), *capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("voicetest: error: ") and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_sync_asks_at_a_terminal_and_pushes_on_yes(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = serve("vapi")
    assistant = fake.seed("assistant", json.loads((PLATFORMS / "vapi/sample_assistant_simple.json").read_text()))
    target = tmp_path / "assistant.json"
    config = json.loads((PLATFORMS / "vapi/sample_assistant_simple.json").read_text())
    config["firstMessage"] = "Hi there!"
    target.write_text(json.dumps(config))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: "y")
    code, out, err = run(capsys, "sync", "vapi", str(target), "--agent-id", assistant)
    assert code == 0 and err == "push these 1 change(s)? [y/N] "
    assert out.startswith('~ greeting: "') and out.endswith(f"pushed 1 change(s) to vapi agent {assistant}\n")
    assert fake.store["assistant"][assistant]["firstMessage"] == "Hi there!"
