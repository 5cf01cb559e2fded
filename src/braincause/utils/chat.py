"""A minimal client for OpenAI-compatible chat endpoints (standard library only).

Used by the real prompt writer (:class:`braincause.plan.llm.ChatPromptWriter`) and the
VLM verifier (:class:`braincause.stimuli.vlm.ChatVLMVerifier`). It speaks the one call
both need, ``POST {base_url}/chat/completions``, as served by vLLM, Ollama, the
llama.cpp server and hosted APIs, and adds what a long unattended run needs:

* **retries** with exponential backoff (``backoff_s · 2^k``, capped at 60 s; a server's
  ``Retry-After`` is honoured) on HTTP 429 and 5xx, connection errors and timeouts, and
  on answers the caller's ``validate`` function rejects (malformed JSON, wrong shape,
  a mentioned target, a refusal). A rejected answer is sent back to the model with a
  corrective message, so the retry is a new request rather than the same one again;
* **error mapping** to one clear message: an endpoint that cannot be reached (refused,
  unknown host, timeouts after every retry) or that refuses the credentials (401/403)
  raises :class:`~braincause.exceptions.BackendUnavailable`; an endpoint that keeps
  answering unusably raises :class:`~braincause.exceptions.BackendError`
  (:class:`UnusableAnswer` when every answer failed ``validate``);
* **bounded concurrency**: at most ``max_concurrency`` requests in flight per client,
  whatever the number of calling threads, and :meth:`ChatClient.map` to fan
  independent requests out over a thread pool of that size;
* an on-disk **response cache** under ``cache_dir()/"chat"``: a *validated* answer is
  stored under the hash of the original request (base URL, model, messages and every
  sampling parameter), so a rerun replays it without calling the server.

The API key is read from the environment variable named by
:attr:`ChatEndpoint.api_key_env` at each request; it is never stored or recorded.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

from braincause.exceptions import BackendError, BackendUnavailable, UserInputError
from braincause.utils import atomic_write_bytes, cache_dir

__all__ = [
    "CACHE_VERSION",
    "ChatClient",
    "ChatEndpoint",
    "InvalidReply",
    "Reply",
    "UnusableAnswer",
    "check_reachable",
    "parse_json_reply",
]

T = TypeVar("T")
U = TypeVar("U")

#: Bumped when the layout of cached responses changes (part of every cache key).
CACHE_VERSION = 1
#: Longest wait between two attempts, whatever ``backoff_s`` and the attempt number.
MAX_BACKOFF_S = 60.0
_RETRY_STATUS = frozenset({408, 409, 425, 429})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.S)


# ----------------------------------------------------------------------------- config
@dataclass(frozen=True)
class ChatEndpoint:
    """Where and how to reach an OpenAI-compatible chat endpoint.

    Parameters
    ----------
    base_url : str
        The API root, up to and including the version segment, e.g.
        ``http://127.0.0.1:8000/v1`` (vLLM), ``http://127.0.0.1:11434/v1`` (Ollama),
        ``http://127.0.0.1:8080/v1`` (llama.cpp server); requests go to
        ``{base_url}/chat/completions``.
    model : str
        Model name as the server knows it (``--served-model-name`` / ``ollama list``).
    api_key_env : str or None
        Name of the environment variable holding the API key, sent as
        ``Authorization: Bearer <key>`` when the variable is set. The key itself is
        never stored. ``None``: never send one.
    timeout_s : float
        Seconds to wait for one answer (connect and read).
    max_retries : int
        Further attempts after the first, for every failure kind together.
    backoff_s : float
        Wait before the first retry; doubled at each further one (capped at 60 s).
    max_concurrency : int
        Most requests in flight at once from one client.
    temperature : float
        Sampling temperature (callers may override it per request, e.g. 0 for yes/no).
    json_mode : bool
        Send ``response_format = {"type": "json_object"}`` with requests that expect
        JSON (supported by vLLM, Ollama, llama.cpp server and OpenAI; turn it off for a
        server that rejects the field).
    send_seed : bool
        Send a ``seed`` with each request (vLLM, Ollama, llama.cpp and OpenAI use it).
    max_tokens : int or None
        Cap on the answer's length for requests that do not set their own.
    """

    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    max_retries: int = 4
    backoff_s: float = 1.0
    max_concurrency: int = 4
    temperature: float = 0.7
    json_mode: bool = True
    send_seed: bool = True
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        url = urllib.parse.urlsplit(str(self.base_url))
        if url.scheme not in ("http", "https") or not url.netloc:
            raise UserInputError(
                f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, "
                f"got {self.base_url!r}")
        if not isinstance(self.model, str) or not self.model.strip():
            raise UserInputError(f"model must name the served model, got {self.model!r}")
        if self.api_key_env is not None and (not isinstance(self.api_key_env, str)
                                             or not self.api_key_env.strip()):
            raise UserInputError(f"api_key_env must be an environment variable name or "
                                 f"None, got {self.api_key_env!r}")
        checks = [("timeout_s", self.timeout_s > 0), ("max_retries", self.max_retries >= 0),
                  ("backoff_s", self.backoff_s >= 0),
                  ("max_concurrency", self.max_concurrency >= 1),
                  ("temperature", 0 <= self.temperature <= 2),
                  ("max_tokens", self.max_tokens is None or self.max_tokens >= 1)]
        for name, ok in checks:
            if not ok:
                raise UserInputError(f"{name} out of range: got {getattr(self, name)!r} "
                                     f"(see docs/backends.md)")

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        return f"{self.base_url.rstrip('/')}/chat/completions"

    def to_dict(self) -> dict[str, Any]:
        """Every field (JSON-serialisable; holds the key's variable *name*, never the key).

        Returns
        -------
        dict
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChatEndpoint:
        """Build from a config table (e.g. ``[backends.writer]`` of a TOML file).

        Parameters
        ----------
        d : mapping
            Field name to value; ``base_url`` and ``model`` are required.

        Returns
        -------
        ChatEndpoint

        Raises
        ------
        UserInputError
            An unknown key, or ``base_url`` / ``model`` missing.
        """
        known = {f.name for f in fields(cls)}
        extra = sorted(set(d) - known)
        if extra:
            raise UserInputError(f"unknown chat endpoint setting(s) {', '.join(extra)}; "
                                 f"known: {', '.join(sorted(known))}")
        missing = [k for k in ("base_url", "model") if k not in d]
        if missing:
            raise UserInputError(f"a chat endpoint needs {' and '.join(missing)} "
                                 f"(e.g. base_url = \"http://127.0.0.1:8000/v1\")")
        return cls(**dict(d))


# ----------------------------------------------------------------------------- replies
@dataclass(frozen=True)
class Reply:
    """One answer of the model.

    Attributes
    ----------
    content : str
        The message text ('' when the server sent none).
    finish_reason : str or None
        ``stop``, ``length``, ``content_filter``, …
    refusal : str or None
        The ``message.refusal`` field some servers fill when the model declines.
    logprobs : dict or None
        The choice's ``logprobs`` object, when requested and returned.
    cached : bool
        True when replayed from the on-disk cache.
    """

    content: str
    finish_reason: str | None = None
    refusal: str | None = None
    logprobs: dict[str, Any] | None = None
    cached: bool = False

    @property
    def refused(self) -> bool:
        """The server or model declined (content filter, a refusal, or no content)."""
        return (self.finish_reason == "content_filter" or bool(self.refusal)
                or not self.content.strip())


class InvalidReply(Exception):  # a signal between validate() and the client, not an error
    """Raised by a ``validate`` function: the answer is unusable.

    Parameters
    ----------
    problem : str
        What was wrong (ends up in the final error message).
    correction : str
        The message sent back to the model before the next attempt.
    """

    def __init__(self, problem: str, correction: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.correction = correction


class UnusableAnswer(BackendError):
    """Every attempt got an answer, and ``validate`` rejected each one."""


def parse_json_reply(text: str) -> Any:
    """Parse a model's JSON answer, tolerating code fences and text around the object.

    Tries, in order: the whole text; the first fenced block (```json … ```); the span
    from the first ``{`` (or ``[``) to the last ``}`` (or ``]``).

    Parameters
    ----------
    text : str
        The reply's content.

    Returns
    -------
    object
        The first candidate that parses as JSON.

    Raises
    ------
    InvalidReply
        No JSON value could be read.
    """
    text = text.strip()
    candidates = [text]
    m = _FENCE.search(text)
    if m:
        candidates.append(m.group(1).strip())
    for o, c in ("{}", "[]"):
        i, j = text.find(o), text.rfind(c)
        if 0 <= i < j:
            candidates.append(text[i:j + 1])
    err = "empty answer"
    for cand in candidates:
        if not cand:
            continue
        try:
            return json.loads(cand)
        except json.JSONDecodeError as e:
            err = f"{e.msg} at line {e.lineno} column {e.colno}"
    raise InvalidReply(f"the answer was not valid JSON ({err}): {_clip(text)}",
                       f"Your previous answer was not valid JSON ({err}). Answer again with "
                       f"only the JSON object described above, and no other text.")


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= n else text[:n] + "…")


# ----------------------------------------------------------------------------- transport
class _Transient(Exception):
    def __init__(self, message: str, *, kind: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind                      # "connect", "timeout", "http", "body"
        self.retry_after = retry_after


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ChatClient:
    """HTTP client of one :class:`ChatEndpoint` (see the module docstring).

    Parameters
    ----------
    endpoint : ChatEndpoint
    config_section : str
        The config table users set the endpoint in (named in error messages).
    use_cache : bool
        Replay and store validated answers under ``cache_root``.
    cache_root : path, optional
        Defaults to ``braincause.utils.cache_dir() / "chat"`` (read when needed, so
        ``BRAINCAUSE_CACHE`` set later still applies).
    sleep : callable
        Called with the seconds to wait between attempts (inject a no-op in tests).

    Attributes
    ----------
    n_requests : int
        HTTP requests sent so far (cache hits excluded).
    """

    def __init__(self, endpoint: ChatEndpoint, *, config_section: str = "plan",
                 use_cache: bool = True, cache_root: str | os.PathLike[str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not isinstance(endpoint, ChatEndpoint):
            raise UserInputError(f"endpoint must be a ChatEndpoint, got "
                                 f"{type(endpoint).__name__}")
        self.endpoint = endpoint
        self.config_section = config_section
        self.use_cache = bool(use_cache)
        self.cache_root = cache_root
        self.sleep = sleep
        self.n_requests = 0
        self._slots = threading.BoundedSemaphore(endpoint.max_concurrency)
        self._count = threading.Lock()
        host = urllib.parse.urlsplit(endpoint.base_url).hostname or ""
        # a server on this machine is never reached through an HTTP proxy
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"ChatClient({self.endpoint.url!r}, model={self.endpoint.model!r})"

    # ------------------------------------------------------------------ public
    def complete(self, messages: Sequence[Mapping[str, Any]], validate: Callable[[Reply], T],
                 *, temperature: float | None = None, max_tokens: int | None = None,
                 seed: int | None = None, json_mode: bool = False,
                 extra: Mapping[str, Any] | None = None) -> T:
        """Ask the model, retrying until ``validate`` accepts the answer.

        Parameters
        ----------
        messages : sequence of dict
            OpenAI chat messages (``{"role": ..., "content": ...}``).
        validate : callable
            ``validate(reply) -> value``; raises :class:`InvalidReply` to reject the
            answer (its ``correction`` is sent back to the model before the retry).
        temperature, max_tokens : optional
            Override the endpoint's defaults for this request.
        seed : int, optional
            Sent as ``seed`` when the endpoint's ``send_seed`` is on.
        json_mode : bool
            This request expects JSON: send ``response_format`` if the endpoint's
            ``json_mode`` is on.
        extra : dict, optional
            Further request fields (e.g. ``logprobs``), part of the cache key.

        Returns
        -------
        The value ``validate`` returned.

        Raises
        ------
        BackendUnavailable
            Endpoint unreachable or timing out after every attempt, wrong URL (404), or
            credentials refused (401/403).
        BackendError
            Every attempt answered with an error status or an answer ``validate``
            rejected.
        """
        ep = self.endpoint
        params: dict[str, Any] = {
            "temperature": ep.temperature if temperature is None else float(temperature)}
        mt = max_tokens if max_tokens is not None else ep.max_tokens
        if mt is not None:
            params["max_tokens"] = int(mt)
        if seed is not None and ep.send_seed:
            params["seed"] = int(seed)
        if json_mode and ep.json_mode:
            params["response_format"] = {"type": "json_object"}
        params.update(extra or {})
        convo = [dict(m) for m in messages]
        key = self._key(convo, params)
        cached = self._load(key)
        if cached is not None:
            try:
                return validate(cached)
            except InvalidReply:
                pass  # stored by an older validator: ask the server again
        last: Exception | None = None
        for attempt in range(ep.max_retries + 1):
            if attempt:
                delay = min(MAX_BACKOFF_S, ep.backoff_s * 2 ** (attempt - 1))
                ra = getattr(last, "retry_after", None)
                if ra is not None:
                    delay = max(delay, min(MAX_BACKOFF_S, ra))
                self.sleep(delay)
            try:
                reply = self._post(convo, params)
            except _Transient as e:
                last = e
                continue
            try:
                value = validate(reply)
            except InvalidReply as e:
                last = e
                convo = [*convo, {"role": "assistant", "content": reply.content or "(no answer)"},
                         {"role": "user", "content": e.correction}]
                continue
            self._store(key, reply)
            return value
        raise self._give_up(last, ep.max_retries + 1)

    def map(self, fn: Callable[[U], T], items: Iterable[U]) -> list[T]:
        """``[fn(x) for x in items]`` on a pool of ``max_concurrency`` threads, in order.

        The first exception (in item order) propagates; items not yet started are
        cancelled.

        Parameters
        ----------
        fn : callable
            Called once per item (from worker threads).
        items : iterable

        Returns
        -------
        list
            ``fn(x)`` for every item, in the order of ``items``.
        """
        items = list(items)
        workers = min(self.endpoint.max_concurrency, len(items))
        if workers <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chat") as pool:
            futures = [pool.submit(fn, x) for x in items]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    # ------------------------------------------------------------------ cache
    def _key(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
        blob = json.dumps({"v": CACHE_VERSION, "base_url": self.endpoint.base_url.rstrip("/"),
                           "model": self.endpoint.model, "messages": messages,
                           "params": params}, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        root = Path(self.cache_root) if self.cache_root is not None else cache_dir() / "chat"
        return root / key[:2] / f"{key}.json"

    def _load(self, key: str) -> Reply | None:
        if not self.use_cache:
            return None
        path = self._path(key)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable entry (writes are atomic, so rare): ask the server
        if not isinstance(d, dict) or not isinstance(d.get("content"), str):
            return None
        return Reply(d["content"], d.get("finish_reason"), None, d.get("logprobs"), cached=True)

    def _store(self, key: str, reply: Reply) -> None:
        if not self.use_cache or reply.cached:
            return
        blob = json.dumps({"content": reply.content, "finish_reason": reply.finish_reason,
                           "logprobs": reply.logprobs, "model": self.endpoint.model},
                          sort_keys=True).encode()
        atomic_write_bytes(self._path(key), blob)

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        env = self.endpoint.api_key_env
        key = os.environ.get(env, "").strip() if env else ""
        if key:
            h["Authorization"] = f"Bearer {key}"
        return h

    def _post(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Reply:
        ep = self.endpoint
        body = json.dumps({"model": ep.model, "messages": messages, **params}).encode()
        req = urllib.request.Request(ep.url, data=body, headers=self._headers(), method="POST")
        with self._slots:
            with self._count:
                self.n_requests += 1
            try:
                with self._opener.open(req, timeout=ep.timeout_s) as resp:
                    raw = resp.read()
            except urllib.error.HTTPError as e:
                detail = _error_detail(e)
                e.close()
                raise self._status_error(e.code, detail, e.headers) from None
            except urllib.error.URLError as e:
                if isinstance(e.reason, TimeoutError):
                    raise _Transient(f"no answer within {ep.timeout_s:g} s",
                                     kind="timeout") from None
                raise _Transient(f"{_reason(e.reason)}", kind="connect") from None
            except TimeoutError:
                raise _Transient(f"no answer within {ep.timeout_s:g} s", kind="timeout") from None
            except http.client.HTTPException as e:
                raise _Transient(f"broken HTTP answer ({type(e).__name__})",
                                 kind="body") from None
            except OSError as e:  # includes ConnectionError (reset, refused)
                raise _Transient(_reason(e), kind="connect") from None
        try:
            d = json.loads(raw)
            choice = d["choices"][0]
            msg = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Transient("the server's answer is not a chat completion: "
                             f"{_clip(raw[:400].decode('utf-8', 'replace'))}",
                             kind="body") from None
        content = msg.get("content")
        if isinstance(content, list):  # some servers send content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return Reply(content if isinstance(content, str) else "", choice.get("finish_reason"),
                     msg.get("refusal") if isinstance(msg.get("refusal"), str) else None,
                     choice.get("logprobs") if isinstance(choice.get("logprobs"), dict) else None)

    def _status_error(self, code: int, detail: str, headers: Message | None) -> Exception:
        ep = self.endpoint
        where = f"the chat endpoint {ep.url}"
        if code in (401, 403):
            env = ep.api_key_env
            if env is None:
                how = "set api_key_env to the environment variable that holds the key"
            elif os.environ.get(env):
                how = f"the key in ${env} was refused: check it is valid for this server"
            else:
                how = f"set the environment variable {env} to your API key"
            return BackendUnavailable(f"{where} refused the credentials (HTTP {code}): {how}. "
                                      f"{detail}".strip())
        if code == 404:
            return BackendUnavailable(
                f"{where} answered HTTP 404: check that base_url ends with the API version "
                f"(e.g. http://127.0.0.1:8000/v1) and that the server serves model "
                f"{ep.model!r}. {detail}".strip())
        if code >= 500 or code in _RETRY_STATUS:
            return _Transient(f"HTTP {code} {detail}".strip(), kind="http",
                              retry_after=_retry_after(headers))
        hint = ""
        if code in (400, 422) and ep.json_mode and "response_format" in detail:
            hint = " The server may not support response_format: set json_mode = false."
        return BackendError(f"{where} rejected the request (HTTP {code}): {detail}{hint}")

    def _give_up(self, last: Exception | None, attempts: int) -> Exception:
        ep = self.endpoint
        sec = self.config_section
        if isinstance(last, _Transient) and last.kind == "connect":
            return BackendUnavailable(
                f"cannot reach the chat endpoint {ep.url} ({last}; {attempts} attempts). "
                f"Start an OpenAI-compatible server there (e.g. `vllm serve MODEL`, "
                f"`ollama serve`, `llama-server -m MODEL.gguf`) or set [{sec}] base_url in "
                f"the config to one that is running.")
        if isinstance(last, _Transient) and last.kind == "timeout":
            return BackendUnavailable(
                f"the chat endpoint {ep.url} did not answer within {ep.timeout_s:g} s "
                f"({attempts} attempts). Check that the server is running and has finished "
                f"loading {ep.model!r}, or raise [{sec}] timeout_s / lower max_concurrency.")
        if isinstance(last, _Transient):
            return BackendError(
                f"the chat endpoint {ep.url} kept failing ({last}; {attempts} attempts). "
                f"Check the server's log; lower [{sec}] max_concurrency if it is overloaded.")
        if isinstance(last, InvalidReply):
            return UnusableAnswer(
                f"model {ep.model!r} at {ep.url} gave no usable answer in {attempts} attempts; "
                f"last problem: {last.problem}. Try a stronger model, another temperature or "
                f"more [{sec}] max_retries.")
        return BackendError(f"the chat endpoint {ep.url} gave no usable answer "
                            f"({attempts} attempts)")


def check_reachable(endpoint: ChatEndpoint, *, config_section: str = "plan",
                    timeout_s: float = 10.0) -> None:
    """Fail early, before a run starts, when nothing listens at the endpoint.

    Opens (and closes) a TCP connection to the endpoint's host and port; sends nothing.
    An endpoint reached through an HTTP proxy is not checked (the first request will
    say). A server that listens but answers badly is found by the first request.

    Parameters
    ----------
    endpoint : ChatEndpoint
    config_section : str, default="plan"
        The config table named in the message (where the user sets ``base_url``).
    timeout_s : float, default=10.0
        Connection timeout in seconds (at most the endpoint's ``timeout_s``).

    Raises
    ------
    BackendUnavailable
        Unknown host, connection refused or no answer within ``timeout_s``; the message
        names the URL and how to fix it.
    """
    url = urllib.parse.urlsplit(endpoint.base_url)
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    if host not in _LOOPBACK and urllib.request.getproxies() \
            and not urllib.request.proxy_bypass(host):
        return
    try:
        with socket.create_connection((host, port), timeout=min(timeout_s,
                                                                 endpoint.timeout_s)):
            pass
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else _reason(e)
        raise BackendUnavailable(
            f"cannot reach the chat endpoint {endpoint.url} ({why}). Start an "
            f"OpenAI-compatible server there (e.g. `vllm serve MODEL`, `ollama serve`, "
            f"`llama-server -m MODEL.gguf`) or set [{config_section}] base_url in the "
            f"config to one that is running.") from None


def _reason(reason: Any) -> str:
    if isinstance(reason, socket.gaierror):
        return f"unknown host: {reason.strerror or reason}"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return str(getattr(reason, "strerror", None) or reason)


def _error_detail(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read()
    except OSError:
        return ""
    try:
        d = json.loads(raw)
        msg = d.get("error", d) if isinstance(d, dict) else d
        if isinstance(msg, dict):
            msg = msg.get("message", msg)
        return _clip(msg, 300)
    except ValueError:
        return _clip(raw.decode("utf-8", "replace"), 300) if raw else ""
