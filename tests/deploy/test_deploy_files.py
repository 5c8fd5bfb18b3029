"""The Dockerfile, .dockerignore, compose file and Kubernetes manifests, checked by parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
from sqlalchemy.engine import make_url

from leadscore import __version__
from leadscore.cli import app
from leadscore.rules import load_model
from leadscore.service.schedule import parse_crontab

from .deploy_files import (
    COMPOSE,
    K8S_DIR,
    REPO_ROOT,
    container_env,
    dockerignore_excludes,
    k8s_documents,
    load_yaml,
    parse_dockerfile,
    settings_from_env,
    settings_variables,
)

HTTP_PORT = 8080


def cli_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def option_names(command: str) -> set[str]:
    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    return {opt for param in cmd.params for opt in getattr(param, "opts", [])}


# --- Dockerfile -------------------------------------------------------------------------
def test_dockerfile_is_multi_stage_with_wheels_built_from_the_lock() -> None:
    args, stages = parse_dockerfile()
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    builder, runtime = stages
    assert builder.name == "builder" and builder.base == "python:3.11-slim"
    assert runtime.base == "python:3.11-slim"
    [wheel] = [r.args for r in builder.all("RUN") if "pip wheel" in r.args]
    assert "--constraint constraints.txt" in wheel and "--wheel-dir /wheels" in wheel
    copied = [c.args for c in runtime.all("COPY")]
    assert "--from=builder /wheels /wheels" in copied
    [install] = [r.args for r in runtime.all("RUN") if "pip install" in r.args]
    assert "--no-index --find-links /wheels leadscore" in install  # offline: exactly the wheels


def test_dockerfile_runs_leadscore_run_as_a_non_root_user() -> None:
    _, (_, runtime) = parse_dockerfile()
    assert runtime.last("CMD").exec_form() == ["leadscore", "run"]
    assert not runtime.all("ENTRYPOINT")
    user = runtime.last("USER").args
    assert user == "10001:10001"
    [create_user] = [r.args for r in runtime.all("RUN") if "useradd" in r.args]
    assert "--uid 10001" in create_user and "--gid 10001" in create_user
    # Everything after USER runs unprivileged: no root-only steps left behind it.
    after_user = runtime.instructions[runtime.instructions.index(runtime.last("USER")) :]
    assert not [i for i in after_user if i.keyword == "RUN"]


def test_dockerfile_environment_is_valid_settings() -> None:
    _, (_, runtime) = parse_dockerfile()
    env = runtime.env()
    leadscore_env = {k: v for k, v in env.items() if k.startswith(("LEADSCORE_", "HUBSPOT_"))}
    assert set(leadscore_env) <= settings_variables()
    settings = settings_from_env(leadscore_env)
    assert str(settings.rules) == "/app/config/scoring.yaml"
    assert settings.http_port == HTTP_PORT
    assert runtime.last("EXPOSE").args == str(HTTP_PORT)
    # The SQLite database lives in the declared volume, owned by the runtime user.
    database = make_url(settings.database_url).database
    assert database == "/app/data/leadscore.db"
    assert runtime.last("VOLUME").exec_form() == ["/app/data"]
    assert any("chown leadscore:leadscore /app/data" in r.args for r in runtime.all("RUN"))
    # The rules the default points at are in the image, copied from the repository.
    assert "config/ /app/config/" in [c.args for c in runtime.all("COPY")]
    assert (REPO_ROOT / "config" / "scoring.yaml").is_file()


def test_dockerfile_healthcheck_asks_healthz_with_python() -> None:
    _, (_, runtime) = parse_dockerfile()
    healthcheck = runtime.last("HEALTHCHECK")
    assert healthcheck.exec_form() == ["python", "-m", "leadscore.service.healthcheck", "/healthz"]
    flags = healthcheck.flags()
    assert flags["interval"] == "30s" and flags["timeout"] == "5s"


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    _, stages = parse_dockerfile()
    sources = [
        source.rstrip("/")
        for stage in stages
        for copy in stage.all("COPY")
        if not copy.args.startswith("--from")
        for source in copy.args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert not dockerignore_excludes(source), f"{source} is excluded from the build context"
    assert not dockerignore_excludes("src/leadscore/service/runtime.py")
    assert not dockerignore_excludes("config/scoring.yaml")
    for private in (".venv/bin/python", ".git/HEAD", "leadscore.db", "tests/conftest.py", ".env"):
        assert dockerignore_excludes(private), private
    assert dockerignore_excludes("src/leadscore/__pycache__/x.cpython-311.pyc")


# --- compose ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(COMPOSE)
    assert isinstance(data, dict)
    return data


def sandbox_flags(compose: dict[str, Any]) -> dict[str, str]:
    command = compose["services"]["sandbox"]["command"]
    assert command[:2] == ["leadscore", "sandbox"]
    flags = command[2:]
    return dict(zip(flags[::2], flags[1::2], strict=True))


def test_compose_has_leadscore_postgres_and_the_sandbox(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"leadscore", "postgres", "sandbox"}
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("leadscore", "sandbox"):
        assert services[name]["image"] == f"leadscore:{__version__}"
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == (
            REPO_ROOT / "Dockerfile"
        )
    assert services["leadscore"]["command"] == ["leadscore", "run"]
    assert services["leadscore"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "sandbox": {"condition": "service_healthy"},
    }


def test_compose_sandbox_command_uses_real_options_on_all_interfaces(
    compose: dict[str, Any],
) -> None:
    flags = sandbox_flags(compose)
    assert flags["--host"] == "0.0.0.0"
    assert set(flags) <= option_names("sandbox")
    healthcheck = " ".join(compose["services"]["sandbox"]["healthcheck"]["test"])
    assert f"('127.0.0.1', {flags['--port']})" in healthcheck


def test_compose_leadscore_env_points_at_the_other_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = {k: str(v) for k, v in services["leadscore"]["environment"].items()}
    assert set(env) <= settings_variables()
    settings = settings_from_env(env)
    flags = sandbox_flags(compose)
    assert settings.hubspot_access_token is not None
    assert settings.hubspot_access_token.get_secret_value() == flags["--token"]
    assert "not-a-secret" in flags["--token"]
    base = urlsplit(settings.hubspot_base_url)
    assert (base.hostname, str(base.port)) == ("sandbox", flags["--port"])
    assert settings.hubspot_tier.value == flags["--tier"]
    database = make_url(settings.database_url)
    postgres = services["postgres"]["environment"]
    assert database.get_backend_name() == "postgresql" and database.host == "postgres"
    assert (database.username, database.password, database.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert services["leadscore"]["ports"] == [f"{settings.http_port}:{settings.http_port}"]
    # The mounted rules directory holds the file LEADSCORE_RULES names.
    [mount] = services["leadscore"]["volumes"]
    source, target, mode = mount.split(":")
    assert mode == "ro" and str(settings.rules.parent) == target
    assert (COMPOSE.parent / source / settings.rules.name).is_file()
    assert int(services["leadscore"]["stop_grace_period"].rstrip("s")) > (
        settings.shutdown_grace_seconds
    )


# --- Kubernetes ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    return k8s_documents()


def test_kustomization_lists_existing_manifests(manifests: dict[str, dict[str, Any]]) -> None:
    kustomization = load_yaml(K8S_DIR / "kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (K8S_DIR / resource).is_file()
    # The alternatives are documented there but not applied by default.
    assert "cronjob.yaml" in (K8S_DIR / "kustomization.yaml").read_text()
    assert "backfill-job.yaml" not in kustomization["resources"]
    assert set(manifests) == {
        "Secret/leadscore-secrets",
        "ConfigMap/leadscore-rules",
        "Deployment/leadscore",
        "Service/leadscore",
        "CronJob/leadscore-sync",
        "Job/leadscore-backfill",
    }


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    if manifest["kind"] == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return manifest["spec"]["template"]["spec"]


def effective_env(
    manifests: dict[str, dict[str, Any]], container: dict[str, Any]
) -> dict[str, str]:
    """The container's variables: from referenced Secrets, then its own env list."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        secret = manifests[f"Secret/{source['secretRef']['name']}"]
        env.update(secret["stringData"])
    env.update(container_env(container))
    return env


@pytest.mark.parametrize(
    "name", ["Deployment/leadscore", "CronJob/leadscore-sync", "Job/leadscore-backfill"]
)
def test_workloads_run_the_image_with_valid_settings(
    manifests: dict[str, dict[str, Any]], name: str
) -> None:
    spec = pod_spec(manifests[name])
    [container] = spec["containers"]
    assert container["image"] == f"leadscore:{__version__}"
    assert container["command"][0] == "leadscore"
    assert container["command"][1] in cli_commands()
    env = effective_env(manifests, container)
    assert set(env) <= settings_variables()
    settings = settings_from_env(env)
    assert settings.has_hubspot_credentials()
    assert make_url(settings.database_url).get_backend_name() == "postgresql"
    # The rules file comes from the ConfigMap, mounted where LEADSCORE_RULES points.
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    [rules_volume] = [n for n, v in volumes.items() if "configMap" in v]
    assert mounts[rules_volume]["mountPath"] == str(settings.rules.parent)
    configmap = manifests[f"ConfigMap/{volumes[rules_volume]['configMap']['name']}"]
    assert settings.rules.name in configmap["data"]
    # Same unprivileged user as the image.
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_deployment_probes_hit_the_real_endpoints_on_the_service_port(
    manifests: dict[str, dict[str, Any]],
) -> None:
    deployment = manifests["Deployment/leadscore"]
    spec = pod_spec(deployment)
    [container] = spec["containers"]
    assert container["command"] == ["leadscore", "run"]
    settings = settings_from_env(effective_env(manifests, container))
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": settings.http_port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["terminationGracePeriodSeconds"] > settings.shutdown_grace_seconds
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    service = manifests["Service/leadscore"]
    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert service["metadata"]["annotations"]["prometheus.io/port"] == str(settings.http_port)


def test_cronjob_never_overlaps_and_has_a_valid_schedule(
    manifests: dict[str, dict[str, Any]],
) -> None:
    cronjob = manifests["CronJob/leadscore-sync"]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    parse_crontab(cronjob["spec"]["schedule"])
    [container] = pod_spec(cronjob)["containers"]
    assert container["command"] == ["leadscore", "sync"]


def test_secret_holds_placeholders_not_secrets(manifests: dict[str, dict[str, Any]]) -> None:
    secret = manifests["Secret/leadscore-secrets"]
    assert set(secret["stringData"]) == {"HUBSPOT_ACCESS_TOKEN", "LEADSCORE_DATABASE_URL"}
    assert secret["stringData"]["HUBSPOT_ACCESS_TOKEN"].startswith("replace-me")
    password = make_url(secret["stringData"]["LEADSCORE_DATABASE_URL"]).password
    assert password is not None and password.startswith("replace-me")


def test_configmap_rules_are_the_shipped_model(
    manifests: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    shipped = REPO_ROOT / "config" / "scoring.yaml"
    text = manifests["ConfigMap/leadscore-rules"]["data"]["scoring.yaml"]
    assert text == shipped.read_text(encoding="utf-8"), (
        "deploy/k8s/configmap.yaml is stale: regenerate it with the command in its header"
    )
    rules = tmp_path / "scoring.yaml"
    rules.write_text(text)
    assert load_model(rules).version == load_model(shipped).version


def test_the_wheel_the_builder_makes_carries_every_module_and_data_file() -> None:
    """The image holds only what the wheel holds: no module or data file may be left out."""
    import tomllib
    from fnmatch import fnmatch

    from setuptools import find_packages

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool = pyproject["tool"]["setuptools"]
    where = tool["packages"]["find"]["where"][0]
    packages = set(find_packages(where=str(REPO_ROOT / where)))
    patterns = tool["package-data"]["leadscore"]
    package_root = REPO_ROOT / where / "leadscore"
    for path in package_root.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        relative = path.relative_to(REPO_ROOT / where)
        package = ".".join(relative.parent.parts)
        if path.suffix == ".py":
            assert package in packages, f"{relative}: its folder is not a package (no __init__.py)"
        else:
            inside = path.relative_to(package_root).as_posix()
            assert any(fnmatch(inside, p) or fnmatch(path.name, p) for p in patterns), (
                f"{relative} is not covered by [tool.setuptools.package-data]"
            )
