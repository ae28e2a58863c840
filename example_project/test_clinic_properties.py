"""A property test of the clinic graph: no caller script can reach scheduling unverified."""

import asyncio

from hypothesis import given, settings

from pytest_voicetest.importers import load_agent_file
from pytest_voicetest.llm.client import LLMClient
from pytest_voicetest.llm.models import resolve_models
from pytest_voicetest.models.testcase import TestCase
from pytest_voicetest.runner import TestRun, run_test
from pytest_voicetest.strategies import scripts

from conftest import AGENTS

CLINIC = load_agent_file(AGENTS / "clinic_flow.json")
SCRIPTED = resolve_models(cli={}, test={}, file_defaults={}, settings={}, environment={}, graph_default=None, scripted=True)


@settings(max_examples=40, deadline=None)
@given(scripts(CLINIC, max_turns=6))
def test_schedule_is_only_reached_through_lookup(steps):
    case = TestCase(name="property", script=steps, max_turns=6, includes=["."])
    result = asyncio.run(run_test(TestRun(test=case, test_id="property", graph=CLINIC, models=SCRIPTED), LLMClient))
    path = result.nodes_visited
    if "schedule" in path:
        assert "lookup" in path[: path.index("schedule")]
    assert result.turn_count <= 6
