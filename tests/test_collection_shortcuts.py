"""Short cuts taken while collecting give what the long way gives: real paths as
`Path.resolve()` gives them, agent files cached on what the file is (not only on its name),
a test's own models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.config.resolve import resolve_config
from pytest_voicetest.errors import InputError
from pytest_voicetest.importers import load_agent_file
from pytest_voicetest.models.testcase import Models, own_models
from pytest_voicetest.run import testfile
from pytest_voicetest.run.testfile import load_file

AGENT = Path(__file__).parent / "fixtures/platforms/retell/sample_config_complex.json"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "real/sub").mkdir(parents=True)
    (tmp_path / "real/file.json").write_text("{}")
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    (tmp_path / "deep").symlink_to(tmp_path / "real/sub")
    (tmp_path / "real/alias.json").symlink_to(tmp_path / "real/file.json")
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    (tmp_path / "loops").symlink_to(tmp_path / "loops")
    return tmp_path


@pytest.mark.parametrize(
    "relative",
    [
        "real/file.json",
        "linked/file.json",
        "real/alias.json",
        "linked/alias.json",
        "real/missing.json",
        "linked/../real/file.json",
        "deep/../file.json",
        "deep/../../real/file.json",
        "real/..",
        "deep/..",
    ],
)
def test_real_paths_are_what_resolve_gives(tree: Path, relative: str) -> None:
    config = resolve_config(tree)
    assert config.real_path(tree / relative) == (tree / relative).resolve()
    assert config.real_path(tree / relative) == (tree / relative).resolve()  # again, from the folder cache


def test_a_relative_path_is_taken_from_the_working_folder(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "linked")
    assert resolve_config(tree).real_path(Path("file.json")) == tree.resolve() / "real/file.json"
    assert resolve_config(tree).real_path(Path(".")) == tree.resolve() / "real"
    assert resolve_config(tree).real_path(Path("/")) == Path("/")


@pytest.mark.parametrize("relative", ["loop.json", "loops/file.json", "loops/sub/file.json"])
def test_a_symlink_loop_is_left_as_is(tree: Path, relative: str) -> None:
    assert resolve_config(tree).real_path(tree / relative) == Path(os.path.realpath(tree / relative))


def test_each_run_works_folders_out_again(tree: Path) -> None:
    assert resolve_config(tree).real_path(tree / "linked/file.json") == tree.resolve() / "real/file.json"
    (tree / "other").mkdir()
    (tree / "linked").unlink()
    (tree / "linked").symlink_to(tree / "other")
    assert resolve_config(tree).real_path(tree / "linked/file.json") == tree.resolve() / "other/file.json"


def test_an_agent_file_replaced_with_the_same_size_and_time_is_read_again(tmp_path: Path) -> None:
    """Editors save by writing a new file and renaming it over the old one."""
    path = tmp_path / "agent.json"
    path.write_text(AGENT.read_text())
    first = load_agent_file(path)
    before = path.stat()
    replacement = tmp_path / "agent.json.new"
    replacement.write_text(AGENT.read_text().replace("Acme Healthcare. Be", "Acme Healthcare! Be", 1))
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert replacement.stat().st_size == before.st_size
    os.replace(replacement, path)
    assert "Healthcare!" in str(load_agent_file(path).model_dump())
    assert "Healthcare!" not in str(first.model_dump())


def test_a_test_file_through_a_symlinked_folder_gets_its_real_id_and_agent(tmp_path: Path) -> None:
    (tmp_path / "suites/voice").mkdir(parents=True)
    (tmp_path / "suites/agent.json").write_text(AGENT.read_text())
    (tmp_path / "suites/voice/test_one.yaml").write_text(
        "agent: ../agent.json\ntests:\n  - name: hello\n    user_prompt: Say hello.\n    includes: [hello]\n"
    )
    (tmp_path / "voice").symlink_to(tmp_path / "suites/voice")
    [planned] = load_file(tmp_path / "voice/test_one.yaml", resolve_config(tmp_path))
    assert planned.test_id == "suites/voice/test_one.yaml::hello"
    assert planned.agent_path == (tmp_path / "suites/agent.json").resolve()


@pytest.mark.parametrize("entry", [{}, {"models": None}, {"models": {}}, {"models": {"judge": "openai/gpt-4o"}}])
def test_a_test_without_models_of_its_own_names_none(entry: dict[str, Any]) -> None:
    assert own_models(entry) == Models.model_validate(entry.get("models") or {}).model_dump()


def test_an_agent_path_that_is_not_a_file_says_what_it_is(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(InputError, match="pipe.json: not a regular file .* not a file to read"):
        load_agent_file(tmp_path / "pipe.json")
    with pytest.raises(InputError, match="a folder, not a file to read"):
        load_agent_file(tmp_path)
    with pytest.raises(InputError, match="missing.json: file not found"):
        load_agent_file(tmp_path / "missing.json")


def test_the_files_of_a_folder_share_one_read_of_their_agent_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agent.json").write_text(AGENT.read_text())
    for name in ("test_one.yaml", "test_two.yaml"):
        (tmp_path / name).write_text("agent: agent.json\ntests:\n  - name: hello\n    user_prompt: Say hello.\n    includes: [hello]\n")
    reads: list[Path] = []
    monkeypatch.setattr(testfile, "load_agent_file", lambda path, format: reads.append(path) or load_agent_file(path, format))
    config = resolve_config(tmp_path)
    first, second = (load_file(tmp_path / name, config)[0] for name in ("test_one.yaml", "test_two.yaml"))
    assert reads == [tmp_path.resolve() / "agent.json"]
    assert first.graph is second.graph
    (tmp_path / "agent.json").write_text(AGENT.read_text().replace("Acme Healthcare. Be", "Acme Healthcare!! Be", 1))  # a new size
    assert "Healthcare!" not in str(load_file(tmp_path / "test_one.yaml", config)[0].graph.model_dump())  # as first read, this run
    assert "Healthcare!" in str(load_file(tmp_path / "test_one.yaml", resolve_config(tmp_path))[0].graph.model_dump())  # the next run
    assert len(reads) == 2
