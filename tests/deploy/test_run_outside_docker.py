"""The image's CMD and HEALTHCHECK, and the compose stack's commands, run outside Docker."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy.engine import make_url

from leadscore.sandbox import start_sandbox
from service.running_service import (
    ServiceProcess,
    clean_environment,
    free_port,
    wait_until,
)

from .deploy_files import COMPOSE, REPO_ROOT, load_yaml, parse_dockerfile

APP_DIR = "/app"


def remap(value: str, app_root: Path) -> str:
    """A value from the image's environment with /app moved to a directory on this machine."""
    return value.replace(APP_DIR, str(app_root))


def healthcheck(argv: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=clean_environment(env), capture_output=True, text=True, timeout=30
    )


def test_image_cmd_and_healthcheck_work_outside_docker(tmp_path: Path) -> None:
    _, (_, runtime) = parse_dockerfile()
    app_root = tmp_path / "app"
    # What the image holds at /app: the config/ copied in, and the (empty) data volume.
    shutil.copytree(REPO_ROOT / "config", app_root / "config")
    (app_root / "data").mkdir()
    workdir = Path(remap(runtime.last("WORKDIR").args, app_root))
    image_env = {key: remap(value, app_root) for key, value in runtime.env().items()}
    port = free_port()  # the image's 8080 may be taken here; the CMD reads the variable
    cmd = runtime.last("CMD").exec_form()
    probe = runtime.last("HEALTHCHECK").exec_form()
    with start_sandbox(contacts=100, seed=21) as sandbox:
        env = {
            **image_env,
            "LEADSCORE_HTTP_PORT": str(port),
            "HUBSPOT_ACCESS_TOKEN": sandbox.token,
            "HUBSPOT_BASE_URL": sandbox.base_url,
            "LEADSCORE_HUBSPOT_TIER": "unlimited",
        }
        assert healthcheck(probe, env).returncode == 1  # nothing listening yet
        with ServiceProcess(
            cmd, env=env, port=port, cwd=workdir, log_path=tmp_path / "cmd.log"
        ) as service:
            service.wait_healthy()
            passed = healthcheck(probe, env)
            assert passed.returncode == 0, passed.stderr
            wait_until(
                lambda: service.metric("leadscore_runs_total", outcome="success") >= 1,
                60,
                "the first scheduled sync",
            )
            assert service.get("/readyz").status_code == 200
            # The default state store is the SQLite file in the data volume.
            assert (app_root / "data" / "leadscore.db").is_file()
            assert (app_root / "data" / "leadscore.db.run-lock").is_file()
            assert service.stop() == 0  # docker stop sends STOPSIGNAL (SIGTERM)
            log = service.log()
        failed = healthcheck(probe, env)
    assert '"event": "service started"' in log and '"event": "shutdown complete"' in log
    assert sandbox.token not in log
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"unhealthy: http://127.0.0.1:{port}/healthz: ")
    assert len(failed.stderr.splitlines()) == 1


@contextmanager
def compose_sandbox(command: list[str], port: int, cwd: Path) -> Iterator[ServiceProcess]:
    """The compose file's sandbox command, on a free port instead of its fixed one."""
    argv = list(command)
    argv[argv.index("--port") + 1] = str(port)
    with ServiceProcess(argv, env={}, port=port, cwd=cwd, log_path=cwd / "sandbox.log") as proc:

        def listening() -> bool:
            assert proc.process.poll() is None, proc.log()
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        wait_until(listening, 60, "the sandbox to listen")
        yield proc
        proc.stop()


@pytest.mark.postgres
def test_compose_services_work_together_outside_docker(tmp_path: Path, postgres_url: str) -> None:
    services = load_yaml(COMPOSE)["services"]
    sandbox_port, http_port = free_port(), free_port()
    env = {key: str(value) for key, value in services["leadscore"]["environment"].items()}
    # Compose's service names resolve to this machine; the compose PostgreSQL is the test one.
    base = urlsplit(env["HUBSPOT_BASE_URL"])
    assert base.hostname == "sandbox"
    env["HUBSPOT_BASE_URL"] = urlunsplit(base._replace(netloc=f"127.0.0.1:{sandbox_port}"))
    assert make_url(env["LEADSCORE_DATABASE_URL"]).host == "postgres"
    env["LEADSCORE_DATABASE_URL"] = postgres_url
    # The rules volume: ../config mounted at /app/config.
    [mount] = services["leadscore"]["volumes"]
    source, target, _ = mount.split(":")
    env["LEADSCORE_RULES"] = env["LEADSCORE_RULES"].replace(
        target, str((COMPOSE.parent / source).resolve())
    )
    env["LEADSCORE_HTTP_PORT"] = str(http_port)
    with (
        compose_sandbox(services["sandbox"]["command"], sandbox_port, tmp_path),
        ServiceProcess(
            services["leadscore"]["command"],
            env=env,
            port=http_port,
            cwd=tmp_path,
            log_path=tmp_path / "leadscore.log",
        ) as service,
    ):
        service.wait_healthy()
        wait_until(
            lambda: service.metric("leadscore_runs_total", outcome="success") >= 1,
            90,
            "the first sync against the compose sandbox",
        )
        ready = service.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"state_store": "ok", "hubspot": "ok"}
        assert service.metric("leadscore_actions_total", kind="set_property") > 0
        assert service.stop() == 0
