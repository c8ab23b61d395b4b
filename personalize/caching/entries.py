"""The entries of a page's index: what one block's decision needs, as plain frozen data.

Read by :mod:`personalize.caching.index` (which builds them) and
:mod:`personalize.caching.keys` (which decides from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Variant:
    """What a variant's decision needs: its label, segments, key and experiment arms."""

    label: str
    segments: tuple[int, ...]
    key: str = ""
    weight: float = 0.0
    holdout: int = 0
    #: ``(label, weight)`` of each alternative of its A/B/n test.
    alternatives: tuple[tuple[str, float], ...] = ()

    def as_value(self) -> dict[str, Any]:
        """The variant as the blocks' decision functions read it (a VariantBlock value)."""
        return {
            "label": self.label,
            "segments": list(self.segments),
            "key": self.key,
            "weight": self.weight,
            "holdout": self.holdout,
            "alternatives": [{"label": lb, "weight": w} for lb, w in self.alternatives],
        }


@dataclass(frozen=True, slots=True)
class Gate:
    """What a gate's decision needs."""

    requirement: str
    groups: tuple[str, ...] = ()
    segments: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Audience:
    """What the decision of a block's audience setting needs (other than "everyone")."""

    key: str
    who: str
    groups: tuple[str, ...] = ()
    segments: tuple[int, ...] = ()

    def as_value(self) -> dict[str, Any]:
        """The setting as :func:`~personalize.blocks.audience.decide_audience` reads it."""
        return {
            "who": self.who,
            "groups": list(self.groups),
            "segments": list(self.segments),
            "key": self.key,
        }


def variant_json(variant: Variant) -> list[Any]:
    """The variant as plain JSON for the shared cache."""
    return [
        variant.label,
        list(variant.segments),
        variant.key,
        variant.weight,
        variant.holdout,
        [list(a) for a in variant.alternatives],
    ]


def variant_from_json(data: list[Any]) -> Variant:
    """The variant :func:`variant_json` wrote."""
    label, segments, key, weight, holdout, alternatives = data
    return Variant(
        str(label),
        tuple(map(int, segments)),
        str(key),
        float(weight),
        int(holdout),
        tuple((str(lb), float(w)) for lb, w in alternatives),
    )
