"""The pytest plugin (entry point `pytest_voicetest.plugin`): hooks and fixtures.

This module only re-exports them, so the entry point stays while the inside grows:
options, state, items, fixtures and the results collector live in their own modules.
"""

from .fixtures import voicesim_result, voicetest_agent, voicetest_run, voicetest_settings
from .hooks import (
    pytest_addoption,
    pytest_collect_file,
    pytest_collection_finish,
    pytest_configure,
    pytest_configure_node,
    pytest_generate_tests,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
    pytest_unconfigure,
)

__all__ = [
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_collection_finish",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_unconfigure",
    "voicesim_result",
    "voicetest_agent",
    "voicetest_run",
    "voicetest_settings",
]
