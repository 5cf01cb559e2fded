"""ChatVLMVerifier against a fake OpenAI-compatible vision server."""

from __future__ import annotations

import json
import math
import socket

import numpy as np
import pytest

from braincause.exceptions import BackendError, BackendUnavailable, BrainCauseError
from braincause.stimuli.verifier import ConceptVerifier
from braincause.stimuli.vlm import ChatEndpoint, ChatVLMVerifier, parse_yes_no
from fake_openai import FakeOpenAI, brightness_judge, chat, error, image_of, user_text


def images(levels, size=(9, 7)):
    """One flat uint8 RGB image per grey level, shape (n, 9, 7, 3)."""
    out = np.zeros((len(levels), *size, 3), np.uint8)
    for i, v in enumerate(levels):
        out[i] = v
    out[:, 0, 0] = np.arange(len(levels))[:, None]  # distinct bytes even at equal levels
    return out


def make(server, **kw):
    opts = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.0, "max_concurrency": 3}
    vkw = {k: kw.pop(k) for k in ("concepts", "labels", "use_logprobs", "on_failure",
                                  "use_cache", "max_tokens") if k in kw}
    opts |= kw
    return ChatVLMVerifier(ChatEndpoint(server.base_url, "fake-vl", **opts),
                           sleep=lambda _s: None, **vkw)


@pytest.fixture
def server():
    with FakeOpenAI(brightness_judge()) as s:
        yield s


def test_protocol_presence_and_verify(server):
    v = make(server)
    assert isinstance(v, ConceptVerifier) and v.needs_images and not v.needs_scenes
    X = images([250, 10, 200, 30, 90])
    p = v.presence("dog", images=X)
    assert p.shape == (5,) and p.dtype == np.float64
    np.testing.assert_array_equal(p, [1, 0, 1, 0, 0])
    np.testing.assert_array_equal(v.verify("dog", images=X), [True, False, True, False, False])
    np.testing.assert_array_equal(v.verify("dog", images=list(X), present=False),
                                  [False, True, False, True, True])
    body = server.bodies[0]
    assert body["temperature"] == 0.0 and 1 <= body["max_tokens"] <= 3
    assert "response_format" not in body
    assert user_text(body) == "Does this image contain dog? Answer yes or no."
    part = body["messages"][0]["content"][0]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    sent = sorted((image_of(b) for b in server.bodies), key=lambda im: int(im[0, 0, 0]))
    for a, b in zip(sent, X, strict=True):       # lossless PNG round trip
        np.testing.assert_array_equal(a, b)


def test_labels_and_free_text_concepts(server):
    v = make(server, concepts=["person_surfing", "red_kite"], labels={"red_kite": "a red kite"})
    v.presence("person_surfing", images=images([200]))
    assert "contain person surfing?" in user_text(server.bodies[-1])
    v.presence("red_kite", images=images([200]))
    assert "contain a red kite?" in user_text(server.bodies[-1])
    with pytest.raises(BrainCauseError, match="unknown concept 'dog'"):
        v.presence("dog", images=images([1]))


@pytest.mark.parametrize(("text", "want"), [
    ("Yes", True), (" no.", False), ("**Yes**", True), ("YES, there is", True),
    ("No\n", False), ("maybe", None), ("", None), ("The answer is yes", None),
])
def test_parse_yes_no(text, want):
    assert parse_yes_no(text) is want


def test_other_answers_are_corrected_and_retried(server):
    server.push("Maybe.", "I cannot tell", "no")
    v = make(server, max_concurrency=1)
    assert v.presence("dog", images=images([250])).tolist() == [0.0]
    fix = server.bodies[1]["messages"]
    assert fix[-2] == {"role": "assistant", "content": "Maybe."}
    assert fix[-1] == {"role": "user", "content": "Answer with exactly one word: yes or no."}


def test_failure_policy_raise_or_nan(server):
    server.push(*["perhaps"] * 3)
    v = make(server, max_concurrency=1, max_retries=2)
    with pytest.raises(BackendError, match=r"image 0: .*not yes or no: 'perhaps'.*on_failure"):
        v.presence("dog", images=images([250, 10]))
    server.push(*["perhaps"] * 3, chat(None, finish_reason="content_filter"))
    v = make(server, max_concurrency=1, max_retries=2, on_failure="nan", use_cache=False)
    p = v.presence("dog", images=images([250, 10]))
    assert math.isnan(p[0]) and p[1] == 0.0            # the refusal was retried: "No"
    X = images([250, 10])
    server.push(*["perhaps"] * 3)
    assert v.verify("dog", images=X).tolist() == [False, False]
    server.push(*["perhaps"] * 3)
    assert v.verify("dog", images=X, present=False).tolist() == [False, True]


def test_http_errors_retried_unreachable_raises(server):
    server.push(error(500), error(502))
    v = make(server, max_concurrency=1)
    assert v.presence("dog", images=images([250])).tolist() == [1.0]
    with socket.socket() as sock:                 # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = ChatEndpoint(f"http://127.0.0.1:{port}/v1", "m", max_retries=0, timeout_s=1)
    with pytest.raises(BackendUnavailable, match=rf"127\.0\.0\.1:{port}/v1.*\[verifier\] base_url"):
        ChatVLMVerifier(dead).presence("dog", images=images([1]))


def test_cache_and_determinism(server):
    X = images([250, 10, 200, 30])
    a = make(server).presence("dog", images=X)
    n = len(server.requests)
    b = make(server).presence("dog", images=X)
    np.testing.assert_array_equal(a, b)
    assert len(server.requests) == n                   # all four answers from the cache
    make(server).presence("cat", images=X)             # another question: asked again
    assert len(server.requests) == n + 4


def test_concurrency_bound():
    with FakeOpenAI(brightness_judge(delay=0.1)) as s:
        v = make(s, max_concurrency=3)
        p = v.presence("dog", images=images([250, 10] * 5))
        assert p.tolist() == [1.0, 0.0] * 5
        assert s.max_in_flight == 3


def test_logprobs_give_graded_presence(server):
    lp = {"content": [{"token": "Yes", "logprob": math.log(0.6), "top_logprobs": [
        {"token": "Yes", "logprob": math.log(0.6)}, {"token": " yes", "logprob": math.log(0.1)},
        {"token": "No", "logprob": math.log(0.2)}, {"token": "The", "logprob": math.log(0.1)}]}]}
    server.push(chat("Yes", logprobs=lp), chat("No"))
    v = make(server, use_logprobs=True, max_concurrency=1)
    p = v.presence("dog", images=images([250, 10]))
    np.testing.assert_allclose(p, [0.7 / 0.9, 0.0])    # no logprobs returned: hard answer
    assert server.bodies[0]["logprobs"] is True and server.bodies[0]["top_logprobs"] == 5


def test_inputs_config_and_key(server, monkeypatch):
    monkeypatch.setenv("BC_VLM_KEY", "vl-secret")
    v = make(server, api_key_env="BC_VLM_KEY")
    with pytest.raises(BrainCauseError, match="images="):
        v.presence("dog", features=np.zeros((2, 5)))
    with pytest.raises(BrainCauseError, match="uint8"):
        v.presence("dog", images=np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(BrainCauseError, match="threshold"):
        v.verify("dog", images=images([1]), threshold=1.5)
    v.presence("dog", images=images([3]))
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer vl-secret"
    cfg = json.dumps(v.config)
    assert "vl-secret" not in cfg and v.config["model"] == "fake-vl"
    assert v.fingerprint() == make(server).fingerprint()
    assert v.fingerprint() != make(server, use_logprobs=True).fingerprint()
    assert v.fit() is v and v.accuracy()["dog"]["balanced_accuracy"] is None
    with pytest.raises(BrainCauseError, match="on_failure"):
        make(server, on_failure="ignore")
