"""Base classes of rule blocks and the helpers they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from personalize.rule_blocks.choices import join_or, label
from personalize.rule_blocks.widgets import CheckboxGroup, SearchableSelectMultiple


def split_values(text: str | None) -> list[str]:
    """``"DE-BY, AT-9,"`` → ``["DE-BY", "AT-9"]``: the editor's comma-separated values."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def fill(template: Any, values: str) -> str:
    """Put ``values`` into a phrase template: ``%(values)s`` (translatable) or ``{values}``."""
    text = str(template)
    if "{values}" in text:
        return text.format(values=values)
    return text % {"values": values}


class Clause(str):
    """A phrase that is a relative clause ("who are logged in", in German "die angemeldet sind").

    The segment sentence joins two clauses in a row with "and" and, in languages that need it,
    sets clauses off with commas (:func:`personalize.rule_blocks.sentence`).
    """

    __slots__ = ()


def invalid(field: str, message: str) -> StructBlockValidationError:
    """A validation error shown on one field of a rule block."""
    return StructBlockValidationError(block_errors={field: ValidationError(message)})


class RuleBlock(blocks.StructBlock):
    """Base class of rule blocks: a StructBlock that compiles to a condition and a phrase."""

    def condition(self, value: Any) -> dict[str, Any]:
        """The condition JSON this rule stands for."""
        raise NotImplementedError(f"{type(self).__name__} must implement condition()")

    def phrase(self, value: Any) -> str:
        """A phrase completing "Visitors …", e.g. "on a mobile phone"."""
        raise NotImplementedError(f"{type(self).__name__} must implement phrase()")

    class Meta:
        icon = "cog"


class ChoiceInRule(RuleBlock):
    """A rule "attribute is one of the chosen values"."""

    #: The attribute path the rule compares.
    path = ""
    #: The choices offered to editors.
    choice_list: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]] = []
    #: The phrase with ``%(values)s`` (or ``{values}``) in it; translatable.
    phrase_template: Any = "%(values)s"
    #: How editors pick: ``"checkboxes"`` for a short list, ``"search"`` for a long one.
    picker = "checkboxes"
    #: Help under the field's label (none when empty).
    field_help: Any = ""

    def __init__(self, **kwargs: Any) -> None:
        options = {"help_text": self.field_help} if self.field_help else {}
        field = blocks.MultipleChoiceBlock(
            choices=self.choice_list, label=self.field_label, widget=self.widget(), **options
        )
        super().__init__([("values", field)], **kwargs)

    def widget(self) -> Any:
        """The picker's form widget (see :attr:`picker`)."""
        if self.picker == "search":
            return SearchableSelectMultiple()
        return CheckboxGroup(label=self.field_label)

    field_label: Any = _("Values")

    def _choices(self) -> list[tuple[str, str]]:
        return self.choice_list() if callable(self.choice_list) else self.choice_list

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": list(value["values"])}}

    def phrase(self, value: Any) -> str:
        items = self._choices()
        return fill(self.phrase_template, join_or([label(items, v) for v in value["values"]]))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value["values"]:
            raise invalid("values", gettext("Choose at least one value."))
        return value


class TextListRule(RuleBlock):
    """A rule over a comma-separated list of values typed by the editor."""

    path = ""
    operator = "$in"
    phrase_template: Any = "%(values)s"
    help: Any = ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__([("values", blocks.CharBlock(help_text=self.help))], **kwargs)

    def clean_values(self, items: list[str]) -> list[str]:
        """Clean the editor's values; raise ValueError with a message for bad ones."""
        return items

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {self.operator: self.clean_values(split_values(value["values"]))}}

    def phrase(self, value: Any) -> str:
        return fill(self.phrase_template, join_or(self.clean_values(split_values(value["values"]))))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            if not self.clean_values(split_values(value["values"])):
                raise ValueError(gettext("Enter at least one value."))
        except ValueError as exc:
            raise invalid("values", str(exc)) from exc
        return value
