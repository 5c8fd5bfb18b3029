"""Read a rules file into plain data while remembering the line of every field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from leadscore.errors import ConfigError

# A field's position in the document: mapping keys and sequence indexes from the root.
FieldPath = tuple[str | int, ...]


def format_path(path: FieldPath) -> str:
    """`scores.fit.rules[2].when` style text for a field path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


class RulesDocument:
    """Plain rules data plus where each field came from, for one-line error messages."""

    def __init__(
        self, data: Any, source: str, lines: Mapping[FieldPath, int] | None = None
    ) -> None:
        self.data = data
        self.source = source
        self.lines: Mapping[FieldPath, int] = lines or {}

    def line_of(self, path: FieldPath) -> int | None:
        """Line (1-based) of the field, or of its nearest ancestor that has one."""
        while True:
            line = self.lines.get(path)
            if line is not None or not path:
                return line
            path = path[:-1]

    def error(self, path: FieldPath, message: str) -> ConfigError:
        """`source:line: field.path: message` as a ConfigError."""
        line = self.line_of(path)
        where = f"{self.source}:{line}" if line is not None else self.source
        return ConfigError(f"{where}: {format_path(path)}: {message}")


_SCALARS = yaml.constructor.SafeConstructor()


def _plain(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], doc: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag.endswith(":merge"):
                raise ConfigError(
                    f"{doc}:{key_node.start_mark.line + 1}: {format_path(path)}: "
                    "mapping keys must be plain text"
                )
            if key in out:
                raise ConfigError(
                    f"{doc}:{key_node.start_mark.line + 1}: {format_path((*path, key))}: "
                    "duplicate key"
                )
            out[key] = _plain(value_node, (*path, key), lines, doc)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, doc) for i, item in enumerate(node.value)]
    # Scalars: resolve with the safe constructor so `10` is an int and `true` a bool.
    return _SCALARS.construct_object(node, deep=True)


def parse_rules_text(text: str, source: str) -> RulesDocument:
    """Parse YAML text into a RulesDocument; YAML syntax errors become one ConfigError line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{source}{line}: yaml: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: yaml: {exc}") from None
    if node is None:
        raise ConfigError(f"{source}:1: (top level): the rules file is empty")
    lines: dict[FieldPath, int] = {}
    data = _plain(node, (), lines, source)
    return RulesDocument(data, source, lines)


def read_rules_file(path: Path | str) -> RulesDocument:
    """Read and parse a rules file; a missing or unreadable file is one ConfigError line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: rules file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read rules file: {exc}") from None
    return parse_rules_text(text, str(p))


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Field:
    """A cursor on one field of a RulesDocument: typed accessors that fail with its line."""

    __slots__ = ("doc", "path", "value")

    def __init__(self, doc: RulesDocument, path: FieldPath, value: Any) -> None:
        self.doc = doc
        self.path = path
        self.value = value

    @property
    def name(self) -> str:
        return format_path(self.path)

    def error(self, message: str) -> ConfigError:
        return self.doc.error(self.path, message)

    def keys(self, allowed: Iterable[str], what: str = "key") -> dict[str, Field]:
        """The mapping's fields; an unknown key is an error naming the allowed ones."""
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_type_name(self.value)}")
        allowed_set = tuple(allowed)
        out: dict[str, Field] = {}
        for key, value in self.value.items():
            child = Field(self.doc, (*self.path, key), value)
            if key not in allowed_set:
                raise child.error(
                    f"unknown {what} {key!r}{_suggest(key, allowed_set)}; "
                    f"expected one of: {', '.join(allowed_set)}"
                )
            out[key] = child
        return out

    def entries(self) -> list[tuple[str, Field]]:
        """A mapping with free-form keys (score names, stage names...)."""
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_type_name(self.value)}")
        return [(k, Field(self.doc, (*self.path, k), v)) for k, v in self.value.items()]

    def items(self, *, allow_scalar: bool = False) -> list[Field]:
        """A list's fields; with allow_scalar a single value stands for a one-item list."""
        if isinstance(self.value, list):
            return [Field(self.doc, (*self.path, i), v) for i, v in enumerate(self.value)]
        if allow_scalar and self.value is not None and not isinstance(self.value, dict):
            return [self]
        raise self.error(f"expected a list, got {_type_name(self.value)}")

    def text(self) -> str:
        """A non-empty string (numbers are accepted and read as their text)."""
        value = self.value
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            raise self.error(f"expected text, got {_type_name(value)}")
        text = str(value)
        if not text.strip():
            raise self.error("must not be empty")
        return text

    def identifier(self) -> str:
        """A HubSpot internal name: lower-case letters, digits and underscores."""
        text = self.text()
        if not _IDENT.fullmatch(text):
            raise self.error(
                f"{text!r} is not a valid internal name (lower-case letters, digits, _)"
            )
        return text

    def number(self) -> float:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"expected a number, got {_type_name(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise self.error("must be a finite number")
        return float(value)

    def integer(self, minimum: int | None = None) -> int:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            raise self.error(f"must be at least {minimum}, got {value}")
        return value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {_type_name(self.value)}")
        return self.value


_IDENT = re.compile(r"[a-z][a-z0-9_]*")


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"text {value!r}"
    return type(value).__name__
