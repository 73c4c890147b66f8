"""Rich building blocks several commands print with: a confusion matrix and a bar with one line per stage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

__all__ = ["StageBar", "confusion_table", "stage_progress"]


def confusion_table(labels: Sequence[str], matrix: Sequence[Sequence[int]], rows: str, columns: str) -> Table:
    """Counts with ``rows`` down and ``columns`` across (e.g. gold against predicted)."""
    from rich.table import Table

    table = Table(title=f"Confusion (rows: {rows}, columns: {columns})", title_justify="left")
    table.add_column(f"{rows} \\ {columns}")
    for lab in labels:
        table.add_column(lab, justify="right")
    for lab, row in zip(labels, matrix, strict=True):
        table.add_row(lab, *(str(v) for v in row))
    return table


class StageBar:
    """One progress line per stage of a long job, each made when the job first reports that stage."""

    def __init__(self, bar: Progress, labels: Mapping[str, str]) -> None:
        self.bar = bar
        self._labels = labels
        self._tasks: dict[str, Any] = {}

    def _task(self, stage: str, total: int | None) -> Any:
        if stage not in self._tasks:
            self._tasks[stage] = self.bar.add_task(self._labels.get(stage, stage), total=total)
        return self._tasks[stage]

    def set(self, stage: str, completed: int, total: int) -> None:
        """``completed`` of ``total`` done in ``stage``."""
        self.bar.update(self._task(stage, total), completed=completed, total=total)

    def advance(self, stage: str, step: int, total: int | None) -> None:
        """``step`` more done in ``stage``."""
        self.bar.advance(self._task(stage, total), step)


@contextmanager
def stage_progress(console: Console, labels: Mapping[str, str], *, disable: bool = False) -> Iterator[StageBar]:
    """A bar (description, bar, n/total, elapsed) that stays on screen, a line per stage."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False, disable=disable) as bar:
        yield StageBar(bar, labels)
