"""Regenerate rules/*.md from the rule modules and their reproductions (needs torch)."""

from __future__ import annotations

from pathlib import Path

from nanlint.docs import pages

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def main() -> None:
    RULES_DIR.mkdir(exist_ok=True)
    for name, text in pages().items():
        (RULES_DIR / name).write_text(text)
        print(f"wrote rules/{name}")


if __name__ == "__main__":
    main()
