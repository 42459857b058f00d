"""`nanlint server` latency and memory: the time from `didChange` to `publishDiagnostics` on a
small file and on a ~2,000-line model file, and the server's resident memory over 500 edits.

    python bench/server_latency.py [--large FILE] [--edits 500]

Without --large, the large file is a generated model file of about 2,000 lines. The times
include the server's debounce delay (nanlint.server.app.DEBOUNCE), which is printed apart.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from lsp_client import Client  # noqa: E402
from nanlint.server.app import DEBOUNCE  # noqa: E402

SMALL = (
    "import torch\nimport torch.nn.functional as F\n\n\n"
    "def loss(z, y):\n    return F.binary_cross_entropy(torch.sigmoid(z), y)\n"
)
BLOCK = '''

class Block{n}(nn.Module):
    """Block {n}: a residual MLP with a classification head."""

    def __init__(self, features=64, classes=10):
        super().__init__()
        self.norm = nn.LayerNorm(features)
        self.mlp = nn.Sequential(nn.Linear(features, features), nn.GELU())
        self.head = nn.Linear(features, classes)

    def forward(self, x, labels=None):
        x = x + self.mlp(self.norm(x))
        logits = self.head(x)
        if labels is None:
            return logits
        probabilities = torch.softmax(logits, dim=-1)
        return F.nll_loss(torch.log(probabilities), labels)
'''


def generated_model(lines: int = 2000) -> str:
    text = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
    n = 0
    while text.count("\n") < lines:
        text += BLOCK.format(n=n)
        n += 1
    return text


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Session:
    def __init__(self, root: Path):
        self.client = Client(root)
        self.client.request(
            "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
        )
        self.client.notify("initialized", {})
        self.versions: dict[str, int] = {}

    def open(self, path: Path) -> list[dict]:
        uri = path.as_uri()
        self.versions[uri] = 1
        document = {"uri": uri, "languageId": "python", "version": 1, "text": path.read_text()}
        self.client.notify("textDocument/didOpen", {"textDocument": document})
        return self._published(uri)

    def change(self, path: Path, text: str) -> float:
        """Seconds from sending the change to receiving its diagnostics."""
        uri = path.as_uri()
        self.versions[uri] += 1
        start = time.perf_counter()
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": self.versions[uri]},
                "contentChanges": [{"text": text}],
            },
        )
        self._published(uri)
        return time.perf_counter() - start

    def _published(self, uri: str) -> list[dict]:
        version = self.versions[uri]
        params = self.client.wait_for(
            "textDocument/publishDiagnostics",
            lambda p: p["uri"] == uri and p.get("version") == version,
        )
        self.client.pending.clear()
        self.client.notifications.clear()
        return params["diagnostics"]

    def close(self) -> None:
        self.client.close()


def latencies(session: Session, path: Path, edits: int) -> list[float]:
    """Each edit appends (then removes) a comment line at the end of the file."""
    base = path.read_text()
    return [
        session.change(path, base + (f"# edit {n}\n" if n % 2 == 0 else "")) for n in range(edits)
    ]


def describe(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[int(len(ms) * 0.9) - 1] if len(ms) >= 10 else ms[-1]
    return (
        f"{name}: median {statistics.median(ms):.0f} ms, p90 {p90:.0f} ms,"
        f" median without the debounce {statistics.median(ms) - DEBOUNCE * 1000:.0f} ms"
        f" ({len(ms)} edits)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", type=Path, help="a real ~2,000-line model file")
    parser.add_argument("--edits", type=int, default=500, help="edits for the memory run")
    parser.add_argument("--samples", type=int, default=30, help="edits timed per file")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        small, large = root / "train.py", root / "model.py"
        small.write_text(SMALL)
        text = arguments.large.read_text() if arguments.large else generated_model()
        large.write_text(text)
        session = Session(root)
        try:
            session.open(small)
            print(describe("small file (6 lines)", latencies(session, small, arguments.samples)))
            session.open(large)
            lines = text.count("\n")
            print(
                describe(
                    f"large file ({lines} lines)", latencies(session, large, arguments.samples)
                )
            )
            session.client.notify(
                "textDocument/didClose", {"textDocument": {"uri": large.as_uri()}}
            )
            pid = session.client.process.pid
            print(f"memory over {arguments.edits} edits of the small file (RSS, MiB):")
            before = rss_kib(pid)
            for done in range(0, arguments.edits, 100):
                latencies(session, small, min(100, arguments.edits - done))
                print(
                    f"  after {done + 100:>4} edits: {rss_kib(pid) / 1024:.1f} (start {before / 1024:.1f})"
                )
        finally:
            session.close()


if __name__ == "__main__":
    main()
