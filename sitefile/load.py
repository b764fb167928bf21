"""Reading a site configuration file, with errors that name the file, the line and the field.

The YAML is composed into nodes first (``yaml.compose``) so that every value
keeps the line it came from; pydantic's error locations and the cross-tag checks
are then mapped back to those lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clearwell.errors import ConfigError
from sitefile.checks import Problem, check_config
from sitefile.models import SiteConfig

Loc = tuple[str | int, ...]
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SiteConfigError(ConfigError):
    """One or more problems in a site configuration, one line each."""

    def __init__(self, path: str, problems: list[tuple[int | None, str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [
            f"{path}:{line}: {field}: {msg}" if line else f"{path}: {field}: {msg}"
            for line, field, msg in problems
        ]
        if len(lines) == 1:
            super().__init__(lines[0])
        else:
            super().__init__(f"{len(lines)} problems in {path}:\n  " + "\n  ".join(lines))


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


def line_of(lines: dict[Loc, int], loc: Iterable[str | int]) -> int | None:
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


# Union/literal branches and model validators add parts to pydantic's error locations
# that name no field; these are how they start.
NON_FIELD_PARTS = ("function-", "tuple[")


def _pydantic_loc(loc: tuple[Any, ...], non_field: tuple[str, ...]) -> Loc:
    return tuple(p for p in loc if isinstance(p, int) or not str(p).startswith(non_field))


def problems_from(
    exc: ValidationError,
    lines: dict[Loc, int],
    under: Loc = (),
    non_field: tuple[str, ...] = NON_FIELD_PARTS,
) -> list[tuple[int | None, str, str]]:
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


def parse_config(text: str, path: str = "<config>") -> SiteConfig:
    """Validate the text of a site configuration; raises :class:`SiteConfigError`."""
    # One pass with libyaml where it is installed (a 20,000-tag site takes a second,
    # not a minute): the node tree for line numbers, then the data built from it.
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
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
        raise SiteConfigError(path, problems_from(exc, lines)) from None
    found: list[Problem] = check_config(config)
    if found:
        raise SiteConfigError(
            path, [(line_of(lines, p.loc), field_name(p.loc), p.message) for p in found]
        )
    return config


def load_config(path: str | Path) -> SiteConfig:
    """Read and validate a site configuration file."""
    return read_config(path)[0]


def read_config(path: str | Path) -> tuple[SiteConfig, str]:
    """Read and validate a site configuration file; also its text, for what reads more of it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the site configuration: {exc.strerror}") from None
    return resolve_paths(parse_config(text, str(p)), p.parent), text


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
