"""Decisions per block: which variant a visitor gets, and whether a gate is open.

Pure functions over ids and names: the blocks hand in what they store and what the visitor
matched, and get back a small record of the decision and why, which every delivery channel
(templates, Wagtail's API, GraphQL) reports the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

#: Gate requirements editors can choose.
REQUIREMENTS = ("authenticated", "group", "segment")


@dataclass(frozen=True, slots=True)
class VariantDecision:
    """Which content of a personalized block a visitor gets.

    Attributes:
        index: the chosen variant's position, or None for the default content.
        label: the chosen variant's label ("" for the default).
        segment_ids: the visitor's matched segments that selected the variant.
        reason: a sentence for explanations ("matched Mobile visitors", "no variant matched").
    """

    index: int | None
    label: str
    segment_ids: tuple[int, ...]
    reason: str
    #: Inside a running experiment: the alternative shown (0 = the variant's own content);
    #: None when no experiment decided.
    alternative: int | None = None
    #: The visitor is in the experiment's holdout and gets the default content.
    holdout: bool = False
    #: Whether the visitor counts in the experiment's statistics (has an id and consented).
    counted: bool = False
    #: The chosen variant's stable key ("" for the default or content saved before keys).
    variant_key: str = ""


@dataclass(frozen=True, slots=True)
class GateDecision:
    """Whether a gated block is open for a visitor.

    Attributes:
        locked: True when the visitor sees the teaser.
        requirement: ``authenticated``, ``group`` or ``segment``.
        reason: a sentence for explanations.
    """

    locked: bool
    requirement: str
    reason: str


def choose_variant(
    variants: Sequence[tuple[str, Collection[int]]],
    matched: Collection[int],
    live: Collection[int],
    names: dict[int, str] | None = None,
) -> VariantDecision:
    """The first variant, in the editor's order, with any of its segments matched.

    Args:
        variants: ``(label, segment ids)`` per variant, in priority order.
        matched: ids of the segments the visitor is in.
        live: ids of the enabled segments; a variant whose segments were all deleted or disabled
            is skipped.
        names: segment id → name, for the reason sentence.

    Returns:
        The decision; ``index`` is None when the default content applies.
    """
    names = names or {}
    for index, (label, segment_ids) in enumerate(variants):
        hits = tuple(sid for sid in segment_ids if sid in matched and sid in live)
        if hits:
            who = ", ".join(names.get(sid, f"segment {sid}") for sid in hits)
            return VariantDecision(index, label, hits, f"matched {who}")
    return VariantDecision(None, "", (), "no variant's segment matched: default content")


def gate(
    requirement: str,
    *,
    authenticated: bool,
    user_groups: Collection[str] = (),
    groups: Collection[str] = (),
    matched: Collection[int] = (),
    segments: Collection[int] = (),
) -> GateDecision:
    """Decide whether gated content is open.

    Args:
        requirement: ``authenticated`` (any logged-in user), ``group`` (a logged-in member of
            one of ``groups``) or ``segment`` (a visitor in one of ``segments``).
        authenticated: whether the visitor is logged in.
        user_groups: the visitor's group names.
        groups: the groups that open the gate.
        matched: ids of the segments the visitor is in.
        segments: the segments that open the gate.

    Returns:
        The decision. An unknown requirement keeps the gate locked (fail closed).
    """
    if requirement == "authenticated":
        if authenticated:
            return GateDecision(False, requirement, "logged in")
        return GateDecision(True, requirement, "registered visitors only")
    if requirement == "group":
        shared = sorted(set(user_groups) & set(groups))
        if authenticated and shared:
            return GateDecision(False, requirement, f"member of {', '.join(shared)}")
        return GateDecision(True, requirement, f"members of {', '.join(sorted(groups))} only")
    if requirement == "segment":
        if set(matched) & set(segments):
            return GateDecision(False, requirement, "in a qualifying segment")
        return GateDecision(True, requirement, "qualifying visitors only")
    return GateDecision(True, requirement, "unknown requirement: locked")


#: Who an audience setting shows its block to (:mod:`personalize.blocks.audience`).
AUDIENCES = ("everyone", "segments", "except", "authenticated", "anonymous", "group")


@dataclass(frozen=True, slots=True)
class AudienceDecision:
    """Whether a block with an audience setting is shown to a visitor.

    Attributes:
        shown: True when the visitor gets the block; False when it delivers nothing.
        audience: who the block is for, one of :data:`AUDIENCES`.
        reason: a sentence for explanations ("matched Hikers", "hidden from signed-in visitors").
        segment_ids: the visitor's matched segments that decided (shown for "segments", hidden
            for "except"); empty otherwise.
        key: the setting's stable key ("" for content saved before it had one).
    """

    shown: bool
    audience: str
    reason: str
    segment_ids: tuple[int, ...] = ()
    key: str = ""

    # What the impression counters read (as of a VariantDecision): the block's "variant" is
    # ``shown`` or ``hidden``, outside any experiment.
    @property
    def index(self) -> int:
        """Always 0: both outcomes are counted under their own variant key."""
        return 0

    @property
    def variant_key(self) -> str:
        """``shown`` or ``hidden``: the report's row for the outcome."""
        return "shown" if self.shown else "hidden"

    @property
    def alternative(self) -> None:
        """No experiment decides an audience."""
        return None

    @property
    def holdout(self) -> bool:
        """No experiment decides an audience."""
        return False

    @property
    def counted(self) -> bool:
        """No experiment decides an audience."""
        return False


def choose_audience(
    audience: str,
    *,
    authenticated: bool,
    user_groups: Collection[str] = (),
    groups: Collection[str] = (),
    matched: Collection[int] = (),
    segments: Collection[int] = (),
    names: dict[int, str] | None = None,
) -> AudienceDecision:
    """Decide whether a block with an audience setting is shown.

    Args:
        audience: one of :data:`AUDIENCES`: ``everyone``; ``segments`` (only visitors in any of
            ``segments``); ``except`` (everyone except visitors in any of ``segments``);
            ``authenticated`` (logged-in visitors); ``anonymous`` (visitors not logged in);
            ``group`` (logged-in members of one of ``groups``).
        authenticated: whether the visitor is logged in.
        user_groups: the visitor's group names.
        groups: the groups a ``group`` audience is for.
        matched: ids of the segments the visitor is in.
        segments: the segments a ``segments`` or ``except`` audience names.
        names: segment id → name, for the reason sentence.

    Returns:
        The decision. An unknown audience hides the block (fail closed).
    """
    if audience == "everyone":
        return AudienceDecision(True, audience, "everyone")
    if audience in ("segments", "except"):
        names = names or {}
        hits = tuple(sid for sid in segments if sid in matched)
        who = ", ".join(names.get(sid, f"segment {sid}") for sid in hits)
        if audience == "segments":
            if hits:
                return AudienceDecision(True, audience, f"matched {who}", hits)
            return AudienceDecision(False, audience, "in none of its segments")
        if hits:
            return AudienceDecision(False, audience, f"hidden from {who}", hits)
        return AudienceDecision(True, audience, "in none of the segments it is hidden from")
    if audience == "anonymous":
        if authenticated:
            return AudienceDecision(False, audience, "hidden from logged-in visitors")
        return AudienceDecision(True, audience, "not logged in")
    if audience in ("authenticated", "group"):
        decision = gate(
            "authenticated" if audience == "authenticated" else "group",
            authenticated=authenticated,
            user_groups=user_groups,
            groups=groups,
        )
        return AudienceDecision(not decision.locked, audience, decision.reason)
    return AudienceDecision(False, audience, "unknown audience: hidden")


def audience_parts(setting: Any) -> tuple[str, tuple[int, ...], tuple[str, ...], str]:
    """``(who, segment ids, group names, key)`` of a setting, whatever was stored in it.

    What the decision and the page index read, so both agree on odd stored values: a ``who``
    that is not text is an unknown audience (hidden), segment ids that are not integers and
    group names that are not text are left out, and segments or groups that are not a list
    are none.

    Args:
        setting: an ``AudienceBlock`` value (or a plain dict of the same keys), or None.
    """
    if setting is None:
        return "everyone", (), (), ""
    who = setting.get("who") or "everyone"
    segments = setting.get("segments")
    groups = setting.get("groups")
    key = setting.get("key")
    return (
        who if isinstance(who, str) else "unknown",
        tuple(
            sid for sid in _listed(segments) if isinstance(sid, int) and not isinstance(sid, bool)
        ),
        tuple(g for g in _listed(groups) if isinstance(g, str)),
        key if isinstance(key, str) else "",
    )


def _listed(value: Any) -> Sequence[Any]:
    """A stored list as it is; anything else (a number, text, an object) as no items."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return value
    return ()


def audience_identity(setting: Any) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """What a setting's decision depends on besides the visitor: who, segments and groups."""
    who, segments, groups, _key = audience_parts(setting)
    return who, tuple(sorted(segments)), tuple(sorted(groups))


def _ids(values: Any) -> tuple[int, ...]:
    return tuple(sorted({sid for sid in _listed(values) if isinstance(sid, int)}))


def variant_identity(block_key: str, variants: Sequence[Any]) -> tuple[Any, ...]:
    """What a personalized block's decision depends on besides the visitor: its key, and each
    variant's key and segments."""
    return (
        "p",
        str(block_key or ""),
        tuple((str(v.get("key") or ""), _ids(v.get("segments"))) for v in _listed(variants)),
    )


def gate_identity(requirement: Any, groups: Any, segments: Any) -> tuple[Any, ...]:
    """What a gate's decision depends on besides the visitor: requirement, groups, segments."""
    return "g", str(requirement), tuple(sorted({str(g) for g in _listed(groups)})), _ids(segments)


def preference_identity(key: Any) -> tuple[str, str]:
    """What a preference question's answer depends on besides the visitor: its key."""
    return "q", str(key)
