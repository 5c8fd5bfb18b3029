"""The run lock: at most one sync at a time, within one process and across replicas.

PostgreSQL state stores use a session-level advisory lock held on a dedicated connection
for the whole run, so replicas sharing the database exclude each other and a crashed holder
releases it when its connection drops. SQLite state stores use an exclusive flock on a file
next to the database (replicas sharing a SQLite file must share its directory anyway).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from leadscore.errors import ConfigError, LeadscoreError
from leadscore.logs import get_logger

# One fixed 64-bit key: every leadscore process on a database contends for the same lock.
ADVISORY_LOCK_KEY = int.from_bytes(
    hashlib.blake2b(b"leadscore:run-lock", digest_size=8).digest(), "big", signed=True
)
LOCK_FILE_SUFFIX = ".run-lock"

log = get_logger(__name__)


class LockError(LeadscoreError):
    """The run lock could not be checked at all (the database is unreachable)."""


class RunLock(Protocol):
    """A non-blocking, non-reentrant mutual-exclusion lock for sync runs."""

    description: str

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; False when it is held elsewhere."""
        ...

    def release(self) -> None:
        """Release the lock when held; a no-op otherwise."""
        ...


class PostgresAdvisoryLock:
    """pg_try_advisory_lock on a connection opened for the run and closed after it."""

    def __init__(self, database_url: str, key: int = ADVISORY_LOCK_KEY) -> None:
        self._url = database_url
        self._key = key
        self._engine: sa.Engine | None = None
        self._conn: sa.Connection | None = None
        self._guard = threading.Lock()
        self.description = f"advisory lock {key} on {display_database_url(database_url)}"

    def try_acquire(self) -> bool:
        with self._guard:
            if self._conn is not None:
                return False
            # NullPool: the connection really closes on release, so the session lock can
            # never outlive the run inside a pooled connection.
            engine = sa.create_engine(self._url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            try:
                conn = engine.connect()
                got = bool(
                    conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                    ).scalar()
                )
            except sa.exc.SQLAlchemyError as exc:
                engine.dispose()
                raise LockError(
                    f"cannot take the run lock on {display_database_url(self._url)}: {database_error_line(exc)}"
                ) from None
            if not got:
                conn.close()
                engine.dispose()
                return False
            self._engine, self._conn = engine, conn
            return True

    def release(self) -> None:
        with self._guard:
            conn, engine = self._conn, self._engine
            self._conn = self._engine = None
        if conn is None or engine is None:
            return
        # Closing the session releases the lock too; unlocking first tells us whether the
        # lock was still ours (a dropped connection loses it mid-run without notice).
        try:
            still_held = bool(
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                ).scalar()
            )
        except sa.exc.SQLAlchemyError:
            still_held = False
        if not still_held:
            log.warning("run lock was lost during the run", lock=self.description)
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.close()
        engine.dispose()


class FileRunLock:
    """An exclusive, non-blocking flock on a lock file.

    flock locks belong to the open file description, so two opens in one process
    exclude each other just as two processes do.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self._guard = threading.Lock()
        self.description = f"file lock {path}"

    def try_acquire(self) -> bool:
        with self._guard:
            if self._handle is not None:
                return False
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(self.path, "a+b")  # noqa: SIM115  held open for the run
            except OSError as exc:
                raise LockError(
                    f"cannot open the run lock file {self.path}: {exc.strerror}"
                ) from None
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            # The holder's pid helps an operator who finds the file; it is not used for locking.
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            self._handle = handle
            return True

    def release(self) -> None:
        with self._guard:
            handle, self._handle = self._handle, None
        if handle is None:
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


class ProcessRunLock:
    """A lock for state stores with nothing shared to lock on (in-memory SQLite): one process."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._held = False
        self.description = "in-process lock"

    def try_acquire(self) -> bool:
        if self._held or not self._lock.acquire(blocking=False):
            return False
        self._held = True
        return True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


def run_lock_for(database_url: str) -> RunLock:
    """The run lock that fits the state store at `database_url`."""
    url = parse_database_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresAdvisoryLock(database_url)
    if (
        backend == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not (url.database or "").startswith("file::memory:")
    ):
        db_path = Path(url.database or "")
        return FileRunLock(db_path.with_name(db_path.name + LOCK_FILE_SUFFIX))
    return ProcessRunLock()


def parse_database_url(database_url: str) -> sa.URL:
    """The parsed URL; a malformed one is a one-line ConfigError."""
    try:
        return make_url(database_url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            "invalid setting database_url: not a SQLAlchemy URL "
            "(expected e.g. sqlite:///leadscore.db or postgresql+psycopg://user@host/db)"
        ) from None


def display_database_url(database_url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    return parse_database_url(database_url).render_as_string(hide_password=True)


def database_error_line(exc: BaseException) -> str:
    """The driver's own first line of a database error (SQLAlchemy adds pages of context)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
