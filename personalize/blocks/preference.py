"""PreferenceBlock: progressive profiling — a question whose answer becomes ``visitor.prefs.<key>``.

Editors place the block on a page with a key and options ("What do you like to drink on
arrival?" → ``drink``: tea, coffee, sparkling water). The visitor's answer is stored on their
profile (only with consent to personalization), is usable in segments at once, and can be changed
or removed on the privacy page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.blocks.context import decision_read, outside_the_key, visitor_for
from personalize.blocks.decisions import preference_identity
from personalize.blocks.explanations import privacy_url
from personalize.signals.consent import PERSONALIZATION
from personalize.tracking.choices import PREFERENCE_KEY, PREFERENCE_VALUE_LENGTH


class PreferenceOptionBlock(blocks.StructBlock):
    """One answer: the stored value and the label visitors see."""

    value = blocks.RegexBlock(
        regex=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$",
        max_length=PREFERENCE_VALUE_LENGTH,
        help_text=_("Stored and used in segment rules, e.g. sparkling-water"),
        error_messages={"invalid": _("Letters, digits, spaces, - _ and . only.")},
    )
    label = blocks.CharBlock(max_length=200, help_text=_("What visitors read"))

    class Meta:
        icon = "radio-full"
        label_format = "{label}"


class PreferenceBlock(blocks.StructBlock):
    """Ask the visitor a question; their answer becomes ``visitor.prefs.<key>``."""

    key = blocks.RegexBlock(
        regex=PREFERENCE_KEY.pattern,
        max_length=50,
        help_text=_("Lower-case, e.g. drink. Segment rules read visitor.prefs.<key>."),
        error_messages={"invalid": _("Lower-case letters, digits, - and _ only.")},
    )
    question = blocks.CharBlock(max_length=255)
    options = blocks.ListBlock(PreferenceOptionBlock(), min_num=2, max_num=12)
    help_text = blocks.CharBlock(required=False, max_length=255, label=_("Note below"))

    class Meta:
        icon = "help"
        template = "personalize/blocks/preference_block.html"
        # Translators: how a preference question is listed in the editor: "Question: Drink?".
        label_format = _("Question: {question}")

    def clean(self, value: Any) -> Any:
        """Options must have distinct values."""
        cleaned = super().clean(value)
        values = [option["value"] for option in cleaned["options"]]
        if len(values) != len(set(values)):
            raise blocks.StructBlockValidationError(
                block_errors={"options": ValidationError(_("Each option needs its own value."))}
            )
        return cleaned

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)
        visitor = visitor_for(parent_context)
        allowed = visitor is not None and visitor.consent.allows(PERSONALIZATION)
        context.update(
            {
                "answer": answer(visitor, value["key"]),
                "allowed": allowed,
                "action": _action_url(),
                "privacy_url": privacy_url(),
                "next": parent_context.get("request").get_full_path()
                if parent_context and parent_context.get("request")
                else "/",
            }
        )
        return context

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        """The question, its options and this visitor's current answer (or null)."""
        return {
            "key": value["key"],
            "question": value["question"],
            "options": [{"value": o["value"], "label": o["label"]} for o in value["options"]],
            "helpText": value["help_text"],
            "answer": answer(visitor_for(context), value["key"]),
        }

    def get_searchable_content(self, value: Any) -> list[str]:
        """The question and the option labels (never a visitor's answer)."""
        return [value["question"], *(option["label"] for option in value["options"])]


def answer(visitor: Any, key: str) -> str | None:
    """The visitor's stored answer for ``key``, or None."""
    if visitor is None:
        return None
    visitor.used = True
    outside_the_key(visitor, lambda: preference_identity(key))
    with decision_read(visitor):
        profile = visitor.profile
    return None if profile is None else profile.prefs.get(key)


def _action_url() -> str | None:
    try:
        return reverse("personalize:preference")
    except NoReverseMatch:
        return None
