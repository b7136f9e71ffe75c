"""A small progress bar for management commands (no dependency; plain lines when not a terminal)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.core.management.base import OutputWrapper

Item = TypeVar("Item")
WIDTH = 30


def progress(items: Iterable[Item], *, total: int, stream: OutputWrapper, label: str = "") -> Iterator[Item]:
    """Yields `items`, drawing `label [#####.....] 3/10` on `stream` (a command's stderr) after each:
    redrawn in place on a terminal, every tenth of the way as plain lines otherwise (logs, CI)."""
    interactive = stream.isatty()
    for done, item in enumerate(items, start=1):
        yield item
        filled = WIDTH * done // max(total, 1)
        bar = f"{label} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}"
        if interactive:
            stream.write("\r" + bar, ending="" if done < total else "\n")
            stream.flush()
        elif done == total or done % max(1, total // 10) == 0:
            stream.write(bar)
