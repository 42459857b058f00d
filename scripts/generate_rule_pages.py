"""Regenerate rules/*.md and their plots rules/img/*.png|svg (needs torch and matplotlib)."""

from __future__ import annotations

from pathlib import Path

from nanlint.docs import IMAGES, pages, reproductions
from nanlint.repro.plot import write

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def main() -> None:
    RULES_DIR.mkdir(exist_ok=True)
    results = reproductions()
    for name, text in pages(results).items():
        (RULES_DIR / name).write_text(text)
        print(f"wrote rules/{name}")
    for result in results.values():
        for path in write(result, RULES_DIR / IMAGES):
            print(f"wrote {path.relative_to(RULES_DIR.parent)}")


if __name__ == "__main__":
    main()
