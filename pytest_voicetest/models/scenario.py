"""Scenario campaigns (`scenario_*.yaml`): simulated calls judged against an expected result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .testcase import Models, Script

Provider = Literal["eleven_labs", "play_ht", "deepgram", "cartesia", "rime"]
CampaignStatus = Literal["Draft", "Pending", "In Progress", "Calculating Summary", "Completed", "Stopped"]


class Voice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    provider: Provider


class CampaignScenario(BaseModel):
    """One scenario: the caller follows `description`; the judge checks `expected_result`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    expected_result: str = Field(min_length=1)
    selected_voices: list[Voice] = Field(default_factory=list)
    dynamic_variables: dict[str, str] = Field(default_factory=dict)
    script: Script | None = None


class CampaignFile(BaseModel):
    """The top level of a `scenario_*.yaml` file."""

    model_config = ConfigDict(extra="forbid")

    agent: str
    agent_format: str = "auto"
    name: str | None = None
    number_of_call_to_make: int = Field(default=1, ge=1, le=3)
    concurrent_call_count: int = Field(default=3, ge=1, le=3)
    max_call_duration_in_minutes: float = Field(default=3, ge=1, le=10)
    max_turns: int = Field(default=20, ge=1, le=500)
    seed: int = 0
    models: Models = Field(default_factory=Models)
    scenarios: list[CampaignScenario] = Field(min_length=1)


class CampaignSummary(BaseModel):
    """A campaign's outcome, built from its finished calls."""

    campaign: str
    status: CampaignStatus
    history: list[dict[str, Any]] = Field(default_factory=list)
    total_calls: int
    finished_calls: int
    judged_calls: int = 0
    progress: float = Field(description="percent of the calls judged (pass or fail)")
    per_scenario: dict[str, dict[str, int]] = Field(default_factory=dict)
    analytics: dict[str, int] = Field(default_factory=lambda: {"Positive": 0, "Negative": 0, "Neutral": 0})
    what_went_wrong: list[str] = Field(default_factory=list)
    suggestions_for_improvement: list[str] = Field(default_factory=list)

    def seed(self, settings: dict[str, float] | None = None, simulation_id: int = 0, agent: str = "") -> dict[str, Any]:
        """The summary in the simulation API's response shape (seed 002's `simulation`);
        `settings`: the campaign's number_of_call_to_make, concurrent_call_count, max_call_duration_in_minutes."""
        passed = sum(row["passed"] for row in self.per_scenario.values())
        settings = settings or {}
        finished = self.judged_calls
        running = self.status in {"Pending", "In Progress"}
        return {
            "id": simulation_id,
            "name": self.campaign,
            "bot_id": {"id": 0, "name": agent},
            "status": self.status,
            **{k: int(v) for k, v in settings.items()},
            "scenarios_ids": [{"name": name, **row} for name, row in self.per_scenario.items()],
            "what_went_wrong": "\n".join(self.what_went_wrong) or False,
            "suggestions_for_improvement": "\n".join(self.suggestions_for_improvement) or False,
            "prompt_suggestion": False,
            "is_auto_prompt_suggestions_applied": False,
            "how_many_scenario_to_generate": 0,
            "summary": f"{passed} of {self.total_calls} calls met their expected result; {finished} judged." if self.finished_calls else False,
            "analyticsData": dict(self.analytics),
            "total_simulation_remaining_records": self.total_calls - self.finished_calls,
            "total_simulation_in_progress_records": 0,
            "total_simulation_finished_records": finished,
            "total_records": self.total_calls,
            "progress": [int(self.progress)],
            "simulation_call_recording": [],
            "can_stop": running,
            "active_calls_count": 0,
            "create_date": _seed_date(self.history[0]["at"]) if self.history else "",
        }


def _seed_date(iso: str) -> str:
    """ISO 8601 as the API's `MM/DD/YYYY HH:MM:SS`."""
    from datetime import datetime

    return datetime.fromisoformat(iso).strftime("%m/%d/%Y %H:%M:%S")
