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
    progress: float
    per_scenario: dict[str, dict[str, int]] = Field(default_factory=dict)
    analytics: dict[str, int] = Field(default_factory=lambda: {"Positive": 0, "Negative": 0, "Neutral": 0})
    what_went_wrong: list[str] = Field(default_factory=list)
    suggestions_for_improvement: list[str] = Field(default_factory=list)
