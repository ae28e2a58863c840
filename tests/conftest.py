"""Shared fixtures: the vendor exports, a local OpenAI-compatible server, pytester setup."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pytest_voicetest.testing.server import FakeLLMServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
pytest_plugins = ["tests.platform_fakes"]  # the platform fakes' fixtures

TESTS = Path(__file__).parent
PLATFORMS = TESTS / "fixtures" / "platforms"
OWN = TESTS / "fixtures" / "own"


@pytest.fixture
def platforms() -> Path:
    return PLATFORMS


@pytest.fixture
def llm_server():
    """A fresh local OpenAI-compatible server (127.0.0.1, bounded requests and hangs)."""
    with FakeLLMServer(max_requests=2000, max_hang=5.0) as server:
        yield server


@pytest.fixture(scope="session")
def preloaded() -> None:
    """Import the heavy modules once, before any pytester exists.

    pytester restores `sys.modules` to what it was when it was created; a module first
    imported during a test would be dropped afterwards: litellm would be re-imported
    (2-4 s) by every test and loses its global state, and numpy's C core cannot load twice.
    """
    import importlib

    from pytest_voicetest.llm.client import litellm_module

    litellm_module()
    for name in (
        "numpy",
        "matplotlib.pyplot",
        "httpcore",
        "httpx",
        "pytest_voicetest.platforms.ops",
        "pytest_voicetest.voicesim.runs",
        "pytest_voicetest.run.sweeps",
    ):
        try:
            importlib.import_module(name)
        except ImportError:  # optional extras
            pass


@pytest.fixture
def project(preloaded: None, pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester project with the vendor exports under agents/ and no stray settings."""
    agents = pytester.path / "agents"
    shutil.copytree(PLATFORMS, agents)
    shutil.copytree(OWN, agents / "own")
    pytester.makeini("[pytest]\n")
    for name in ("VOICETEST_MODEL", "VOICETEST_AGENT_MODEL", "VOICETEST_SIMULATOR_MODEL", "VOICETEST_JUDGE_MODEL"):
        pytester._monkeypatch.delenv(name, raising=False)
    return pytester
