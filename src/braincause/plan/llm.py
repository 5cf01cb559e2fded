"""A prompt writer over any OpenAI-compatible chat endpoint (the paper's LLM role).

The paper has Gemma-3-27B-IT write the positive prompts, the counter-concepts, the
negative prompts and the edit instructions (PAPER.md §1) but does not publish its
prompts; the templates below are ours (:data:`SYSTEM_PROMPT`, :data:`POSITIVE_TEMPLATE`,
:data:`COUNTER_TEMPLATE`, :data:`NEGATIVE_TEMPLATE`, :data:`EDIT_TEMPLATE` and the
corrections sent after a rejected answer). Any model served behind
``POST {base_url}/chat/completions`` works: vLLM, Ollama, llama.cpp server, hosted APIs.

Every answer is asked for as one JSON object (with ``response_format = json_object``
when the endpoint's ``json_mode`` is on), parsed tolerantly (code fences and text around
the object are ignored) and validated:

* lists hold strings (objects for counter-concepts), none empty, none longer than
  :data:`MAX_CHARS`, at least as many distinct items as asked for (extra items are
  dropped, duplicates are ignored);
* **target check** — no counter-concept name and no negative prompt may mention the
  target: its name, label and, for a vocabulary concept, its synonyms and (for
  categories and groups) its members' nouns, each with simple plural/singular forms,
  matched as whole words, case-insensitively (:func:`target_terms`, :func:`mentions`).
  A counter-concept that is itself a different vocabulary concept may contain a target
  word in its own name ("animal face" for "human face"), and that name may appear in its
  own prompts;
* counter-concepts come with ``requires_target``; those that say true are dropped;
* every edit instruction must name the target (it removes or replaces it).

A rejected answer goes back to the model with a corrective message and the request is
retried (see :class:`~braincause.utils.chat.ChatClient`); after ``max_retries`` the
writer raises :class:`~braincause.exceptions.BackendError` naming the last problem.

Large requests are split into batches of at most ``batch_size`` prompts, sent
concurrently (``max_concurrency``); each batch carries its own seed, derived from
``random_state``, in the request and in the prompt text, so the train and eval splits
ask different questions. Validated answers are cached on disk, so a rerun with the same
seeds sends no request.

Default temperature: the paper does not state one; 0.7 (the endpoint's default here)
gives varied prompts while staying on topic. Reproducibility comes from the seed and the
response cache, not from greedy decoding.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from braincause.exceptions import BackendError, UserInputError
from braincause.plan.base import CounterConcept
from braincause.utils import check_random_state
from braincause.utils.chat import ChatClient, ChatEndpoint, InvalidReply, Reply, parse_json_reply

__all__ = [
    "COUNTER_TEMPLATE",
    "EDIT_TEMPLATE",
    "NEGATIVE_TEMPLATE",
    "POSITIVE_TEMPLATE",
    "PROMPT_VERSION",
    "SYSTEM_PROMPT",
    "ChatEndpoint",
    "ChatPromptWriter",
    "mentions",
    "target_terms",
]

#: Part of :attr:`ChatPromptWriter.config`; bumped whenever a template changes.
PROMPT_VERSION = "chat-writer-1"
#: Longest accepted prompt, counter-concept name or instruction (characters).
MAX_CHARS = 400
MAX_NAME_CHARS = 60
SOURCES = ("co-occurrence", "context", "shared cue", "component")
_SOURCE_ALIASES = {"cooccurrence": "co-occurrence", "co occurrence": "co-occurrence",
                   "co-occurring": "co-occurrence", "cue": "shared cue",
                   "shared visual cue": "shared cue", "visual cue": "shared cue",
                   "scene": "context", "setting": "context", "part": "component"}
_REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|sorry|i can(no|')t|i won'?t|i am unable|"
                      r"i'?m unable|as an ai)\b", re.I)

SYSTEM_PROMPT = (
    "You help design visual stimuli for a neuroscience experiment on how the human brain "
    "represents visual concepts. You write short, concrete descriptions of photographs for a "
    "text-to-image model, and short instructions for an image-editing model. You always "
    "answer with one JSON object and nothing else."
)

POSITIVE_TEMPLATE = (
    'Write {n} different prompts for a text-to-image model. Every prompt must describe a '
    'realistic photograph in which "{concept}" is clearly visible and is the main subject.\n'
    'Spread the prompts over the many ways "{concept}" appears in everyday photographs: vary '
    'the viewpoint and distance, the lighting and time of day, the setting and background, '
    'how many there are, their size, colour, material or age, and what is going on around '
    'them.\n'
    'Each prompt is a single sentence of at most 30 words, in plain English, without '
    'numbering.\n'
    'This is batch {batch} (variation seed {seed}); make it differ from other batches.\n'
    'Answer with JSON of the form {{"prompts": ["...", "..."]}} holding exactly {n} strings.'
)

COUNTER_TEMPLATE = (
    'Target concept: "{concept}".\n'
    'Propose {n} counter-concepts for it. A counter-concept is a visual concept that is '
    'related to the target but can be photographed without the target appearing at all. Good '
    'counter-concepts are objects that often appear together with the target, scenes or '
    'places where the target is typical, things that share its colour, shape or texture, and '
    'parts or ingredients of the target that do not make up the target on their own. For '
    'example, for "person surfing": "a man fishing", "a beach", "an ocean wave"; for "food": '
    '"a red ball", "an empty plate", "a kitchen".\n'
    'Rules: no name may contain {terms} in any form; names are 1 to 5 words; no two names '
    'describe the same thing.\n'
    'For each counter-concept give: "name"; "source", one of "co-occurrence", "context", '
    '"shared cue", "component"; "reason", one short sentence on how it relates to the '
    'target; "colour", a colour word when it is meant to carry a colour of the target, else '
    'null; "requires_target", true if every image of it must also show the target, else '
    'false.\n'
    'Answer with JSON of the form {{"counter_concepts": [{{"name": "...", "source": "...", '
    '"reason": "...", "colour": null, "requires_target": false}}]}} holding exactly {n} items.'
)

NEGATIVE_TEMPLATE = (
    'Write {n} different prompts for a text-to-image model. Every prompt must describe a '
    'realistic photograph whose main subject is "{counter}"{colour}.\n'
    'These photographs are controls for the concept "{concept}", which must not appear in '
    'them: no prompt may contain {terms} in any form, and each must describe a scene in '
    'which "{concept}" would naturally be absent.\n'
    'Vary the viewpoint and distance, the lighting, the setting and background, and what is '
    'going on around the subject.\n'
    'Each prompt is a single sentence of at most 30 words, in plain English, without '
    'numbering.\n'
    'This is batch {batch} (variation seed {seed}); make it differ from other batches.\n'
    'Answer with JSON of the form {{"prompts": ["...", "..."]}} holding exactly {n} strings.'
)

#: The stand-in control instruction (:meth:`ChatPromptWriter.control_instructions`).
STANDIN_TEMPLATE = ("replace the {concept} with a plain, unrelated object of the same shape, "
                    "size and colour, in the same place")
EDIT_TEMPLATE = (
    'A photograph was generated from this description: "{scene}".\n'
    'Write {n} different instructions for an image-editing model. Each instruction makes one '
    'minimal change after which the photograph no longer shows "{concept}": it either '
    'removes it, or replaces it with something of similar size, position and colour that is '
    'not "{concept}". Everything else (background, lighting, other objects, framing) stays '
    'as it is.\n'
    'Each instruction is one imperative sentence of at most 20 words that names what it '
    'changes with one of these words: {terms}.\n'
    'This is batch {batch} (variation seed {seed}); make it differ from other batches.\n'
    'Answer with JSON of the form {{"instructions": ["...", "..."]}} holding exactly {n} '
    'strings.'
)

SHAPE_CORRECTION = ("Your previous answer did not have the requested form: {problem}. Answer "
                    "again with only the corrected JSON object.")
MENTION_CORRECTION = ("In your previous answer, {where} mention the target ({words}), which is "
                      "not allowed. Replace them with ones that do not mention it in any form "
                      "and answer again with the complete JSON object.")
UNNAMED_CORRECTION = ("In your previous answer, {where} do not name what they change. Rewrite "
                      "them so that each names it with one of these words: {terms}; answer "
                      "again with the complete JSON object.")
REQUIRES_CORRECTION = ("{names} cannot be photographed without the target, so they are not "
                       "counter-concepts. Answer again with exactly {n} counter-concepts that "
                       "do not require the target.")
REFUSAL_CORRECTION = ("This request is harmless: the descriptions become image stimuli for a "
                      "vision-science experiment. Please answer it with the JSON object "
                      "described above.")


# ----------------------------------------------------------------------------- target words
def _normalize(text: str) -> str:
    from braincause.concepts import normalize

    return normalize(text)


def _forms(term: str) -> set[str]:
    """``term`` with its last word in simple singular and plural forms."""
    words = term.split()
    if not words:
        return set()
    head, last = words[:-1], words[-1]
    lasts = {last, last + "s", last + "es"}
    if last.endswith("y") and len(last) > 2:
        lasts.add(last[:-1] + "ies")
    if len(last) > 3:
        if last.endswith("ies"):
            lasts.add(last[:-3] + "y")
        if last.endswith("es"):
            lasts.add(last[:-2])
        if last.endswith("s") and not last.endswith("ss"):
            lasts.add(last[:-1])
    return {" ".join([*head, w]) for w in lasts}


def _vocabulary_name(text: str) -> str | None:
    """The vocabulary concept ``text`` names exactly (name, synonym, plural, article)."""
    from braincause.concepts import CONCEPTS, synonym_table

    if text in CONCEPTS:
        return text
    q = _normalize(text)
    words = q.split()
    cands = [q, " ".join(words[1:])] if words and words[0] in ("a", "an", "the", "some") else [q]
    table = synonym_table()
    for c in cands:
        for f in sorted(_forms(c)):
            if f in table:
                return table[f]
    return None


@lru_cache(maxsize=512)
def target_terms(concept: str) -> tuple[str, ...]:
    """Words that mention ``concept`` (normalised, without their plural forms).

    For a vocabulary concept: its name, label and synonyms and, for categories and groups,
    the caption nouns (singular and plural) of its member categories. For any other text:
    the text itself.

    Returns
    -------
    tuple of str
        Sorted, longest first.
    """
    from braincause.concepts import CONCEPTS
    from braincause.synth.categories import CATEGORIES

    out = {_normalize(concept)}
    name = _vocabulary_name(concept)
    if name is not None:
        c = CONCEPTS[name]
        out |= {_normalize(name), _normalize(c.label)} | {_normalize(s) for s in c.synonyms}
        if c.kind in ("category", "group"):
            for m in c.members:
                out |= {CATEGORIES[m].noun, CATEGORIES[m].plural, _normalize(m)}
    return tuple(sorted((t for t in out if t), key=lambda t: (-len(t), t)))


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    forms = sorted({f for t in terms for f in _forms(_normalize(t))}, key=lambda t: (-len(t), t))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, forms)) + r")(?![a-z0-9])")


def mentions(text: str, terms: Sequence[str], *, allow: Sequence[str] = ()) -> list[str]:
    """The target words ``text`` mentions (whole words, any case, simple plural forms).

    Parameters
    ----------
    text : str
    terms : sequence of str
        Target words (e.g. :func:`target_terms`).
    allow : sequence of str
        Phrases masked out first (a counter-concept's own name).

    Returns
    -------
    list of str
        The matched forms, in order of appearance; empty when none.
    """
    if not terms:
        return []
    t = f" {_normalize(text)} "
    own = sorted({f for a in allow for f in _forms(_normalize(a))}, key=len, reverse=True)
    for a in own:
        t = re.sub(r"(?<![a-z0-9])" + re.escape(a) + r"(?![a-z0-9])", " | ", t)
    return _pattern(tuple(terms)).findall(t)


def _own_phrases(label: str, concept: str) -> tuple[str, ...]:
    """Phrases of a counter-concept that may contain target words: only when it is a
    *different* vocabulary concept, not the target nor one of its members."""
    from braincause.concepts import CONCEPTS

    own = _vocabulary_name(label)
    tgt = _vocabulary_name(concept)
    if own is None or own == tgt:
        return ()
    if tgt is not None and own in CONCEPTS[tgt].members and CONCEPTS[tgt].kind in (
            "category", "group"):
        return ()
    c = CONCEPTS[own]
    return tuple({_normalize(label), _normalize(c.label), *(_normalize(s) for s in c.synonyms)})


def _quote_terms(terms: Sequence[str], k: int = 24) -> str:
    return ", ".join(f'"{t}"' for t in terms[:k])


def _label(concept: str) -> str:
    if not isinstance(concept, str) or not concept.strip():
        raise UserInputError(f"concept must be a non-empty string, got {concept!r}")
    from braincause.concepts import CONCEPTS

    return CONCEPTS[concept].label if concept in CONCEPTS else concept.replace("_", " ").strip()


def _scene_text(scene: Any) -> str:
    """The description of a positive image: a str, or an object / mapping with a
    ``prompt`` or ``text``."""
    if isinstance(scene, str):
        text = scene
    elif isinstance(scene, Mapping):
        text = scene.get("prompt", scene.get("text"))
    else:
        text = getattr(scene, "prompt", None) or getattr(scene, "text", None)
    if not isinstance(text, str) or not text.strip():
        raise UserInputError(
            f"ChatPromptWriter.edit_instructions needs the positive image's description: pass "
            f"its prompt (a str) or an object with a .prompt or .text string, got "
            f"{type(scene).__name__}")
    return text.strip()


def _request_seed(random_state: Any) -> int:
    """A 31-bit seed from ``random_state`` (an int is used as is, modulo 2^31)."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    return int(check_random_state(random_state).integers(2**31 - 1))


def _child_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0] & 0x7FFFFFFF)


def _batches(n: int, size: int) -> list[int]:
    return [min(size, n - i) for i in range(0, n, size)]


# ----------------------------------------------------------------------------- validation
def _check_refusal(reply: Reply) -> None:
    if reply.refused or _REFUSAL.match(reply.content or ""):
        why = (reply.refusal or reply.content or f"finish_reason {reply.finish_reason}").strip()
        raise InvalidReply(f"the model refused or gave no answer ({why[:120]!r})",
                           REFUSAL_CORRECTION)


def _shape_error(problem: str) -> InvalidReply:
    return InvalidReply(problem, SHAPE_CORRECTION.format(problem=problem))


def _list_field(obj: Any, key: str) -> list[Any]:
    """``obj[key]`` as a list; a bare list, or an object with exactly one list, also do."""
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        if isinstance(obj.get(key), list):
            return obj[key]
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    raise _shape_error(f'expected an object with a list "{key}", got {str(obj)[:120]!r}')


def _strings(items: list[Any], k: int, what: str, limit: int = MAX_CHARS) -> list[str]:
    """The first ``k`` distinct non-empty strings of ``items``, or InvalidReply."""
    out: list[str] = []
    seen: set[str] = set()
    for i, it in enumerate(items):
        if not isinstance(it, str):
            raise _shape_error(f"{what} {i + 1} is a {type(it).__name__}, not a string")
        s = " ".join(it.split())
        if not s:
            raise _shape_error(f"{what} {i + 1} is empty")
        if len(s) > limit:
            raise _shape_error(f"{what} {i + 1} is longer than {limit} characters")
        key = _normalize(s)
        if key not in seen:
            seen.add(key)
            out.append(s)
    if len(out) < k:
        raise _shape_error(f"it holds {len(out)} distinct {what}s, {k} were asked for")
    return out[:k]


def _where(idx: Sequence[int], what: str) -> str:
    nums = ", ".join(str(i + 1) for i in idx)
    return f"{what}s {nums}" if len(idx) > 1 else f"{what} {nums}"


# ----------------------------------------------------------------------------- writer
class ChatPromptWriter:
    """:class:`~braincause.plan.base.PromptWriter` over an OpenAI-compatible chat endpoint.

    See the module docstring for the prompts, the checks and the retries.

    Parameters
    ----------
    endpoint : ChatEndpoint
        Server, model and request settings (timeouts, retries, concurrency, temperature).
    batch_size : int
        Most prompts or instructions asked for in one request.
    terms : mapping of str to sequence of str, optional
        Target words per concept, replacing :func:`target_terms` for the concepts listed
        (e.g. to drop a too-broad synonym).
    use_cache : bool
        Replay validated answers from ``cache_dir()/"chat"`` and store new ones.
    sleep : callable
        Waits between attempts (inject a no-op in tests).
    config_section : str
        Where users set the endpoint, named in error messages (``"backends.writer"`` in
        a run config).

    Attributes
    ----------
    config : dict
        JSON-serialisable record of everything that shapes the answers: base URL, model,
        temperature, JSON mode, seeds on/off, max tokens, batch size and
        :data:`PROMPT_VERSION`. Timeouts, retries and concurrency are left out (they
        change how long a run takes, not what it gets); the API key never appears.
    client : ChatClient
    """

    def __init__(self, endpoint: ChatEndpoint, *, batch_size: int = 20,
                 terms: Mapping[str, Sequence[str]] | None = None, use_cache: bool = True,
                 sleep: Callable[[float], None] = time.sleep,
                 config_section: str = "plan") -> None:
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise UserInputError(f"batch_size must be an integer ≥ 1, got {batch_size!r}")
        self.endpoint = endpoint
        self.batch_size = int(batch_size)
        self.terms = {k: tuple(_normalize(t) for t in v) for k, v in (terms or {}).items()}
        self.client = ChatClient(endpoint, config_section=config_section, use_cache=use_cache,
                                 sleep=sleep)
        self.config: dict[str, Any] = {
            "name": "chat", "version": PROMPT_VERSION, "base_url": endpoint.base_url,
            "model": endpoint.model, "temperature": endpoint.temperature,
            "json_mode": endpoint.json_mode, "send_seed": endpoint.send_seed,
            "max_tokens": endpoint.max_tokens, "batch_size": self.batch_size,
            "terms": {k: list(v) for k, v in sorted(self.terms.items())},
        }

    def __repr__(self) -> str:
        return f"ChatPromptWriter({self.endpoint.base_url!r}, model={self.endpoint.model!r})"

    def target_terms(self, concept: str) -> tuple[str, ...]:
        """The words that mention ``concept`` (``terms`` override, else :func:`target_terms`).

        Parameters
        ----------
        concept : str
            A vocabulary name or free text.

        Returns
        -------
        tuple of str
            Sorted, longest first.
        """
        if concept in self.terms:
            return tuple(sorted(set(self.terms[concept]), key=lambda t: (-len(t), t)))
        return target_terms(concept)

    # ------------------------------------------------------------------ requests
    def _messages(self, text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}]

    def _ask(self, text: str, validate: Callable[[Reply], Any], seed: int) -> Any:
        return self.client.complete(self._messages(text), validate, seed=seed, json_mode=True)

    def _string_batches(self, n: int, seed: int, template: Callable[[int, int, int], str],
                        key: str, what: str,
                        check: Callable[[list[str]], InvalidReply | None]) -> list[str]:
        """``n`` distinct strings asked for in batches (concurrently), each validated."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise UserInputError(f"n must be an integer ≥ 0, got {n!r}")
        out: list[str] = []
        seen: set[str] = set()
        batch = 0
        for _round in range(self.endpoint.max_retries + 1):
            missing = n - len(out)
            if missing <= 0:
                break
            jobs = []
            for k in _batches(missing, self.batch_size):
                jobs.append((k, batch, _child_seed(seed, batch)))
                batch += 1

            def one(job: tuple[int, int, int]) -> list[str]:
                k, b, s = job

                def validate(reply: Reply) -> list[str]:
                    _check_refusal(reply)
                    items = _strings(_list_field(parse_json_reply(reply.content), key), k, what)
                    err = check(items)
                    if err is not None:
                        raise err
                    return items
                return self._ask(template(k, b + 1, s), validate, s)

            for items in self.client.map(one, jobs):
                for s in items:
                    if _normalize(s) not in seen:
                        seen.add(_normalize(s))
                        out.append(s)
        if len(out) < n:
            raise BackendError(
                f"model {self.endpoint.model!r} gave only {len(out)} distinct {what}s of the "
                f"{n} asked for, in {batch} requests; ask for fewer or use a stronger model")
        return out[:n]

    # ------------------------------------------------------------------ protocol
    def positive_prompts(self, concept: str, n: int, *, random_state: Any = None) -> list[str]:
        """``n`` distinct prompts depicting ``concept`` (:data:`POSITIVE_TEMPLATE`).

        Parameters
        ----------
        concept : str
            A vocabulary name or free text.
        n : int
        random_state : int, Generator or None
            Seeds the requests (and labels the batches in the prompt).

        Returns
        -------
        list of str, length n

        Raises
        ------
        BackendUnavailable, BackendError
        """
        label = _label(concept)
        seed = _request_seed(random_state)

        def text(k: int, b: int, s: int) -> str:
            return POSITIVE_TEMPLATE.format(n=k, concept=label, batch=b, seed=s)
        return self._string_batches(n, seed, text, "prompts", "prompt", lambda _items: None)

    def counter_concepts(self, concept: str, n: int) -> list[CounterConcept]:
        """``n`` counter-concepts of ``concept`` (:data:`COUNTER_TEMPLATE`), one request.

        Names mentioning the target are rejected (the request is retried with a
        correction); those the model marks ``requires_target: true`` are dropped, and too
        few left is retried too. ``name`` is the label in snake case; ``source`` one of
        :data:`SOURCES`.

        Parameters
        ----------
        concept : str
            A vocabulary name or free text.
        n : int
            Number of counter-concepts (0 sends no request).

        Returns
        -------
        list of CounterConcept, length n

        Raises
        ------
        UserInputError
            ``n`` is not an integer ≥ 0.
        BackendUnavailable, BackendError
        """
        label = _label(concept)
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise UserInputError(f"n must be an integer ≥ 0, got {n!r}")
        if n == 0:
            return []
        terms = self.target_terms(concept)
        target_key = _normalize(label)

        def validate(reply: Reply) -> list[CounterConcept]:
            _check_refusal(reply)
            items = _list_field(parse_json_reply(reply.content), "counter_concepts")
            parsed = [_counter_item(it, i) for i, it in enumerate(items)]
            bad = [(i, w) for i, c in enumerate(parsed)
                   if (w := mentions(c.label, terms, allow=_own_phrases(c.label, concept)))
                   or _normalize(c.label) == target_key]
            if bad:
                words = sorted({x for _, ws in bad for x in (ws or [target_key])})
                raise InvalidReply(
                    f"counter-concept(s) {', '.join(repr(parsed[i].label) for i, _ in bad)} "
                    f"mention the target {label!r}",
                    MENTION_CORRECTION.format(where=_where([i for i, _ in bad], "name"),
                                              words=", ".join(words)))
            keep, needs, seen = [], [], set()
            for c, it in zip(parsed, items, strict=True):
                if it["requires_target"]:
                    needs.append(c.label)
                elif _normalize(c.label) not in seen:
                    seen.add(_normalize(c.label))
                    keep.append(c)
            if len(keep) < n:
                problem = (f"only {len(keep)} distinct counter-concepts that do not require "
                           f"the target, {n} were asked for")
                corr = (REQUIRES_CORRECTION.format(names=", ".join(map(repr, needs)), n=n)
                        if needs else SHAPE_CORRECTION.format(problem=problem))
                raise InvalidReply(problem, corr)
            return keep[:n]

        text = COUNTER_TEMPLATE.format(n=n, concept=label, terms=_quote_terms(terms))
        return self._ask(text, validate, _request_seed(0))

    def negative_prompts(self, concept: str, counter: CounterConcept | str, n: int, *,
                         random_state: Any = None) -> list[str]:
        """``n`` prompts for ``counter`` that never mention ``concept``
        (:data:`NEGATIVE_TEMPLATE`); a response mentioning it is rejected and retried.

        Parameters
        ----------
        concept : str
        counter : CounterConcept or str
            A counter-concept (or its label).
        n : int
        random_state : int, Generator or None

        Returns
        -------
        list of str, length n

        Raises
        ------
        BackendUnavailable, BackendError
        """
        label = _label(concept)
        if isinstance(counter, str):
            counter = CounterConcept(_normalize(counter).replace(" ", "_"), counter.strip(),
                                     "co-occurrence", "")
        if not isinstance(counter, CounterConcept) or not counter.label.strip():
            raise UserInputError(f"counter must be a CounterConcept or its label, got "
                                 f"{counter!r}")
        terms = self.target_terms(concept)
        own = _own_phrases(counter.label, concept)
        clash = mentions(counter.label, terms, allow=own)
        if clash:
            raise UserInputError(f"counter-concept {counter.label!r} mentions the target "
                                 f"{label!r} ({', '.join(clash)})")
        seed = _request_seed(random_state)
        colour = f", coloured {counter.colour}" if counter.colour else ""

        def text(k: int, b: int, s: int) -> str:
            return NEGATIVE_TEMPLATE.format(n=k, counter=counter.label, colour=colour,
                                            concept=label, terms=_quote_terms(terms),
                                            batch=b, seed=s)

        def check(items: list[str]) -> InvalidReply | None:
            bad = [(i, w) for i, p in enumerate(items) if (w := mentions(p, terms, allow=own))]
            if not bad:
                return None
            words = sorted({x for _, ws in bad for x in ws})
            return InvalidReply(
                f"prompt(s) mention the target {label!r} ({', '.join(words)}): "
                f"{items[bad[0][0]]!r}",
                MENTION_CORRECTION.format(where=_where([i for i, _ in bad], "prompt"),
                                          words=", ".join(words)))
        return self._string_batches(n, seed, text, "prompts", "prompt", check)

    def negative_prompts_many(self, concept: str, counters: Sequence[CounterConcept], n: int,
                              *, random_states: Sequence[Any]) -> dict[str, list[str]]:
        """:meth:`negative_prompts` for several counter-concepts at once, concurrently.

        Parameters
        ----------
        concept : str
            A vocabulary name or free text.
        counters : sequence of CounterConcept
        n : int
            Prompts per counter-concept.
        random_states : sequence
            One source of randomness per counter-concept (int, Generator or None), which
            seeds its requests.

        Returns
        -------
        dict of str to list of str
            Counter-concept label -> its ``n`` prompts.

        Raises
        ------
        UserInputError
            ``random_states`` does not hold one entry per counter-concept.
        BackendUnavailable, BackendError
        """
        if len(random_states) != len(counters):
            raise UserInputError(f"random_states must hold one entry per counter-concept "
                                 f"({len(counters)}), got {len(random_states)}")
        seeds = [_request_seed(r) for r in random_states]
        got = self.client.map(lambda cs: self.negative_prompts(concept, cs[0], n,
                                                               random_state=cs[1]),
                              list(zip(counters, seeds, strict=True)))
        return {c.label: g for c, g in zip(counters, got, strict=True)}

    def edit_instructions(self, concept: str, scene: Any, n: int, *,
                          random_state: Any = None) -> list[str]:
        """``n`` minimal edit instructions that remove or replace ``concept`` in the image
        described by ``scene`` (:data:`EDIT_TEMPLATE`). Each must name the target.

        Parameters
        ----------
        concept : str
        scene : str or object
            The positive image's prompt, or an object (or mapping) with a ``prompt`` or
            ``text`` string. The model sees only this text, not the pixels.
        n : int
        random_state : int, Generator or None

        Returns
        -------
        list of str, length n

        Raises
        ------
        UserInputError
            ``scene`` carries no description.
        BackendUnavailable, BackendError
        """
        label = _label(concept)
        desc = _scene_text(scene)
        terms = self.target_terms(concept)
        seed = _request_seed(random_state)

        def text(k: int, b: int, s: int) -> str:
            return EDIT_TEMPLATE.format(n=k, concept=label, scene=desc,
                                        terms=_quote_terms(terms), batch=b, seed=s)

        def check(items: list[str]) -> InvalidReply | None:
            bad = [i for i, p in enumerate(items) if not mentions(p, terms)]
            if not bad:
                return None
            return InvalidReply(
                f"instruction(s) do not name the target {label!r}: {items[bad[0]]!r}",
                UNNAMED_CORRECTION.format(where=_where(bad, "instruction"),
                                          terms=_quote_terms(terms)))
        return self._string_batches(n, seed, text, "instructions", "instruction", check)

    def control_instructions(self, concept: str, scene: Any, *,
                             random_state: Any = None) -> list[str]:
        """The stand-in control of ``concept`` (:mod:`braincause.stimuli.controls`): one
        instruction asking the editor for a neutral object of the concept's shape, size
        and colour in its place. A fixed template (no request to the model).

        Parameters
        ----------
        concept : str
        scene : str or object
            Unused (the template names only the concept).
        random_state : int, Generator or None
            Unused.

        Returns
        -------
        list of str, length 1
        """
        return [STANDIN_TEMPLATE.format(concept=_label(concept))]


def _counter_item(it: Any, i: int) -> CounterConcept:
    """One counter-concept object of the model's answer, checked; ``requires_target`` is
    normalised to a bool in ``it``."""
    if not isinstance(it, dict):
        raise _shape_error(f"counter-concept {i + 1} is a {type(it).__name__}, not an object")
    name = it.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _shape_error(f'counter-concept {i + 1} has no "name" string')
    name = " ".join(name.split()).strip(" .")
    if not _normalize(name):
        raise _shape_error(f"counter-concept {i + 1}'s name {name!r} has no words")
    if len(name) > MAX_NAME_CHARS:
        raise _shape_error(f"counter-concept {i + 1}'s name is longer than {MAX_NAME_CHARS} "
                           f"characters")
    src = str(it.get("source") or "").strip().lower()
    src = _SOURCE_ALIASES.get(src, src)
    if src not in SOURCES:
        raise _shape_error(f'counter-concept {i + 1} has source {it.get("source")!r}; use one '
                           f'of {", ".join(SOURCES)}')
    reason = it.get("reason", "")
    if not isinstance(reason, str):
        raise _shape_error(f'counter-concept {i + 1}\'s "reason" is not a string')
    colour = it.get("colour", it.get("color"))
    if colour is not None and (not isinstance(colour, str) or len(colour) > 30):
        raise _shape_error(f'counter-concept {i + 1}\'s "colour" must be a colour word or null')
    req = it.get("requires_target")
    if isinstance(req, str) and req.strip().lower() in ("true", "false"):
        req = req.strip().lower() == "true"
    if not isinstance(req, bool):
        raise _shape_error(f'counter-concept {i + 1} needs "requires_target": true or false')
    it["requires_target"] = req
    return CounterConcept(_normalize(name).replace(" ", "_"), name, src,
                          " ".join(reason.split()), (colour or "").strip().lower() or None)
