"""Readers for the deployment files (Dockerfile, .dockerignore, compose, k8s) used by the tests."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leadscore.service import settings_doc
from leadscore.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
K8S_DIR = REPO_ROOT / "deploy" / "k8s"


def settings_variables() -> set[str]:
    """Every environment variable the Settings class reads."""
    return {
        variable
        for name, info in Settings.model_fields.items()
        for variable in settings_doc.env_names(name, info)
    }


def settings_from_env(env: dict[str, str]) -> Settings:
    """Settings as the container would build them from exactly `env`."""
    by_variable = {
        variable: name
        for name, info in Settings.model_fields.items()
        for variable in settings_doc.env_names(name, info)
    }
    return Settings(**{by_variable[k]: v for k, v in env.items()})  # type: ignore[arg-type]


# --- Dockerfile ---------------------------------------------------------------------------
@dataclass
class Instruction:
    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD arguments."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD") + 3 :]
        parsed = json.loads(text)
        assert isinstance(parsed, list)
        return [str(p) for p in parsed]

    def flags(self) -> dict[str, str]:
        return dict(re.findall(r"--([a-z-]+)=(\S+)", self.args))


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"no {keyword} in stage {self.name or self.base}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for token in shlex.split(instruction.args):
                key, _, value = token.partition("=")
                values[key] = value
        return values


def parse_dockerfile(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) with line continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = " ".join(rest.split())
        if keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif keyword == "ARG" and not stages:
            key, _, value = rest.partition("=")
            args[key] = value
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append(Instruction(keyword, rest))
    return args, stages


def dockerignore_excludes(relative: str, path: Path = DOCKERIGNORE) -> bool:
    """Whether Docker leaves `relative` out of the build context (last matching rule wins)."""
    excluded = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule[1:] if negate else rule
        if _dockerignore_match(pattern.rstrip("/"), relative):
            excluded = not negate
    return excluded


def _dockerignore_match(pattern: str, relative: str) -> bool:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            regex += pattern[i : end + 1]
            i = end + 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    # A pattern matching a directory excludes (or re-includes) everything below it.
    return re.fullmatch(f"{regex}(?:/.*)?", relative) is not None


# --- YAML -------------------------------------------------------------------------------
def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def k8s_documents() -> dict[str, dict[str, Any]]:
    """Every manifest in deploy/k8s keyed by kind/name."""
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and "kind" in document and document["kind"] != "Kustomization":
                documents[f"{document['kind']}/{document['metadata']['name']}"] = document
    return documents


def container_env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in container.get("env", [])}
