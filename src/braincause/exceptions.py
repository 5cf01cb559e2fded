"""Exceptions. User errors subclass :class:`BrainCauseError` and a builtin;
the CLI turns them into a one-line message and exit code 2."""

from __future__ import annotations


class BrainCauseError(Exception):
    """Base class of every error braincause raises on purpose."""


class UserInputError(BrainCauseError, ValueError):
    """Bad input from the user (argument, prompt, config)."""


class ConceptNotFound(BrainCauseError, KeyError):
    """A query that resolves to no known concept. Carries the closest matches."""

    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"unknown concept {query!r}.{hint} Run `braincause concepts` for the full list."
        )

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class PromptError(UserInputError):
    """A prompt the scene grammar cannot turn into scene constraints."""


class SceneError(BrainCauseError, ValueError):
    """An invalid scene record (unknown context or category, bad geometry)."""


class DataError(BrainCauseError, OSError):
    """Missing or corrupt data files."""


class BackendUnavailable(BrainCauseError, ImportError):
    """A real backend whose package, weights or server is not available."""


class BackendError(BrainCauseError, RuntimeError):
    """A real backend that runs but keeps giving unusable answers (after its retries)."""
