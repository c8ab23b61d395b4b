"""What the segment form's audience panel says while an editor edits the rules.

:func:`describe_rules` reads the form's rules as posted (the StreamField's own fields, whatever
widgets the rule blocks use), checks each rule as saving would, and answers with the segment's
sentence (the text ``Segment.summary`` holds after saving), the problems of incomplete rules, and
an estimate of the audience from the anonymous sample of consenting page views
(:mod:`personalize.analytics.samples`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.blocks import StreamValue

from personalize.analytics.samples import AudienceEstimate, estimate
from personalize.models import Segment
from personalize.rules import ConditionError, validate_condition

logger = logging.getLogger(__name__)


class UnreadableRules(ValueError):
    """The posted data holds no segment rules (not the segment form's fields)."""


def describe_rules(data: Mapping[str, Any]) -> dict[str, Any]:
    """The sentence, problems and audience estimate of the posted rules.

    Args:
        data: the segment form's fields (``request.POST``): ``match`` and ``rules-…``.

    Returns:
        ``{"sentence": str, "problems": [{"rule": int | None, "message": str}], "estimate":
        str}``; ``problems`` is empty when every rule is complete.

    Raises:
        UnreadableRules: the data holds no readable rules.
    """
    block = Segment._meta.get_field("rules").stream_block
    try:
        value = block.value_from_datadict(data, {}, "rules")
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise UnreadableRules(str(exc)) from exc
    match = data.get("match")
    segment = Segment(match=match if match in (Segment.MATCH_ALL, Segment.MATCH_ANY) else "all")
    problems: list[dict[str, Any]] = []
    kept = []
    for number, child in enumerate(value, start=1):
        try:
            cleaned = child.block.clean(child.value)
            child.block.condition(cleaned)
            child.block.phrase(cleaned)
        except ValidationError as exc:
            problems.append(_problem(number, child.block, _messages(exc, child.block)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.debug("rule %d of a segment being edited fails: %r", number, exc)
            problems.append(_problem(number, child.block, [_("This rule is incomplete.")]))
        else:
            kept.append((child.block_type, cleaned, child.id))
    segment.rules = StreamValue(block, kept)
    segment.compile_rules()
    try:
        validate_condition(segment.condition)
    except ConditionError as exc:
        problems.append(
            {"rule": None, "message": _("Invalid condition: %(error)s") % {"error": exc}}
        )
    if problems:
        text = _("The estimate appears when every rule is complete.")
    else:
        text = estimate_text(estimate(segment.condition))
    # describe(): the editor's language (the stored summary is in the site's).
    return {"sentence": segment.describe(), "problems": problems, "estimate": text}


def _problem(number: int, block: Any, messages: list[str]) -> dict[str, Any]:
    """One incomplete rule: "Rule 2 (Country is one of), left out until it is complete: …"."""
    message = _("Rule %(number)s (%(label)s), left out until it is complete: %(problems)s") % {
        "number": number,
        "label": block.label,
        "problems": " ".join(messages),
    }
    return {"rule": number, "message": message}


def _messages(error: ValidationError, block: Any) -> list[str]:
    """The messages of a block's validation error, each prefixed with its field's label."""
    as_json = getattr(error, "as_json_data", None)
    data = as_json() if as_json is not None else {"messages": error.messages}
    return _flatten(data, block)


def _flatten(data: Any, block: Any) -> list[str]:
    if isinstance(data, list):
        return [message for item in data for message in _flatten(item, block)]
    if not isinstance(data, dict):
        return [str(data)]
    messages = [str(message) for message in data.get("messages", [])]
    children = getattr(block, "child_blocks", {})
    for key, child_data in (data.get("blockErrors") or {}).items():
        child = children.get(key) if isinstance(key, str) else None
        for message in _flatten(child_data, child):
            label = getattr(child, "label", None)
            messages.append(f"{label}: {message}" if label else message)
    return messages


def about(count: float) -> int:
    """``count`` rounded as an estimate deserves: 1,237 → 1,240, 456 → 460, 47 → 47."""
    whole = int(count + 0.5)
    if whole < 100:
        return whole
    digits = max(len(str(whole)) - 3, 1)
    return int(round(whole, -digits))


def estimate_text(result: AudienceEstimate) -> str:
    """The estimate in words: "About 1,240 page views in the last 7 days would have matched."."""
    if result.status == "unavailable":
        return _("The estimate is not available right now: the analytics store cannot be reached.")
    if result.status == "off":
        return _("No estimate: this site keeps no sample of page views.")
    if result.status == "unsupported":
        return _(
            "No estimate: the sample of page views does not hold %(attributes)s, which these "
            "rules use."
        ) % {"attributes": ", ".join(result.unsupported)}
    if result.page_views == 0:
        return _(
            "No recorded page views yet: the estimate appears once visitors who allow analytics "
            "have browsed the site."
        )
    count = about(result.matched)
    if count < 10:
        return _("Fewer than 10 page views in the last 7 days would have matched.")
    return ngettext(
        "About %(count)s page view in the last 7 days would have matched.",
        "About %(count)s page views in the last 7 days would have matched.",
        count,
    ) % {"count": number_format(count, force_grouping=True)}
