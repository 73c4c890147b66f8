"""The ``tonewatch`` command line (Typer + Rich).

Each stage contributes its commands from its own ``cli/_<name>.py`` module through a
``register(app)`` function, so this file only lists them; heavy imports (model, database)
happen inside the commands, never at start-up.
"""

from __future__ import annotations

import importlib

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="tonewatch",
    help="Read every customer message, follow each customer, act before they leave.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Order is the order of `tonewatch --help`.
_MODULES: tuple[str, ...] = (
    "_score",
    "_serve",
    "_ingest",
    "_health",
    "_customer",
    "_privacy",
    "_rules",
    "_queue",
    "_report",
    "_label",
    "_drift",
    "_model",
    "_evaluate",
    "_audit",
    "_demo",
    "_streams",
    "_train",
)


def _register() -> None:
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}").register(app)


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
