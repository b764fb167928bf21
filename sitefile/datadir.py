"""Where a site's file is kept for the web app, and the ranges read from it there.

The web app (the exports' permit, the logbook's and the floor's ranges) reads a site's
file at ``$CLEARWELL_DATA_DIR/sites/CODE.yaml``: one file, the one source of the
site's ranges. A site without a file there has none. The file is read again when it
changes (its modification time or size), otherwise its ranges come from memory: a
20,000-tag file takes a second to read, a write must not.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from clearwell.errors import ConfigError
from sitefile.checks import Check
from sitefile.load import load_site_file
from sitefile.ranges import NO_RANGES, SiteRanges, site_ranges

SITES_DIR = "sites"


def site_file(data_dir: Path, code: str) -> Path:
    """Where a site's configuration is looked for: ``$CLEARWELL_DATA_DIR/sites/CODE.yaml``."""
    return Path(data_dir) / SITES_DIR / f"{code}.yaml"


# path and checks -> (modification time, size) of the file read, and its ranges.
_Stamp = tuple[int, int]
_cache: dict[tuple[str, tuple[Check, ...]], tuple[_Stamp, SiteRanges]] = {}
_lock = threading.Lock()


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the site configuration: {exc.strerror}") from None
    return st.st_mtime_ns, st.st_size


def cached_ranges(data_dir: Path, code: str, checks: Sequence[Check] = ()) -> SiteRanges | None:
    """The site's ranges if its file has not changed since they were read (or there is no
    file: no ranges); None when the file must be read (:func:`read_ranges`)."""
    path = site_file(data_dir, code)
    stamp = _stamp(path)
    if stamp is None:
        return NO_RANGES
    with _lock:
        found = _cache.get((str(path), tuple(checks)))
    return found[1] if found is not None and found[0] == stamp else None


def read_ranges(data_dir: Path, code: str, checks: Sequence[Check] = ()) -> SiteRanges:
    """The site's ranges from its file (none without a file), read again if it changed.

    Raises :class:`~clearwell.errors.ConfigError` when the file is not valid, with
    ``checks`` (the reader's own rules) among its rules, or is another site's.
    """
    path = site_file(data_dir, code)
    stamp = _stamp(path)
    if stamp is None:
        return NO_RANGES
    key = (str(path), tuple(checks))
    with _lock:
        found = _cache.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    site = load_site_file(path, checks)
    if site.config.site.code != code:
        raise ConfigError(f"{path}: is the configuration of {site.config.site.code}, not {code}")
    ranges = site_ranges(site.config)
    with _lock:
        _cache[key] = (stamp, ranges)
    return ranges
