"""Progress bars for long management commands (tqdm), drawn on the command's stderr when it is a
terminal and silent otherwise (logs, cron, CI), so output that is read by people or parsed by
scripts stays clean."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

Item = TypeVar("Item")
# What a service accepts to report its progress: wraps the items it is about to work through.
Progress = Callable[[Sequence[Any]], Iterable[Any]]


def no_progress(items: Sequence[Item]) -> Iterable[Item]:
    return items


def progress(items: Iterable[Item], *, total: int, stream: Any, label: str = "") -> Iterator[Item]:
    """Yields `items`, with a `label: 40%|####      | 4/10 [00:02<00:03]` bar on `stream` (a command's
    stderr: Django's OutputWrapper, whose own write() would add a newline to every redraw)."""
    out = getattr(stream, "_out", stream)
    interactive = bool(getattr(out, "isatty", lambda: False)())
    yield from tqdm(items, total=total, desc=label, file=out, disable=not interactive, leave=True,
                    dynamic_ncols=True)


def progress_on(stream: Any, label: str) -> Progress:
    """A Progress for a service call: `roster_import(..., progress=progress_on(self.stderr, "rows"))`."""
    return lambda items: progress(items, total=len(items), stream=stream, label=label)
