"""A progress bar for the long CLI jobs (import, export, restore): rows per second and time left, on a
terminal only, so that scripts and cron get clean output."""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, \
    TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from db.i18n import t

Report = Callable[[str, int, int], None]


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(t("{rate} rows/s", rate=f"{speed:,.0f}") if speed else "", style="progress.data.speed")


@contextlib.contextmanager
def bar(enabled: bool | None = None) -> Iterator[Report]:
    """Yields report(stage, done, total); stage is an English message (N_), said in the current language."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda stage, done, total: None
        return
    progress = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            for task_id in tasks.values():
                task = progress.tasks[task_id]
                progress.update(task_id, completed=task.total or task.completed)
            tasks[stage] = progress.add_task(t(stage), total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, done, 1))

    with progress:
        yield report
        for task_id in tasks.values():
            task = progress.tasks[task_id]
            progress.update(task_id, completed=task.total)
