"""``tonewatch rules check``: a valid playbook is summarised; an invalid one names file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tonewatch.cli._rules import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_check_the_bundled_starter_playbook(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["rules", "check", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "starter"
    assert len(data["rules"]) >= 6
    table = CliRunner().invoke(app, ["rules", "check"])
    assert table.exit_code == 0
    assert "rules OK" in table.stdout


def test_check_names_the_file_line_and_field(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - id: new-and-angry\n"
        "    when:\n"
        "      all:\n"
        "        - tenure_days < 90\n"
        "        - analysis.emotions.rage > 0.5\n"
        "    then: [tag: x]\n"
    )
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line 6: rules[0].when.all[1]: use analysis.emotions.<emotion>" in result.stderr
    path.write_text("rules:\n  - id: r\n    when: trend.declining\n    then:\n      - discount: {tier: approve}\n")
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert "line 5" in result.stderr
    assert "never lower" in result.stderr
    missing = CliRunner().invoke(app, ["rules", "check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert "not found" in missing.stderr
