"""A replay endpoint: an OpenAI-compatible server on loopback that answers from hand-written fixtures.

The answers in ``fixtures/replay/*.json`` were written by a person doing the task a strong model
would do on capmatch's actual prompts, with the imperfections real models show (see that folder's
README). Serving them through the real openai SDK and instructor exercises the decomposer, the
grounding validators, the re-asks and the contrast pass the way a real endpoint would, at no cost
and deterministically. Figures measured with it are *replayed*, not any model's skill.

What identifies a prompt (``replay_key``): the task (``Task: extract`` in the system message) and
the vendor text inside the user message's ``<document-…>``/``<capabilities-…>`` tag, whitespace
collapsed. The system and task wording, the tag's name and the tool-name line are left out, so a
rewording of a prompt (a new prompt version) still finds its answers; a change to what the model
reads (condensing, chunking) does not, and says so. For contrast requests only the ``index. name``
lines count: the ``near:`` lines depend on what was ingested before, and the ``quote:`` lines repeat
the page the capability names already identify. (Since contrast prompt version 6 a capability
line carries no description, so the fixtures' contrast keys were re-keyed.)

A page whose rules settle its type, pricing and licence is sent the ``decompose`` task (capabilities
only) over exactly the vendor text an ``extract`` request would carry. With no fixture of its own,
such a prompt is answered from the ``extract`` fixture of the *same vendor text* (``answering_key``),
each attempt reduced to its ``capabilities``: the model reads the same text under the same
capability instructions, and is simply not asked for the facts. A different text never borrows an
answer. Likewise an ``extract`` or ``classify`` request whose schema asks only the facts the page's
rules leave open gets each recorded attempt cut to the fields its schema has: the answer a model
writes to the same text, without the facts it was not asked for.

A fixture answer is a list of attempts: the first request gets ``attempts[0]``; a re-ask (the same
prompt followed by the rejected answer and instructor's error message) gets the next one, and the
last one is repeated after that. An attempt is ``{"answer": {...}}`` (the JSON the model returns) or
``{"truncated": N}`` before an answer: the first N characters of that answer's JSON, with
``finish_reason`` "length" as when a model runs into its output limit (or, with ``"finish_reason":
"normal"``, what a complete answer reports).

Usage is counted with capmatch's offline tokenizer (llm/tokens.py): the messages, a small overhead
per message, and the tool definition or response schema as sent; ``prompt_tokens_details.
cached_tokens`` follows OpenAI's documented prefix-cache rule (prompts of 1,024 tokens or more; the
longest prefix already sent, tool definitions first, in 128-token steps), so re-asks and repeated
static prefixes show what such a provider would bill as cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Container
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from capmatch.llm.tokens import count_tokens

_TASK = re.compile(r"^Task: (\w+)", re.M)
_TAGGED = re.compile(r"<((?:document|capabilities)-[0-9a-f]+)>\n(.*)\n</\1>", re.S)
# Fixed per-message overhead of chat templates (role markers), as OpenAI documents for its models.
MESSAGE_OVERHEAD = 4
# OpenAI's prompt caching: prompts of 1,024 tokens or more, the cached prefix counted in 128-token steps.
CACHE_MIN_TOKENS = 1024
CACHE_BLOCK = 128


def prompt_parts(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(task, vendor text) of a capmatch request, as sent."""
    task = next((m.group(1) for msg in messages if (m := _TASK.search(str(msg.get("content") or "")))), "unknown")
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    found = _TAGGED.search(users[0]) if users else None
    return task, found.group(2) if found else ""


def replay_key(messages: list[dict[str, Any]], task: str | None = None) -> str:
    """The prompt's key; with ``task``, the key the same vendor text has under that task."""
    asked, body = prompt_parts(messages)
    task = task or asked
    if task == "contrast":  # neighbours and quotes: not part of what identifies the prompt
        body = "\n".join(line for line in body.splitlines() if not line.strip().startswith(("near:", "quote:")))
    material = f"{task}\n{' '.join(body.split())}"
    return f"{task}:{hashlib.sha256(material.encode('utf-8')).hexdigest()[:16]}"


# A capabilities-only prompt may be answered by the answer to the same vendor text's combined
# prompt, without its fact fields (see the module's docstring).
BORROWS = {"decompose": ("extract", ("capabilities",))}


def answering_key(messages: list[dict[str, Any]], known: Container[str]) -> str | None:
    """The fixture key that answers this prompt: its own, else (a decompose prompt) the extract key
    of the same vendor text; None when neither is known."""
    key = replay_key(messages)
    if key in known:
        return key
    task = key.split(":", 1)[0]
    if task in BORROWS:
        other = replay_key(messages, BORROWS[task][0])
        if other in known:
            return other
    return None


def _only(attempts: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """The attempts with each answer cut to ``fields`` (a truncated attempt cuts the reduced answer)."""
    return [
        {**step, "answer": {k: v for k, v in step["answer"].items() if k in fields}} if "answer" in step else step
        for step in attempts
    ]


@dataclass
class Served:
    """One answer the server gave: for which prompt, which attempt, what it counted."""

    key: str
    page: str
    attempt: int
    answer: dict[str, Any] | None
    truncated: bool
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    answered_by: str = ""  # the fixture key that answered: ``key``, or the extract key a decompose prompt borrowed


@dataclass
class ReplayBook:
    """Every fixture's answers by prompt key, and which page each key belongs to."""

    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> ReplayBook:
        book = cls()
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            for entry in data["requests"]:
                key = entry["key"]
                if key in book.answers:
                    raise ValueError(f"{path.name}: prompt {key} is already answered by {book.pages[key]}")
                book.answers[key] = entry["attempts"]
                book.pages[key] = data["page"]
        return book


class ReplayServer:
    """``with ReplayServer(book) as server:`` serves on ``server.url`` (…/v1) until the block ends."""

    def __init__(self, book: ReplayBook, host: str = "127.0.0.1", port: int = 0) -> None:
        self.book = book
        self.served: list[Served] = []
        self.unknown: list[tuple[str, str]] = []  # (key, vendor text) of the prompts no fixture answers
        self._prefixes: list[str] = []  # every prompt so far, for the simulated prefix cache
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    return _send(self, 200, {"object": "list", "data": [{"id": "replay", "object": "model"}]})
                return _send(self, 404, _error(f"no route {self.path}; POST /v1/chat/completions", "not_found"))

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return _send(self, 404, _error(f"no route {self.path}; POST /v1/chat/completions", "not_found"))
                length = int(self.headers.get("content-length", "0"))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return _send(self, 400, _error("the request body is not JSON", "invalid_request_error"))
                status, payload = server.answer(body)
                return _send(self, status, payload)

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._http.daemon_threads = True
        self.url = f"http://{host}:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _cached(self, body: dict[str, Any], prompt_tokens: int) -> int:
        """Prompt tokens a provider's prefix cache would serve, by OpenAI's documented rule: prompts of
        at least CACHE_MIN_TOKENS, the longest prefix already seen, in CACHE_BLOCK-token steps."""
        text = _prefix_text(body)
        with self._lock:
            longest = max((_common_prefix(text, seen) for seen in self._prefixes), default=0)
            self._prefixes.append(text)
        if prompt_tokens < CACHE_MIN_TOKENS or longest == 0:
            return 0
        return min(prompt_tokens, count_tokens(text[:longest])) // CACHE_BLOCK * CACHE_BLOCK

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        messages: list[dict[str, Any]] = body.get("messages") or []
        key = replay_key(messages)
        found = answering_key(messages, self.book.answers)
        if found is None:
            task, text = prompt_parts(messages)
            with self._lock:
                self.unknown.append((key, text))
            # 404, not 5xx: the client must not retry, and the message says what to do.
            return 404, _error(
                f"replay: no fixture answers this {task} prompt (key {key}; vendor text begins "
                f"{' '.join(text.split())[:80]!r}). Add one to fixtures/replay with scripts/replay_prompts.py",
                "unknown_prompt",
            )
        attempts = self.book.answers[found]
        asked = _asked_fields(body)
        if found != key:  # the same vendor text's extract answer, capabilities only
            attempts = _only(attempts, BORROWS[key.split(":", 1)[0]][1])
        if asked is not None:  # a request asking fewer facts than the answer was written for
            attempts = _only(attempts, asked)
        # A re-ask repeats the prompt and appends the rejected answer and the error: one pair per attempt.
        attempt = max(0, (len(messages) - 2) // 2)
        step = attempts[min(attempt, len(attempts) - 1)]
        answer, raw, truncated = _render(attempts, min(attempt, len(attempts) - 1))
        prompt_tokens = sum(count_tokens(str(m.get("content") or "")) + MESSAGE_OVERHEAD for m in messages)
        prompt_tokens += _schema_tokens(body)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": count_tokens(raw),
            "total_tokens": prompt_tokens + count_tokens(raw),
            "prompt_tokens_details": {"cached_tokens": self._cached(body, prompt_tokens)},
        }
        with self._lock:
            self.served.append(
                Served(
                    key,
                    self.book.pages[found],
                    attempt,
                    answer,
                    truncated,
                    usage["prompt_tokens"],
                    usage["completion_tokens"],
                    usage["prompt_tokens_details"]["cached_tokens"],
                    found,
                )
            )
        # A cut answer says finish_reason "length", or (finish_reason "normal") what a complete one says, as
        # llama.cpp's server does when a forced tool call runs into max_tokens.
        finish = "length" if truncated and step.get("finish_reason", "length") == "length" else None
        return 200, _completion(body, raw, finish, usage)


def _asked_fields(body: dict[str, Any]) -> tuple[str, ...] | None:
    """The answer's top-level fields the request's schema has (a tool definition or a response
    schema), or None when the request carries its schema only as prompt text (json, md_json)."""
    tools = body.get("tools") or []
    schema = tools[0].get("function", {}).get("parameters") if tools else None
    if schema is None:
        schema = (body.get("response_format") or {}).get("schema")
    if not isinstance(schema, dict) or "properties" not in schema:
        return None
    return tuple(schema["properties"])


def _prefix_text(body: dict[str, Any]) -> str:
    """The prompt in the order a provider caches it: tool definitions and response format, then the messages."""
    head = json.dumps([body.get("tools"), body.get("response_format")], sort_keys=True)
    return head + "".join(f"\n<{m.get('role')}>\n{m.get('content') or ''}" for m in body.get("messages") or [])


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _render(attempts: list[dict[str, Any]], index: int) -> tuple[dict[str, Any] | None, str, bool]:
    """(answer or None when truncated, the raw text sent, truncated?) for attempt ``index``."""
    step = attempts[index]
    if "truncated" in step:
        # The model's complete answer would have been the next one; it stopped after N characters.
        whole = next((a["answer"] for a in attempts[index + 1 :] if "answer" in a), None)
        if whole is None:
            raise ValueError("a truncated attempt must come before the answer it cuts")
        return None, json.dumps(whole, ensure_ascii=False)[: int(step["truncated"])], True
    return step["answer"], json.dumps(step["answer"], ensure_ascii=False), False


def _schema_tokens(body: dict[str, Any]) -> int:
    """What a tool definition or a response schema adds to the prompt, counted like the messages."""
    extra = [body.get("tools"), body.get("response_format")]
    return sum(count_tokens(json.dumps(part)) for part in extra if part)


def _completion(body: dict[str, Any], raw: str, finish: str | None, usage: dict[str, int]) -> dict[str, Any]:
    """The answer shaped for the mode instructor asked for: a tool call, JSON content, or fenced JSON."""
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {"id": "call_replay", "type": "function", "function": {"name": name, "arguments": raw}}
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
        done = "tool_calls"
    elif body.get("response_format"):
        message, done = {"role": "assistant", "content": raw}, "stop"
    else:
        message, done = {"role": "assistant", "content": f"```json\n{raw}\n```"}, "stop"
    return {
        "id": f"chatcmpl-replay-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "replay"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish or done}],
        "usage": usage,
    }


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind}}


def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    """``python -m capmatch.llm.replay fixtures/replay --port 8001``: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m capmatch.llm.replay", description=main.__doc__)
    parser.add_argument("folder", type=Path, help="a folder of replay fixtures (fixtures/replay)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    book = ReplayBook.load(args.folder)
    server = ReplayServer(book, args.host, args.port)
    print(f"replaying {len(book.answers)} prompts from {args.folder} on {server.url} (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
