"""One progress bar for every long job: elapsed time and ETA, or nothing when off."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int, label: str, unit: str = "", start: int = 0,
                 description: str = ""):
    """A rich progress bar over ``total`` units; yields
    ``update(completed=None, description=None)``.

    ``update(k)`` sets the units done to ``k``; ``update()`` advances by one;
    ``description`` replaces the text after the bold ``label``.
    """
    if not enabled:
        yield lambda completed=None, description=None: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(f"[bold]{label}[/] {{task.description}}"), BarColumn(),
               MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(description, total=total, completed=start)

        def update(completed=None, description=None):
            fields = {} if description is None else {"description": description}
            if completed is None:
                bar.update(task, advance=1, **fields)
            else:
                bar.update(task, completed=completed, **fields)

        yield update
