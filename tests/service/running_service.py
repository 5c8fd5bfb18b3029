"""Test harness: `leadscore run` (or any command) as a real child process, and its endpoints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "config" / "scoring.yaml"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment minus any leadscore/HubSpot settings, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    # The image puts `leadscore` and `python` on PATH; here they come from this venv.
    base["PATH"] = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
    return {**base, **extra}


def parse_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class ServiceProcess:
    """A child process serving /healthz, /readyz and /metrics on `port`; stderr kept to a file."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        port: int,
        cwd: Path,
        log_path: Path,
    ) -> None:
        self.port = port
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115  closed in stop()
        self.process = subprocess.Popen(
            list(argv), env=clean_environment(env), cwd=cwd, stdout=self._log, stderr=self._log
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=10)

    def answering(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"service exited early:\n{self.log()}")
        try:
            return self.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def wait_healthy(self, timeout: float = 30) -> None:
        wait_until(self.answering, timeout, "/healthz")

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return parse_metrics(self.get("/metrics").text)

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        """Send `sig` and wait for the exit code (killing it if it outlives `timeout`)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise AssertionError(f"no exit within {timeout} s of {sig.name}") from None
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def run_service(
    tmp_path: Path, env: Mapping[str, str], name: str = "service", port: int | None = None
) -> ServiceProcess:
    """`leadscore run` with `env` (plus an HTTP port) in `tmp_path`."""
    port = port or free_port()
    return ServiceProcess(
        [str(VENV_BIN / "leadscore"), "run"],
        env={"LEADSCORE_HTTP_PORT": str(port), "LEADSCORE_LOG_FORMAT": "json", **env},
        port=port,
        cwd=tmp_path,
        log_path=tmp_path / f"{name}.log",
    )
