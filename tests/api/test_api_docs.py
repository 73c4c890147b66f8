"""docs/api.md is generated from the OpenAPI schema; it must be current."""

from __future__ import annotations

from pathlib import Path

from tonewatch.api import create_app
from tonewatch.api._docs import ERROR_CODES, render_markdown
from tonewatch.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_is_current() -> None:
    expected = render_markdown(create_app(Settings(_env_file=None)))
    assert DOC.read_text(encoding="utf-8") == expected, "docs/api.md is stale: run python scripts/gen_api_docs.py"


def test_docs_name_every_operation_and_error_code() -> None:
    app = create_app(Settings(_env_file=None))
    text = render_markdown(app)
    for path, item in app.openapi()["paths"].items():
        for method in item:
            assert f"`{method.upper()} {path}`" in text
    for code, _, _ in ERROR_CODES:
        assert f"`{code}`" in text
