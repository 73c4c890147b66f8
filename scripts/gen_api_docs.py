"""Write docs/api.md from the HTTP API's OpenAPI schema (tests fail when it is stale).

Usage: python scripts/gen_api_docs.py
"""

from __future__ import annotations

from pathlib import Path

from tonewatch.api import create_app
from tonewatch.api._docs import render_markdown
from tonewatch.settings import Settings

TARGET = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def main() -> None:
    TARGET.write_text(render_markdown(create_app(Settings(_env_file=None))), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
