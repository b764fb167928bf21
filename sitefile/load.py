"""Reading a site file, with errors that name the file, the line and the field.

The YAML is composed into nodes first so that every value keeps the line it came
from; pydantic's error locations and the checks across tags (:mod:`sitefile.checks`)
are then mapped back to those lines. A valid file is a :class:`SiteFile`: its
configuration with that line index, so that what reads it further (the simulator,
the exports' permit) reports its own problems the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clearwell.errors import ConfigError
from sitefile.checks import Check, Loc, Problem, check_config
from sitefile.models import SiteConfig
from sitefile.partial import valid_parts

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A file wrong throughout (another format, a bad template) would fill the terminal.
MAX_SHOWN = 20

Located = tuple[int | None, str, str]  # line, field, message


class SiteConfigError(ConfigError):
    """One or more problems in a site file, one line each."""

    def __init__(self, path: str, problems: list[Located]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path}:{line}: {field}: {msg}" if line else f"{path}: {field}: {msg}"
            for line, field, msg in problems[:MAX_SHOWN]
        ]
        if len(problems) > MAX_SHOWN:
            lines.append(f"… and {len(problems) - MAX_SHOWN} more")
        if len(problems) == 1:
            super().__init__(lines[0])
        else:
            super().__init__(f"{len(problems)} problems in {path}:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class SiteFile:
    """A valid site file: its configuration, and the line each part of it is on."""

    path: str
    config: SiteConfig
    lines: Mapping[Loc, int] = field(default_factory=dict)

    def error(self, problems: Iterable[Problem]) -> SiteConfigError:
        """The error naming each problem by its line and field in this file."""
        return SiteConfigError(self.path, located(problems, self.lines))


def index_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    """The line of each part of a composed YAML document, keyed by its path (``loc``)."""
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            index_lines(value, (*loc, name), out)
            # The key's own line is where a reader looks for a problem with the key.
            out[(*loc, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index_lines(item, (*loc, i), out)


_MERGE = "tag:yaml.org,2002:merge"


def repeated_keys(node: yaml.Node, loc: Loc = ()) -> list[Located]:
    """Keys given twice in one mapping, at any depth: YAML would keep the last one
    without a word. A key a mapping sets over one it merges in (``<<: *defaults``) is
    not repeated: that is what merging is for."""
    out: list[Located] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if key.tag == _MERGE:
                continue
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            line = key.start_mark.line + 1
            if name in first:
                out.append(
                    (line, field_name((*loc, name)), f"given twice (first on line {first[name]})")
                )
            first.setdefault(name, line)
            out += repeated_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out += repeated_keys(item, (*loc, i))
    return out


def line_of(lines: Mapping[Loc, int], loc: Iterable[str | int]) -> int | None:
    """The line of the deepest part of ``loc`` that exists in the file."""
    parts = tuple(loc)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return lines.get((), None)


def field_name(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def located(problems: Iterable[Problem], lines: Mapping[Loc, int]) -> list[Located]:
    """Problems found by checks as (line, field, message), in the order of the file."""
    out = []
    for p in problems:
        message = p.message
        if p.first is not None:
            line = line_of(lines, p.first)
            message += f" (first on line {line})" if line else f" (first at {field_name(p.first)})"
        out.append((line_of(lines, p.loc), field_name(p.loc), message))
    return in_file_order(out)


def in_file_order(problems: list[Located]) -> list[Located]:
    return sorted(problems, key=lambda p: p[0] or 0)


# Union/literal branches and model validators add parts to pydantic's error locations
# that name no field; these are how they start.
NON_FIELD_PARTS = ("function-", "tuple[")


def _pydantic_loc(loc: tuple[Any, ...], non_field: tuple[str, ...]) -> Loc:
    return tuple(p for p in loc if isinstance(p, int) or not str(p).startswith(non_field))


def problems_from(
    exc: ValidationError,
    lines: Mapping[Loc, int],
    under: Loc = (),
    non_field: tuple[str, ...] = NON_FIELD_PARTS,
) -> list[Located]:
    """(line, field, message) of each error of a validation, for :class:`SiteConfigError`.

    ``lines`` is from :func:`index_lines` of the file; ``under`` is where in the file the
    validated data sits; location parts starting with one of ``non_field`` are dropped.
    """
    problems = []
    for err in exc.errors():
        loc = (*under, *_pydantic_loc(err["loc"], non_field))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] in ("literal_error", "enum"):
            msg = f"{msg}, got {err.get('input')!r}"
        problems.append((line_of(lines, loc), field_name(loc), msg))
    return problems


def parse_site_file(
    text: str, path: str = "<config>", checks: Sequence[Check] = (), base: Path | None = None
) -> SiteFile:
    """Validate the text of a site file; raises :class:`SiteConfigError`.

    ``checks`` are the reader's own, run with the file's (:func:`check_config`); paths
    the file names are made absolute from ``base``, the file's folder (:func:`resolve_paths`).
    """
    # One pass with libyaml where it is installed (a 20,000-tag site takes a second,
    # not a minute): the node tree for line numbers, then the data built from it.
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        # Before the data is built, which merges ``<<:`` keys into the mappings' nodes.
        repeated = repeated_keys(root) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SiteConfigError(path, [(line, "(syntax)", f"not valid YAML: {problem}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise SiteConfigError(path, [(None, "(top level)", "the file is empty")])
    lines: dict[Loc, int] = {}
    index_lines(root, (), lines)
    if not isinstance(data, dict):
        raise SiteConfigError(path, [(1, "(top level)", "expected a mapping with site: and tags:")])
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as exc:
        # The checks across tags judge the entries that are valid by themselves, so
        # that one run lists every problem of the file.
        across = located(valid_parts(data).problems(), lines)
        found = in_file_order(_once(repeated + problems_from(exc, lines) + across))
        raise SiteConfigError(path, found) from None
    site = SiteFile(path, config if base is None else resolve_paths(config, base), lines)
    problems = check_config(site.config) + [p for check in checks for p in check(site.config)]
    if repeated or problems:
        raise SiteConfigError(path, in_file_order(repeated + located(problems, lines)))
    return site


def _once(problems: list[Located]) -> list[Located]:
    return list(dict.fromkeys(problems))


def parse_config(text: str, path: str = "<config>") -> SiteConfig:
    """Validate the text of a site file; raises :class:`SiteConfigError`."""
    return parse_site_file(text, path).config


def load_site_file(path: str | Path, checks: Sequence[Check] = ()) -> SiteFile:
    """Read and validate a site file."""
    p = Path(path)
    return parse_site_file(_text_of(p), str(p), checks, base=p.parent)


def load_config(path: str | Path) -> SiteConfig:
    """Read and validate a site file's configuration."""
    return load_site_file(path).config


def read_config(path: str | Path) -> tuple[SiteConfig, str]:
    """Read and validate a site file's configuration; also its text, for what reads more
    of it."""
    p = Path(path)
    text = _text_of(p)
    return parse_site_file(text, str(p), base=p.parent).config, text


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the site configuration: {exc.strerror}") from None


_PATH_FIELDS = ("certificate", "private_key", "server_certificate", "password_file")


def resolve_paths(config: SiteConfig, base: Path) -> SiteConfig:
    """The configuration with the files its OPC UA servers name made absolute, relative
    paths being relative to the configuration file's folder (not to where it is run)."""
    servers = []
    for server in config.opcua.servers:
        update = {
            f: str((base / v).resolve())
            for f in _PATH_FIELDS
            if (v := getattr(server, f)) is not None and not Path(v).is_absolute()
        }
        servers.append(server.model_copy(update=update) if update else server)
    opcua = config.opcua.model_copy(update={"servers": servers})
    return config.model_copy(update={"opcua": opcua})
