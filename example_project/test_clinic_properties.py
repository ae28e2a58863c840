"""A property test of the clinic graph: no caller script can reach scheduling unverified."""

from conftest import AGENTS
from hypothesis import given, settings

from pytest_voicetest import api
from pytest_voicetest.importers import load_agent_file
from pytest_voicetest.strategies import scripts

CLINIC = load_agent_file(AGENTS / "clinic_flow.json")


@settings(max_examples=40, deadline=None)
@given(scripts(CLINIC, max_turns=6))
def test_schedule_is_only_reached_through_lookup(steps):
    result = api.run_test({"name": "property", "script": steps, "max_turns": 6, "includes": ["."]}, CLINIC, project=AGENTS.parent)
    path = result.nodes_visited
    if "schedule" in path:
        assert "lookup" in path[: path.index("schedule")]
    assert result.turn_count <= 6
