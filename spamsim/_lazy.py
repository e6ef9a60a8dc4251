"""Package namespaces that import their modules on first use (PEP 562).

The command line must answer ``--help`` and ``validate`` without loading numpy's, scipy's,
pandas' and matplotlib's half-second imports. Packages therefore list their public names
with the module that defines each, and import that module only when a name is first read;
``from spamsim.scenario import load`` still works as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_names(
    package: str, namespace: dict[str, Any], names: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    Parameters
    ----------
    package
        The package's ``__name__``.
    namespace
        The package's ``globals()``; a name, once imported, is stored there so later lookups
        are ordinary attribute reads.
    names
        Each public name and the module (relative to ``package``, e.g. ``".loader"``) that
        defines it.

    Returns
    -------
    tuple
        The ``__getattr__`` and ``__dir__`` functions to assign in the package.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
