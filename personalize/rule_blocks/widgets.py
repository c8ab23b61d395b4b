"""The rule builder's pickers: boxes to tick for short lists, a searchable list for long ones.

``CheckboxGroup`` shows every choice as a labelled checkbox (grouped under headings when the
choices are grouped, with an optional explanation under each). ``SearchableSelectMultiple`` is
a ``<select multiple>`` that ``personalize/pickers.js`` turns into a Tom Select picker: type to
filter, Enter or a click to add, Backspace or the × button to remove; ``SearchableSelect`` is
the same for one choice, in plain forms. The first two work inside StreamField blocks, which
Wagtail builds in the browser through telepath: the checkbox group uses Wagtail's own adapter for
checkbox lists, the searchable list its own (``personalize.widgets.Picker`` in ``pickers.js``),
and a Stimulus controller (``personalize-picker``) starts Tom Select on every such list that
enters the page (or, outside the admin, the script watches the page itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

try:  # Wagtail 8
    from wagtail.admin.telepath import register
    from wagtail.admin.telepath.widgets import WidgetAdapter
except ImportError:  # Wagtail 7.0
    from wagtail.telepath import register  # type: ignore[no-redef]
    from wagtail.widget_adapters import WidgetAdapter  # type: ignore[no-redef]

_VENDOR = "personalize/vendor/tom-select/"


class CheckboxGroup(forms.CheckboxSelectMultiple):
    """Checkboxes in columns; grouped choices become fieldsets with their group as legend.

    Args:
        attrs: HTML attributes of the group.
        choices: the choices (Wagtail's choice blocks set them).
        descriptions: an explanation shown under a choice's label, by choice value.
        label: the accessible name of the group (the field's label, which Wagtail cannot tie
            to a group of checkboxes).
    """

    template_name = "personalize/widgets/checkbox_group.html"
    option_template_name = "personalize/widgets/checkbox_option.html"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        descriptions: Mapping[str, Any] | None = None,
        label: Any = None,
    ) -> None:
        super().__init__(attrs, choices)
        self.descriptions = dict(descriptions or {})
        self.label = label

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(name, value, attrs)
        context["widget"]["group_label"] = self.label
        context["widget"]["described"] = bool(self.descriptions)
        return context

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        description = self.descriptions.get(str(option["value"]))
        option["description"] = description
        if description and option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}-description"
        return option

    @property
    def media(self) -> forms.Media:
        return forms.Media(css={"all": ["personalize/pickers.css"]})


class SearchableSelectMultiple(forms.SelectMultiple):
    """A multi-select with a search box (Tom Select), for lists too long to tick through.

    An option's ``alias`` (a ``data-alias`` attribute) is searched too: "Bayern" finds
    "Bavaria (Germany)".

    Args:
        attrs: HTML attributes of the ``<select>``.
        choices: the choices (Wagtail's choice blocks set them).
        options: a callable giving the ``(value, label)`` pairs to offer, read instead of the
            choices when set: thousands of options (the regions) render in milliseconds.
        aliases: a callable giving more names to search by, by choice value.
    """

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        options: Callable[[], Iterable[tuple[Any, Any]]] | None = None,
        aliases: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        defaults = {
            "class": "personalize-picker",
            "data-controller": "personalize-picker",
            "data-personalize-picker-placeholder-value": _("Type to search…"),
            "data-personalize-picker-no-results-value": _("Nothing matches “%(query)s”."),
            "data-personalize-picker-remove-value": _("Remove %(item)s"),
        }
        super().__init__({**defaults, **(attrs or {})}, choices)
        self.options = options
        self.aliases = aliases

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        """The ``<select>``, written here: Django's option template costs about half a
        millisecond an option, and the regions are thousands."""
        select_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            select_attrs["multiple"] = True
        selected = {str(item) for item in self.format_value(value)}
        # Read per render: choices and aliases follow the active language (and the database,
        # for groups). The widget is shared by every request, as blocks are.
        aliases = self.aliases() if self.aliases else {}
        pairs = self.options() if self.options else self.choices
        parts = [f'<select name="{escape(name)}"{flatatt(select_attrs)}>']
        offered = set()
        for option_value, label in pairs:
            if isinstance(label, (list, tuple)):
                parts.append(f'<optgroup label="{escape(option_value)}">')
                parts.extend(_option(v, text, selected, aliases) for v, text in label)
                parts.append("</optgroup>")
                offered.update(str(v) for v, _text in label)
            else:
                parts.append(_option(option_value, label, selected, aliases))
                offered.add(str(option_value))
        # A stored value the list no longer offers stays visible (and so is saved again).
        parts.extend(_option(v, v, selected, aliases) for v in sorted(selected - offered))
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": [f"{_VENDOR}tom-select.min.css", "personalize/pickers.css"]},
            js=[f"{_VENDOR}tom-select.complete.min.js", "personalize/pickers.js"],
        )


class SearchableSelect(SearchableSelectMultiple):
    """The same searchable list for one choice, in a plain Django form (not in a block).

    Put an empty choice first to let the field be left empty (Tom Select then offers it as an
    option). The simulator's form picks its region with it.
    """

    allow_multiple_selected = False
    value_from_datadict = forms.Widget.value_from_datadict
    value_omitted_from_data = forms.Widget.value_omitted_from_data


def _option(value: Any, label: Any, selected: set[str], aliases: Mapping[str, str]) -> str:
    """One ``<option>``, with its alias to search by."""
    text = "" if value is None else str(value)
    alias = aliases.get(text)
    extra = f' data-alias="{escape(alias)}"' if alias else ""
    if text in selected:
        extra += " selected"
    return f'<option value="{escape(text)}"{extra}>{escape(label)}</option>'


@lru_cache(maxsize=64)
def _shared(html: str) -> str:
    """The first string equal to ``html``: one object for equal markup.

    Telepath writes an object it meets twice once and refers to it afterwards. The rule blocks
    appear twice in a segment form (at the top and inside "Group of rules"), so a long list
    such as the regions is sent once instead of twice.
    """
    return html


class PickerAdapter(WidgetAdapter):  # type: ignore[misc]
    """Telepath adapter of :class:`SearchableSelectMultiple` (``personalize.widgets.Picker``)."""

    js_constructor = "personalize.widgets.Picker"

    def js_args(self, widget: SearchableSelectMultiple) -> list[Any]:
        return [_shared(widget.render("__NAME__", None, attrs={"id": "__ID__"}))]


register(PickerAdapter(), SearchableSelectMultiple)
