"""A real OpenAI-compatible HTTP server on loopback, for tests and `capmatch bench ingest`.

Each request takes the next scripted action if there is one (a status code with headers, a delay,
a raw body, a given answer); otherwise it answers like a careful model would: capabilities quoted
from the document's bullet lines, Unknown type and pricing, contrast lines naming the first
listed neighbour. Answers are shaped for the mode instructor asked for (tool call, JSON content, or
fenced JSON). Every request body is recorded so tests can see exactly what was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LLMServer:
    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency  # every answer waits this long, as a real model would
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # Bumped by reset(): a request an earlier test left running (a client that timed out while the
        # server still sleeps) is not counted against the next test's in_flight.
        self._generation = 0
        self._script: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            counted: int | None = None  # the generation this request is counted in, until it finishes

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    action = server._script.popleft() if server._script else {}
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    self.counted = server._generation
                try:
                    server._respond(self, body, action)
                finally:
                    self.finishing()

            def finishing(self) -> None:
                """The request leaves in_flight before its last bytes go out: once the client has read
                them it may send the next request, and this thread could otherwise still be counting
                the old one (max_in_flight then read one above the client's limit)."""
                with server._lock:
                    if self.counted == server._generation:
                        server.in_flight -= 1
                    self.counted = None

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()

    def script(self, *actions: dict[str, Any]) -> None:
        with self._lock:
            self._script.extend(actions)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.max_in_flight = 0
            self.in_flight = 0
            self._generation += 1

    def tasks(self) -> list[str]:
        """The task of each request received ("extract", "decompose", "classify", "contrast")."""
        return [_task(r) for r in self.requests]

    # ---- answering ----------------------------------------------------------------------------
    def _respond(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], action: dict[str, Any]) -> None:
        if action.get("delay") or self.latency:
            time.sleep(action.get("delay", self.latency))
        if action.get("drop"):
            handler.close_connection = True  # hang up without an answer
            return None
        status = action.get("status", 200)
        if status != 200:
            payload = json.dumps({"error": {"message": action.get("message", f"scripted {status}"), "type": "x"}})
            return _send(handler, status, payload, action.get("headers", {}))
        if "body" in action:
            return _send(handler, 200, action["body"], {})
        answer = action["answer"] if "answer" in action else _default_answer(body)
        raw = action.get("raw_answer", json.dumps(answer))
        completion = _completion(body, raw, action.get("usage"))
        if action.get("finish_reason"):
            completion["choices"][0]["finish_reason"] = action["finish_reason"]
        if action.get("no_usage"):
            completion.pop("usage")
        return _send(handler, 200, json.dumps(completion), {}, action.get("body_delay", 0.0))


def _send(
    handler: BaseHTTPRequestHandler, status: int, payload: str, headers: dict[str, str], body_delay: float = 0.0
) -> None:
    data = payload.encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if body_delay:
            # Headers now, the answer later, as streaming proxies do.
            handler.wfile.flush()
            time.sleep(body_delay)
        finishing = getattr(handler, "finishing", None)
        if finishing is not None:
            finishing()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (timeout): expected in timeout tests


def _completion(body: dict[str, Any], raw: str, usage: dict[str, int] | None) -> dict[str, Any]:
    prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
    usage = usage or {"prompt_tokens": prompt_chars // 4 + 1, "completion_tokens": len(raw) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": raw}}],
        }
        finish = "tool_calls"
    elif body.get("response_format"):
        message, finish = {"role": "assistant", "content": raw}, "stop"
    else:
        message, finish = {"role": "assistant", "content": f"```json\n{raw}\n```"}, "stop"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def _user_text(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return str(users[0].get("content") or "") if users else ""


def _task(body: dict[str, Any]) -> str:
    """The task named by the first message that names one (the system message, after the system text)."""
    for message in body.get("messages", []):
        match = re.search(r"^Task: (\w+)", str(message.get("content") or ""), re.M)
        if match:
            return match.group(1)
    return "unknown"


def _tagged(text: str, prefix: str) -> str:
    """The vendor text between capmatch's <prefix-HASH> … </prefix-HASH> tags."""
    match = re.search(rf"<({prefix}-[0-9a-f]+)>\n(.*)\n</\1>", text, re.S)
    return match.group(2) if match else ""


def _listed(text: str) -> list[dict[str, Any]]:
    """capmatch's contrast listing ("0. Name: description" then "   near: Tool / capability; …")."""
    listed: list[dict[str, Any]] = []
    for line in text.splitlines():
        head = re.match(r"(\d+)\. (.*?): ", line)
        if head:
            listed.append({"index": int(head.group(1)), "name": head.group(2), "neighbours": []})
        elif line.strip().startswith("near: ") and listed:
            for pair in line.strip()[len("near: ") :].split("; "):
                tool, _, capability = pair.partition(" / ")
                listed[-1]["neighbours"].append({"tool": tool, "capability": capability})
    return listed


def _default_answer(body: dict[str, Any]) -> dict[str, Any]:
    text = _user_text(body)
    task = _task(body)
    if task in ("decompose", "extract"):
        document = _tagged(text, "document")
        lines = [line.strip()[2:].strip() for line in document.splitlines() if line.strip().startswith("- ")]
        lines = [line for line in lines if len(line.split()) >= 3][:8]
        if not lines:
            lines = [s.strip() for s in re.split(r"(?<=[.!?])\s+", document) if len(s.split()) >= 6][:4]
        capabilities = [
            {"name": " ".join(re.findall(r"[\w/+-]+", line)[:4]), "description": line, "evidence": [line]}
            for line in lines
        ]
        if task == "extract":
            return {"capabilities": capabilities, "type": "Unknown", "pricing": "Unknown"}
        return {"capabilities": capabilities}
    if task == "classify":
        return {"type": "Unknown", "pricing": "Unknown"}
    if task == "contrast":
        listed = _listed(_tagged(text, "capabilities"))
        return {
            "capabilities": [
                {
                    "index": cap["index"],
                    "unique": f"Its own take on {cap['name'].lower()}.",
                    "vs_alternatives": [
                        {"tool": n["tool"], "difference": f"differs from “{n['capability']}”"}
                        for n in cap["neighbours"][:1]
                    ],
                }
                for cap in listed
            ]
        }
    return {}
