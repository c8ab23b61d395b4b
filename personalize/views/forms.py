"""The visitor-facing forms: consent choice, stated preferences, erasure, and script events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from personalize.signals.consent import OPTIONAL_PURPOSES
from personalize.tracking.choices import PREFERENCE_KEY, PREFERENCE_VALUE_LENGTH
from personalize.tracking.events import EVENT_NAME

#: Longest ``next`` URL accepted by the forms.
NEXT_LENGTH = 2000
#: Most tags a script may send with one event.
EVENT_TAG_LIMIT = 20
#: Longest event target and tag.
EVENT_VALUE_LENGTH = 100

#: Why text with a NUL character is refused (PostgreSQL cannot store it in text or JSON).
NUL_MESSAGE = "Text may not contain NUL characters (\\u0000)."

#: ``choice`` values of the consent form's buttons.
CHOICE_ALL = "all"
CHOICE_NECESSARY = "necessary"
CHOICE_CUSTOM = "custom"


class ConsentForm(forms.Form):
    """The visitor's consent choice: a button (``choice``) or the ticked purposes."""

    purposes = forms.MultipleChoiceField(
        choices=[(purpose, purpose) for purpose in OPTIONAL_PURPOSES], required=False
    )
    choice = forms.ChoiceField(
        choices=[(c, c) for c in (CHOICE_ALL, CHOICE_NECESSARY, CHOICE_CUSTOM)],
        required=False,
    )
    next = forms.CharField(required=False, max_length=NEXT_LENGTH)

    def granted(self) -> tuple[str, ...]:
        """The optional purposes granted ("Allow all", "Only necessary", else the ticked ones)."""
        choice = self.cleaned_data["choice"]
        if choice == CHOICE_ALL:
            return OPTIONAL_PURPOSES
        if choice == CHOICE_NECESSARY:
            return ()
        return tuple(self.cleaned_data["purposes"])


class PreferenceForm(forms.Form):
    """Set a stated preference, or remove it (an empty value or ``remove``)."""

    key = forms.RegexField(
        regex=PREFERENCE_KEY,
        max_length=50,
        error_messages={
            "invalid": _(
                "A preference key is 1 to 50 lower-case letters, digits, - and _, "
                "starting with a letter or digit."
            )
        },
    )
    value = forms.CharField(required=False, max_length=PREFERENCE_VALUE_LENGTH)
    remove = forms.BooleanField(required=False)
    next = forms.CharField(required=False, max_length=NEXT_LENGTH)
    #: ``"personalization"`` when the visitor pressed "Allow personalization and save": their
    #: explicit consent, given together with the answer.
    grant = forms.ChoiceField(required=False, choices=[("", ""), ("personalization", "")])

    def new_value(self) -> str | None:
        """The value to store, or None to remove the preference."""
        value: str = self.cleaned_data["value"]
        return None if self.cleaned_data["remove"] or not value else value


class EraseForm(forms.Form):
    """Erasure needs the visitor to tick that they understand it cannot be undone."""

    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box to confirm that everything may be erased.")},
    )


class EventError(ValueError):
    """A script sent an event the endpoint cannot accept; the message says why."""


def clean_event(payload: Mapping[str, Any], tags: list[Any] | None = None) -> dict[str, Any]:
    """Validate an event sent by a script.

    Args:
        payload: the decoded JSON object or the form fields (``name``, ``target``, ``tags``).
        tags: the form's repeated ``tags`` values (form bodies); None to read ``payload["tags"]``.

    Returns:
        ``{"name": str, "target": str | None, "tags": list[str]}``.

    Raises:
        EventError: with a message for the script's developer.
    """
    name = payload.get("name")
    if _holds_nul(name) or _holds_nul(payload.get("target")) or _holds_nul(payload.get("tags")):
        raise EventError(NUL_MESSAGE)
    if tags is not None and _holds_nul(tags):
        raise EventError(NUL_MESSAGE)
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise EventError(
            "'name' must be 1 to 64 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit."
        )
    target = payload.get("target")
    if isinstance(target, bool) or not isinstance(target, str | int | type(None)):
        raise EventError("'target' must be a string or an integer.")
    if target is not None:
        target = str(target)
        if not target or len(target) > EVENT_VALUE_LENGTH:
            raise EventError(f"'target' must be 1 to {EVENT_VALUE_LENGTH} characters.")
    raw_tags = payload.get("tags", []) if tags is None else tags
    if raw_tags is None:
        raw_tags = []
    if not isinstance(raw_tags, list) or len(raw_tags) > EVENT_TAG_LIMIT:
        raise EventError(f"'tags' must be a list of at most {EVENT_TAG_LIMIT} strings.")
    for tag in raw_tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > EVENT_VALUE_LENGTH:
            raise EventError(f"Each tag must be a string of 1 to {EVENT_VALUE_LENGTH} characters.")
    return {"name": name, "target": target, "tags": [tag.strip() for tag in raw_tags]}


def _holds_nul(value: Any) -> bool:
    """Whether a posted value (a string, or a list of them) contains a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(isinstance(item, str) and "\x00" in item for item in value)
    return False
