"""One progress bar for every long job: elapsed time and ETA, or nothing when off."""

from __future__ import annotations

import contextlib
import contextvars

# (update, start, stop) of an outer bar that inner bars report into (see reporting_into)
_OUTER = contextvars.ContextVar("aann_progress_outer", default=None)


@contextlib.contextmanager
def progress_bar(enabled: bool, total: int, label: str, unit: str = "", start: int = 0,
                 description: str = ""):
    """A rich progress bar over ``total`` units; yields
    ``update(completed=None, description=None)``.

    ``update(k)`` sets the units done to ``k``; ``update()`` advances by one;
    ``description`` replaces the text after the bold ``label``. Inside
    :func:`reporting_into` an enabled bar draws nothing itself and moves the outer one.
    """
    outer = _OUTER.get()
    if not enabled or outer is not None:
        yield _into(outer, total, start) if enabled else \
            (lambda completed=None, description=None: None)
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


@contextlib.contextmanager
def reporting_into(update, start: float, stop: float):
    """While active, a :func:`progress_bar` opened inside (e.g. by an engine running
    one batch of a longer job) draws no bar of its own: its fraction done moves the
    outer bar of ``update`` from ``start`` to ``stop`` (one bar, one ETA, over the
    batches)."""
    token = _OUTER.set((update, start, stop))
    try:
        yield
    finally:
        _OUTER.reset(token)


def _into(outer, total: int, start: int):
    """An inner bar's ``update`` that moves the outer bar over its span instead."""
    outer_update, a, b = outer
    done = [start]

    def update(completed=None, description=None):
        done[0] = done[0] + 1 if completed is None else completed
        outer_update(a + (b - a) * min(done[0] / max(total, 1), 1.0))

    return update
