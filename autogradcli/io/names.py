"""Checks shared by every points reader."""

from __future__ import annotations

from ..errors import AgradError


def duplicates(name: str, names: list[str]) -> None:
    """Refuse a column named twice."""
    seen: dict[str, int] = {}
    for k, n in enumerate(names):
        if n in seen:
            raise AgradError(
                f"{name}: column '{n}' appears twice (columns {seen[n] + 1} and {k + 1})",
                None,
                "give each input one column",
            )
        seen[n] = k
