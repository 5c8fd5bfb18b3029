"""The run lock excludes a second holder in the same process and in another process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from leadscore.errors import ConfigError
from leadscore.service.locks import (
    ADVISORY_LOCK_KEY,
    FileRunLock,
    LockError,
    PostgresAdvisoryLock,
    ProcessRunLock,
    run_lock_for,
)

# Takes the run lock for the database URL in argv[1], says so, and holds it until killed.
_HOLDER = """
import sys, time
from leadscore.service.locks import run_lock_for
lock = run_lock_for(sys.argv[1])
print("held" if lock.try_acquire() else "busy", flush=True)
time.sleep(60)
"""


@contextmanager
def lock_held_by_other_process(database_url: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, database_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_lock_kind_follows_the_database_url(tmp_path: Path) -> None:
    assert isinstance(run_lock_for("postgresql+psycopg://u@h/db"), PostgresAdvisoryLock)
    file_lock = run_lock_for(f"sqlite:///{tmp_path}/state.db")
    assert isinstance(file_lock, FileRunLock)
    assert file_lock.path == tmp_path / "state.db.run-lock"
    assert isinstance(run_lock_for("sqlite://"), ProcessRunLock)
    assert isinstance(run_lock_for("sqlite:///:memory:"), ProcessRunLock)


def test_malformed_database_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid setting database_url"):
        run_lock_for("not a url")


def test_file_lock_excludes_a_second_holder_in_the_same_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    first, second = run_lock_for(url), run_lock_for(url)
    assert first.try_acquire()
    assert not first.try_acquire()  # not reentrant: a tick never nests inside another
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_file_lock_excludes_another_process_and_frees_when_it_dies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    lock = run_lock_for(url)
    with lock_held_by_other_process(url) as holder:
        assert not lock.try_acquire()
        holder.kill()
        holder.wait(timeout=10)
        assert lock.try_acquire()
    lock.release()


def test_file_lock_in_a_missing_unwritable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    lock = FileRunLock(blocker / "sub" / "state.db.run-lock")
    with pytest.raises(LockError, match="cannot open the run lock file"):
        lock.try_acquire()


def test_process_lock_is_shared_by_instances() -> None:
    first, second = ProcessRunLock(), ProcessRunLock()
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    second.release()  # not held: a no-op, and it must not free the first holder's lock
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


@pytest.mark.postgres
def test_advisory_lock_excludes_a_second_connection(postgres_url: str) -> None:
    first, second = run_lock_for(postgres_url), run_lock_for(postgres_url)
    assert first.try_acquire()
    assert _advisory_holders(postgres_url) == 1
    assert not second.try_acquire()
    assert not first.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
    # Released for real: the server lists no advisory lock on our key any more.
    assert _advisory_holders(postgres_url) == 0


@pytest.mark.postgres
def test_advisory_lock_excludes_another_process_and_frees_when_it_dies(postgres_url: str) -> None:
    lock = run_lock_for(postgres_url)
    with lock_held_by_other_process(postgres_url) as holder:
        assert _advisory_holders(postgres_url) == 1
        assert not lock.try_acquire()
        holder.kill()  # no clean release: the server drops the lock with the connection
        holder.wait(timeout=10)
        assert _eventually(lock.try_acquire)
    lock.release()


@pytest.mark.postgres
def test_unreachable_postgres_is_one_line_without_the_password() -> None:
    lock = run_lock_for("postgresql+psycopg://leadscore:hunter2@127.0.0.1:1/leadscore")
    with pytest.raises(LockError) as info:
        lock.try_acquire()
    message = str(info.value)
    assert message.startswith("cannot take the run lock on postgresql+psycopg://leadscore:***@")
    assert "hunter2" not in message
    assert "\n" not in message


def _advisory_holders(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            # pg_locks splits a bigint advisory key into two 32-bit halves.
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND granted AND database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database()) "
                        "AND ((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": ADVISORY_LOCK_KEY},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _eventually(attempt: Callable[[], bool], tries: int = 50) -> bool:
    for _ in range(tries):
        if attempt():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.postgres
def test_losing_the_advisory_lock_mid_run_is_reported(postgres_url: str) -> None:
    lock = run_lock_for(postgres_url)
    assert lock.try_acquire()
    # The database drops the holder's session (a restart, a failover, an admin).
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                )
            )
    finally:
        engine.dispose()
    with capture_logs() as logs:
        lock.release()
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("run lock was lost during the run", "warning")
    ]
    # Nothing is left held: the next run can take it.
    assert _eventually(lock.try_acquire)
    lock.release()
