"""Concept vocabulary and query resolution.

``resolve(query)`` maps what a user typed ("faces", "Hand tools", "person_surfing")
to a :class:`~braincause.synth.concepts.Concept`: exact name, then synonyms and
simple plural forms. An unknown query raises
:class:`~braincause.exceptions.ConceptNotFound` carrying the closest matches.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from braincause.exceptions import ConceptNotFound
from braincause.synth.concepts import CONCEPTS, Concept

__all__ = ["CONCEPTS", "Concept", "closest", "normalize", "resolve", "synonym_table"]


def normalize(text: str) -> str:
    """Lower-case, ``_``/``-`` to spaces, punctuation dropped, spaces collapsed."""
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


def resolve(query: str) -> Concept:
    """The concept ``query`` names. Raises ConceptNotFound with suggestions."""
    q = normalize(query)
    table = synonym_table()
    if q in table:
        return CONCEPTS[table[q]]
    for cand in _singular(q) + [q + "s"]:
        if cand in table:
            return CONCEPTS[table[cand]]
    raise ConceptNotFound(query, closest(query))


def closest(query: str, n: int = 5) -> list[str]:
    """Up to ``n`` concept names closest to ``query`` (spelling and shared words)."""
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
