"""Run progress: a rich progress bar on a terminal, periodic structured log lines otherwise."""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from leadscore.logs import get_logger

log = get_logger("leadscore.sync.progress")


class RunProgress:
    """Counts contacts and planned writes; shows them live or logs them every few seconds."""

    def __init__(
        self,
        enabled: bool | None = None,
        label: str = "sync",
        log_every_seconds: float = 10.0,
    ) -> None:
        self._enabled = sys.stderr.isatty() if enabled is None else enabled
        self._label = label
        self._every = log_every_seconds
        self._last_log = time.monotonic()
        self._lock = threading.Lock()
        self.contacts = 0
        self.writes = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self._enabled:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.completed} contacts"),
                TextColumn("{task.fields[writes]} writes planned"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self._label, total=None, writes=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def advance(self, contacts: int, writes: int) -> None:
        """Record one processed batch."""
        with self._lock:
            self.contacts += contacts
            self.writes += writes
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, completed=self.contacts, writes=self.writes)
                return
            now = time.monotonic()
            if now - self._last_log >= self._every:
                self._last_log = now
                log.info("progress", run=self._label, contacts=self.contacts, writes=self.writes)
