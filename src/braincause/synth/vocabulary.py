"""Spelling of the synthetic world's concept vocabulary: normalisation, synonym table,
name-or-synonym lookup and spelling neighbours.

These are plain string functions over :data:`~braincause.synth.concepts.CONCEPTS`, used
by the prompt grammar (:mod:`braincause.synth.grammar`) and the ground truth; query
resolution with framing words and free text builds on them in :mod:`braincause.concepts`,
which re-exports :func:`normalize`, :func:`synonym_table` and :func:`closest`.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Literal

from braincause.synth.concepts import CONCEPTS

__all__ = ["closest", "lookup", "normalize", "synonym_table"]

#: How a table lookup matched: the concept's name (or its plural) or a synonym.
TableMatch = Literal["name", "synonym"]
_ARTICLES = ("a", "an", "the", "some")


def normalize(text: str) -> str:
    """Normalise a query for table lookup.

    Lower-case, ``_``/``-`` to spaces, punctuation dropped, spaces collapsed.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
    """
    t = text.lower().replace("_", " ").replace("-", " ")
    t = re.sub(r"[^a-z0-9 ]+", " ", t)
    return " ".join(t.split())


@lru_cache(maxsize=1)
def synonym_table() -> dict[str, str]:
    """Every accepted spelling (normalised) → concept name. Names win over synonyms."""
    table: dict[str, str] = {}
    for name, c in CONCEPTS.items():
        for s in c.synonyms:
            table.setdefault(normalize(s), name)
    for name in CONCEPTS:
        table[normalize(name)] = name
    return table


def _singular(word: str) -> list[str]:
    out = []
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s"):
        out.append(word[:-1])
    return out


def lookup(q: str) -> tuple[str, TableMatch] | None:
    """Table lookup of a normalised query: exact, plural forms, then without an article.

    Parameters
    ----------
    q : str
        A query already passed through :func:`normalize`.

    Returns
    -------
    (str, {"name", "synonym"}) or None
        The concept name and how it matched, or None when no spelling matches.
    """
    table = synonym_table()
    forms = [q]
    words = q.split()
    if len(words) > 1 and words[0] in _ARTICLES:
        forms.append(" ".join(words[1:]))
    for form in forms:
        variants = [form, *_singular(form), form + "s"]
        for cand in variants:
            if cand in table:
                name = table[cand]
                return name, ("name" if normalize(name) in variants else "synonym")
    return None


def closest(query: str, n: int = 5) -> list[str]:
    """Up to ``n`` concept names closest to ``query`` (spelling and shared words).

    Every accepted spelling is scored by its :class:`difflib.SequenceMatcher` ratio to
    the normalised query, raised to ``0.6 + 0.1 * (number of shared words)`` when words
    are shared; a concept keeps its best spelling's score.

    Parameters
    ----------
    query : str
    n : int, default=5

    Returns
    -------
    list of str
        Concept names scoring at least 0.5, best first (ties by name).
    """
    q = normalize(query)
    table = synonym_table()
    scored: dict[str, float] = {}
    for key, name in table.items():
        r = difflib.SequenceMatcher(None, q, key).ratio()
        qw, kw = set(q.split()), set(key.split())
        if qw & kw:
            r = max(r, 0.6 + 0.1 * len(qw & kw))
        if r > scored.get(name, 0.0):
            scored[name] = r
    ranked = sorted((s, name) for name, s in scored.items() if s >= 0.5)
    return [name for _, name in sorted(ranked, key=lambda t: (-t[0], t[1]))][:n]
