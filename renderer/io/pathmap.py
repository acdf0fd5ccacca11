"""Farm path mapping: read an Open Job Description path-mapping rules file.

A farm that submits from one operating system and renders on another rewrites
paths with *path mapping rules*. Open Job Description writes the session's
rules as JSON to the file named by ``{{Session.PathMappingRulesFile}}``::

    {"version": "pathmapping-1.0",
     "path_mapping_rules": [
        {"source_path_format": "WINDOWS",          # or "POSIX"
         "source_path": "Z:\\\\shows",
         "destination_path": "/mnt/shows"}]}

When a session has no rules, the file holds ``{}``. ``load_rules`` reads the
file into a :class:`PathMapper`, a callable ``str -> str`` that
``renderer.config.load_shot(path, path_mapping=...)`` applies to every path in
a shot.yaml.

Matching follows openjd-sessions (``openjd/sessions/_path_mapping.py``):

* rules match whole path components, never part of a name (``/mnt/a`` does
  not match ``/mnt/ab``);
* the rule with the most source components wins (longest prefix); between
  equally long rules the first in the file wins;
* POSIX sources match case-sensitively; WINDOWS sources match case-insensitively
  (ASCII letters only, like OpenJD) and accept ``\\`` or ``/`` as separators,
  drive letters (``z:`` = ``Z:``) and UNC shares (``\\\\server\\share``);
* the rest of the path is joined onto the destination with the destination's
  separator (``/`` for a POSIX destination), and a trailing separator is kept;
* a path no rule matches is returned unchanged.

Pure: no environment, no farm imports; torch-free.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from string import ascii_lowercase, ascii_uppercase
from typing import Any, Mapping

from ..errors import ConfigError

__all__ = ["PathMapper", "PathMappingRule", "load_rules", "rules_from_dict", "VERSION"]

VERSION = "pathmapping-1.0"
FORMATS = ("POSIX", "WINDOWS")
_RULE_KEYS = ("source_path_format", "source_path", "destination_path")
_ASCII_LOWER = str.maketrans(ascii_uppercase, ascii_lowercase)
_WINDOWS_DEST = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


@dataclass(frozen=True)
class PathMappingRule:
    """One rule: paths under ``source_path`` move to ``destination_path``."""

    source_path_format: str  # "POSIX" or "WINDOWS"
    source_path: str
    destination_path: str

    @property
    def _source_parts(self) -> tuple[str, ...]:
        return _parts(self.source_path, self.source_path_format)

    def apply(self, path: str) -> str | None:
        """The mapped path, or None when this rule does not match ``path``."""
        src = self._source_parts
        parts = _parts(path, self.source_path_format)
        if len(parts) < len(src):
            return None
        if self.source_path_format == "WINDOWS":
            same = all(a.translate(_ASCII_LOWER) == b.translate(_ASCII_LOWER) for a, b in zip(src, parts))
        else:
            same = parts[: len(src)] == src
        if not same:
            return None
        rest = parts[len(src):]
        if _WINDOWS_DEST.match(self.destination_path):
            sep, out = "\\", str(PureWindowsPath(self.destination_path, *rest))
        else:
            sep, out = "/", str(PurePosixPath(self.destination_path, *rest))
        trailing = path.endswith(("\\", "/")) if self.source_path_format == "WINDOWS" else path.endswith("/")
        if trailing and not out.endswith(sep):
            out += sep
        return out


def _parts(path: str, fmt: str) -> tuple[str, ...]:
    if fmt == "WINDOWS":
        return PureWindowsPath(path).parts
    return PurePosixPath(path).parts


class PathMapper:
    """Callable ``str -> str`` applying the longest matching rule.

    ``bool(mapper)`` is False when it holds no rules (the identity mapping).
    """

    def __init__(self, rules: tuple[PathMappingRule, ...] | list[PathMappingRule] = ()):
        # stable sort: most source components first, file order between equals
        self.rules: tuple[PathMappingRule, ...] = tuple(
            sorted(rules, key=lambda r: -len(r._source_parts)))

    def __call__(self, path: str) -> str:
        if not isinstance(path, str):
            raise TypeError(f"path mapping takes a path string, got {type(path).__name__}")
        for rule in self.rules:
            mapped = rule.apply(path)
            if mapped is not None:
                return mapped
        return path

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        inner = ", ".join(f"{r.source_path_format}:{r.source_path!r}->{r.destination_path!r}" for r in self.rules)
        return f"PathMapper([{inner}])"


def rules_from_dict(data: Any, origin: str = "path mapping rules") -> PathMapper:
    """Validate a parsed pathmapping-1.0 document (``{}`` = no rules)."""
    where = origin
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a JSON object with 'version' and 'path_mapping_rules', "
                          f"got {type(data).__name__}")
    if not data:
        return PathMapper()  # OpenJD writes {} when the session has no rules
    unknown = sorted(set(data) - {"version", "path_mapping_rules"})
    if unknown:
        raise ConfigError(f"{where}: unknown key '{unknown[0]}'; allowed: version, path_mapping_rules")
    if data.get("version") != VERSION:
        raise ConfigError(f"{where}: 'version' must be '{VERSION}', got {data.get('version')!r}")
    rules = data.get("path_mapping_rules")
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: 'path_mapping_rules' must be a list of rules, got {type(rules).__name__}")
    out = []
    for i, rule in enumerate(rules):
        at = f"{where}: path_mapping_rules[{i}]"
        if not isinstance(rule, Mapping):
            raise ConfigError(f"{at} must be an object with {', '.join(_RULE_KEYS)}")
        missing = [k for k in _RULE_KEYS if k not in rule]
        if missing:
            raise ConfigError(f"{at} is missing '{missing[0]}' (a rule needs {', '.join(_RULE_KEYS)})")
        extra = sorted(set(rule) - set(_RULE_KEYS))
        if extra:
            raise ConfigError(f"{at} has unknown key '{extra[0]}'")
        for key in _RULE_KEYS:
            if not isinstance(rule[key], str) or not rule[key]:
                raise ConfigError(f"{at}.{key} must be a non-empty string, got {rule[key]!r}")
        fmt = rule["source_path_format"].upper()
        if fmt == "URI":
            raise ConfigError(f"{at}: URI source paths ({rule['source_path']!r}) are not supported by the "
                              "renderer; shot.yaml paths are file-system paths (use POSIX or WINDOWS rules)")
        if fmt not in FORMATS:
            raise ConfigError(f"{at}.source_path_format must be POSIX or WINDOWS, "
                              f"got {rule['source_path_format']!r}")
        src = rule["source_path"]
        absolute = (PureWindowsPath(src).anchor.endswith("\\") and bool(PureWindowsPath(src).drive)) \
            if fmt == "WINDOWS" else src.startswith("/")
        if not absolute:
            example = "Z:\\shows or \\\\server\\share" if fmt == "WINDOWS" else "/mnt/shows"
            raise ConfigError(f"{at}.source_path must be an absolute {fmt} path such as {example}, got {src!r}")
        out.append(PathMappingRule(fmt, src, rule["destination_path"]))
    return PathMapper(out)


def load_rules(path: str | os.PathLike) -> PathMapper:
    """Read an OpenJD path-mapping rules file (``{{Session.PathMappingRulesFile}}``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise ConfigError(f"path mapping rules file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read path mapping rules file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                          f"expected a '{VERSION}' document") from None
    return rules_from_dict(data, origin=str(path))
