"""The state store: runs, cursors, activity, last writes, audit log and task ledger."""

from leadscore.state.store import (
    CONTACTS_CURSOR,
    EMAIL_EVENTS_CURSOR,
    FORM_CURSOR_PREFIX,
    AuditEntry,
    BackfillProgress,
    BatchOutcome,
    ContactActivity,
    ContactSnapshot,
    ContactState,
    LedgerEntry,
    RunRecord,
    StateStore,
    StateStoreError,
    open_store,
    open_store_for_reading,
)

__all__ = [
    "CONTACTS_CURSOR",
    "EMAIL_EVENTS_CURSOR",
    "FORM_CURSOR_PREFIX",
    "AuditEntry",
    "BackfillProgress",
    "BatchOutcome",
    "ContactActivity",
    "ContactSnapshot",
    "ContactState",
    "LedgerEntry",
    "RunRecord",
    "StateStore",
    "StateStoreError",
    "open_store",
    "open_store_for_reading",
]
