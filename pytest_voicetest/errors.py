"""User-facing errors: one line that names the file, the line, the field and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class VoicetestError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(VoicetestError):
    """Bad input (YAML, agent config, option, argument), located as precisely as known."""

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(str(self))

    def located(self, source: str | Path | None = None, line: int | None = None) -> InputError:
        """Return a copy that fills in a missing source or line."""
        return InputError(
            self.message,
            source=self.source or source,
            line=self.line or line,
            field=self.field,
            fix=self.fix,
        )

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        field = f"{self.field}: " if self.field else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}{field}{self.message}{fix}"


class ScriptError(VoicetestError):
    """A scripted model was asked for something its script does not provide."""


class CassetteMiss(VoicetestError):
    """Replay mode found no recorded response for a request."""


class LLMError(VoicetestError):
    """A model call failed for good (after retries, or with a non-retryable error)."""


class BudgetExceeded(VoicetestError):
    """The session's cost or call budget is spent."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' when a close choice exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
