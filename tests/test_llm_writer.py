"""ChatPromptWriter and the chat client against a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from braincause.exceptions import BackendError, BackendUnavailable, BrainCauseError
from braincause.plan.base import CounterConcept, Plan, PromptWriter, make_plan
from braincause.plan.llm import (
    COUNTER_TEMPLATE,
    ChatEndpoint,
    ChatPromptWriter,
    mentions,
    target_terms,
)
from braincause.utils.chat import ChatClient, InvalidReply, parse_json_reply
from fake_openai import FakeOpenAI, chat, error, good_llm, task


@pytest.fixture
def server():
    with FakeOpenAI(good_llm) as s:
        yield s


@pytest.fixture
def sleeps():
    return []


def make_writer(server, sleeps, **kw):
    opts = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01, "max_concurrency": 2}
    wkw = {k: kw.pop(k) for k in ("batch_size", "use_cache", "terms") if k in kw}
    opts |= kw
    ep = ChatEndpoint(server.base_url, "fake-model", **opts)
    return ChatPromptWriter(ep, sleep=sleeps.append, **wkw)


def counters_json(names, requires=None):
    requires = requires or [False] * len(names)
    return json.dumps({"counter_concepts": [
        {"name": n, "source": "context", "reason": "r", "colour": None, "requires_target": r}
        for n, r in zip(names, requires, strict=True)]})


# ----------------------------------------------------------------------------- contract
def test_writer_satisfies_protocol_and_make_plan(server, sleeps):
    w = make_writer(server, sleeps)
    assert isinstance(w, PromptWriter)
    plan = make_plan(w, "dog", n_positive={"train": 5, "eval": 3}, n_counter=4,
                     n_negative_prompts=3, seed=7)
    assert isinstance(plan, Plan)
    assert [len(plan.positives[s]) for s in ("train", "eval")] == [5, 3]
    assert not set(plan.positives["train"]) & set(plan.positives["eval"])  # seeds differ
    assert len(plan.counter_concepts) == 4
    for c in plan.counter_concepts:
        assert isinstance(c, CounterConcept) and c.source in ("co-occurrence", "context",
                                                              "shared cue", "component")
        assert c.name == c.label.replace(" ", "_")
    for s in ("train", "eval"):
        assert set(plan.negatives[s]) == {c.label for c in plan.counter_concepts}
        for prompts in plan.negatives[s].values():
            assert len(prompts) == 3 and len(set(prompts)) == 3
            assert not any(mentions(p, target_terms("dog")) for p in prompts)
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert plan.writer == w.config and json.dumps(w.config)
    edits = w.edit_instructions("dog", plan.positives["train"][0], 4, random_state=3)
    assert len(edits) == 4 and all(mentions(e, target_terms("dog")) for e in edits)
    # every request asked for JSON, at the configured temperature, with a seed
    body = server.bodies[0]
    assert body["model"] == "fake-model" and body["temperature"] == 0.7
    assert body["response_format"] == {"type": "json_object"} and isinstance(body["seed"], int)
    assert body["messages"][0]["role"] == "system"


def test_same_seed_same_requests_and_answers(server, sleeps):
    a = make_writer(server, sleeps, use_cache=False)
    p1 = a.positive_prompts("dog", 4, random_state=np.random.default_rng(1))
    p2 = a.positive_prompts("dog", 4, random_state=np.random.default_rng(1))
    p3 = a.positive_prompts("dog", 4, random_state=np.random.default_rng(2))
    assert p1 == p2 != p3
    assert server.bodies[0] == server.bodies[1] != server.bodies[2]


def test_batches_are_sent_concurrently_within_the_bound(sleeps):
    with FakeOpenAI(lambda b: chat(good_llm(b), delay=0.15)) as s:
        w = make_writer(s, sleeps, batch_size=3, max_concurrency=3)
        got = w.positive_prompts("cat", 17, random_state=0)
        assert len(got) == 17 and len(set(got)) == 17
        assert len(s.requests) == 6                        # 3+3+3+3+3+2
        assert s.max_in_flight == 3                        # parallel, but bounded
        ns = sorted(task(b)["n"] for b in s.bodies)
        assert ns == [2, 3, 3, 3, 3, 3]


def test_negative_prompts_many_fans_out_within_the_bound(sleeps):
    with FakeOpenAI(lambda b: chat(good_llm(b), delay=0.1)) as s:
        w = make_writer(s, sleeps, max_concurrency=2)
        counters = [CounterConcept(f"thing_{i}", f"thing {i}", "context", "") for i in range(5)]
        got = w.negative_prompts_many("dog", counters, 2, random_states=range(5))
        assert list(got) == [c.label for c in counters]
        assert all(len(v) == 2 for v in got.values())
        assert s.max_in_flight == 2


# ----------------------------------------------------------------------------- target check
def test_counter_concept_mentioning_target_is_rejected_and_retried(sleeps):
    with FakeOpenAI() as s:
        s.push(counters_json(["dog leash", "park", "ball"]),        # mentions the target
               counters_json(["leash", "park", "ball"]))
        w = make_writer(s, sleeps)
        got = w.counter_concepts("dog", 3)
        assert [c.label for c in got] == ["leash", "park", "ball"]
        retry = s.bodies[1]["messages"]
        assert retry[-2] == {"role": "assistant",
                             "content": counters_json(["dog leash", "park", "ball"])}
        assert "mention the target" in retry[-1]["content"] and "dog" in retry[-1]["content"]
        assert retry[:2] == s.bodies[0]["messages"]


def test_negative_prompt_mentioning_target_gives_up_with_clear_error(sleeps):
    bad = json.dumps({"prompts": ["a leash on a hook", "a PUPPY's leash in a park"]})
    with FakeOpenAI(lambda _b: bad) as s:
        w = make_writer(s, sleeps, max_retries=2)
        with pytest.raises(BackendError, match=r"3 attempts.*mention the target 'dog'.*puppy"):
            w.negative_prompts("dog", CounterConcept("leash", "leash", "co-occurrence", ""), 2,
                               random_state=0)
        assert len(s.requests) == 3
        assert sleeps == [0.01, 0.02]                     # exponential backoff


def test_negative_prompts_plural_synonym_and_own_name():
    terms = target_terms("dog")
    assert {"dog", "dogs", "puppy"} <= set(terms)
    assert mentions("Two Dogs playing", terms) == ["dogs"]
    assert mentions("puppies in a basket", terms) == ["puppies"]
    assert mentions("a hotdog stand", terms) == []           # whole words only
    # a counter-concept that is itself another vocabulary concept keeps its own name
    from braincause.plan.llm import _own_phrases

    face = target_terms("human_face")
    own = _own_phrases("animal face", "human_face")
    assert mentions("an animal face in the grass", face, allow=own) == []
    assert mentions("an animal face next to a face", face, allow=own) == ["face"]
    # ... but not a member of the target group
    assert _own_phrases("animal face", "animals") == ()
    assert target_terms("a zebra crossing") == ("a zebra crossing",)  # free text


def test_counter_concepts_requiring_target_are_dropped(sleeps):
    with FakeOpenAI() as s:
        s.push(counters_json(["leash", "kennel", "park"], [False, True, False]),
               counters_json(["leash", "kennel", "park", "bone"], [False, True, False, False]))
        w = make_writer(s, sleeps)
        got = w.counter_concepts("dog", 3)
        assert [c.label for c in got] == ["leash", "park", "bone"]
        assert "'kennel'" in s.bodies[1]["messages"][-1]["content"]


def test_edit_instructions_must_name_target_and_take_prompt_objects(sleeps):
    class Positive:
        prompt = "a dog on a sofa"

    with FakeOpenAI() as s:
        s.push(json.dumps({"instructions": ["make the sofa blue", "remove the dog"]}),
               json.dumps({"instructions": ["replace the dog with a cushion",
                                            "remove the dog"]}))
        w = make_writer(s, sleeps)
        got = w.edit_instructions("dog", Positive(), 2, random_state=1)
        assert got == ["replace the dog with a cushion", "remove the dog"]
        assert '"a dog on a sofa"' in s.bodies[0]["messages"][1]["content"]
        assert "do not name what they change" in s.bodies[1]["messages"][-1]["content"]
        s.push(json.dumps({"instructions": ["erase the dog"]}))
        assert w.edit_instructions("dog", {"text": "a dog"}, 1, random_state=1) == [
            "erase the dog"]
        from braincause.synth.scene import Scene

        with pytest.raises(BrainCauseError, match="prompt"):
            w.edit_instructions("dog", Scene("park"), 2)


# ----------------------------------------------------------------------------- bad answers
def test_malformed_json_wrong_shape_and_fences(sleeps):
    with FakeOpenAI() as s:
        s.push('{"prompts": ["a cat", ',                                    # malformed
               json.dumps({"prompts": ["a cat on a mat"]}),                 # too few
               json.dumps({"prompts": ["a cat", "", "a cat in a box"]}),    # empty item
               '```json\n{"prompts": ["a cat", "A  cat", "a cat in a box"]}\n```')
        w = make_writer(s, sleeps, max_retries=3)
        assert w.positive_prompts("cat", 2, random_state=0) == ["a cat", "a cat in a box"]
        fixes = [b["messages"][-1]["content"] for b in s.bodies[1:]]
        assert "not valid JSON" in fixes[0]
        assert "1 distinct prompts, 2 were asked for" in fixes[1]
        assert "prompt 2 is empty" in fixes[2]


def test_parse_json_reply_tolerates_text_around():
    assert parse_json_reply('Sure! {"a": [1]} Hope this helps.') == {"a": [1]}
    assert parse_json_reply('```\n["x"]\n```') == ["x"]
    with pytest.raises(InvalidReply, match="not valid JSON"):
        parse_json_reply("no json here")


def test_refusal_retried_then_clear_error(sleeps):
    with FakeOpenAI() as s:
        s.push(chat(None, finish_reason="content_filter"),
               chat("", refusal="I can't help with that."),
               chat("I'm sorry, but I cannot do this."))
        w = make_writer(s, sleeps, max_retries=2)
        with pytest.raises(BackendError, match="refused"):
            w.positive_prompts("cat", 2, random_state=0)
        assert "harmless" in s.bodies[1]["messages"][-1]["content"]
        s.push(chat(None, finish_reason="content_filter"), good_llm(s.bodies[0]))
        assert len(w.positive_prompts("cat", 2, random_state=0)) == 2


# ----------------------------------------------------------------------------- transport
def test_http_errors_are_retried_with_backoff(sleeps):
    with FakeOpenAI(good_llm) as s:
        s.push(error(500), error(429, "slow down", {"Retry-After": "3"}))
        w = make_writer(s, sleeps, max_retries=3, backoff_s=0.5)
        assert len(w.positive_prompts("cat", 2, random_state=0)) == 2
        assert sleeps == [0.5, 3.0]          # backoff, then Retry-After wins
        assert len(s.requests) == 3


def test_persistent_server_errors_give_backend_error(sleeps):
    with FakeOpenAI(lambda _b: error(503, "overloaded")) as s:
        w = make_writer(s, sleeps, max_retries=1)
        with pytest.raises(BackendError, match=r"HTTP 503.*overloaded.*2 attempts"):
            w.positive_prompts("cat", 1, random_state=0)


def test_timeouts_are_retried_then_backend_unavailable(sleeps):
    with FakeOpenAI() as s:
        s.push(chat("{}", delay=1.0), chat(good_llm_positive(2), delay=0.0))
        w = make_writer(s, sleeps, timeout_s=0.3, max_retries=1)
        assert len(w.positive_prompts("cat", 2, random_state=0)) == 2
        s.push(chat("{}", delay=1.0), chat("{}", delay=1.0))
        w = make_writer(s, sleeps, timeout_s=0.3, max_retries=1, use_cache=False)
        with pytest.raises(BackendUnavailable, match=r"did not answer within 0\.3 s") as e:
            w.positive_prompts("cat", 2, random_state=5)
        assert s.base_url in str(e.value)


def good_llm_positive(n):
    return json.dumps({"prompts": [f"a cat number {i}" for i in range(n)]})


def test_unreachable_endpoint_names_url_and_how_to_fix(sleeps):
    with socket.socket() as sock:                 # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ep = ChatEndpoint(f"http://127.0.0.1:{port}/v1", "m", max_retries=1, backoff_s=0,
                      timeout_s=1)
    w = ChatPromptWriter(ep, sleep=sleeps.append)
    with pytest.raises(BackendUnavailable) as e:
        w.positive_prompts("cat", 2, random_state=0)
    msg = str(e.value)
    assert f"http://127.0.0.1:{port}/v1/chat/completions" in msg
    assert "connection refused" in msg and "[plan] base_url" in msg and "vllm serve" in msg
    assert isinstance(e.value, BrainCauseError)    # the CLI maps it to exit code 2


def test_api_key_from_env_sent_as_bearer_never_in_config(server, sleeps, monkeypatch):
    monkeypatch.setenv("BC_TEST_KEY", "sk-secret-123")
    w = make_writer(server, sleeps, api_key_env="BC_TEST_KEY")
    w.positive_prompts("cat", 1, random_state=0)
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret-123" not in json.dumps(w.config)
    assert "sk-secret-123" not in json.dumps(w.endpoint.to_dict())
    monkeypatch.delenv("BC_TEST_KEY")
    make_writer(server, sleeps, api_key_env="BC_TEST_KEY", use_cache=False).positive_prompts(
        "cat", 1, random_state=0)
    assert "Authorization" not in server.requests[-1]["headers"]


def test_auth_failure_names_the_key_variable_without_retrying(sleeps, monkeypatch):
    monkeypatch.delenv("BC_TEST_KEY", raising=False)
    with FakeOpenAI(lambda _b: error(401, "invalid api key")) as s:
        w = make_writer(s, sleeps, api_key_env="BC_TEST_KEY")
        with pytest.raises(BackendUnavailable, match=r"HTTP 401.*BC_TEST_KEY"):
            w.counter_concepts("cat", 2)
        assert len(s.requests) == 1


def test_wrong_path_gives_404_hint(sleeps):
    with FakeOpenAI(good_llm) as s:
        ep = ChatEndpoint(s.base_url.removesuffix("/v1"), "m", max_retries=0)
        with pytest.raises(BackendUnavailable, match=r"404.*ends with the API version"):
            ChatPromptWriter(ep).positive_prompts("cat", 1, random_state=0)


# ----------------------------------------------------------------------------- cache, config
def test_cache_hit_avoids_a_second_request(server, sleeps):
    a = make_writer(server, sleeps)
    first = a.counter_concepts("cat", 3)
    n = len(server.requests)
    b = make_writer(server, sleeps)            # a fresh writer: only the disk cache is shared
    assert b.counter_concepts("cat", 3) == first
    assert len(server.requests) == n and b.client.n_requests == 0
    make_writer(server, sleeps, use_cache=False).counter_concepts("cat", 3)
    assert len(server.requests) == n + 1


def test_corrected_answer_is_cached_under_the_original_request(sleeps):
    with FakeOpenAI() as s:
        s.push("not json", good_llm_positive(2))
        a = make_writer(s, sleeps)
        got = a.positive_prompts("cat", 2, random_state=11)
        assert len(s.requests) == 2
        assert make_writer(s, sleeps).positive_prompts("cat", 2, random_state=11) == got
        assert len(s.requests) == 2


def test_config_and_endpoint_validation(server):
    ep = ChatEndpoint.from_dict({"base_url": server.base_url, "model": "m", "temperature": 0.2})
    cfg = ChatPromptWriter(ep).config
    assert cfg["temperature"] == 0.2 and cfg["model"] == "m" and "timeout_s" not in cfg
    with pytest.raises(BrainCauseError, match="unknown chat endpoint setting"):
        ChatEndpoint.from_dict({"base_url": server.base_url, "model": "m", "api_key": "x"})
    with pytest.raises(BrainCauseError, match="base_url"):
        ChatEndpoint("127.0.0.1:8000", "m")
    with pytest.raises(BrainCauseError, match="max_concurrency"):
        ChatEndpoint(server.base_url, "m", max_concurrency=0)
    ep = ChatEndpoint(server.base_url, "m", json_mode=False, send_seed=False)
    ChatPromptWriter(ep).positive_prompts("cat", 1, random_state=0)
    assert "response_format" not in server.bodies[-1] and "seed" not in server.bodies[-1]


def test_counter_template_lists_the_target_words():
    text = COUNTER_TEMPLATE.format(n=3, concept="dog", terms='"dog", "puppy"')
    assert '"dog", "puppy"' in text and "requires_target" in text


def test_client_map_keeps_order_and_propagates_errors(server):
    c = ChatClient(ChatEndpoint(server.base_url, "m", max_concurrency=3))
    assert c.map(lambda x: x * 2, range(7)) == list(range(0, 14, 2))

    def boom(x):
        if x == 2:
            raise ValueError("two")
        return x
    with pytest.raises(ValueError, match="two"):
        c.map(boom, range(5))


def test_docs_quote_the_templates_verbatim():
    from pathlib import Path

    from braincause.plan import llm
    from braincause.stimuli import vlm

    doc = " ".join((Path(__file__).parents[1] / "docs" / "backends.md").read_text().split())
    for name in ("SYSTEM_PROMPT", "POSITIVE_TEMPLATE", "COUNTER_TEMPLATE", "NEGATIVE_TEMPLATE",
                 "EDIT_TEMPLATE", "SHAPE_CORRECTION", "MENTION_CORRECTION",
                 "UNNAMED_CORRECTION", "REQUIRES_CORRECTION", "REFUSAL_CORRECTION"):
        text = getattr(llm, name).replace("{{", "{").replace("}}", "}")
        assert " ".join(text.split()) in doc, name
    assert vlm.QUESTION_TEMPLATE in doc and vlm.CORRECTION in doc
