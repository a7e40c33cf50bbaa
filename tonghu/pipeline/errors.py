"""The errors a round's batch raises for its user; their messages are Chinese."""

from __future__ import annotations

from pathlib import Path


class RoundError(Exception):
    """A round that cannot run; the message is Chinese, for the user."""


class InvariantError(RoundError):
    """A round broke one of its invariants (tonghu.pipeline.invariants)."""

    def __init__(self, message: str, *, step: str, diagnosis: Path | None) -> None:
        super().__init__(message)
        self.step = step
        self.diagnosis = diagnosis
