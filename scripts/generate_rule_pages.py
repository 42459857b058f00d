"""Regenerate rules/*.md, their plots rules/img/*.png|svg and the README's rule table.

Needs torch and matplotlib (`pip install -e '.[test]' -c constraints.txt`).
"""

from __future__ import annotations

from pathlib import Path

from nanlint.docs import IMAGES, pages, reproductions, with_rule_table
from nanlint.repro.plot import write

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
README = ROOT / "README.md"


def main() -> None:
    RULES_DIR.mkdir(exist_ok=True)
    results = reproductions()
    for name, text in pages(results).items():
        (RULES_DIR / name).write_text(text)
        print(f"wrote rules/{name}")
    for result in results.values():
        for path in write(result, RULES_DIR / IMAGES):
            print(f"wrote {path.relative_to(ROOT)}")
    README.write_text(with_rule_table(README.read_text()))
    print("wrote the rule table of README.md")


if __name__ == "__main__":
    main()
