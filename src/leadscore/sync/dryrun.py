"""Dry-run rendering: the planned actions as a diff table or JSON lines. It holds no writer."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadscore.logs import redact_text
from leadscore.sync.actions import Action, ContactPlan, CreateTask, Hold

OutputFormat = Literal["table", "json"]


def action_record(action: Action) -> dict[str, Any]:
    """One planned action as the JSON object `--output json` prints."""
    record: dict[str, Any] = {
        "contact_id": action.contact_id,
        "email": action.email,
        "action": action.kind,
        "property": action.property,
        "before": None if isinstance(action, CreateTask) else action.before,
        "after": None if isinstance(action, CreateTask) else action.after,
        "reasons": list(action.reasons),
    }
    if isinstance(action, CreateTask):
        record.update(
            task_key=action.key,
            owner_id=action.owner_id,
            owner=action.owner_note,
            subject=action.subject,
            after=action.subject,
        )
    return record


def _change_text(action: Action) -> str:
    if isinstance(action, CreateTask):
        return f"task for {action.owner_id or 'nobody'} ({action.owner_note})"
    before = action.before if action.before not in (None, "") else "(empty)"
    if isinstance(action, Hold):
        return f"{before} -> {action.after} NOT MOVED"
    if action.kind == "stage_backward":
        return f"{before} -> (clear) -> {action.after}"
    return f"{before} -> {action.after}"


def _console_for(stream: IO[str] | None) -> Console:
    target = stream if stream is not None else sys.stdout
    on_terminal = hasattr(target, "isatty") and target.isatty()
    # Off a terminal (a pipe, a file, CI logs) use a wide fixed width so rows never fold.
    return Console(file=target, soft_wrap=False, width=None if on_terminal else 200)


class DryRunRenderer:
    """Prints plans as they are made, batch by batch, and the counts at the end."""

    def __init__(
        self,
        output: OutputFormat = "table",
        stream: IO[str] | None = None,
        console: Console | None = None,
        max_rows: int | None = None,
    ) -> None:
        self.output = output
        self._max_rows = max_rows
        self._rows_shown = 0
        self._rows_hidden = 0
        self._console = console or _console_for(stream)
        self._stream = stream or self._console.file
        self._header_done = False
        self.counts: Counter[str] = Counter()
        self.contacts_changed = 0
        self.warnings: list[str] = []

    def accept(self, plans: Sequence[ContactPlan]) -> None:
        """Render one batch of plans (contacts without actions print nothing)."""
        rows: list[Action] = []
        for plan in plans:
            if plan.warning:
                self.warnings.append(plan.warning)
            if plan.writes:
                self.contacts_changed += 1
            for action in plan.actions:
                self.counts[action.kind] += 1
                rows.append(action)
        if self._max_rows is not None:
            room = max(0, self._max_rows - self._rows_shown)
            self._rows_hidden += max(0, len(rows) - room)
            rows = rows[:room]
            self._rows_shown += len(rows)
        if not rows:
            return
        if self.output == "json":
            for action in rows:
                line = json.dumps(action_record(action), ensure_ascii=False)
                self._stream.write(redact_text(line) + "\n")
            self._stream.flush()
            return
        self._console.print(self._table(rows))

    def _table(self, rows: Sequence[Action]) -> Table:
        # Fixed widths keep the columns aligned across batches printed one after another.
        table = Table(
            show_header=not self._header_done,
            box=None,
            pad_edge=False,
            header_style="bold",
        )
        self._header_done = True
        table.add_column("contact", width=12, no_wrap=True, overflow="ellipsis")
        table.add_column("email", width=28, no_wrap=True, overflow="ellipsis")
        table.add_column("property", width=22, no_wrap=True, overflow="ellipsis")
        table.add_column("before -> after", width=44, overflow="fold")
        table.add_column("reasons", min_width=20, overflow="fold")
        for action in rows:
            style = "yellow" if isinstance(action, Hold) else None
            table.add_row(
                action.contact_id,
                action.email or "",
                action.property or action.kind,
                Text(_change_text(action), style=style or ""),
                "; ".join(action.reasons),
            )
        return table

    def finish(self, contacts_scored: int) -> str:
        """Print and return the closing counts line."""
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.counts.items())) or "no changes"
        line = (
            f"dry-run: {contacts_scored} contacts scored, {self.contacts_changed} would change "
            f"({kinds}); nothing was written"
        )
        if self._rows_hidden:
            self._emit(f"... {self._rows_hidden} more planned actions not shown")
        for warning in self.warnings:
            self._emit(f"warning: {warning}")
        self._emit(line)
        return line

    def _emit(self, text: str) -> None:
        if self.output == "json":
            # stdout stays pure JSON lines; the human summary goes to stderr.
            Console(stderr=True, soft_wrap=True).print(text, markup=False, highlight=False)
        else:
            self._console.print(text, markup=False, highlight=False)
