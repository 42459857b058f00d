"""Regenerate docs/torch-api.md: what the analysis models of the torch API."""

from __future__ import annotations

from pathlib import Path

from nanlint.analysis.coverage import markdown

PAGE = Path(__file__).resolve().parent.parent / "docs" / "torch-api.md"


def main() -> None:
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(markdown())
    print(f"wrote {PAGE.name}")


if __name__ == "__main__":
    main()
