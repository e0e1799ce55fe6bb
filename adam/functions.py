"""Import every module that registers ADaM derivations, so the registry is complete.

The spec's Derivations sheet may name any function registered here; ``subgen adam-functions``
lists them with their arguments.
"""

from __future__ import annotations

from adam import adsl, bds, generic, occds, progression, scoring, tte  # noqa: F401
from adam.registry import REGISTRY


def describe() -> list[tuple[str, str, str, str]]:
    """(name, kind, arguments, first docstring line) of every registered derivation, sorted by name."""
    out: list[tuple[str, str, str, str]] = []
    for name, fn in sorted(REGISTRY.items()):
        args = ", ".join(a.name if a.required else f"[{a.name}]" for a in fn.arguments)
        out.append((name, fn.kind, args, fn.summary))
    return out
