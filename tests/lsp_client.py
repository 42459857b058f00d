"""A small LSP client over stdio for the tests and bench/server_latency.py: JSON-RPC messages
with Content-Length headers, to `nanlint server` run from this checkout."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30  # seconds: a hung server fails the test instead of hanging the suite


class Client:
    def __init__(self, cwd: Path):
        self.cwd = cwd
        environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nanlint", "server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if os.environ.get("NANLINT_LSP_STDERR") else subprocess.DEVNULL,
            cwd=cwd,
            env=environment,
        )
        self.messages: queue.Queue[dict] = queue.Queue()
        self.notifications: list[dict] = []  # every one, in order
        self.pending: list[dict] = []  # those no wait_for took yet
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.messages.get(timeout=TIMEOUT)
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")
            self._other(message)

    def wait_for(self, method: str, matches=lambda params: True) -> dict:
        """The first notification of `method` whose params match and that no earlier wait
        took, waiting for it if it has not come yet."""
        for message in self.pending:
            if message["method"] == method and matches(message["params"]):
                self.pending.remove(message)
                return message["params"]
        while True:
            message = self.messages.get(timeout=TIMEOUT)
            self._other(message)
            if message.get("method") == method and matches(message["params"]):
                self.pending.remove(message)
                return message["params"]

    def _other(self, message: dict) -> None:
        if "id" in message and "method" in message:  # a request from the server
            self.send({"id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append(message)
            self.pending.append(message)

    def close(self) -> int:
        self.request("shutdown", {})
        self.notify("exit", {})
        return self.process.wait(timeout=TIMEOUT)
