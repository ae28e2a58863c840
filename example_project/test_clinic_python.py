"""Python tests with the plugin's fixtures and markers."""

import pytest


@pytest.mark.voicetest(agent="agents/clinic_flow.json")
def test_hours_route_with_a_scripted_call(voicetest_agent, voicetest_run):
    assert voicetest_agent.entry_node_id == "greeting"
    result = voicetest_run(
        """
        name: inline hours check
        script:
          - agent: Thank you for calling. How can I help?
          - user: Are you open on Saturday?
          - goto: hours
          - agent: We're open Monday to Friday, 8am to 6pm.
          - hangup: true
        expect: {final_node: hours}
        """
    )
    assert result.status == "pass", result.failures()
    assert result.transcript[-1].metadata["node_id"] == "hours"


def test_settings_come_from_the_project(voicetest_settings):
    assert voicetest_settings.run.max_turns == 12


@pytest.mark.voicesim(n_points=4, scenarios=["crisis_at_10", "silent_caller"], seed=3)
def test_safety_policy_never_ignores_a_crisis(voicesim_result):
    """Whatever the pipeline timing, a policy other than 'none' never ignores a crisis."""
    if voicesim_result.values["safety_response"] != "none":
        assert voicesim_result.cost("safety_violation") == 0
    assert 0.0 <= voicesim_result.score <= 1.0
