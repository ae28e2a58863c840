"""pytest-html integration: each voicetest item adds its transcript and path SVG to the
pytest-html report's extras (`report.extras`, the list pytest-html reads after this hook).

`register(config)` registers the plugin object when pytest-html writes a report (`--html`);
call it in xdist workers too, where the reports are made (the extras travel with them).
"""

from __future__ import annotations

from typing import Any

import pytest

PLUGIN_NAME = "voicetest-html-extras"


class HtmlExtras:
    """Adds one HTML extra per voicetest call; each agent graph is laid out from its view."""

    def __init__(self) -> None:
        self.views: dict[int, dict[str, Any]] = {}

    def _agents(self, item: pytest.Item, agent: str | None) -> dict[str, Any]:
        graph = getattr(getattr(item, "planned", None), "graph", None)
        if graph is None or not agent:
            return {}
        view = self.views.get(id(graph))
        if view is None:
            from ..exporters.view import graph_view

            view = self.views[id(graph)] = graph_view(graph)
        return {agent: view}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
        outcome = yield
        result = getattr(item, "result", None)
        if call.when != "call" or result is None:
            return
        from pytest_html import extras

        from ..report.html import call_fragment

        data = result.model_dump(mode="json")
        agent = data.get("agent") or "agent"
        report = outcome.get_result()
        fragment = call_fragment({**data, "agent": agent}, self._agents(item, agent))
        report.extras = [*getattr(report, "extras", []), extras.html(fragment)]


def register(config: pytest.Config) -> None:
    """Add the extras when pytest-html writes a report (`--html`); call from pytest_configure."""
    wanted = config.pluginmanager.hasplugin("html") and config.getoption("htmlpath", None)
    if wanted and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(HtmlExtras(), PLUGIN_NAME)
