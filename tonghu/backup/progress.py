"""The rich progress display the backup and restore commands share (on stderr): one line per
step, with a bar and a count where the step knows how far it has to go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from tonghu.backup.services import Progress as Step


@contextmanager
def progress_display() -> Iterator[Step]:
    """A ``Progress`` callback for the services, drawn while the block runs."""
    with Progress(
        SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as progress:  # fmt: skip
        current: list[tuple[str, TaskID]] = []

        def finish() -> None:
            if current:
                task = next(task for task in progress.tasks if task.id == current[0][1])
                total = task.total or 1
                progress.update(current[0][1], total=total, completed=total)

        def step(label: str, *, done: int | None = None, total: int | None = None) -> None:
            if not current or current[0][0] != label:
                finish()
                current[:] = [(label, progress.add_task(label, total=total, count=""))]
            count = f"{done:,}/{total:,}" if done is not None and total else ""
            if done is not None and total and label.startswith("读取"):
                count = f"{done / 1024 / 1024:,.1f}/{total / 1024 / 1024:,.1f} MB"
            progress.update(current[0][1], completed=done or 0, total=total, count=count)

        yield step
        finish()
