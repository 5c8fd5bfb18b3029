"""The sync pipeline: pull, score, plan, then apply (or render a dry-run)."""

from leadscore.sync.actions import (
    Action,
    ContactPlan,
    CreateTask,
    Hold,
    SetProperty,
    StageBackward,
    StageForward,
)
from leadscore.sync.runner import RunSummary, run_sync

__all__ = [
    "Action",
    "ContactPlan",
    "CreateTask",
    "Hold",
    "RunSummary",
    "SetProperty",
    "StageBackward",
    "StageForward",
    "run_sync",
]
