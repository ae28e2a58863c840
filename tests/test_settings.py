"""Settings files, environment overrides, writing, and masking of secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_voicetest.config.settings import Settings, apply_env, dump_settings, load_settings, masked, update_settings, write_settings
from pytest_voicetest.errors import InputError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings == Settings()
    assert settings.run.max_turns == 20


def test_pyproject_table_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.voicetest.models]\nagent = "openai/gpt-4o-mini"\n\n[tool.voicetest.run]\nmax_turns = 8\n'
    )
    sub = tmp_path / "tests" / "deep"
    sub.mkdir(parents=True)
    settings = load_settings(sub, environ={})
    assert settings.models.agent == "openai/gpt-4o-mini"
    assert settings.run.max_turns == 8


def test_own_file_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.voicetest.models]\nagent = "from-pyproject"\n')
    (tmp_path / ".voicetest.toml").write_text('[models]\nagent = "from-own-file"\n')
    assert load_settings(tmp_path, environ={}).models.agent == "from-own-file"


def test_environment_overrides_run_options(tmp_path: Path) -> None:
    (tmp_path / ".voicetest.toml").write_text("[run]\nmax_turns = 8\n")
    settings = load_settings(tmp_path, environ={"VOICETEST_MAX_TURNS": "3", "VOICETEST_CONCURRENCY": "4"})
    assert (settings.run.max_turns, settings.run.concurrency) == (3, 4)


def test_bad_values_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / ".voicetest.toml").write_text('[run]\nmax_turns = "many"\n')
    with pytest.raises(InputError, match=r"\.voicetest\.toml: run\.max_turns: .*integer"):
        load_settings(tmp_path, environ={})
    (tmp_path / ".voicetest.toml").write_text("[run]\nmax_turnz = 3\n")
    with pytest.raises(InputError, match=r"run\.max_turnz"):
        load_settings(tmp_path, environ={})
    (tmp_path / ".voicetest.toml").write_text("[run\n")
    with pytest.raises(InputError, match="invalid TOML"):
        load_settings(tmp_path, environ={})


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    settings = update_settings(
        Settings(),
        {"models.agent": "openai/gpt-4o-mini", "run.max_turns": "9", "run.allow_real_tools": "true", "env.OPENAI_API_BASE": 'http://x/"q"'},
    )
    write_settings(settings, tmp_path)
    again = load_settings(tmp_path, environ={})
    assert again == settings
    assert again.run.allow_real_tools is True
    assert "max_turns = 9" in dump_settings(settings)
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        update_settings(settings, {"colour": "red"})


def test_env_table_does_not_override_real_variables_and_is_masked() -> None:
    settings = Settings(env={"OPENAI_API_KEY": "sk-from-file-123456", "LOCAL_BASE": "http://127.0.0.1"})
    environ = {"OPENAI_API_KEY": "sk-real"}
    assert apply_env(settings, environ) == ["LOCAL_BASE"]
    assert environ["OPENAI_API_KEY"] == "sk-real"
    assert masked(settings)["env"] == {"OPENAI_API_KEY": "***", "LOCAL_BASE": "http://127.0.0.1"}
