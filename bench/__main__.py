"""Run benchmarks: ``python -m bench`` lists them, ``python -m bench NAME [args]`` runs one.

Each benchmark is a module ``bench/bench_NAME.py`` with a ``main(argv)`` function
that prints its results and the baseline measured in the same run, and ``SMOKE_ARGS``,
the arguments of a run of seconds that the tests make (``tests/bench/test_smoke.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print("benchmarks: " + ", ".join(available()))
        print("run one with: python -m bench NAME  (results go in bench/README.md)")
        return 0
    name, rest = args[0], args[1:]
    if name not in available():
        print(f"no benchmark named {name!r}; have: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.bench_{name}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
