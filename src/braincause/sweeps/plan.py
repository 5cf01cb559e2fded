"""What a sweep runs: every concept × subject is one task with its own run folder and
a seed derived from the sweep's seed and the concept."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from braincause.boundary import check_text
from braincause.engine import task_seed
from braincause.exceptions import UserInputError

__all__ = ["MAX_TASKS", "SweepTask", "folder_name", "plan_sweep", "read_concept_file"]

#: The most tasks one sweep plans (a typo in a concept file should not plan millions).
MAX_TASKS = 100_000


def folder_name(text: str) -> str:
    """A plain folder name for a concept query or subject id.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Letters, digits, ``.``, ``-`` and ``_`` (every other run of characters becomes
        ``_``), no leading dot, at most 100 characters.
    """
    safe = re.sub(r"[^\w.-]+", "_", text.strip()).strip("_").lstrip(".")
    return safe[:100] or "_"


@dataclass(frozen=True)
class SweepTask:
    """One ``localize`` run of a sweep.

    Attributes
    ----------
    subject : str
        As given (a synthetic subject id, or an NSD subject with ``nsd_root``).
    query : str
        The concept query as given.
    seed : int
        :func:`braincause.engine.task_seed` of (sweep seed, query): the same for every
        subject, so each subject sees the same stimuli of a concept.
    folder : str
        The run folder relative to the sweep folder: ``<subject>/<query>``.
    """

    subject: str
    query: str
    seed: int
    folder: str

    @property
    def name(self) -> str:
        """``subject/query``, for messages."""
        return f"{self.subject}/{self.query}"

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict.

        Returns
        -------
        dict
        """
        return asdict(self)


def read_concept_file(path: str | Path) -> list[str]:
    """Concept queries from a text file: one per line; blank lines and everything after
    ``#`` are ignored.

    Parameters
    ----------
    path : path

    Returns
    -------
    list of str

    Raises
    ------
    UserInputError
        The file is missing, unreadable or lists no concept.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserInputError(f"--concept-file {str(p)!r} could not be read ({e}); pass a "
                             "UTF-8 text file with one concept query per line") from None
    out = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    out = [c for c in out if c]
    if not out:
        raise UserInputError(f"--concept-file {str(p)!r} lists no concept (one query per "
                             "line; # starts a comment)")
    return out


def plan_sweep(concepts: Sequence[str], subjects: Sequence[str], *, seed: int
               ) -> list[SweepTask]:
    """Every concept × subject, subject-major (a worker then keeps one subject's
    prepared context for several tasks), duplicates dropped.

    Parameters
    ----------
    concepts : sequence of str
        Concept queries.
    subjects : sequence of str
    seed : int
        The sweep's seed.

    Returns
    -------
    list of SweepTask

    Raises
    ------
    UserInputError
        No concept or subject, a query that is not text, too many tasks, or two queries
        (or subjects) whose folder names collide.
    """
    concepts = list(dict.fromkeys(check_text(c, "a concept query", max_len=200)
                                  for c in concepts))
    subjects = list(dict.fromkeys(check_text(str(s), "a subject", max_len=100)
                                  for s in subjects))
    if not concepts or not subjects:
        raise UserInputError("a sweep needs at least one concept and one subject "
                             "(CONCEPT ... --subjects ID ...)")
    if len(concepts) * len(subjects) > MAX_TASKS:
        raise UserInputError(f"{len(concepts)} concepts × {len(subjects)} subjects is more "
                             f"than {MAX_TASKS} tasks; split the sweep")
    for what, names in (("concept queries", concepts), ("subjects", subjects)):
        seen: dict[str, str] = {}
        for n in names:
            f = folder_name(n)
            if f in seen:
                raise UserInputError(f"the {what} {seen[f]!r} and {n!r} would share the "
                                     f"folder {f!r}; drop or rename one")
            seen[f] = n
    return [SweepTask(s, c, task_seed(seed, c), f"{folder_name(s)}/{folder_name(c)}")
            for s in subjects for c in concepts]
