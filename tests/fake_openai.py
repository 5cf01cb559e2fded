"""A fake OpenAI-compatible chat server on 127.0.0.1, for the real-backend tests.

:class:`FakeOpenAI` listens on an ephemeral loopback port in a daemon thread and answers
``POST /v1/chat/completions`` from a scripted queue of :class:`Answer` objects, then from
a handler function (``handler(body) -> Answer | str``), then with HTTP 500 (so a client
that keeps retrying is bounded by its own retry count, never by the server). It records
every request (path, headers, JSON body) and the most requests ever in flight at once.

Answers can simulate whatever the tests need: any content (malformed JSON, the wrong
shape, a target mentioned), HTTP errors with headers (500, 429 + Retry-After, 401), a
delay longer than the client's timeout, a refusal (``finish_reason="content_filter"``,
``refusal``), raw non-JSON bodies and logprobs. :func:`brightness_judge` answers vision
requests yes/no from the mean brightness of the image in the request.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Longest delay an answer may ask for (keeps a hung test short).
MAX_DELAY_S = 5.0


@dataclass
class Answer:
    """One scripted HTTP answer."""

    status: int = 200
    body: Any = None                 # dict (sent as JSON), str or bytes (sent as is)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def chat(content: str | None, *, finish_reason: str = "stop", refusal: str | None = None,
         logprobs: dict | None = None, delay: float = 0.0) -> Answer:
    """A chat completion whose message holds ``content``."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish_reason,
                              "message": {"role": "assistant", "content": content}}
    if refusal is not None:
        choice["message"]["refusal"] = refusal
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return Answer(200, {"id": "fake", "object": "chat.completion", "model": "fake",
                        "choices": [choice]}, delay=delay)


def error(status: int, message: str = "fake error", headers: dict[str, str] | None = None,
          delay: float = 0.0) -> Answer:
    """An HTTP error with an OpenAI-style JSON body."""
    return Answer(status, {"error": {"message": message, "type": "fake", "code": status}},
                  dict(headers or {}), delay)


def user_text(body: dict, which: int = 0) -> str:
    """Text of the ``which``-th user message (0: the task; -1: the latest)."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    if not users:
        return ""
    content = users[which]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if p.get("type") == "text")


def image_of(body: dict):
    """The first image of the request as a (H, W, 3) uint8 array (needs numpy, PIL)."""
    import numpy as np
    from PIL import Image

    for m in body.get("messages", []):
        if isinstance(m.get("content"), list):
            for p in m["content"]:
                if p.get("type") == "image_url":
                    url = p["image_url"]["url"]
                    head, _, data = url.partition(",")
                    assert head == "data:image/png;base64", head
                    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
    raise AssertionError("no image in the request")


def brightness_judge(threshold: float = 128.0, yes: str = "Yes", no: str = "No",
                     delay: float = 0.0) -> Callable[[dict], Answer]:
    """A vision handler: ``yes`` when the image's mean brightness exceeds ``threshold``."""
    def handle(body: dict) -> Answer:
        return chat(yes if float(image_of(body).mean()) > threshold else no, delay=delay)
    return handle


class FakeOpenAI:
    """The fake server (see the module docstring). Use as a context manager or call
    :meth:`start` / :meth:`close`.

    Parameters
    ----------
    handler : callable, optional
        ``handler(body) -> Answer | str`` for requests the script does not cover.
    """

    def __init__(self, handler: Callable[[dict], Answer | str] | None = None) -> None:
        self.handler = handler
        self.script: deque[Answer] = deque()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def push(self, *answers: Answer | str) -> FakeOpenAI:
        """Queue answers (a str is a chat completion with that content)."""
        for a in answers:
            self.script.append(chat(a) if isinstance(a, str) else a)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def bodies(self) -> list[dict]:
        return [r["body"] for r in self.requests]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # http.server calls it by this name
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    fake._answer(self)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ serving
    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        n = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(n) if n else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        with self._lock:
            self.requests.append({"path": req.path, "headers": dict(req.headers), "body": body})
            scripted = self.script.popleft() if self.script else None
        if req.path.rstrip("/") != "/v1/chat/completions":
            ans = error(404, f"no route {req.path}")
        elif scripted is not None:
            ans = scripted
        elif self.handler is not None:
            got = self.handler(body)
            ans = chat(got) if isinstance(got, str) else got
        else:
            ans = error(500, "fake server: no scripted answer left")
        if ans.delay:
            time.sleep(min(ans.delay, MAX_DELAY_S))
        payload = ans.body
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload or b""
        try:
            req.send_response(ans.status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            for k, v in ans.headers.items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before the answer came


def task(body: dict) -> dict[str, Any]:
    """What a writer request asks for, read back from our prompt templates: ``kind``
    (positive, negative, counter, edit), ``n``, ``seed``, ``concept``, ``counter``."""
    text = user_text(body, 0)
    n = int(re.search(r"exactly (\d+)", text).group(1))
    seed = re.search(r"variation seed (\d+)", text)
    out: dict[str, Any] = {"n": n, "seed": int(seed.group(1)) if seed else None}
    if '"counter_concepts"' in text:
        out |= {"kind": "counter",
                "concept": re.search(r'Target concept: "(.+?)"', text).group(1)}
    elif '"instructions"' in text:
        out |= {"kind": "edit", "concept": re.search(r'no longer shows "(.+?)"', text).group(1),
                "scene": re.search(r'description: "(.+?)"', text).group(1)}
    elif "controls for the concept" in text:
        out |= {"kind": "negative",
                "concept": re.search(r'controls for the concept "(.+?)"', text).group(1),
                "counter": re.search(r'main subject is "(.+?)"', text).group(1)}
    else:
        out |= {"kind": "positive", "concept": re.search(r'in which "(.+?)"', text).group(1)}
    return out


def good_llm(body: dict) -> str:
    """A well-behaved writer model: valid JSON of the asked size, target rules kept."""
    t = task(body)
    n, seed = t["n"], t["seed"]
    if t["kind"] == "counter":
        items = [{"name": f"control item {chr(97 + i)}", "source": "co-occurrence",
                  "reason": "often nearby", "colour": None, "requires_target": False}
                 for i in range(n)]
        return json.dumps({"counter_concepts": items})
    if t["kind"] == "edit":
        return json.dumps({"instructions": [f"remove the {t['concept']} (variant {seed}-{i})"
                                            for i in range(n)]})
    subject = t["counter"] if t["kind"] == "negative" else f"a {t['concept']}"
    return json.dumps({"prompts": [f"a photo of {subject}, view {seed}-{i}"
                                   for i in range(n)]})
