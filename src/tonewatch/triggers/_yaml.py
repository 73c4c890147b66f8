"""YAML with line numbers: a rule error must point at the line a person has to fix.

``load_located`` composes the YAML node tree (which keeps each node's start mark), converts it
to plain Python data and returns a map from each path (mapping keys and sequence indices) to its
1-based line, so any later validation step can name the line of the field at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from tonewatch._errors import RuleValidationError

__all__ = ["Located", "Path", "dotted", "load_located"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """Plain data from a YAML document plus the line of every path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    source: str = "<string>"

    def line(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        probe: Path = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)

    def error(self, path: Sequence[str | int], message: str) -> RuleValidationError:
        """A :class:`RuleValidationError` naming the line and the dotted field of ``path``."""
        name = dotted(path)
        return RuleValidationError(f"{name}: {message}" if name else message, field=name or None, line=self.line(path))

    def known_prefix(self, base: Sequence[str | int], loc: Sequence[str | int]) -> Path:
        """``base`` extended by the parts of ``loc`` that exist in the document (skips validator tags)."""
        path: Path = tuple(base)
        for part in loc:
            if (*path, part) in self.lines:
                path = (*path, part)
        return path


def dotted(path: Sequence[str | int]) -> str:
    """``("rules", 2, "when", "all", 0)`` -> ``rules[2].when.all[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names: take their text as written, so YAML 1.1 does not turn `on:` into True.
            if not isinstance(key_node, yaml.ScalarNode):
                raise RuleValidationError("mapping keys must be plain names", line=key_node.start_mark.line + 1)
            key = key_node.value
            child = (*path, key)
            if key in out:
                raise RuleValidationError(
                    f"duplicate key {key!r}", field=dotted(child), line=key_node.start_mark.line + 1
                )
            lines[child] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, child, lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_located(text: str, source: str = "<string>") -> Located:
    """Parse one YAML document; syntax errors become :class:`RuleValidationError` with the line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): 1}, source)
        lines: dict[Path, int] = {}
        data = _convert(node, (), lines, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RuleValidationError(f"invalid YAML: {exc.problem or exc}", line=line) from None
    except yaml.YAMLError as exc:
        raise RuleValidationError(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return Located(data, lines, source)
