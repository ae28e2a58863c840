"""Platform operations against local fakes: list with pagination, pull into importable
shapes, push (create and update), diff, sync, and round trips that keep the graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.errors import InputError
from pytest_voicetest.exporters.native import to_native
from pytest_voicetest.importers import import_agent
from pytest_voicetest.models.graph import graph_from_data
from pytest_voicetest.platforms import PlatformError, diff, import_remote, list_agents, pull, push, sync
from pytest_voicetest.platforms.compare import changes, graph_view
from pytest_voicetest.platforms.retell import RetellClient
from pytest_voicetest.platforms.telnyx import TelnyxClient
from pytest_voicetest.platforms.vapi import VapiClient

from .conftest import PLATFORMS
from .platform_fakes import BLAND_PATHWAY


def load(relative: str) -> dict[str, Any]:
    return json.loads((PLATFORMS / relative).read_text())


def seed(fake: Any, platform: str, config: dict[str, Any]) -> str:
    if platform == "vapi":
        return str(fake.seed("squad" if "members" in config else "assistant", config))
    return str(fake.seed(config))


ROUND_TRIPS = [
    ("retell", "retell/sample_llm_dashboard_export.json", "retell_llm"),
    ("retell", "retell/demo_healthcare_llm.json", "retell_llm"),
    ("retell", "retell/sample_config_complex.json", "retell_flow"),
    ("retell", "retell/sample_config_logic_split.json", "retell_flow"),
    ("retell", "retell/sample_config_global_nodes.json", "retell_flow"),
    ("retell", "retell/sample_config_extract_variables.json", "retell_flow"),
    ("retell", "retell/sample_config_function_node.json", "retell_flow"),
    ("vapi", "vapi/sample_assistant.json", "vapi_assistant"),
    ("vapi", "vapi/sample_squad.json", "vapi_squad"),
    ("telnyx", "telnyx/sample_assistant.json", "telnyx"),
    ("telnyx", "telnyx/sample_assistant_with_handoff.json", "telnyx"),
    ("bland", None, "bland"),
]


@pytest.mark.parametrize(("platform", "fixture", "source_type"), ROUND_TRIPS, ids=[f"{p}-{f or 'pathway'}" for p, f, _ in ROUND_TRIPS])
def test_pull_import_export_push_pull_keeps_the_graph(serve: Any, platform: str, fixture: str | None, source_type: str) -> None:
    fake = serve(platform)
    agent_id = seed(fake, platform, load(fixture) if fixture else BLAND_PATHWAY)
    first = import_remote(platform, agent_id)
    assert first.source_type == source_type
    original = import_agent(load(fixture) if fixture else {**BLAND_PATHWAY, "pathway_id": agent_id})
    assert graph_view(first) == graph_view(original), "the pull must carry the whole config"

    updated = push(platform, first, agent_id=agent_id)
    assert (updated.id, updated.created) == (agent_id, False)
    assert changes(first, import_remote(platform, agent_id)) == []

    created = push(platform, first)
    assert created.created and created.id != agent_id
    assert changes(first, import_remote(platform, created.id)) == []
    assert diff(platform, first, created.id) == []


def test_a_native_graph_survives_a_retell_flow_round_trip(serve: Any) -> None:
    serve("retell")
    graph = import_agent(load("graphs/graph_with_logic_split.json"))
    graph = graph.model_copy(update={"source_metadata": {"agent": {"voice_id": "11labs-Adrian"}}})
    result = push("retell", graph, name="Router")
    back = import_remote("retell", result.id)
    assert back.source_type == "retell_flow" and back.source_metadata["agent"]["agent_name"] == "Router"
    assert changes(graph, back) == []


def test_retell_pull_is_a_dashboard_export_with_the_engine_inside(serve: Any) -> None:
    fake = serve("retell")
    llm_agent = fake.seed(load("retell/sample_llm_dashboard_export.json"))
    flow_agent = fake.seed(load("retell/sample_config.json"))
    llm = pull("retell", llm_agent)
    flow = pull("retell", flow_agent)
    assert llm["agent_id"] == llm_agent and llm["retellLlmData"]["states"][0]["name"] == "greeting"
    assert flow["response_engine"]["type"] == "conversation-flow" and flow["conversationFlow"]["start_node_id"] == "greeting"
    assert [r.path for r in fake.calls()] == [
        f"/get-agent/{llm_agent}",
        f"/get-retell-llm/{fake.agents[llm_agent]['response_engine']['llm_id']}",
        f"/get-agent/{flow_agent}",
        f"/get-conversation-flow/{fake.agents[flow_agent]['response_engine']['conversation_flow_id']}",
    ]
    assert all(r.authorization == f"Bearer {fake.api_key}" for r in fake.calls())


def test_retell_update_patches_the_engine_and_keeps_its_other_settings(serve: Any) -> None:
    fake = serve("retell")
    agent_id = fake.seed(load("retell/sample_llm_dashboard_export.json"))
    graph = import_remote("retell", agent_id)
    graph.nodes["greeting"].state_prompt = "Greet the patient by name."
    push("retell", graph, agent_id=agent_id)
    patch = fake.calls("PATCH")[-1]
    assert patch.path.startswith("/update-retell-llm/") and not {"llm_id", "version"} & set(patch.body)
    llm = fake.llms[fake.agents[agent_id]["response_engine"]["llm_id"]]
    assert llm["states"][0]["state_prompt"] == "Greet the patient by name."
    assert llm["model_temperature"] == 0, "fields we do not send are kept (PATCH)"


def test_list_follows_each_vendors_pagination(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    retell, vapi, bland, telnyx = (serve(name) for name in ("retell", "vapi", "bland", "telnyx"))
    for _ in range(5):
        retell.seed(load("retell/sample_config.json"))
        vapi.seed("assistant", load("vapi/sample_assistant_simple.json"))
        telnyx.seed(load("telnyx/sample_assistant.json"))
    vapi.seed("squad", load("vapi/sample_squad.json"))
    bland.seed(BLAND_PATHWAY)
    for client in (RetellClient, VapiClient, TelnyxClient):
        monkeypatch.setattr(client, "page_size", 2)

    retell_agents = list_agents("retell")
    assert len({a.id for a in retell_agents}) == 5 and len(retell.calls()) == 3
    assert [r.query.get("pagination_key") for r in retell.calls()] == [None, retell_agents[1].id, retell_agents[3].id]
    vapi_agents = list_agents("vapi")
    assert sorted(a.kind for a in vapi_agents) == ["assistant"] * 5 + ["squad"]
    assert [r.query.get("createdAtLt") is not None for r in vapi.calls()][:3] == [False, True, True]
    assert len(list_agents("telnyx")) == 5 and [r.query["page[number]"] for r in telnyx.calls()] == ["1", "2", "3"]
    assert [(a.kind, a.name) for a in list_agents("bland")] == [("pathway", "Clinic front desk")]


def test_vapi_squad_members_given_by_assistant_id_are_inlined(serve: Any) -> None:
    fake = serve("vapi")
    greeter = fake.seed(
        "assistant",
        {"name": "Greeter", "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "Greet the caller."}]}},
    )
    billing = fake.seed(
        "assistant",
        {"name": "Billing", "model": {"provider": "openai", "model": "gpt-4o", "messages": [{"role": "system", "content": "Handle billing."}]}},
    )
    squad = fake.seed(
        "squad",
        {
            "name": "Desk",
            "members": [
                {
                    "assistantId": greeter,
                    "assistantDestinations": [{"type": "assistant", "assistantName": "Billing", "description": "Billing question"}],
                },
                {"assistantId": billing},
            ],
        },
    )
    graph = import_remote("vapi", squad)
    assert graph.nodes["greeter"].state_prompt == "Greet the caller."
    assert [t.target_node_id for t in graph.nodes["greeter"].transitions] == ["billing"]


def test_vapi_update_keeps_model_settings_and_refuses_a_kind_change(serve: Any) -> None:
    fake = serve("vapi")
    assistant = fake.seed("assistant", load("vapi/sample_assistant.json"))
    graph = import_remote("vapi", assistant)
    graph.nodes["main"].state_prompt = "Be brief."
    push("vapi", graph, agent_id=assistant)
    stored = fake.store["assistant"][assistant]
    assert stored["model"]["messages"] == [{"role": "system", "content": "Be brief."}]
    assert stored["model"]["temperature"] == 0.7 and stored["voice"]["voiceId"] == "sarah"

    squad_graph = import_agent(load("vapi/sample_squad.json"))
    with pytest.raises(InputError, match=r"goes to VAPI as a squad, but .* is a assistant.*push without --agent-id"):
        push("vapi", squad_graph, agent_id=assistant)
    assert not fake.calls("PATCH")[1:]


def test_diff_names_each_change_and_sync_pushes_only_when_confirmed(serve: Any) -> None:
    fake = serve("retell")
    agent_id = fake.seed(load("retell/sample_config.json"))
    local = import_remote("retell", agent_id)
    assert diff("retell", local, agent_id) == []
    data = to_native(local)
    data["nodes"]["billing"]["state_prompt"] = "Help with the bill, then offer a payment plan."
    data["nodes"]["support"]["transitions"] = []
    data["begin_message"] = "Thanks for calling!"
    edited = graph_from_data(data)

    lines = diff("retell", edited, agent_id)
    assert '~ greeting: "" -> "Thanks for calling!"' in lines
    assert (
        '~ node \'billing\' prompt: "Help the customer with their billing inquiry. Be patient and thorough." -> "Help with the bill, then offer a payment plan."'
        in lines
    )
    assert "- node 'support' edge -> end_call (llm_prompt: Customer's technical issue is resolved)" in lines

    asked: list[list[str]] = []
    declined = sync("retell", edited, agent_id, lambda found: asked.append(found) or False)
    assert not declined.pushed and asked == [lines] and not fake.calls("PATCH")
    accepted = sync("retell", edited, agent_id, lambda found: True)
    assert accepted.pushed and accepted.changes == lines and len(fake.calls("PATCH")) == 1
    assert diff("retell", edited, agent_id) == []
    assert sync("retell", edited, agent_id, lambda found: pytest.fail("nothing to confirm")).changes == []


@pytest.mark.parametrize(
    ("platform", "graph_file", "message"),
    [
        ("retell", "graphs/simple_graph.json", r"voice_id.*--agent-id"),
        ("telnyx", "graphs/graph_with_logic_split.json", r"Telnyx assistant is one prompt, but node '.*' .*Retell \(flow\) or Bland"),
        ("telnyx", "retell/sample_config_function_node.json", r"one prompt"),
    ],
)
def test_a_graph_the_platform_cannot_hold_is_refused_before_any_write(serve: Any, platform: str, graph_file: str, message: str) -> None:
    fake = serve(platform)
    with pytest.raises(InputError, match=message):
        push(platform, import_agent(load(graph_file)))
    assert not [r for r in fake.calls() if r.method in ("POST", "PATCH")]


def test_telnyx_create_needs_a_model_and_the_update_keeps_the_name(serve: Any) -> None:
    fake = serve("telnyx")
    graph = import_agent(load("telnyx/sample_assistant.json")).model_copy(update={"default_model": None})
    with pytest.raises(InputError, match="Telnyx needs a model"):
        push("telnyx", graph)
    assistant = fake.seed(load("telnyx/sample_assistant.json"))
    result = push("telnyx", graph, agent_id=assistant)
    assert result.name == "Pizza Order Bot"
    webhook = fake.assistants[assistant]["tools"][0]["webhook"]
    assert webhook["path_parameters"]["required"] == ["order_id"] and "body_parameters" not in webhook


def test_retell_custom_llm_agents_are_explained_not_imported(serve: Any) -> None:
    fake = serve("retell")
    fake.agents["agent_ws"] = {"agent_id": "agent_ws", "response_engine": {"type": "custom-llm", "llm_websocket_url": "wss://example.com"}}
    with pytest.raises(PlatformError, match="custom LLM websocket.*Fix: test that server directly"):
        pull("retell", "agent_ws")


@pytest.mark.parametrize("platform", ["retell", "vapi", "bland", "telnyx"])
def test_a_missing_agent_is_one_error_naming_platform_and_fix(serve: Any, platform: str) -> None:
    serve(platform)
    with pytest.raises(PlatformError) as caught:
        pull(platform, "nope_123")
    text = str(caught.value)
    assert text.startswith(f"{platform}: ") and "nope_123" in text and "404" in text
    assert f"Fix: check the id with `voicetest platform list {platform}`" in text


def test_the_pulled_file_is_what_the_test_file_loader_imports(serve: Any, tmp_path: Path) -> None:
    fake = serve("bland")
    pathway = fake.seed(BLAND_PATHWAY)
    target = tmp_path / "clinic.json"
    target.write_text(json.dumps(pull("bland", pathway)))
    graph = import_agent(target)
    assert graph.source_type == "bland" and graph.entry_node_id == "1"
    assert graph.source_metadata["pathway_id"] == pathway
    assert graph.nodes["lookup"].tools[0].url == "https://api.example.com/patients"
    assert [t.condition.type for t in graph.nodes["lookup"].transitions] == ["always"]


def test_bland_status_error_answers_are_errors_too(serve: Any) -> None:
    fake = serve("bland")
    fake.fail_next(200, raw=b'{"status": "error", "message": "A pathway with this name already exists"}')
    with pytest.raises(PlatformError, match="^bland: rejected POST /v1/pathway/create: A pathway with this name already exists"):
        push("bland", import_agent({**BLAND_PATHWAY}))
    assert not fake.pathways


def test_an_update_keeps_what_the_graph_does_not_model(serve: Any) -> None:
    bland, vapi, telnyx = serve("bland"), serve("vapi"), serve("telnyx")
    pathway = json.loads(json.dumps(BLAND_PATHWAY))
    pathway["nodes"][4]["data"]["transferNumber"] = "+15551234567"
    pathway["nodes"][1]["data"]["modelOptions"] = {"temperature": 0.2}
    pathway_id = bland.seed(pathway)
    assistant = load("vapi/sample_assistant_simple.json")
    assistant["model"]["tools"] = [{"type": "dtmf", "function": {"name": "press"}}]
    assistant_id = vapi.seed("assistant", assistant)
    telnyx_config = load("telnyx/sample_assistant.json")
    telnyx_config["tools"].append({"type": "retrieval", "retrieval": {"bucket_ids": ["faq"]}})
    telnyx_id = telnyx.seed(telnyx_config)

    for platform, agent_id in (("bland", pathway_id), ("vapi", assistant_id), ("telnyx", telnyx_id)):
        graph = import_remote(platform, agent_id)
        entry = graph.nodes[graph.entry_node_id]
        entry.state_prompt += " Be brief."
        assert [line.split(" prompt:")[0] for line in diff(platform, graph, agent_id)] == [f"~ node '{entry.id}'"]
        push(platform, graph, agent_id=agent_id)
        assert diff(platform, graph, agent_id) == []

    nodes = {n["id"]: n["data"] for n in bland.pathways[pathway_id]["nodes"]}
    assert nodes["human"]["transferNumber"] == "+15551234567" and nodes["ask_dob"]["modelOptions"] == {"temperature": 0.2}
    assert nodes["1"]["text"].endswith("Be brief.")
    assert [t["type"] for t in vapi.store["assistant"][assistant_id]["model"]["tools"]] == ["dtmf"]
    assert [t["type"] for t in telnyx.assistants[telnyx_id]["tools"]] == ["webhook", "transfer", "hangup", "retrieval"]
